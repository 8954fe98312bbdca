//! Shrinking a failing batch: leave out exchanges, then mutations, then the liveness
//! probe, keeping each cut only while the batch still fails by the same requirement.
//! Against a deterministic DUT (the simulated board) the result is deterministic too.

use super::exchange::Batch;

/// At most this many re-runs per finding on a simulated DUT (virtual clock: cheap).
pub const MAX_RUNS: usize = 120;
/// ... and on a real one, where every run that still fails waits out its timeouts.
pub const MAX_RUNS_REAL: usize = 24;

/// The smallest batch found that `still_fails` within `max_runs` re-runs; also the number
/// of re-runs.
pub fn shrink(
    batch: &Batch,
    max_runs: usize,
    still_fails: &mut dyn FnMut(&Batch) -> bool,
) -> (Batch, usize) {
    let mut cur = batch.clone();
    let mut runs = 0;
    let mut try_it = |cand: Batch, cur: &mut Batch, runs: &mut usize| -> bool {
        if *runs >= max_runs {
            return false;
        }
        *runs += 1;
        if still_fails(&cand) {
            *cur = cand;
            true
        } else {
            false
        }
    };
    loop {
        let mut changed = false;
        let mut i = cur.exchanges.len();
        while i > 0 {
            i -= 1;
            if cur.exchanges.len() > 1 && i < cur.exchanges.len() {
                let mut cand = cur.clone();
                cand.exchanges.remove(i);
                changed |= try_it(cand, &mut cur, &mut runs);
            }
        }
        for x in 0..cur.exchanges.len() {
            let mut j = cur.exchanges[x].ops.len();
            while j > 0 {
                j -= 1;
                if cur.exchanges[x].ops.len() > 1 && j < cur.exchanges[x].ops.len() {
                    let mut cand = cur.clone();
                    cand.exchanges[x].ops.remove(j);
                    changed |= try_it(cand, &mut cur, &mut runs);
                }
            }
        }
        if cur.liveness {
            let mut cand = cur.clone();
            cand.liveness = false;
            changed |= try_it(cand, &mut cur, &mut runs);
        }
        if !changed || runs >= max_runs {
            return (cur, runs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::exchange::{Exchange, Template};
    use crate::fuzz::mutate::Op;

    fn x(ops: Vec<Op>) -> Exchange {
        Exchange {
            template: Template::Session,
            target: Some(1),
            ops,
        }
    }

    #[test]
    fn keeps_only_what_the_failure_needs() {
        let culprit = Op::Plaintext {
            slot: 0,
            epoch_0: true,
        };
        let batch = Batch {
            exchanges: vec![
                x(vec![Op::Abandon]),
                x(vec![Op::Wait { slot: 0, ms: 100 }, culprit.clone()]),
                x(vec![Op::Replay]),
            ],
            liveness: true,
        };
        let mut fails = |b: &Batch| b.exchanges.iter().any(|e| e.ops.contains(&culprit));
        let (small, runs) = shrink(&batch, MAX_RUNS, &mut fails);
        assert_eq!(small.exchanges.len(), 1);
        assert_eq!(small.exchanges[0].ops, vec![culprit.clone()]);
        assert!(!small.liveness);
        assert!(runs > 0 && runs <= MAX_RUNS);
        // A failure that needs the liveness probe keeps it.
        let mut needs_liveness = |b: &Batch| b.liveness;
        let (kept, _) = shrink(&batch, MAX_RUNS, &mut needs_liveness);
        // The budget holds.
        let mut always = |_: &Batch| true;
        assert!(shrink(&batch, 2, &mut always).1 <= 2);
        assert!(kept.liveness);
    }
}
