//! `dicetest fuzz` against the simulated board (in-process, virtual clock).
//!
//! With two fault switches on, a campaign that is not told which finds both: for each
//! switch, a finding whose reproducer, run by the `dicetest` binary, fails with that switch
//! on and passes with it off. A clean board yields nothing over the same budget, and the
//! same seed gives the same findings.

use std::path::{Path, PathBuf};
use std::process::Command;

use dicetest::dut::profile::{find_profile, Profile};
use dicetest::fuzz::{run_campaign, Budget, CampaignOptions, CampaignReport};

/// Batches per campaign: 1200 mutated exchanges, a few seconds on the virtual clock.
const BATCHES: u64 = 300;
const SEED: u64 = 7;
const SWITCHES: [&str; 2] = ["accept_unencrypted_finished", "no_replay_window"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn sim(faults: &[&str]) -> Profile {
    let mut p = find_profile(root().join("profiles/sim.yaml").to_str().unwrap()).unwrap();
    p.faults = faults.iter().map(|f| f.to_string()).collect();
    p
}

/// A profile file for the CLI: sim.yaml with these switches on.
fn profile_file(dir: &Path, faults: &[&str]) -> PathBuf {
    let text = std::fs::read_to_string(root().join("profiles/sim.yaml")).unwrap();
    let text = text.replace("faults: []", &format!("faults: [{}]", faults.join(", ")));
    assert!(
        faults.is_empty() || text.contains(faults[0]),
        "sim.yaml has `faults: []`"
    );
    let name = if faults.is_empty() {
        "clean".to_string()
    } else {
        faults.join("+")
    };
    let p = dir.join(format!("sim-{name}.yaml"));
    std::fs::write(&p, text).unwrap();
    p
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dicetest-fuzz-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn campaign(profile: &Profile, out: Option<PathBuf>) -> CampaignReport {
    let opts = CampaignOptions {
        seed: SEED,
        budget: Budget::Iterations(BATCHES),
        batch_size: 4,
        out,
        root: root(),
    };
    run_campaign(profile, &opts, &mut |_| {}).expect("the campaign runs")
}

/// The verdict the `dicetest` binary gives one reproducer against a profile file.
fn verdict_of(reproducer: &Path, id: &str, profile: &Path, out: &Path) -> String {
    let suite = out.join(format!("suite-{id}"));
    std::fs::create_dir_all(&suite).unwrap();
    std::fs::copy(reproducer, suite.join(format!("{id}.yaml"))).unwrap();
    let run_out = out.join(format!(
        "run-{id}-{}",
        profile.file_stem().unwrap().to_string_lossy()
    ));
    let o = Command::new(env!("CARGO_BIN_EXE_dicetest"))
        .arg("run")
        .arg("--dut")
        .arg(profile)
        .arg("--suite")
        .arg(&suite)
        .arg("--out")
        .arg(&run_out)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run_out.join("report.json"))
            .unwrap_or_else(|e| panic!("no report ({e}): {}", String::from_utf8_lossy(&o.stderr))),
    )
    .unwrap();
    let v = report["cases"][0]["verdict"]
        .as_str()
        .unwrap_or("?")
        .to_string();
    // The exit code agrees: 0 only when the case passed.
    assert_eq!(
        o.status.code() == Some(0),
        v == "pass",
        "{id} against {profile:?}: {v}"
    );
    v
}

#[test]
fn a_campaign_finds_both_switches_with_reproducers_that_fail_only_with_the_switch_on() {
    let dir = scratch("two");
    let both = profile_file(&dir, &SWITCHES);
    let out = dir.join("campaign");
    // Through the command line, as a user runs it.
    let o = Command::new(env!("CARGO_BIN_EXE_dicetest"))
        .args(["fuzz", "--dut"])
        .arg(&both)
        .args([
            "--iterations",
            &BATCHES.to_string(),
            "--seed",
            &SEED.to_string(),
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "findings exit 1:\n{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("findings.json")).unwrap()).unwrap();
    let findings = report["findings"].as_array().unwrap().clone();
    assert!(!findings.is_empty(), "{stdout}");
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    // Every reproducer is a valid case file (`dicetest check` over the folder, with the
    // profiles of this test).
    let clean = profile_file(&dir, &[]);
    let check = Command::new(env!("CARGO_BIN_EXE_dicetest"))
        .arg("check")
        .arg("--suite")
        .arg(out.join("findings"))
        .arg("--profiles")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    for switch in SWITCHES {
        let alone = profile_file(&dir, &[switch]);
        let mut shown = Vec::new();
        for f in &findings {
            let id = f["id"].as_str().unwrap();
            assert!(summary.contains(id), "summary.md lists {id}");
            let file = out.join(f["files"]["reproducer"].as_str().unwrap());
            let capture = out.join(f["files"]["capture"].as_str().unwrap());
            assert!(
                std::fs::metadata(&capture).unwrap().len() > 100,
                "{id} has a capture"
            );
            let on = verdict_of(&file, id, &alone, &dir);
            let off = verdict_of(&file, id, &clean, &dir);
            if on == "fail" && off == "pass" {
                shown.push(format!("{id} ({})", f["oracle"]["id"]));
            }
        }
        assert!(
            !shown.is_empty(),
            "no finding's reproducer fails with {switch} on and passes with it off: {findings:#?}"
        );
    }
    // No output file quotes the PSK (hex or text).
    let psk_hex = "73656372657450534b";
    for entry in walk(&out) {
        let bytes = std::fs::read(&entry).unwrap();
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        assert!(
            !text.contains(psk_hex) && !text.contains("secretpsk"),
            "{entry:?} quotes the PSK"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_clean_board_yields_no_findings_over_the_same_budget() {
    let r = campaign(&sim(&[]), None);
    assert_eq!(r.batches, BATCHES);
    assert_eq!(
        r.templates,
        ["handshake", "session"],
        "both templates calibrate"
    );
    let found: Vec<String> = r
        .findings
        .iter()
        .map(|f| format!("{} {}: {}\n{}", f.id, f.oracle.id, f.reason, f.yaml))
        .collect();
    assert!(found.is_empty(), "{}", found.join("\n\n"));
    assert_eq!(r.errors, 0, "{:?}", r.first_error);
}

#[test]
fn the_same_seed_gives_the_same_findings() {
    let p = sim(&SWITCHES);
    let a = campaign(&p, None);
    let b = campaign(&p, None);
    let key = |r: &CampaignReport| -> Vec<(String, String, String, u64)> {
        r.findings
            .iter()
            .map(|f| {
                (
                    f.id.clone(),
                    f.oracle.id.clone(),
                    f.yaml.clone(),
                    f.occurrences,
                )
            })
            .collect()
    };
    assert!(a.findings.len() >= 2, "{:?}", key(&a));
    assert_eq!(key(&a), key(&b));
    // Another seed draws other batches.
    let other = run_campaign(
        &p,
        &CampaignOptions {
            seed: SEED + 1,
            budget: Budget::Iterations(20),
            batch_size: 4,
            out: None,
            root: root(),
        },
        &mut |_| {},
    )
    .unwrap();
    assert!(other.findings.iter().all(|f| f.id.starts_with("FUZZ-8-")));
}
