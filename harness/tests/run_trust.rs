//! A run CI and people can trust (issue 16): a DUT that is not there or holds another key is
//! a setup error named as such, not a row of `fail` verdicts; a signal leaves a partial
//! report and no DUT process behind; one run per output folder; `--case` patterns that mean
//! nothing are refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dicetest-trust-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// Runs dicetest, with a guard so a hang fails the test instead of stalling CI (a guard,
/// not a timing assertion: the bound is far above any expected duration).
fn dicetest(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dicetest"))
        .current_dir(root())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dicetest starts");
    let begun = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if begun.elapsed() > Duration::from_secs(180) {
            let _ = child.kill();
            panic!("dicetest {args:?} still ran after 180 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn write_profile(dir: &Path, name: &str, body: &str) -> String {
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(&p, format!("name: {name}\n{body}")).expect("profile");
    p.display().to_string()
}

fn report_cases(out: &Path) -> serde_json::Value {
    let r = std::fs::read_to_string(out.join("report.json")).expect("report.json is written");
    serde_json::from_str(&r).expect("report.json parses")
}

#[test]
fn a_closed_port_is_a_setup_error_not_a_row_of_fails() {
    let dir = scratch("closed");
    // Bind a UDP port, then free it: nothing listens there now.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dut = write_profile(
        &dir,
        "closed-port",
        &format!(
            "description: nothing listens here\nkind: address\naddress: \"127.0.0.1:{port}\"\nroles: [server]\n\
             credentials: {{ psk_identity: Client_identity, psk_hex: 73656372657450534b }}\n\
             claims: [psk-ccm8, ems, cookie_exchange]\nprobe: none\n"
        ),
    );
    let out = dir.join("out");
    let o = dicetest(&["run", "--dut", &dut, "--out", out.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "a setup error exits 2:\n{t}");
    assert!(
        t.contains("pre-flight failed (reachable)") && t.contains("ICMP port unreachable"),
        "the message names what failed:\n{t}"
    );
    let r = report_cases(&out);
    assert_eq!(
        r["cases"].as_array().map(|c| c.len()),
        Some(0),
        "no case was run, so none has a verdict"
    );
    // The pre-flight can be skipped: then the cases run (and fail on the silence).
    let o = dicetest(&[
        "run",
        "--dut",
        &dut,
        "--no-preflight",
        "--case",
        "CK-01",
        "--out",
        out.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("ICMP port unreachable"),
        "a case's reason says the port was unreachable:\n{t}"
    );
}

#[test]
fn a_wrong_key_is_a_setup_error_naming_the_credentials() {
    let dir = scratch("wrongkey");
    // dut-sim holds its default key (secretPSK); the profile says another.
    let dut = write_profile(
        &dir,
        "wrong-key",
        "description: dut-sim with another key than the profile's\nkind: process\nroles: [server]\n\
         start:\n  command: [\"{bin:dut-sim}\", --listen, \"127.0.0.1:{port}\"]\n  ready: \"stdout:dut-sim listening\"\n\
         credentials: { psk_identity: Client_identity, psk_hex: 00112233445566778899 }\n\
         claims: [psk-ccm8, ems, cookie_exchange]\nprobe: coap\n",
    );
    let out = dir.join("out");
    let o = dicetest(&["run", "--dut", &dut, "--out", out.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("pre-flight failed (credentials)") && t.contains("psk_hex"),
        "the message names the credentials:\n{t}"
    );
    assert!(
        !t.contains("00112233445566778899"),
        "the key is never printed"
    );
    // Every case is reported as not run, and why; the JUnit is red.
    let junit = std::fs::read_to_string(out.join("junit.xml")).expect("junit.xml");
    assert!(
        junit
            .contains("not run: the run stopped at a setup error, pre-flight failed (credentials)"),
        "{junit}"
    );
    assert!(junit.contains("<error"), "a setup error is red in CI");
    let r = report_cases(&out);
    assert_eq!(r["run_fails"], serde_json::Value::Bool(true));
}

/// Processes whose command line holds `needle`.
fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if let Ok(c) = std::fs::read(e.path().join("cmdline")) {
            let c = String::from_utf8_lossy(&c).replace('\0', " ");
            if c.contains(needle) && !c.contains("cargo") {
                found.push(c);
            }
        }
    }
    found
}

#[test]
fn sigterm_leaves_a_partial_report_and_no_dut_process() {
    let dir = scratch("sigterm");
    let identity = format!("trust-sigterm-{}", std::process::id());
    let dut = write_profile(
        &dir,
        "dut-sim-sigterm",
        &format!(
            "description: dut-sim, to be interrupted\nkind: process\nroles: [server]\n\
             start:\n  command: [\"{{bin:dut-sim}}\", --listen, \"127.0.0.1:{{port}}\", --psk-identity, \"{identity}\"]\n  ready: \"stdout:dut-sim listening\"\n\
             credentials: {{ psk_identity: \"{identity}\", psk_hex: 73656372657450534b }}\n\
             claims: [psk-ccm8, psk-cbc-sha256, ems, cookie_exchange, renegotiation_info, coap]\nprobe: coap\n\
             probe_uri: /.well-known/core\n"
        ),
    );
    let out = dir.join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dicetest"))
        .current_dir(root())
        .args(["run", "--dut", &dut, "--jobs", "2", "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dicetest starts");
    // Wait until some verdicts are in the journal and cases are under way.
    let journal = out.join("journal.jsonl");
    let begun = Instant::now();
    loop {
        let lines = std::fs::read_to_string(&journal)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines >= 4 {
            break;
        }
        assert!(
            begun.elapsed() < Duration::from_secs(120),
            "no verdict reached the journal"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    send_signal(child.id(), 15);
    let status = child.wait().expect("dicetest ends");
    let mut err = String::new();
    let _ = std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err);
    assert_eq!(status.code(), Some(143), "128 + SIGTERM:\n{err}");
    assert!(err.contains("interrupted by SIGTERM"), "{err}");
    let r = report_cases(&out);
    assert_eq!(
        r["complete"],
        serde_json::Value::Bool(false),
        "marked partial"
    );
    assert_eq!(
        r["stopped"].as_str(),
        Some("the run was interrupted by SIGTERM"),
        "the report says why it is partial"
    );
    let not_run = r["not_run"].as_array().map(|c| c.len()).unwrap_or(0);
    let reached = r["cases"].as_array().map(|c| c.len()).unwrap_or(0);
    assert!(reached >= 1, "the verdicts reached are kept");
    let planned = r["planned"].as_u64().expect("planned") as usize;
    assert_eq!(
        reached + not_run,
        planned,
        "every planned case is reached or not run"
    );
    assert!(
        not_run > 0,
        "the run stopped before the end ({reached} cases)"
    );
    for f in ["junit.xml", "summary.md", "report.html"] {
        assert!(out.join(f).is_file(), "{f} is written too");
    }
    assert!(
        !out.join(".dicetest.lock").exists(),
        "the output folder is unlocked"
    );
    // The DUT processes dicetest started are gone (they die with it at the latest).
    let begun = Instant::now();
    while !processes_with(&identity).is_empty() && begun.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(processes_with(&identity), Vec::<String>::new());
}

fn send_signal(pid: u32, sig: i32) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(ok.success());
}

#[test]
fn one_run_per_output_folder() {
    let dir = scratch("lock");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    // A live holder: this test process.
    std::fs::write(
        out.join(".dicetest.lock"),
        format!("{}\n", std::process::id()),
    )
    .unwrap();
    let o = dicetest(&["run", "--case", "CK-01", "--out", out.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains(&format!(
            "in use by another dicetest run (pid {})",
            std::process::id()
        )),
        "{t}"
    );
    // A holder that is gone (a pid above the kernel's maximum): taken over, said so.
    std::fs::write(out.join(".dicetest.lock"), "4194305\n").unwrap();
    let o = dicetest(&["run", "--case", "CK-01", "--out", out.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("taking it over"), "{t}");
}

#[test]
fn case_patterns_mean_what_they_say() {
    let dir = scratch("patterns");
    let out = dir.join("out");
    let o = dicetest(&["run", "--case", "CK-0[1-3]", "--out", out.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    let r = report_cases(&out);
    let ids: Vec<&str> = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["CK-01", "CK-02", "CK-03"]);
    // A pattern that matches nothing is refused even beside one that does.
    let o = dicetest(&[
        "run",
        "--case",
        "CK-01",
        "--case",
        "CK-O1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("\"CK-O1\" matches no case"));
    let o = dicetest(&["run", "--case", "CK-0[1-3", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("without its ']'"));
    let o = dicetest(&["run", "--jobs", "0", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("at least 1"));
    // explain knows interop descriptions too.
    let o = dicetest(&["explain", "INT-COAP-01"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("interop description"));
    // A profile path that does not exist is a missing file, not an unknown name.
    let missing = dir.join("nothere.yaml");
    let o = dicetest(&["run", "--dut", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("DUT profile file not found"));
}

#[test]
fn a_dut_of_raw_public_keys_only_is_not_held_to_a_psk_pre_flight() {
    let dir = scratch("rpk");
    let dut = write_profile(
        &dir,
        "rpk-only",
        "description: a device of raw public keys only, not listening\nkind: address\naddress: \"127.0.0.1:9\"\nroles: [server]\n\
         credentials: { psk_identity: Client_identity, psk_hex: 73656372657450534b }\n\
         claims: [ecdhe-ecdsa-ccm8, cookie_exchange]\nprobe: none\n",
    );
    let out = dir.join("out");
    let o = dicetest(&[
        "run",
        "--dut",
        &dut,
        "--case",
        "CK-01",
        "--out",
        out.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert!(t.contains("pre-flight: skipped"), "{t}");
    assert_ne!(o.status.code(), Some(2), "not a setup error:\n{t}");
}
