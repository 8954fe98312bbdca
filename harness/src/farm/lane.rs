//! One board's lane: health-checked before the run, then every case of the run in turn
//! against it, with the inventory's reset policy, a health check after each case, and
//! the board reset when it hung.
//!
//! A hang is a board that fails its health handshake right after a case: the verdict the
//! case reached may have been decided by the silence of a dead board (a case that expects
//! silence passes against a hung board), so it is not kept: the case becomes
//! inconclusive, naming the hang. The board is then reset and health-checked again, and
//! the lane goes on. A board that hangs more often than the inventory's `hang_resets`, or
//! that does not come back from its reset, is given up: every remaining case of it is
//! inconclusive with that reason, so the run completes and nothing is silently skipped.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::board::{Board, BoardError};
use super::inventory::{Inventory, ResetPolicy};
use crate::cases::LoadedCase;
use crate::dut::Profile;
use crate::reports::model::category_of;
use crate::runner::{applicability, as_expected, run_case, CaseResult, Verdict};

/// How a board's lane ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LaneEnd {
    /// Every case ran.
    Completed,
    /// The board failed its health check (or could not be opened or flashed) before the
    /// run: none of its cases ran.
    Quarantined(String),
    /// The board hung (or a reset failed) and was given up part way.
    GivenUp(String),
}

/// What a lane did, for the farm summary.
#[derive(Clone, Debug)]
pub struct LaneSummary {
    pub board: String,
    pub end: LaneEnd,
    /// Case ids during which the board hung, with the health check's words.
    pub hangs: Vec<(String, String)>,
    pub resets: usize,
}

/// A lane's inputs that do not change from case to case.
pub struct Lane<'a> {
    pub board: Box<dyn Board>,
    /// The firmware's profile; the lane points it at the board's address.
    pub profile: Profile,
    pub inventory: &'a Inventory,
    pub image: String,
    pub seed: u64,
    pub root: &'a Path,
}

/// The seed of a case: from its id, so the same case gets the same seed in any shard.
pub fn case_seed(seed: u64, id: &str) -> u64 {
    // FNV-1a, 64 bit.
    id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    }) ^ seed
}

/// Whether the policy resets the board before a case of `category`, after the case
/// before it (its suite folder and verdict), if any.
pub fn reset_before(
    policy: ResetPolicy,
    previous: Option<&(String, Verdict)>,
    category: &str,
) -> bool {
    match (previous, policy) {
        (None, _) => false,
        (Some(_), ResetPolicy::PerCase) => true,
        (Some((cat, _)), ResetPolicy::PerSuite) => cat != category,
        (Some((_, v)), ResetPolicy::AfterFailure) => {
            !matches!(v, Verdict::Pass | Verdict::NotApplicable)
        }
    }
}

/// A result that the lane decides without running the case.
/// `baseline` is the profile's expected deviations.
pub fn unrun(
    case: &LoadedCase,
    baseline: &BTreeMap<String, String>,
    verdict: Verdict,
    reason: String,
) -> CaseResult {
    let deviation = baseline.get(&case.case.id).cloned();
    CaseResult {
        id: case.case.id.clone(),
        title: case.case.title.clone(),
        verdict,
        reason,
        step: None,
        line: None,
        refs: case.case.refs.clone(),
        level: format!("{:?}", case.case.level),
        file: case.file.display().to_string(),
        duration_ms: 0,
        as_expected: as_expected(deviation.as_deref(), verdict),
        expected_deviation: deviation,
        evidence: None,
        run: 1,
        branches: Vec::new(),
        trace: Vec::new(),
        dut_log: String::new(),
        captures: Vec::new(),
        keylog: Vec::new(),
    }
}

impl Lane<'_> {
    fn health(&mut self) -> Result<(), BoardError> {
        let limit = Duration::from_millis(self.inventory.health_timeout_ms);
        self.board.health(limit)
    }

    /// Flash and first health check. The reason for quarantine, if the board fails.
    fn bring_up(&mut self) -> Result<(), String> {
        let image = self.image.clone();
        self.board
            .flash(&image)
            .map_err(|e| format!("bring-up failed: {e}"))?;
        self.health()
            .map_err(|e| format!("health check failed before the run: {e}"))
    }

    /// The profile pointed at where the board answers now.
    fn profile_now(&self) -> Profile {
        let mut p = self.profile.clone();
        p.name = self.board.name().to_string();
        p.kind = crate::dut::profile::DutKind::Address;
        p.start = None;
        p.address = self.board.address().map(|a| a.to_string());
        p
    }

    /// Runs `cases` on the board; `on_result` sees each result as it is reached.
    pub fn run(
        mut self,
        cases: &[LoadedCase],
        on_result: &mut dyn FnMut(&CaseResult),
    ) -> LaneSummary {
        let mut summary = LaneSummary {
            board: self.board.name().to_string(),
            end: LaneEnd::Completed,
            hangs: Vec::new(),
            resets: 0,
        };
        if let Err(why) = self.bring_up() {
            let reason = format!("not run: board {} is quarantined: {why}", summary.board);
            let baseline = &self.profile.expected_deviations;
            for c in cases {
                on_result(&match applicability(c, &self.profile) {
                    Some(na) => unrun(c, baseline, Verdict::NotApplicable, na),
                    None => unrun(c, baseline, Verdict::Error, reason.clone()),
                });
            }
            summary.end = LaneEnd::Quarantined(why);
            return summary;
        }
        let mut given_up: Option<String> = None;
        let mut previous: Option<(String, Verdict)> = None;
        // Set when the board was reset after a hang: the policy need not reset it again.
        let mut fresh = true;
        for c in cases {
            // Whether a case applies is decided from the profile, before any board.
            if let Some(why) = applicability(c, &self.profile) {
                on_result(&unrun(
                    c,
                    &self.profile.expected_deviations,
                    Verdict::NotApplicable,
                    why,
                ));
                continue;
            }
            if let Some(why) = &given_up {
                let reason = format!("not run: {why}");
                on_result(&unrun(
                    c,
                    &self.profile.expected_deviations,
                    Verdict::Inconclusive,
                    reason,
                ));
                continue;
            }
            let category = category_of(&c.file.display().to_string());
            // Not after a flash or a reset after a hang: the board just booted.
            let reset_now =
                !fresh && reset_before(self.inventory.reset, previous.as_ref(), &category);
            if reset_now {
                summary.resets += 1;
                if let Err(e) = self.board.reset().and_then(|_| self.health()) {
                    let why = format!(
                        "board {} did not come back from its reset before {}: {e}",
                        summary.board, c.case.id
                    );
                    on_result(&unrun(
                        c,
                        &self.profile.expected_deviations,
                        Verdict::Inconclusive,
                        format!("not run: {why}"),
                    ));
                    given_up = Some(why);
                    continue;
                }
            }
            fresh = false;
            let profile = self.profile_now();
            let mut r = run_case(c, &profile, case_seed(self.seed, &c.case.id), self.root);
            // The health check tells whether the board was alive through the case; the
            // device's log (read before any reset) goes into the case's evidence.
            let health = self.health();
            let log = self.board.read_log();
            if !log.is_empty() {
                r.dut_log = log;
            }
            if let Err(e) = health {
                r = self.hung(r, e, &mut summary, &mut given_up);
                fresh = true;
            }
            r.as_expected = as_expected(r.expected_deviation.as_deref(), r.verdict);
            previous = Some((category, r.verdict));
            on_result(&r);
        }
        if let Some(why) = given_up {
            summary.end = LaneEnd::GivenUp(why);
        }
        summary
    }

    /// The board did not answer its health check after case `r`: the case becomes
    /// inconclusive, and the board is reset (or given up).
    fn hung(
        &mut self,
        mut r: CaseResult,
        e: BoardError,
        summary: &mut LaneSummary,
        given_up: &mut Option<String>,
    ) -> CaseResult {
        let board = summary.board.clone();
        summary.hangs.push((r.id.clone(), e.to_string()));
        r.reason = format!(
            "board {board} hung during this case (its health check after the case failed: {e}); \
             the {} it reached is not kept: {}",
            r.verdict, r.reason
        );
        r.verdict = Verdict::Inconclusive;
        r.step = None;
        r.line = None;
        let hangs = summary.hangs.len();
        if hangs > self.inventory.hang_resets as usize {
            *given_up = Some(format!(
                "board {board} hung {hangs} times, last during {} (hang_resets: {})",
                r.id, self.inventory.hang_resets
            ));
            return r;
        }
        summary.resets += 1;
        match self.board.reset().and_then(|_| self.health()) {
            Ok(()) => r.reason.push_str("; the board was reset and answers again"),
            Err(e2) => {
                *given_up = Some(format!(
                    "board {board} hung during {} and did not come back from its reset: {e2}",
                    r.id
                ));
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_policies() {
        let after = |cat: &str, v| Some((cat.to_string(), v));
        use ResetPolicy::*;
        use Verdict::*;
        for p in [PerCase, PerSuite, AfterFailure] {
            assert!(
                !reset_before(p, None, "cookie"),
                "{p:?} resets before the first case"
            );
        }
        assert!(reset_before(
            PerCase,
            after("cookie", Pass).as_ref(),
            "cookie"
        ));
        assert!(!reset_before(
            PerSuite,
            after("cookie", Fail).as_ref(),
            "cookie"
        ));
        assert!(reset_before(
            PerSuite,
            after("cookie", Pass).as_ref(),
            "handshake"
        ));
        assert!(!reset_before(
            AfterFailure,
            after("cookie", Pass).as_ref(),
            "handshake"
        ));
        for v in [Fail, Error, Inconclusive] {
            assert!(reset_before(
                AfterFailure,
                after("cookie", v).as_ref(),
                "cookie"
            ));
        }
    }

    #[test]
    fn case_seeds_depend_on_the_id_only() {
        assert_eq!(case_seed(1, "HS-01"), case_seed(1, "HS-01"));
        assert_ne!(case_seed(1, "HS-01"), case_seed(1, "HS-02"));
        assert_ne!(case_seed(1, "HS-01"), case_seed(2, "HS-01"));
    }
}
