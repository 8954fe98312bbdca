//! Requirement coverage: which RFC clauses the cases cite, which cases exercised each,
//! and the share of MUST clauses exercised.
//!
//! A clause is a reference as the cases write it (`RFC 6347 §4.2.1`). It is a MUST clause
//! when a MUST-level case cites it. It is *covered* when at least one case citing it
//! reached a pass or a fail against a DUT: inconclusive, error and not-applicable
//! verdicts show nothing about the clause. Only the clauses the report's cases cite are
//! counted, so a run filtered with `--case` covers a smaller set.
//!
//! A clause is *violated* only when a MUST-level case citing it failed and the DUT
//! profile's baseline does not expect that fail. A fail the baseline expects shows as
//! "deviation expected by the baseline"; an unexpected fail of a SHOULD- or MAY-level
//! case as "SHOULD not met" ("MAY not met"): the RFC asks for the behaviour, it does not
//! require it (RFC 2119 §3, §5).

use std::collections::BTreeMap;

use super::model::{CaseRecord, Run};
use crate::runner::Verdict;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clause {
    pub clause: String,
    /// Strongest level among the cases citing it.
    pub level: String,
    /// Indexes into `Run::cases`.
    pub cases: Vec<usize>,
    pub covered: bool,
    /// A MUST-level case citing it failed, unexpectedly.
    pub violated: bool,
    /// A SHOULD- or MAY-level case citing it failed, unexpectedly: the strongest such
    /// level.
    pub not_met: Option<String>,
    /// A case citing it failed as the baseline expects.
    pub deviation_expected: bool,
}

impl Clause {
    /// What the coverage table says of it.
    pub fn status(&self) -> String {
        if self.violated {
            "violated".into()
        } else if let Some(l) = &self.not_met {
            format!("{l} not met")
        } else if self.deviation_expected {
            "deviation expected by the baseline".into()
        } else if self.covered {
            "covered".into()
        } else {
            "not covered".into()
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    pub clauses: Vec<Clause>,
    pub must_total: usize,
    pub must_covered: usize,
}

impl Coverage {
    /// The share of MUST clauses covered, in percent (100 when none is cited).
    pub fn must_percent(&self) -> f64 {
        if self.must_total == 0 {
            100.0
        } else {
            self.must_covered as f64 * 100.0 / self.must_total as f64
        }
    }
}

fn exercised(c: &CaseRecord) -> bool {
    matches!(c.verdict, Verdict::Pass | Verdict::Fail)
}

pub fn coverage(run: &Run) -> Coverage {
    let mut by: BTreeMap<String, Clause> = BTreeMap::new();
    for (i, c) in run.cases.iter().enumerate() {
        for r in &c.refs {
            let key = r.trim().to_string();
            let e = by.entry(key.clone()).or_insert_with(|| Clause {
                clause: key,
                level: c.level.clone(),
                cases: Vec::new(),
                covered: false,
                violated: false,
                not_met: None,
                deviation_expected: false,
            });
            if super::summary_md::level_rank(&c.level) < super::summary_md::level_rank(&e.level) {
                e.level = c.level.clone();
            }
            e.cases.push(i);
            e.covered |= exercised(c);
            if c.verdict == Verdict::Fail {
                // as_expected with a baseline entry: the deviation is known. (A pass
                // where one is expected is no fail at all.)
                let expected = c.as_expected && c.expected_deviation.is_some();
                if expected {
                    e.deviation_expected = true;
                } else if c.level == "MUST" {
                    e.violated = true;
                } else {
                    let level = if c.level.is_empty() {
                        "SHOULD".to_string()
                    } else {
                        c.level.clone()
                    };
                    let stronger = e.not_met.as_ref().is_none_or(|l| {
                        super::summary_md::level_rank(&level) < super::summary_md::level_rank(l)
                    });
                    if stronger {
                        e.not_met = Some(level);
                    }
                }
            }
        }
    }
    let mut clauses: Vec<Clause> = by.into_values().collect();
    clauses.sort_by_key(|c| sort_key(&c.clause));
    let must: Vec<&Clause> = clauses.iter().filter(|c| c.level == "MUST").collect();
    Coverage {
        must_total: must.len(),
        must_covered: must.iter().filter(|c| c.covered).count(),
        clauses,
    }
}

/// `RFC 6347 §4.2.10` sorts after `RFC 6347 §4.2.2` and before `RFC 7925 §3`.
fn sort_key(clause: &str) -> (u32, Vec<u32>, String) {
    let mut rfc = u32::MAX;
    let mut section = Vec::new();
    let mut words = clause.split_whitespace();
    while let Some(w) = words.next() {
        if w.eq_ignore_ascii_case("rfc") {
            if let Some(n) = words.next().and_then(|n| n.parse().ok()) {
                rfc = n;
            }
        } else if let Some(s) = w.strip_prefix('§') {
            section = s
                .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .split('.')
                .map(|p| p.parse().unwrap_or(u32::MAX))
                .collect();
        }
    }
    (rfc, section, clause.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::model::CaseRecord;

    fn case(id: &str, level: &str, v: Verdict, refs: &[&str]) -> CaseRecord {
        CaseRecord {
            branches: Vec::new(),
            dut: "d".into(),
            id: id.into(),
            title: String::new(),
            verdict: v,
            reason: String::new(),
            step: None,
            line: None,
            refs: refs.iter().map(|s| s.to_string()).collect(),
            level: level.into(),
            file: String::new(),
            category: String::new(),
            started_at: None,
            duration_ms: 0,
            as_expected: true,
            expected_deviation: None,
            evidence: None,
            capture: None,
            run: 1,
            chart: Vec::new(),
        }
    }

    #[test]
    fn must_share_and_order() {
        let run = Run {
            cases: vec![
                case(
                    "A",
                    "MUST",
                    Verdict::Pass,
                    &["RFC 6347 §4.2.10", "RFC 7925 §3"],
                ),
                case("B", "MUST", Verdict::NotApplicable, &["RFC 6347 §4.2.2"]),
                case(
                    "C",
                    "SHOULD",
                    Verdict::Fail,
                    &["RFC 6347 §4.2.2", "RFC 4279 §2"],
                ),
                case("D", "MAY", Verdict::Inconclusive, &["RFC 6347 §4.1"]),
            ],
            ..Default::default()
        };
        let cov = coverage(&run);
        let names: Vec<&str> = cov.clauses.iter().map(|c| c.clause.as_str()).collect();
        assert_eq!(
            names,
            [
                "RFC 4279 §2",
                "RFC 6347 §4.1",
                "RFC 6347 §4.2.2",
                "RFC 6347 §4.2.10",
                "RFC 7925 §3"
            ]
        );
        // MUST clauses: 4.2.10 and 7925 §3 (covered by A), 4.2.2 (B n/a but C failed it).
        assert_eq!((cov.must_total, cov.must_covered), (3, 3));
        let c422 = &cov.clauses[2];
        assert_eq!(c422.cases, [1, 2]);
        // C is a SHOULD-level fail: not met, not violated.
        assert!(!c422.violated);
        assert_eq!(c422.status(), "SHOULD not met");
        assert!(!cov.clauses[1].covered);
        assert_eq!(cov.clauses[1].level, "MAY");
    }

    #[test]
    fn violated_only_by_an_unexpected_must_fail() {
        let mut expected = case("E", "MUST", Verdict::Fail, &["RFC 6347 §4.1"]);
        expected.expected_deviation = Some("known bug".into());
        let unexpected = case("U", "MUST", Verdict::Fail, &["RFC 6347 §4.2"]);
        let may = case("M", "MAY", Verdict::Fail, &["RFC 6347 §4.3"]);
        let mut stale = case("S", "MUST", Verdict::Pass, &["RFC 6347 §4.4"]);
        stale.expected_deviation = Some("was a bug".into());
        stale.as_expected = false;
        let both = vec![
            case("A", "MUST", Verdict::Pass, &["RFC 6347 §4.5"]),
            case("B", "SHOULD", Verdict::Fail, &["RFC 6347 §4.5"]),
        ];
        let mut cases = vec![expected, unexpected, may, stale];
        cases.extend(both);
        let run = Run {
            cases,
            ..Default::default()
        };
        let status: Vec<(String, String)> = coverage(&run)
            .clauses
            .iter()
            .map(|c| (c.clause.clone(), c.status()))
            .collect();
        let want = [
            ("RFC 6347 §4.1", "deviation expected by the baseline"),
            ("RFC 6347 §4.2", "violated"),
            ("RFC 6347 §4.3", "MAY not met"),
            ("RFC 6347 §4.4", "covered"),
            ("RFC 6347 §4.5", "SHOULD not met"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(status, want);
        // The MUST clause a SHOULD case failed is still a MUST clause, and covered.
        assert_eq!(coverage(&run).clauses[4].level, "MUST");
    }
}
