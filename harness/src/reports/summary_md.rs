//! `summary.md`: a short Markdown summary to paste as a pull-request comment. Counts by
//! verdict, what differs from the DUT profiles' baselines, and the top failures.

use std::fmt::Write;

use super::model::{CaseRecord, CiOutcome, Counts, Run, VERDICTS};
use crate::runner::Verdict;

/// Failures listed at most; the rest are in report.html.
pub const TOP_FAILURES: usize = 10;
/// Differences from the baseline listed at most.
pub const TOP_UNEXPECTED: usize = 15;

fn icon(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
        Verdict::Error => "💥",
        Verdict::Inconclusive => "❔",
        Verdict::NotApplicable => "➖",
    }
}

/// Text on one line, with nothing GitHub's Markdown would take for HTML.
fn text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

/// A table cell: [`text`] with no pipe that would end the cell.
fn cell(s: &str) -> String {
    text(&s.replace('\\', "\\\\").replace('|', "\\|"))
}

fn label(v: Verdict) -> &'static str {
    match v {
        Verdict::NotApplicable => "not applicable",
        v => v.name(),
    }
}

pub fn render(run: &Run) -> String {
    let all = run.counts();
    let mut m = String::new();
    let _ = writeln!(m, "### dicetest — {}\n", cell(&run.title()));
    let counts: Vec<String> = VERDICTS
        .iter()
        .map(|&v| format!("{} {} {}", icon(v), all.get(v), label(v)))
        .collect();
    let _ = writeln!(m, "**{}** of {} cases", counts.join(" · "), all.total);
    if !run.complete {
        let planned = run
            .planned
            .map(|p| format!(" of {p} planned, {} not run", run.not_run_count()))
            .unwrap_or_default();
        let _ = writeln!(
            m,
            "\n> ⚠️ **Partial:** {}; {} verdicts reached{planned}.",
            run.stop_reason(),
            all.total
        );
    }
    // What the exit code of `dicetest run` says, from the same decision.
    let outcomes = run.ci_outcomes();
    let failing = outcomes.iter().filter(|o| o.fails_run()).count();
    let expected = outcomes
        .iter()
        .filter(|o| **o == CiOutcome::ExpectedDeviation)
        .count();
    let mut ci = if failing > 0 || !run.complete {
        let mut why = Vec::new();
        if failing > 0 {
            why.push(format!("{failing} result(s) fail it"));
        }
        if !run.complete {
            why.push("it was interrupted".into());
        }
        format!("❌ the run fails: {}", why.join("; "))
    } else {
        "✅ the run passes".to_string()
    };
    if expected > 0 {
        let _ = write!(ci, " ({expected} deviation(s) the baseline expects)");
    }
    if run.strict {
        ci.push_str(" · strict");
    }
    let _ = writeln!(m, "\n**CI:** {ci}");
    if run.duts.len() > 1 {
        m.push_str(
            "\n| DUT | pass | fail | error | inconclusive | not applicable | unexpected |\n",
        );
        m.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
        for d in &run.duts {
            let n = Counts::of(run.cases_of(&d.name));
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} | {} | {} | {} |",
                cell(&d.name),
                n.pass,
                n.fail,
                n.error,
                n.inconclusive,
                n.not_applicable,
                n.unexpected
            );
        }
    }

    let unexpected: Vec<&CaseRecord> = run.cases.iter().filter(|c| !c.as_expected).collect();
    m.push_str("\n#### Against the baseline\n\n");
    if unexpected.is_empty() {
        m.push_str("Every verdict is what the DUT profiles' baselines expect.\n");
    } else {
        for c in unexpected.iter().take(TOP_UNEXPECTED) {
            let what = match &c.expected_deviation {
                None => format!("expected pass — {}", c.reason),
                Some(e) => {
                    format!("the baseline expects a deviation ({e}); update it if this is a fix")
                }
            };
            let _ = writeln!(
                m,
                "- {} **{}**{}{} {} — {}",
                icon(c.verdict),
                text(&c.id),
                run_suffix(c),
                text(&dut_suffix(run, c)),
                c.verdict,
                text(&what)
            );
        }
        if unexpected.len() > TOP_UNEXPECTED {
            let _ = writeln!(
                m,
                "- … and {} more in report.html.",
                unexpected.len() - TOP_UNEXPECTED
            );
        }
    }

    let mut failures: Vec<&CaseRecord> = run
        .cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error))
        // A deviation the baseline expects is known: listed below, not a top failure.
        .filter(|c| c.ci_outcome(run.strict) != CiOutcome::ExpectedDeviation)
        .collect();
    // MUST before SHOULD before MAY, then failures before errors, then by id.
    failures.sort_by_key(|c| {
        (
            level_rank(&c.level),
            c.verdict != Verdict::Fail,
            &c.id,
            &c.dut,
        )
    });
    if !failures.is_empty() {
        let _ = writeln!(
            m,
            "\n#### Top failures\n\n| case | DUT | level | verdict | reason | refs |\n|---|---|---|---|---|---|"
        );
        for c in failures.iter().take(TOP_FAILURES) {
            let _ = writeln!(
                m,
                "| **{}**{} {} | {} | {} | {} {} | {} | {} |",
                cell(&c.id),
                run_suffix(c),
                cell(&c.title),
                cell(&c.dut),
                cell(&c.level),
                icon(c.verdict),
                c.verdict,
                cell(&c.reason),
                cell(&c.refs.join("; "))
            );
        }
        if failures.len() > TOP_FAILURES {
            let _ = writeln!(
                m,
                "\n… and {} more in report.html.",
                failures.len() - TOP_FAILURES
            );
        }
    }
    let known: Vec<String> = run
        .cases
        .iter()
        .filter(|c| c.ci_outcome(run.strict) == CiOutcome::ExpectedDeviation)
        .map(|c| format!("{}{}{}", c.id, run_suffix(c), dut_suffix(run, c)))
        .collect();
    if !known.is_empty() {
        let _ = writeln!(
            m,
            "\n**Deviations the baseline expects** (not CI failures): {}",
            text(&known.join(", "))
        );
    }
    let flaky = run.flaky();
    if !flaky.is_empty() {
        let _ = writeln!(
            m,
            "\n**Flaky** (verdict changed across repeats): {}",
            flaky.join(", ")
        );
    }
    let _ = writeln!(
        m,
        "\n<sub>dicetest {} · details: report.html, junit.xml, report.json</sub>",
        run.tool_version
    );
    m
}

fn run_suffix(c: &CaseRecord) -> String {
    if c.run > 1 {
        format!(" (run {})", c.run)
    } else {
        String::new()
    }
}

fn dut_suffix(run: &Run, c: &CaseRecord) -> String {
    if run.duts.len() > 1 {
        format!(" ({})", c.dut)
    } else {
        String::new()
    }
}

pub fn level_rank(level: &str) -> u8 {
    match level {
        "MUST" => 0,
        "SHOULD" => 1,
        "MAY" => 2,
        _ => 3,
    }
}
