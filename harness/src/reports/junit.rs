//! `junit.xml` in the shape the test reporters of GitLab, Jenkins and GitHub read: a
//! `testsuite` per DUT, a `testcase` per case (class = the case's category).
//!
//! What is a CI failure is decided once, by `model::Run::ci_outcomes` (the decision
//! `dicetest run`'s exit code is made by), so junit.xml says what the exit code says:
//!
//! - a result that fails the run is a `<failure>` (an unexpected fail; with `--strict` a
//!   pass the baseline does not expect; a flaky case) or an `<error>` (an error verdict,
//!   an unexpected inconclusive), with the kind in `type`;
//! - a deviation the profile's baseline expects is `<skipped type="expected_deviation"
//!   message="expected deviation: <the baseline's reason> ...">`, the way pytest writes
//!   an xfail (`<skipped type="pytest.xfail" message=reason>`, src/_pytest/junitxml.py):
//!   known, not a CI failure, and still visible. GitLab's test report shows `<skipped>`
//!   cases as skipped rather than passed (gitlab-org/gitlab merge request 28053, "Detect
//!   skipped specs in JUnit reports and set TestCase status"); Jenkins' JUnit plugin
//!   counts them apart from failures and passes (its skipped message display is
//!   JENKINS-8713, jenkinsci/junit-plugin#889), which is why the verdict and the outcome
//!   are also `<property>`s of each testcase;
//! - not applicable is `<skipped type="not_applicable" message="not applicable: ...">`;
//! - a case an interrupted run never reached is `<skipped type="not_run">`, and a partial
//!   run carries one more testsuite, `dicetest`, whose `dicetest.run` testcase is an
//!   `<error type="interrupted">`: a partial run never looks green.
//!
//! The counts of `testsuite` and `testsuites` are those of the elements written.

use std::fmt::Write;

use super::model::{CaseRecord, CiOutcome, Failure, PlannedCase, Run};
use super::text::{xml_escape as esc, Sources};
fn secs(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Element counts of a testsuite.
#[derive(Default, Clone, Copy)]
struct Tally {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    ms: u64,
}

impl Tally {
    fn add(&mut self, t: Tally) {
        self.tests += t.tests;
        self.failures += t.failures;
        self.errors += t.errors;
        self.skipped += t.skipped;
        self.ms += t.ms;
    }

    fn attrs(&self) -> String {
        format!(
            "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\"",
            self.tests,
            self.failures,
            self.errors,
            self.skipped,
            secs(self.ms)
        )
    }
}

/// What a testcase holds besides its properties and output.
enum Child {
    None,
    Failure {
        kind: &'static str,
        message: String,
        body: String,
    },
    Error {
        kind: &'static str,
        message: String,
        body: String,
    },
    Skipped {
        kind: &'static str,
        message: String,
    },
}

impl Child {
    fn tally(&self, ms: u64) -> Tally {
        let mut t = Tally {
            tests: 1,
            ms,
            ..Default::default()
        };
        match self {
            Child::None => {}
            Child::Failure { .. } => t.failures = 1,
            Child::Error { .. } => t.errors = 1,
            Child::Skipped { .. } => t.skipped = 1,
        }
        t
    }

    fn write(&self, x: &mut String) {
        match self {
            Child::None => {}
            Child::Failure {
                kind,
                message,
                body,
            } => {
                let _ = writeln!(
                    x,
                    "      <failure message=\"{}\" type=\"{kind}\">{}</failure>",
                    esc(message),
                    esc(body)
                );
            }
            Child::Error {
                kind,
                message,
                body,
            } => {
                let _ = writeln!(
                    x,
                    "      <error message=\"{}\" type=\"{kind}\">{}</error>",
                    esc(message),
                    esc(body)
                );
            }
            Child::Skipped { kind, message } => {
                let _ = writeln!(
                    x,
                    "      <skipped message=\"{}\" type=\"{kind}\"/>",
                    esc(message)
                );
            }
        }
    }
}

/// The element a result is written as, by what it means for CI.
fn child(c: &CaseRecord, outcome: CiOutcome) -> Child {
    let baseline = c.expected_deviation.as_deref().unwrap_or_default();
    match outcome {
        CiOutcome::Passed | CiOutcome::PassedAgainstBaseline => Child::None,
        CiOutcome::ExpectedDeviation => Child::Skipped {
            kind: "expected_deviation",
            message: format!(
                "expected deviation: {baseline} (verdict {}: {})",
                c.verdict, c.reason
            ),
        },
        CiOutcome::NotApplicable => Child::Skipped {
            kind: "not_applicable",
            message: format!("not applicable: {}", c.reason),
        },
        CiOutcome::Failed(f) => {
            let kind = f.name();
            let body = details(c);
            match f {
                Failure::Fail => Child::Failure {
                    kind,
                    message: c.reason.clone(),
                    body,
                },
                Failure::Error => Child::Error {
                    kind,
                    message: c.reason.clone(),
                    body,
                },
                Failure::Inconclusive => Child::Error {
                    kind,
                    message: format!(
                        "inconclusive, and the baseline expects a pass: {}",
                        c.reason
                    ),
                    body,
                },
                Failure::StaleBaseline => Child::Failure {
                    kind,
                    message: format!(
                        "passes, but the baseline expects a deviation ({baseline}); with --strict \
                         that fails the run: update the baseline"
                    ),
                    body,
                },
                Failure::Flaky => Child::Failure {
                    kind,
                    message: format!(
                        "flaky: the verdicts of {} differ across --repeat runs (this run: {}: {})",
                        c.id, c.verdict, c.reason
                    ),
                    body,
                },
            }
        }
    }
}

pub fn render(run: &Run, sources: &Sources) -> String {
    let outcomes = run.ci_outcomes();
    let not_run: Vec<&PlannedCase> = if run.complete {
        Vec::new()
    } else {
        run.not_run()
    };
    let mut suites = String::new();
    let mut all = Tally::default();
    for dut in &run.duts {
        let mut body = String::new();
        let mut n = Tally::default();
        for (c, &o) in run.cases.iter().zip(&outcomes) {
            if c.dut == dut.name {
                n.add(testcase(&mut body, c, o, sources));
            }
        }
        for p in not_run.iter().filter(|p| p.dut == dut.name) {
            n.add(unreached(&mut body, p, &run.stop_reason()));
        }
        all.add(n);
        let _ = write!(
            suites,
            "  <testsuite name=\"{}\" {}",
            esc(&dut.name),
            n.attrs()
        );
        if let Some(t) = &run.started_at {
            let _ = write!(suites, " timestamp=\"{}\"", esc(t));
        }
        suites.push_str(">\n    <properties>\n");
        let mut prop = |k: &str, v: &str| property(&mut suites, "      ", k, v);
        prop("dut.description", &dut.description);
        prop("dut.kind", &dut.kind);
        prop("dut.claims", &dut.claims.join(", "));
        prop("dut.psk_identity", &dut.psk_identity);
        prop("tool_version", &run.tool_version);
        prop("complete", if run.complete { "true" } else { "false" });
        if let Some(p) = run.planned {
            prop("planned", &p.to_string());
        }
        if !run.complete {
            prop("not_run", &run.not_run_count().to_string());
        }
        prop("strict", if run.strict { "true" } else { "false" });
        prop("run_fails", if run.fails() { "true" } else { "false" });
        suites.push_str("    </properties>\n");
        suites.push_str(&body);
        suites.push_str("  </testsuite>\n");
    }
    if !run.complete {
        let n = interrupted(&mut suites, run);
        all.add(n);
    }
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(x, "<testsuites name=\"dicetest\" {}>", all.attrs());
    x.push_str(&suites);
    x.push_str("</testsuites>\n");
    x
}

fn property(x: &mut String, indent: &str, k: &str, v: &str) {
    let _ = writeln!(
        x,
        "{indent}<property name=\"{}\" value=\"{}\"/>",
        esc(k),
        esc(v)
    );
}

/// The testsuite that makes a partial run red: CI must not read the verdicts reached as
/// the whole story.
fn interrupted(x: &mut String, run: &Run) -> Tally {
    let reached = run.cases.len();
    let why = run.stop_reason();
    let message = match run.planned {
        Some(p) => format!(
            "{why}: {} of {p} planned cases not run ({reached} reached)",
            run.not_run_count()
        ),
        None => format!("{why} after {reached} cases (how many were planned is unknown)"),
    };
    let child = Child::Error {
        kind: "interrupted",
        message: message.clone(),
        body: format!(
            "{message}\nThe results reached are reported; the cases not reached are listed as skipped (not run).\nRe-run, or render with `dicetest report --from DIR --allow-partial` to accept a partial report."
        ),
    };
    let t = child.tally(0);
    let _ = writeln!(
        x,
        "  <testsuite name=\"dicetest\" {}>\n    <testcase classname=\"dicetest\" name=\"dicetest.run\" time=\"0.000\">",
        t.attrs()
    );
    child.write(x);
    x.push_str("    </testcase>\n  </testsuite>\n");
    t
}

fn unreached(x: &mut String, p: &PlannedCase, why: &str) -> Tally {
    let mut name = format!("{} (not run)", p.id);
    if p.run > 1 {
        let _ = write!(name, " (run {})", p.run);
    }
    let _ = writeln!(
        x,
        "    <testcase classname=\"not_run\" name=\"{}\" time=\"0.000\">",
        esc(&name)
    );
    let child = Child::Skipped {
        kind: "not_run",
        message: format!("not run: {why} before this case"),
    };
    child.write(x);
    x.push_str("    </testcase>\n");
    child.tally(0)
}

fn testcase(x: &mut String, c: &CaseRecord, outcome: CiOutcome, sources: &Sources) -> Tally {
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
    x.push_str(">\n      <properties>\n");
    property(x, "        ", "dicetest.verdict", c.verdict.name());
    property(x, "        ", "dicetest.outcome", outcome.name());
    if let Some(e) = &c.expected_deviation {
        property(x, "        ", "dicetest.baseline", e);
    }
    x.push_str("      </properties>\n");
    let child = child(c, outcome);
    child.write(x);
    let mut out = String::new();
    if outcome == CiOutcome::PassedAgainstBaseline {
        let _ = writeln!(
            out,
            "passes, but the baseline expects a deviation ({}): update the baseline (with --strict this fails the run)",
            c.expected_deviation.as_deref().unwrap_or_default()
        );
    }
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
    child.tally(c.duration_ms)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::model::tests::record;
    use crate::reports::model::{DutInfo, PlannedCase};
    use crate::reports::text::Redactor;
    use crate::runner::Verdict;

    /// Every element kind, with its message, in document order.
    fn elements(xml: &str) -> Vec<(String, String, String)> {
        let doc = roxmltree::Document::parse(xml).expect("junit.xml is XML");
        doc.descendants()
            .filter(|n| ["failure", "error", "skipped"].contains(&n.tag_name().name()))
            .map(|n| {
                (
                    n.tag_name().name().to_string(),
                    n.attribute("type").unwrap_or_default().to_string(),
                    n.attribute("message").unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    fn attr(xml: &str, tag: &str, name: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(xml).unwrap();
        doc.descendants()
            .filter(|n| n.has_tag_name(tag))
            .map(|n| n.attribute(name).unwrap_or_default().to_string())
            .collect()
    }

    fn run(strict: bool) -> Run {
        let mut run = Run {
            tool_version: "t".into(),
            duts: vec![DutInfo::named("d")],
            cases: vec![
                record("P", Verdict::Pass, None, 1),
                record("X", Verdict::Fail, Some("known bug"), 1),
                record("I", Verdict::Inconclusive, Some("known race"), 1),
                record("N", Verdict::NotApplicable, None, 1),
                record("S", Verdict::Pass, Some("was a bug"), 1),
                record("U", Verdict::Inconclusive, None, 1),
                record("E", Verdict::Error, None, 1),
                record("F", Verdict::Fail, None, 1),
            ],
            complete: true,
            strict,
            ..Default::default()
        };
        run.normalize();
        run
    }

    fn sources() -> Sources {
        Sources::new(std::path::Path::new("/nonexistent"), Redactor::default())
    }

    #[test]
    fn failures_and_errors_are_the_results_that_fail_the_run() {
        for strict in [false, true] {
            let run = run(strict);
            let xml = render(&run, &sources());
            let els = elements(&xml);
            let red = els
                .iter()
                .filter(|(t, _, _)| t == "failure" || t == "error")
                .count();
            assert_eq!(red, run.failing_results().len(), "strict={strict}\n{xml}");
            assert_eq!(red, if strict { 4 } else { 3 });
            let kinds: Vec<(&str, &str)> = els
                .iter()
                .map(|(t, k, _)| (t.as_str(), k.as_str()))
                .collect();
            assert!(kinds.contains(&("error", "inconclusive")), "{kinds:?}");
            assert!(kinds.contains(&("error", "error")));
            assert!(kinds.contains(&("failure", "fail")));
            assert_eq!(
                kinds.contains(&("failure", "stale_baseline")),
                strict,
                "{kinds:?}"
            );
            let msg = |k: &str| {
                els.iter()
                    .filter(|(_, kind, _)| kind == k)
                    .map(|(_, _, m)| m.as_str())
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                msg("expected_deviation"),
                [
                    "expected deviation: known race (verdict inconclusive: inconclusive reason)",
                    "expected deviation: known bug (verdict fail: fail reason)"
                ]
            );
            assert_eq!(
                msg("not_applicable"),
                ["not applicable: not_applicable reason"]
            );
            // The counts are those of the elements.
            let n = |k: &str| els.iter().filter(|(t, _, _)| t == k).count().to_string();
            for tag in ["testsuites", "testsuite"] {
                assert_eq!(attr(&xml, tag, "tests"), ["8"]);
                assert_eq!(attr(&xml, tag, "failures"), [n("failure")]);
                assert_eq!(attr(&xml, tag, "errors"), [n("error")]);
                assert_eq!(attr(&xml, tag, "skipped"), [n("skipped")]);
            }
        }
    }

    #[test]
    fn flaky_cases_are_failures() {
        let mut run = run(false);
        run.cases = vec![
            record("A", Verdict::Pass, None, 1),
            record("A", Verdict::Fail, None, 2),
        ];
        let els = elements(&render(&run, &sources()));
        assert_eq!(els.len(), 2);
        assert_eq!(els[0].1, "flaky");
        assert!(els[0].2.starts_with("flaky: the verdicts of A differ"));
        assert_eq!(els[1].1, "fail");
    }

    #[test]
    fn a_partial_run_lists_what_it_did_not_reach_and_is_red() {
        let mut run = run(false);
        run.cases = vec![record("A", Verdict::Pass, None, 1)];
        run.complete = false;
        run.planned = Some(3);
        run.planned_cases = ["A", "B", "C"]
            .iter()
            .map(|id| PlannedCase {
                dut: "d".into(),
                id: id.to_string(),
                run: 1,
            })
            .collect();
        let xml = render(&run, &sources());
        let els = elements(&xml);
        assert_eq!(
            els,
            [
                (
                    "skipped".into(),
                    "not_run".into(),
                    "not run: the run was interrupted before this case".into()
                ),
                (
                    "skipped".into(),
                    "not_run".into(),
                    "not run: the run was interrupted before this case".into()
                ),
                (
                    "error".into(),
                    "interrupted".into(),
                    "the run was interrupted: 2 of 3 planned cases not run (1 reached)".into()
                ),
            ]
        );
        assert_eq!(attr(&xml, "testsuite", "name"), ["d", "dicetest"]);
        assert_eq!(attr(&xml, "testsuites", "tests"), ["4"]);
        assert_eq!(attr(&xml, "testsuites", "errors"), ["1"]);
        assert_eq!(attr(&xml, "testsuites", "skipped"), ["2"]);
        assert!(xml.contains("<property name=\"complete\" value=\"false\"/>"));
        assert!(xml.contains("<property name=\"not_run\" value=\"2\"/>"));
    }
}
