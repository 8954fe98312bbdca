//! Verdicts, ordered so that the worst one of a case's steps wins (the ioppytest scale).

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The profile does not claim what the case needs; decided before running.
    NotApplicable,
    Pass,
    /// A pre-condition was not reached, or the RFC allows what happened and the case says why.
    Inconclusive,
    Fail,
    /// The harness or the DUT's setup broke.
    Error,
}

impl Verdict {
    pub fn parse(s: &str) -> Option<Verdict> {
        Some(match s {
            "pass" => Verdict::Pass,
            "inconclusive" => Verdict::Inconclusive,
            "fail" => Verdict::Fail,
            "error" => Verdict::Error,
            "not_applicable" => Verdict::NotApplicable,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Verdict::NotApplicable => "not_applicable",
            Verdict::Pass => "pass",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What one step concluded.
#[derive(Clone, Debug)]
pub struct StepOutcome {
    pub verdict: Verdict,
    pub reason: String,
}

impl StepOutcome {
    pub fn pass(reason: impl Into<String>) -> Self {
        StepOutcome {
            verdict: Verdict::Pass,
            reason: reason.into(),
        }
    }
    pub fn fail(reason: impl Into<String>) -> Self {
        StepOutcome {
            verdict: Verdict::Fail,
            reason: reason.into(),
        }
    }
    pub fn inconclusive(reason: impl Into<String>) -> Self {
        StepOutcome {
            verdict: Verdict::Inconclusive,
            reason: reason.into(),
        }
    }
    pub fn error(reason: impl Into<String>) -> Self {
        StepOutcome {
            verdict: Verdict::Error,
            reason: reason.into(),
        }
    }
}
