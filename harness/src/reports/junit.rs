//! `junit.xml` in the shape the test reporters of GitLab, Jenkins and GitHub read: a
//! `testsuite` per DUT, a `testcase` per case (class = the case's category). fail →
//! `failure`, error → `error`, inconclusive and not_applicable → `skipped` with the reason.

use std::fmt::Write;

use super::model::{CaseRecord, Counts, Run};
use super::text::{xml_escape as esc, Sources};
use crate::runner::Verdict;

fn secs(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

pub fn render(run: &Run, sources: &Sources) -> String {
    let all = run.counts();
    let total_ms: u64 = run.cases.iter().map(|c| c.duration_ms).sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"dicetest\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
        all.total,
        all.fail,
        all.error,
        all.inconclusive + all.not_applicable,
        secs(total_ms)
    );
    for dut in &run.duts {
        let cases: Vec<&CaseRecord> = run.cases_of(&dut.name).collect();
        let n = Counts::of(cases.iter().copied());
        let ms: u64 = cases.iter().map(|c| c.duration_ms).sum();
        let _ = write!(
            x,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\"",
            esc(&dut.name),
            n.total,
            n.fail,
            n.error,
            n.inconclusive + n.not_applicable,
            secs(ms)
        );
        if let Some(t) = &run.started_at {
            let _ = write!(x, " timestamp=\"{}\"", esc(t));
        }
        x.push_str(">\n    <properties>\n");
        let mut prop = |k: &str, v: &str| {
            let _ = writeln!(
                x,
                "      <property name=\"{}\" value=\"{}\"/>",
                esc(k),
                esc(v)
            );
        };
        prop("dut.description", &dut.description);
        prop("dut.kind", &dut.kind);
        prop("dut.claims", &dut.claims.join(", "));
        prop("dut.psk_identity", &dut.psk_identity);
        prop("tool_version", &run.tool_version);
        prop("complete", if run.complete { "true" } else { "false" });
        x.push_str("    </properties>\n");
        for c in cases {
            testcase(&mut x, c, sources);
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

fn testcase(x: &mut String, c: &CaseRecord, sources: &Sources) {
    let mut name = format!("{} {}", c.id, c.title);
    if c.run > 1 {
        let _ = write!(name, " (run {})", c.run);
    }
    let _ = write!(
        x,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\"",
        esc(&c.category),
        esc(&name),
        secs(c.duration_ms)
    );
    if !c.file.is_empty() {
        let _ = write!(x, " file=\"{}\"", esc(&c.file));
        if let Some(l) = c.line {
            let _ = write!(x, " line=\"{l}\"");
        }
    }
    x.push_str(">\n");
    let detail = details(c);
    match c.verdict {
        Verdict::Fail => {
            let _ = writeln!(
                x,
                "      <failure message=\"{}\" type=\"fail\">{}</failure>",
                esc(&c.reason),
                esc(&detail)
            );
        }
        Verdict::Error => {
            let _ = writeln!(
                x,
                "      <error message=\"{}\" type=\"error\">{}</error>",
                esc(&c.reason),
                esc(&detail)
            );
        }
        Verdict::Inconclusive | Verdict::NotApplicable => {
            let _ = writeln!(
                x,
                "      <skipped message=\"{}: {}\"/>",
                c.verdict,
                esc(&c.reason)
            );
        }
        Verdict::Pass => {}
    }
    let mut out = String::new();
    if let Some(p) = &c.evidence {
        let _ = writeln!(out, "evidence: {p}");
    }
    if let Some(p) = &c.capture {
        let _ = writeln!(out, "capture: {p}");
    }
    if let Some(t) = sources.evidence(c) {
        out.push('\n');
        out.push_str(&t);
    }
    if !out.is_empty() {
        let _ = writeln!(x, "      <system-out>{}</system-out>", esc(&out));
    }
    x.push_str("    </testcase>\n");
}

/// The body of a failure or error element: what decided and what the RFC says where.
fn details(c: &CaseRecord) -> String {
    let mut d = format!("{}\nverdict: {}", c.reason, c.verdict);
    if let (Some(s), Some(l)) = (c.step, c.line) {
        let _ = write!(d, "\ndecided by step {s} ({}:{l})", c.file);
    }
    if !c.refs.is_empty() {
        let _ = write!(d, "\nrefs: {}", c.refs.join("; "));
    }
    let _ = write!(d, "\nlevel: {}", c.level);
    if let Some(e) = &c.expected_deviation {
        let _ = write!(d, "\nexpected deviation (baseline): {e}");
    }
    d
}
