//! dicetest run from a folder outside the checkout (issue 13, "Running from anywhere"): the
//! shipped suite and profiles are built into the binary, so a `profiles/` or `suites/` in
//! the working directory neither hides nor replaces them; `check` validates an outside suite
//! or one profile file on its own terms.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh folder outside the checkout, holding the junk a user's folder might: a
/// `profiles/sim.yaml` and a `suites/` that would break any command reading them.
fn workdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dicetest-anywhere-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("profiles")).unwrap();
    std::fs::create_dir_all(d.join("suites/junk")).unwrap();
    std::fs::write(
        d.join("profiles/sim.yaml"),
        "name: sim\nkind: [not a profile\n",
    )
    .unwrap();
    std::fs::write(
        d.join("suites/junk/JUNK-01.yaml"),
        "id: JUNK-01\nnot: a case\n",
    )
    .unwrap();
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap();
    assert!(
        !d.canonicalize().unwrap().starts_with(&checkout),
        "{} is inside the checkout",
        d.display()
    );
    d
}

fn dicetest(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dicetest"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The number of case files the checkout ships (read here from disk, by the test).
fn shipped_case_count() -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../suites");
    let (cases, errors) = dicetest::cases::load_suite_dir(&root);
    assert!(errors.is_empty(), "{errors:?}");
    cases.len()
}

/// `file:LINE:COLUMN: message` with a line and a column that point somewhere.
fn located(stderr: &str, file: &str) -> Option<(u64, u64)> {
    stderr.lines().find_map(|l| {
        let rest = l.strip_prefix(file)?.strip_prefix(':')?;
        let mut it = rest.splitn(3, ':');
        let line = it.next()?.parse().ok()?;
        let col = it.next()?.parse().ok()?;
        Some((line, col))
    })
}

const CASE_A: &str = "\
id: MY-01
title: A cookieless ClientHello gets a HelloVerifyRequest
objective: The server asks for a cookie first.
refs: [\"RFC 6347 §4.2.1\"]
level: SHOULD
dut: { role: server, claims: [cookie_exchange] }
steps:
  - send: ClientHello
  - expect:
      message: HelloVerifyRequest
    checks: true
";

const CASE_B: &str = "\
id: MY-02
title: The HelloVerifyRequest reuses the ClientHello's sequence number
objective: The answer to a cookieless ClientHello carries its record sequence number.
refs: [\"RFC 6347 §4.2.1\"]
level: SHOULD
dut: { role: server, claims: [cookie_exchange] }
steps:
  - send: ClientHello
    record: { sequence_number: 5 }
  - expect:
      message: HelloVerifyRequest
      match: { record.sequence_number: 5 }
    checks: true
";

/// A suite of the user's own: two cases in a sub-folder.
fn own_suite(dir: &Path, name: &str, b: &str) -> PathBuf {
    let s = dir.join(name);
    std::fs::create_dir_all(s.join("cookie")).unwrap();
    std::fs::write(s.join("cookie/MY-01.yaml"), CASE_A).unwrap();
    std::fs::write(s.join("cookie/MY-02.yaml"), b).unwrap();
    s
}

fn own_profile(dir: &Path, file: &str, extra: &str, baseline: &str) -> PathBuf {
    let p = dir.join(file);
    std::fs::write(
        &p,
        format!(
            "name: my-board\ndescription: my board\nkind: sim\nroles: [server]\n\
credentials: {{ psk_identity: Client_identity, psk_hex: \"73656372657450534b\" }}\n\
claims: [psk-ccm8, cookie_exchange]\n{extra}expected_deviations:\n{baseline}"
        ),
    )
    .unwrap();
    p
}

#[test]
fn run_list_and_explain_use_the_shipped_suite_and_profile_whatever_the_folder_holds() {
    let d = workdir("run");
    let o = dicetest(
        &d,
        &["run", "--dut", "sim", "--case", "CK-0*", "--out", "out"],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("CK-01") && t.contains(" pass "), "{t}");
    assert!(t.contains("0 fail, 0 inconclusive, 0 error"), "{t}");
    let report = std::fs::read_to_string(d.join("out/report.json")).unwrap();
    assert!(
        report.contains("\"CK-01\""),
        "the report names the shipped case"
    );

    let o = dicetest(&d, &["list"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    let n = shipped_case_count();
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .last()
            .is_some_and(|l| l == format!("{n} cases")),
        "list shows the {n} shipped cases: {t}"
    );
    assert!(!t.contains("JUNK-01"), "{t}");

    // The case comes from inside the binary, named by its path in the checkout, not
    // read from a folder (the checkout's would be an absolute path).
    let o = dicetest(&d, &["explain", "CK-01"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("File:       suites/cookie/CK-01.yaml"), "{t}");

    // The shipped check passes too, the junk in the working directory unread.
    let o = dicetest(&d, &["check"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains(&format!("{n} cases,")) && t.contains(" 0 error(s)"),
        "{t}"
    );

    // The junk profile is still reachable as a path, and refused as what it is.
    let o = dicetest(
        &d,
        &["run", "--dut", "./profiles/sim.yaml", "--out", "out2"],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        located(&String::from_utf8_lossy(&o.stderr), "./profiles/sim.yaml").is_some(),
        "{t}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn check_takes_an_outside_suite_on_its_own_terms() {
    let d = workdir("suite");
    let good = own_suite(&d, "good", CASE_B);
    let o = dicetest(&d, &["check", "--suite", good.to_str().unwrap()]);
    let t = text(&o);
    // Not a word about the shipped profiles' baselines, which name shipped cases.
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("2 cases, 0 interop cases and 0 profiles checked, 0 error(s)"),
        "{t}"
    );
    // And the outside suite runs against the shipped board.
    let o = dicetest(
        &d,
        &[
            "run",
            "--dut",
            "sim",
            "--suite",
            good.to_str().unwrap(),
            "--out",
            "out",
        ],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("2 pass, 0 fail"), "{t}");

    // A broken case: a misspelled key, named with file:line:column.
    let broken = own_suite(&d, "broken", &CASE_B.replace("    record:", "    recrod:"));
    let o = dicetest(&d, &["check", "--suite", broken.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    let file = broken.join("cookie/MY-02.yaml");
    let at = located(&String::from_utf8_lossy(&o.stderr), file.to_str().unwrap());
    assert!(matches!(at, Some((l, c)) if l > 0 && c > 0), "{t}");
    assert!(t.contains("recrod"), "{t}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn check_takes_one_profile_file_and_holds_its_baseline_to_the_suite_in_use() {
    let d = workdir("profile");
    let good = own_profile(
        &d,
        "good.yaml",
        "",
        "  CK-01: \"answers without a cookie\"\n",
    );
    let o = dicetest(&d, &["check", "--profile", "good.yaml"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("1 profiles checked, 0 error(s)"), "{t}");

    // A baseline naming a case the suite does not have: the line and column of its key.
    own_profile(&d, "stale.yaml", "", "  CK-01: a\n  NOPE-01: b\n");
    let o = dicetest(&d, &["check", "--profile", "stale.yaml"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert_eq!(
        located(&String::from_utf8_lossy(&o.stderr), "stale.yaml"),
        Some((9, 3)),
        "{t}"
    );
    assert!(t.contains("NOPE-01"), "{t}");

    // A misspelled key in the profile itself.
    own_profile(&d, "typo.yaml", "probe_urii: /x\n", "  CK-01: a\n");
    let o = dicetest(&d, &["check", "--profile", "typo.yaml"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert_eq!(
        located(&String::from_utf8_lossy(&o.stderr), "typo.yaml"),
        Some((7, 1)),
        "{t}"
    );

    // With --suite, the baseline is held to that suite: CK-01 is not in it, MY-01 is.
    let suite = own_suite(&d, "mine", CASE_B);
    let o = dicetest(
        &d,
        &[
            "check",
            "--suite",
            suite.to_str().unwrap(),
            "--profile",
            good.to_str().unwrap(),
        ],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("CK-01"), "{t}");
    own_profile(
        &d,
        "mine.yaml",
        "",
        "  MY-01: \"answers without a cookie\"\n",
    );
    let o = dicetest(
        &d,
        &[
            "check",
            "--suite",
            suite.to_str().unwrap(),
            "--profile",
            "mine.yaml",
        ],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("2 cases, 0 interop cases and 1 profiles checked, 0 error(s)"),
        "{t}"
    );
    let _ = std::fs::remove_dir_all(&d);
}
