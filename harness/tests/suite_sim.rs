//! Every test description against the built-in simulated board (the reference firmware's
//! core, in-process, virtual clock), one trial per case: `cargo test --test suite_sim -- CK-01`.
//!
//! And the able-to-fail self-test: each case runs against the configuration its
//! `able_to_fail` names (a fault switch of the board, or a profile that breaks the
//! requirement) and must then give `fail` (or the verdict it declares). Cases that cannot yet
//! be shown to fail must be listed, with a reason, in suites/able-to-fail-gaps.txt: the
//! list is checked both ways, so it cannot go stale.

use std::path::{Path, PathBuf};

use dicetest::cases::{load_suite_dir, LoadedCase};
use dicetest::dut::profile::{find_profile, Profile};
use dicetest::runner::{run_case, CaseResult, Verdict};
use libtest_mimic::{Arguments, Failed, Trial};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn sim_profile() -> Profile {
    find_profile(root().join("profiles/sim.yaml").to_str().unwrap())
        .expect("profiles/sim.yaml loads")
}

/// The verdict the case gives against `profile`, judged against what is expected.
fn judge(case: &LoadedCase, profile: &Profile, want: &[Verdict]) -> Result<CaseResult, Failed> {
    let r = run_case(case, profile, 1, &root());
    if want.contains(&r.verdict) {
        Ok(r)
    } else {
        Err(format!(
            "{} gave {} (expected {}): {}\n{}",
            case.case.id,
            r.verdict,
            want.iter()
                .map(|v| v.name())
                .collect::<Vec<_>>()
                .join(" or "),
            r.reason,
            r.trace.join("\n")
        )
        .into())
    }
}

fn breaking_profile(case: &LoadedCase) -> Result<Profile, String> {
    let a = case.case.able_to_fail.as_ref().ok_or("no able_to_fail")?;
    if let Some(f) = &a.sim_fault {
        let mut p = sim_profile();
        p.faults = vec![f.clone()];
        p.name = format!("sim+{f}");
        return Ok(p);
    }
    let d = a.dut.as_deref().ok_or("able_to_fail names nothing")?;
    find_profile(d)
        .or_else(|_| find_profile(root().join(d).to_str().unwrap_or_default()))
        .map_err(|e| e.to_string())
}

fn gaps(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

fn main() {
    let args = Arguments::from_args();
    let (cases, errors) = load_suite_dir(&root().join("suites"));
    let mut trials = Vec::new();
    {
        let errors: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        trials.push(Trial::test("suites_load_without_errors", move || {
            if errors.is_empty() {
                Ok(())
            } else {
                Err(errors.join("\n").into())
            }
        }));
    }
    let profile = sim_profile();
    for case in cases.iter().cloned() {
        let p = profile.clone();
        let id = case.case.id.clone();
        trials.push(Trial::test(format!("sim::{id}"), move || {
            // The reference board must pass every case that applies to it, except those its
            // profile lists as expected deviations (a known board bug, with the reason).
            let want: &[Verdict] = if p.expected_deviations.contains_key(&case.case.id) {
                &[Verdict::Fail, Verdict::Inconclusive]
            } else {
                &[Verdict::Pass, Verdict::NotApplicable]
            };
            judge(&case, &p, want).map(|_| ())
        }));
    }
    for case in cases
        .iter()
        .filter(|c| c.case.able_to_fail.is_some())
        .cloned()
    {
        let id = case.case.id.clone();
        let wrong_requirement = gaps(&root().join("suites/able-to-fail-gaps.txt")).contains(&id);
        trials.push(Trial::test(format!("able_to_fail::{id}"), move || {
            let p = breaking_profile(&case)?;
            let want = case
                .case
                .able_to_fail
                .as_ref()
                .and_then(|a| a.verdict.as_deref())
                .and_then(Verdict::parse)
                .unwrap_or(Verdict::Fail);
            let r = judge(&case, &p, &[want])?;
            // Failing is not enough: the step that judges the requirement must be the one
            // that failed, or the switch broke something else.
            if wrong_requirement {
                return Ok(());
            }
            let checks: Vec<usize> = case
                .case
                .steps
                .iter()
                .enumerate()
                .filter(|(_, s)| s.value.checks)
                .map(|(i, _)| i + 1)
                .collect();
            match r.step {
                Some(n) if checks.contains(&n) => Ok(()),
                other => Err(format!(
                    "{} failed at step {other:?}, not at a step marked `checks: true` ({checks:?}): {}",
                    case.case.id, r.reason
                )
                .into()),
            }
        }));
    }
    let uncovered: Vec<String> = cases
        .iter()
        .filter(|c| c.case.able_to_fail.is_none())
        .map(|c| c.case.id.clone())
        .collect();
    let all: Vec<String> = cases.iter().map(|c| c.case.id.clone()).collect();
    {
        let unmarked: Vec<String> = cases
            .iter()
            .filter(|c| !c.case.steps.iter().any(|s| s.value.checks))
            .map(|c| c.case.id.clone())
            .collect();
        trials.push(Trial::test(
            "every_case_marks_the_step_that_checks_it",
            move || {
                if unmarked.is_empty() {
                    Ok(())
                } else {
                    Err(format!("cases with no step marked `checks: true`: {unmarked:?}").into())
                }
            },
        ));
    }
    trials.push(Trial::test("able_to_fail_gaps_are_listed_and_current", move || {
        let listed = gaps(&root().join("suites/able-to-fail-gaps.txt"));
        let unlisted: Vec<&String> = uncovered.iter().filter(|id| !listed.contains(id)).collect();
        // Listed: a case with no able_to_fail, or one whose switch fails it for another
        // requirement (then its own trial proves it still fails).
        let stale: Vec<&String> = listed.iter().filter(|id| !all.contains(id)).collect();
        if unlisted.is_empty() && stale.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "cases without able_to_fail that suites/able-to-fail-gaps.txt does not list: {unlisted:?}; listed but covered or unknown: {stale:?}"
            )
            .into())
        }
    }));
    libtest_mimic::run(&args, trials).exit();
}
