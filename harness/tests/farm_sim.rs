//! The board farm end to end on simulated boards (issue 6, "Done when"): four dut-sim
//! processes, one of which hangs midway and one of which fails its health check, give one
//! merged report; and two shards run separately and merged give the same verdicts as one
//! unsharded run. Real processes on loopback, driven through the `dicetest` command.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dicetest::reports::{self, Run};
use dicetest::runner::Verdict;

/// The cases these tests run: the cookie exchange and the basic handshakes (a few
/// seconds per board), enough for the hang board to hang twice.
const CASES: [&str; 4] = ["--case", "CK-0*", "--case", "HS-*"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("dicetest-farm-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

/// The simulated boards are dut-sim processes: make sure the program is built (a no-op
/// after `cargo test --workspace` built it).
fn build_dut_sim() {
    let status = Command::new(env!("CARGO"))
        .current_dir(root())
        .args(["build", "-q", "-p", "dut-sim"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building dut-sim failed");
}

fn dicetest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dicetest"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("dicetest runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn farm_run(inventory: &Path, out: &Path, extra: &[&str]) -> (Output, Run) {
    let mut args = vec![
        "farm",
        "run",
        "--inventory",
        inventory.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(CASES);
    args.extend(extra);
    let o = dicetest(&args);
    let run = reports::load(out).unwrap_or_else(|e| panic!("{e}\n{}", text(&o)));
    (o, run)
}

fn verdicts(run: &Run, board: &str) -> Vec<(String, Verdict, String)> {
    run.cases_of(board)
        .map(|c| (c.id.clone(), c.verdict, c.reason.clone()))
        .collect()
}

#[test]
fn four_boards_one_hangs_one_is_quarantined_one_merged_report() {
    build_dut_sim();
    let out = scratch("four");
    let (o, run) = farm_run(&root().join("farm/sim-farm.yaml"), &out, &[]);
    let log = text(&o);
    // A quarantined board and a board given up make the run fail, after completing.
    assert_eq!(o.status.code(), Some(1), "{log}");
    assert!(run.complete, "the merged journal is complete\n{log}");
    let names: Vec<&str> = run.duts.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    for b in ["sim-a", "sim-b", "sim-hang", "sim-badkey"] {
        assert!(names.contains(&b), "{b} missing from the report: {names:?}");
    }
    let planned = verdicts(&run, "sim-a").len();
    assert!(planned >= 10, "too few cases: {planned}\n{log}");

    // The healthy boards pass every case that applies to them.
    for b in ["sim-a", "sim-b"] {
        let v = verdicts(&run, b);
        assert_eq!(v.len(), planned);
        let bad: Vec<_> = v
            .iter()
            .filter(|(_, v, _)| !matches!(v, Verdict::Pass | Verdict::NotApplicable))
            .collect();
        assert!(bad.is_empty(), "{b}: {bad:?}\n{log}");
        assert!(v.iter().filter(|x| x.1 == Verdict::Pass).count() >= 6);
    }

    // The board with the other key: quarantined and reported, every case of it named.
    let bad = verdicts(&run, "sim-badkey");
    assert_eq!(
        bad.len(),
        planned,
        "a quarantined board's cases are all reported"
    );
    for (id, v, why) in &bad {
        match v {
            Verdict::Error => assert!(
                why.contains("quarantined") && why.contains("health"),
                "{id}: {why}"
            ),
            Verdict::NotApplicable => {}
            other => panic!("sim-badkey {id} ran: {other} {why}"),
        }
    }
    assert!(
        log.contains("board sim-badkey") && log.contains("QUARANTINED"),
        "{log}"
    );

    // The board that hangs: the case in progress is inconclusive naming the hang, the
    // board is reset and goes on; when it hangs again (hang_resets: 1) its remaining cases
    // are inconclusive with the reason.
    let hang = verdicts(&run, "sim-hang");
    assert_eq!(hang.len(), planned);
    let applicable: Vec<&(String, Verdict, String)> = hang
        .iter()
        .filter(|x| x.1 != Verdict::NotApplicable)
        .collect();
    let first = applicable
        .iter()
        .position(|(_, _, why)| why.contains("hung during this case"))
        .unwrap_or_else(|| panic!("no hang seen: {hang:?}"));
    assert!(first > 0, "the board hangs midway, not at once: {hang:?}");
    assert!(
        applicable[..first].iter().all(|x| x.1 == Verdict::Pass),
        "before the hang the board passes: {hang:?}"
    );
    assert_eq!(applicable[first].1, Verdict::Inconclusive);
    assert!(
        applicable[first].2.contains("reset and answers again"),
        "{:?}",
        applicable[first]
    );
    let given_up = applicable
        .iter()
        .position(|(_, _, why)| why.starts_with("not run: board sim-hang hung 2 times"))
        .unwrap_or_else(|| panic!("the board was not given up: {hang:?}"));
    assert!(given_up > first + 1, "{hang:?}");
    assert!(
        applicable[given_up..]
            .iter()
            .all(|x| x.1 == Verdict::Inconclusive
                && x.2.starts_with("not run: board sim-hang hung 2 times")),
        "every remaining case is inconclusive with the reason: {hang:?}"
    );
    let second = &applicable[given_up - 1];
    assert!(
        second.1 == Verdict::Inconclusive && second.2.contains("hung during this case"),
        "{second:?}"
    );

    // The device's log is evidence: the simulated board said when it hung.
    let evidence: String = std::fs::read_dir(out.join("sim-hang/evidence"))
        .expect("the board's evidence")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    assert!(
        evidence.contains("dut-sim: hung after 20 datagrams"),
        "the device log is not in the evidence"
    );

    // One report over the four boards, and the farm summary.
    for f in [
        "report.json",
        "report.html",
        "junit.xml",
        "summary.md",
        "farm.md",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for b in ["sim-a", "sim-b", "sim-hang", "sim-badkey"] {
        assert!(html.contains(b), "report.html does not name {b}");
    }
    let farm: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("farm.json")).unwrap()).unwrap();
    let status = |b: &str| {
        farm["boards"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == b)
            .map(|x| x["status"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(status("sim-a").as_deref(), Some("completed"));
    assert_eq!(status("sim-b").as_deref(), Some("completed"));
    assert_eq!(status("sim-hang").as_deref(), Some("given_up"));
    assert_eq!(status("sim-badkey").as_deref(), Some("quarantined"));
    let report = std::fs::read_to_string(out.join("report.json")).unwrap();
    assert!(!report.contains("73656372657450534b"), "the PSK leaked");

    // The release gate refuses this report.
    let gate = dicetest(&["farm", "gate", "--from", out.to_str().unwrap()]);
    assert_eq!(gate.status.code(), Some(1), "{}", text(&gate));
    assert!(text(&gate).contains("sim-badkey"), "{}", text(&gate));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn two_shards_merged_give_the_verdicts_of_one_unsharded_run() {
    build_dut_sim();
    let dir = scratch("shards");
    std::fs::create_dir_all(&dir).unwrap();
    let inventory = dir.join("pair.yaml");
    std::fs::write(
        &inventory,
        "name: pair\nreset: per_case\nboards:\n\
         - { name: sim-a, kind: sim, credentials: { psk_hex: 73656372657450534b } }\n\
         - { name: sim-b, kind: sim, credentials: { psk_hex: 73656372657450534b } }\n",
    )
    .unwrap();
    let (o, whole) = farm_run(&inventory, &dir.join("whole"), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let (o1, s1) = farm_run(&inventory, &dir.join("s1"), &["--shard", "1/2"]);
    let (o2, s2) = farm_run(&inventory, &dir.join("s2"), &["--shard", "2/2"]);
    assert!(
        o1.status.success() && o2.status.success(),
        "{}{}",
        text(&o1),
        text(&o2)
    );
    let ids = |r: &Run| -> Vec<String> { r.cases_of("sim-a").map(|c| c.id.clone()).collect() };
    let (a, b) = (ids(&s1), ids(&s2));
    assert!(!a.is_empty() && !b.is_empty(), "{a:?} {b:?}");
    assert!(
        a.iter().all(|x| !b.contains(x)),
        "shards overlap: {a:?} {b:?}"
    );

    let merged = dir.join("merged");
    let m = dicetest(&[
        "report",
        "merge",
        "--out",
        merged.to_str().unwrap(),
        dir.join("s1").to_str().unwrap(),
        dir.join("s2").to_str().unwrap(),
    ]);
    assert!(m.status.success(), "{}", text(&m));
    let merged_run = reports::load(&merged).expect("merged journal");
    let key = |r: &Run| -> Vec<(String, String, Verdict)> {
        let mut v: Vec<_> = r
            .cases
            .iter()
            .map(|c| (c.dut.clone(), c.id.clone(), c.verdict))
            .collect();
        v.sort();
        v
    };
    assert_eq!(key(&merged_run), key(&whole));
    assert_eq!(merged_run.duts.len(), 2);
    assert!(key(&whole).iter().any(|x| x.2 == Verdict::Pass));

    // Every result as the baseline expects: the release gate lets it through.
    let gate = dicetest(&["farm", "gate", "--from", merged.to_str().unwrap()]);
    assert!(gate.status.success(), "{}", text(&gate));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dicetest_run_shards_too() {
    let dir = scratch("run-shards");
    let run = |name: &str, shard: &str| {
        let out = dir.join(name);
        let mut args = vec!["run", "--dut", "sim", "--out", out.to_str().unwrap()];
        args.extend(CASES);
        args.extend(["--shard", shard]);
        let o = dicetest(&args);
        assert!(o.status.success(), "{}", text(&o));
        reports::load(&out).expect("journal")
    };
    let whole = run("whole", "1/1");
    let (a, b) = (run("a", "1/2"), run("b", "2/2"));
    assert_eq!(a.cases.len() + b.cases.len(), whole.cases.len());
    assert!(!a.cases.is_empty() && !b.cases.is_empty());
    let merged = dir.join("merged");
    let m = dicetest(&[
        "report",
        "merge",
        "--out",
        merged.to_str().unwrap(),
        dir.join("a").to_str().unwrap(),
        dir.join("b").to_str().unwrap(),
    ]);
    assert!(m.status.success(), "{}", text(&m));
    let v = |r: &Run| -> Vec<(String, Verdict)> {
        let mut v: Vec<_> = r.cases.iter().map(|c| (c.id.clone(), c.verdict)).collect();
        v.sort();
        v
    };
    assert_eq!(v(&reports::load(&merged).unwrap()), v(&whole));
    let bad = dicetest(&["run", "--dut", "sim", "--shard", "3/2"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    let _ = std::fs::remove_dir_all(&dir);
}
