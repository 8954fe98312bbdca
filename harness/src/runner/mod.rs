//! Runs cases against a DUT and gives each its verdict, reason and evidence.

pub mod interpret;
pub mod preflight;
pub mod report;
pub mod verdict;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::cases::{DutRole, LoadedCase};
use crate::dut::Profile;
pub use interpret::{CaseOutcome, Interpreter};
pub use verdict::Verdict;

/// One case's result, as reports carry it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CaseResult {
    pub id: String,
    pub title: String,
    pub verdict: Verdict,
    pub reason: String,
    /// The step that decided (1-based) and its line in the case file.
    pub step: Option<usize>,
    pub line: Option<u64>,
    pub refs: Vec<String>,
    pub level: String,
    pub file: String,
    pub duration_ms: u64,
    /// Whether the verdict is what the profile's baseline expects.
    pub as_expected: bool,
    /// Why the profile expects a deviation, if it does.
    pub expected_deviation: Option<String>,
    pub evidence: Option<String>,
    /// Run number when --repeat > 1.
    pub run: u32,
    /// Which `one_of` alternative matched at each such step.
    pub branches: Vec<String>,
    #[serde(skip)]
    pub trace: Vec<String>,
    #[serde(skip)]
    pub dut_log: String,
    /// Every datagram of the exchange (for pcapng captures and sequence charts).
    #[serde(skip)]
    pub captures: Vec<interpret::Captured>,
    /// NSS key log lines of the case's sessions. Secret: written only on request.
    #[serde(skip)]
    pub keylog: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct RunOptions {
    pub jobs: usize,
    pub repeat: u32,
    pub out: Option<PathBuf>,
    pub seed: u64,
    /// Which cases the lanes are running now (for a heartbeat), if anyone asks.
    pub progress: Option<std::sync::Arc<Progress>>,
}

/// The cases under way, by work index: what a heartbeat shows while a long case waits.
#[derive(Debug, Default)]
pub struct Progress {
    running: std::sync::Mutex<std::collections::BTreeMap<usize, (String, std::time::Instant)>>,
}

impl Progress {
    fn started(&self, k: usize, id: &str) {
        self.lock()
            .insert(k, (id.to_string(), std::time::Instant::now()));
    }

    fn ended(&self, k: usize) {
        self.lock().remove(&k);
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<usize, (String, std::time::Instant)>>
    {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cases running now and how long each has run, oldest first.
    pub fn running(&self) -> Vec<(String, std::time::Duration)> {
        let mut v: Vec<(String, std::time::Duration)> = self
            .lock()
            .values()
            .map(|(id, t)| (id.clone(), t.elapsed()))
            .collect();
        v.sort_by_key(|x| std::cmp::Reverse(x.1));
        v
    }
}

/// Why a case does not apply to this DUT, if it does not.
pub fn applicability(case: &LoadedCase, profile: &Profile) -> Option<String> {
    if !profile.roles.contains(&case.case.dut.role) {
        return Some(format!(
            "the case needs a DUT {} and the profile does not claim that role",
            role_name(case.case.dut.role)
        ));
    }
    let missing: Vec<&String> = case
        .case
        .dut
        .claims
        .iter()
        .filter(|c| !profile.claims(c))
        .collect();
    if !missing.is_empty() {
        return Some(format!(
            "the profile does not claim {}",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let requests = crate::cases::needs::max_requests_per_association(&case.case);
    if profile.application.closes_after_answer && requests > 1 {
        return Some(format!(
            "the case sends {requests} requests on one association, and the application ends an association after its first answer (profile: application.closes_after_answer)"
        ));
    }
    if profile.probe == "none" && crate::cases::needs::needs_probe(&case.case) {
        return Some(
            "the case must see the DUT take application data, and the profile offers no way to see it (probe: none)".into(),
        );
    }
    if profile.application.one_association_at_a_time
        && crate::cases::needs::opens_association_while_one_is_unfinished(&case.case)
    {
        return Some(
            "the case opens a new association while one it started is unfinished, and the server serves one association at a time (profile: application.one_association_at_a_time)".into(),
        );
    }
    None
}

pub fn role_name(r: DutRole) -> &'static str {
    match r {
        DutRole::Server => "server",
        DutRole::Client => "client",
    }
}

pub use crate::dut::open::sim_device;

/// Runs one case and judges it.
pub fn run_case(case: &LoadedCase, profile: &Profile, seed: u64, root: &Path) -> CaseResult {
    let started = std::time::Instant::now();
    let mut result = CaseResult {
        id: case.case.id.clone(),
        title: case.case.title.clone(),
        verdict: Verdict::Pass,
        reason: String::new(),
        step: None,
        line: None,
        refs: case.case.refs.clone(),
        level: format!("{:?}", case.case.level),
        file: case.file.display().to_string(),
        duration_ms: 0,
        as_expected: true,
        expected_deviation: profile.expected_deviations.get(&case.case.id).cloned(),
        evidence: None,
        run: 1,
        branches: Vec::new(),
        trace: Vec::new(),
        dut_log: String::new(),
        captures: Vec::new(),
        keylog: Vec::new(),
    };
    if let Some(why) = applicability(case, profile) {
        result.verdict = Verdict::NotApplicable;
        result.reason = why;
        return finish(result, started);
    }
    let mut dut = match crate::dut::open::open(profile, case.case.dut.role, seed, root) {
        Ok(d) => d,
        Err(e) => return finish(error(result, e), started),
    };
    let outcome =
        Interpreter::new(dut.link.as_mut(), profile, seed, case.case.dut.role).run(&case.case);
    result.verdict = outcome.verdict;
    result.reason = outcome.reason;
    result.step = outcome.step.map(|s| s.0);
    result.line = outcome.step.map(|s| s.1);
    result.trace = outcome.trace;
    result.captures = outcome.captures;
    result.keylog = outcome.keylog;
    result.branches = outcome.branches;
    result.dut_log = dut.log();
    drop(dut);
    finish(result, started)
}

fn error(mut r: CaseResult, why: String) -> CaseResult {
    r.verdict = Verdict::Error;
    r.reason = why;
    r
}

/// Whether a verdict is what the baseline expects: a pass where no deviation is listed, a
/// fail or inconclusive where one is; not_applicable always.
pub fn as_expected(deviation: Option<&str>, v: Verdict) -> bool {
    // A deviation whose reason starts with "flaky:" is a race of the DUT's own that the
    // case cannot avoid (a serial server, say): any verdict but error is as expected, and
    // the reason says why.
    let flaky = deviation.is_some_and(|r| r.trim_start().starts_with("flaky:"));
    match v {
        Verdict::NotApplicable => true,
        Verdict::Pass => deviation.is_none() || flaky,
        Verdict::Fail | Verdict::Inconclusive => deviation.is_some(),
        Verdict::Error => false,
    }
}

fn finish(mut r: CaseResult, started: std::time::Instant) -> CaseResult {
    r.duration_ms = started.elapsed().as_millis() as u64;
    r.as_expected = as_expected(r.expected_deviation.as_deref(), r.verdict);
    r
}

/// Runs every case (× repeat) in `jobs` lanes; `on_result` sees each result as it is
/// reached (journal, progress). Results come back in case order.
pub fn run_all(
    cases: &[LoadedCase],
    profile: &Profile,
    opts: &RunOptions,
    root: &Path,
    on_result: &mut dyn FnMut(&CaseResult, usize, usize),
) -> Vec<CaseResult> {
    let work: Vec<(usize, u32)> = (0..cases.len())
        .flat_map(|i| (1..=opts.repeat.max(1)).map(move |r| (i, r)))
        .collect();
    let total = work.len();
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, CaseResult)>();
    let mut results: Vec<(usize, CaseResult)> = Vec::with_capacity(total);
    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.max(1) {
            let tx = tx.clone();
            let next = &next;
            let work = &work;
            scope.spawn(move || loop {
                // An interrupted run takes no new case, and a case under way when the
                // signal came is abandoned: its waits were cut short, so it has no verdict.
                if crate::interrupt::requested().is_some() {
                    break;
                }
                let k = next.fetch_add(1, Ordering::SeqCst);
                let Some(&(i, run)) = work.get(k) else { break };
                let seed = opts.seed.wrapping_add(k as u64);
                if let Some(p) = &opts.progress {
                    p.started(k, &cases[i].case.id);
                }
                let mut r = run_case(&cases[i], profile, seed, root);
                r.run = run;
                if let Some(p) = &opts.progress {
                    p.ended(k);
                }
                if crate::interrupt::requested().is_some() {
                    break;
                }
                if tx.send((k, r)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for (k, r) in rx {
            on_result(&r, results.len() + 1, total);
            results.push((k, r));
        }
    });
    results.sort_by_key(|(k, _)| *k);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_baseline_decides_what_is_expected() {
        use Verdict::*;
        assert!(as_expected(None, Pass));
        assert!(!as_expected(None, Fail));
        assert!(!as_expected(None, Inconclusive));
        assert!(as_expected(Some("a known bug"), Fail));
        assert!(as_expected(Some("a known bug"), Inconclusive));
        assert!(
            !as_expected(Some("a known bug"), Pass),
            "better than the baseline is listed"
        );
        assert!(as_expected(Some("flaky: a serial server"), Pass));
        assert!(as_expected(Some("flaky: a serial server"), Fail));
        for d in [None, Some("x"), Some("flaky: y")] {
            assert!(!as_expected(d, Error));
            assert!(as_expected(d, NotApplicable));
        }
    }
}
