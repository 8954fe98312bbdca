//! The able-to-fail self-test of the interop descriptions (suites/interop/*.yaml), the
//! counterpart of suite_sim's for the cases: each description that names a breaking pair
//! (`able_to_fail: {client, server, check}`) runs between those two real implementations,
//! started from their profiles, and must give the declared verdict (fail by default),
//! decided by the judge's check that is about the description's requirement. A pair that
//! fails anywhere else broke something the description does not check.
//!
//! Descriptions not yet shown able to fail are listed, with the reason, in
//! suites/interop/able-to-fail-gaps.txt; the list is checked both ways. The pairs run at
//! once, each in its own thread, so the test takes about as long as the slowest
//! description's `within` (40 s); peers from scripts/install-peers.sh.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use dicetest::dut::profile::find_profile;
use dicetest::interop::{load_interop_dir, run_session_judged, InteropCase};
use dicetest::runner::Verdict;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn descriptions() -> Vec<(InteropCase, PathBuf)> {
    let (cases, errors) = load_interop_dir(&root().join("suites/interop"));
    assert!(errors.is_empty(), "{errors:?}");
    assert!(!cases.is_empty(), "no interop description");
    cases
}

/// ID → reason, from the gaps file (comments and blank lines skipped).
fn gaps(file: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        assert!(
            !reason.trim().is_empty(),
            "{}: {id} is listed without a reason",
            file.display()
        );
        assert!(
            out.insert(id.to_string(), reason.trim().to_string())
                .is_none(),
            "{}: {id} is listed twice",
            file.display()
        );
    }
    out
}

#[test]
fn the_gaps_list_is_exact() {
    let cases = descriptions();
    let listed = gaps(&root().join("suites/interop/able-to-fail-gaps.txt"));
    let mut wrong = Vec::new();
    for (c, _) in &cases {
        match (&c.able_to_fail, listed.contains_key(&c.id)) {
            (None, false) => wrong.push(format!(
                "{} names no able_to_fail pair and is not in able-to-fail-gaps.txt",
                c.id
            )),
            (Some(_), true) => wrong.push(format!(
                "{} names an able_to_fail pair: remove it from able-to-fail-gaps.txt",
                c.id
            )),
            _ => {}
        }
    }
    for id in listed.keys() {
        if !cases.iter().any(|(c, _)| &c.id == id) {
            wrong.push(format!(
                "able-to-fail-gaps.txt lists {id}, which no description has"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_breaking_pair_fails_at_the_requirement() {
    // The reference core's process (dut-sim) is a program of another package of the
    // workspace: make sure it is built (a no-op when it is).
    let status = Command::new(env!("CARGO"))
        .current_dir(root())
        .args(["build", "-q", "-p", "dut-sim"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building dut-sim failed");
    let started = std::time::Instant::now();
    let runs: Vec<_> = descriptions()
        .into_iter()
        .filter(|(c, _)| c.able_to_fail.is_some())
        .map(|(case, file)| {
            std::thread::spawn(move || -> Result<String, String> {
                let pair = case.able_to_fail.clone().expect("filtered");
                let load = |name: &str| {
                    find_profile(name).map_err(|e| format!("{}: profile {name}: {e}", case.id))
                };
                let (client, server) = (load(&pair.client)?, load(&pair.server)?);
                let want = Verdict::parse(&pair.verdict).expect("the loader checked it");
                let (r, check) = run_session_judged(&case, &file, &client, &server, &root());
                let seen = format!(
                    "{} ({} → {}) gave {} decided by the {} check: {}",
                    case.id,
                    pair.client,
                    pair.server,
                    r.verdict.name(),
                    check.map(|c| c.name()).unwrap_or("(no)"),
                    r.reason
                );
                if r.verdict == want && check == Some(pair.check) {
                    Ok(seen)
                } else {
                    Err(format!(
                        "{seen}\n  expected {} decided by the {} check\n{}\n{}",
                        want.name(),
                        pair.check,
                        r.trace.join("\n"),
                        r.dut_log
                    ))
                }
            })
        })
        .collect();
    assert!(
        !runs.is_empty(),
        "no description names an able_to_fail pair"
    );
    let mut failed = Vec::new();
    for t in runs {
        match t.join().expect("the session thread ends") {
            Ok(seen) => eprintln!("ok: {seen}"),
            Err(e) => failed.push(e),
        }
    }
    eprintln!("{:?} for every pair", started.elapsed());
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
