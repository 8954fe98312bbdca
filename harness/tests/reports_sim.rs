//! Reports of real runs against the simulated board: every format is written, report.json
//! fits its published schema, junit.xml has a testcase per case, `report --from` renders
//! the same files from the journal, no PSK leaks, and tshark decrypts a capture made with
//! `--keylog` (and only then).

mod reports_util;

use std::path::Path;
use std::process::Command;

use dicetest::reports::pcapng;
use reports_util::*;
use serde_json::Value;

const FORMATS: [&str; 4] = ["report.json", "junit.xml", "summary.md", "report.html"];

fn suite() -> String {
    root().join("suites").display().to_string()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Case lines of a journal.
fn journal_cases(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("journal.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("id").is_some())
        .collect()
}

#[test]
fn a_whole_sim_run_writes_every_format_from_one_model() {
    let dir = TempDir::new("sim-run");
    let out = dicetest(&[
        "run",
        "--dut",
        "sim",
        "--suite",
        &suite(),
        "--out",
        dir.str(),
    ]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for f in FORMATS {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
    let journal = journal_cases(dir.path());
    assert!(journal.len() >= 10, "only {} cases ran", journal.len());

    // report.json: the published schema, and the journal's cases.
    let report = read_json(&dir.path().join("report.json"));
    let schema = read_json(&root().join("reports/report.schema.json"));
    let errors = validate(&schema, &report);
    assert!(
        errors.is_empty(),
        "report.json does not fit its schema: {errors:#?}"
    );
    assert_eq!(report["schema_version"], 3);
    assert_eq!(report["dut"]["psk"], "<redacted>");
    assert_eq!(report["complete"], true);
    let cases = report["cases"].as_array().unwrap();
    assert_eq!(cases.len(), journal.len());
    let mut ids: Vec<&str> = cases.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let mut jids: Vec<&str> = journal.iter().map(|c| c["id"].as_str().unwrap()).collect();
    ids.sort();
    jids.sort();
    assert_eq!(ids, jids);
    let pass = cases.iter().filter(|c| c["verdict"] == "pass").count();
    assert_eq!(report["summary"]["pass"], pass);
    for c in cases {
        assert_eq!(c["dut"], "sim");
        assert!(c.get("chart").is_none(), "report.json carries no charts");
        let ev = c["evidence"].as_str().expect("evidence path");
        assert!(dir.path().join(ev).is_file(), "{ev}");
        if let Some(cap) = c["capture"].as_str() {
            assert!(dir.path().join(cap).is_file(), "{cap}");
        }
        assert!(c["started_at"].as_str().unwrap().ends_with('Z'));
    }
    // A case that exchanged datagrams has its capture, and its journal line its chart.
    let hs01 = journal
        .iter()
        .find(|c| c["id"] == "HS-01")
        .expect("HS-01 ran");
    assert_eq!(hs01["capture"], "captures/HS-01.pcapng");
    let chart = hs01["chart"].as_array().unwrap();
    assert!(chart.len() >= 6, "{chart:?}");
    let texts: Vec<&str> = chart
        .iter()
        .flat_map(|d| d["records"].as_array().unwrap())
        .map(|r| r["summary"].as_str().unwrap())
        .collect();
    assert!(
        texts.iter().any(|t| t.starts_with("ClientHello")),
        "{texts:?}"
    );
    // The chart is decrypted with the case's keys even without --keylog.
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("CoAP CON GET /.well-known/core")),
        "{texts:?}"
    );

    // junit.xml: one testcase per case, counts that add up.
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("junit.xml is XML");
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1);
    assert_eq!(suites[0].attribute("name"), Some("sim"));
    let tcs: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(tcs.len(), journal.len());
    let skipped = tcs
        .iter()
        .filter(|t| t.children().any(|c| c.has_tag_name("skipped")))
        .count();
    // The sim's profile has no baseline: only not-applicable cases are skipped, and
    // what is red is what fails the run.
    let not_applicable = cases
        .iter()
        .filter(|c| c["verdict"] == "not_applicable")
        .count();
    assert_eq!(skipped, not_applicable);
    assert_eq!(
        suites[0].attribute("skipped"),
        Some(not_applicable.to_string().as_str())
    );
    assert_eq!(red(&doc), failing(&report, false));
    assert_eq!(out.status.code() == Some(0), red(&doc) == 0);
    let hs = tcs
        .iter()
        .find(|t| t.attribute("name").unwrap().starts_with("HS-01 "))
        .unwrap();
    assert_eq!(hs.attribute("classname"), Some("handshake"));
    let sysout = hs
        .children()
        .find(|c| c.has_tag_name("system-out"))
        .and_then(|c| c.text())
        .unwrap();
    assert!(sysout.contains("ClientHello"), "{sysout}");

    // `report --from` renders the very same files from the journal.
    let again = TempDir::new("sim-rerender");
    dicetest_ok(&["report", "--from", dir.str(), "--out", again.str()], 0);
    for f in FORMATS {
        let a = std::fs::read(dir.path().join(f)).unwrap();
        let b = std::fs::read(again.path().join(f)).unwrap();
        assert!(a == b, "{f} differs when rendered from the journal");
    }

    // No PSK anywhere, and no key log without --keylog.
    for f in files(dir.path()) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!contains(&bytes, SIM_PSK_HEX.as_bytes()), "{}", f.display());
        assert!(
            !contains(&bytes, SIM_PSK_TEXT.as_bytes()),
            "{}",
            f.display()
        );
        assert!(!contains(&bytes, b"CLIENT_RANDOM"), "{}", f.display());
    }
}

/// `<failure>` and `<error>` elements of a junit.xml.
fn red(doc: &roxmltree::Document) -> usize {
    doc.descendants()
        .filter(|n| n.has_tag_name("failure") || n.has_tag_name("error"))
        .count()
}

/// The results of a report.json that fail the run, by the rule of `dicetest run`'s exit
/// code, worked out here on its own: an error; a result the baseline does not expect
/// that has no baseline entry (an unexpected fail or inconclusive); with --strict any
/// result the baseline does not expect.
fn failing(report: &Value, strict: bool) -> usize {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            let unexpected = c["as_expected"] == false;
            c["verdict"] == "error"
                || (unexpected && c["expected_deviation"].is_null())
                || (strict && unexpected)
        })
        .count()
}

/// A profile file in `dir`: the reference board that issues session ids it cannot resume
/// (RES-01 and RES-02 fail on it), with a baseline of its own.
fn profile_with_baseline(dir: &Path, baseline: &[(&str, &str)]) -> String {
    let shipped =
        std::fs::read_to_string(root().join("profiles/selftest-sim-no-session-cache.yaml"))
            .unwrap();
    assert!(shipped.contains("name: selftest-sim-no-session-cache\n"));
    let mut y = shipped.replace(
        "name: selftest-sim-no-session-cache\n",
        "name: sim-with-baseline\n",
    );
    y += "expected_deviations:\n";
    for (id, why) in baseline {
        y += &format!("  {id}: \"{why}\"\n");
    }
    let p = dir.join("sim-with-baseline.yaml");
    std::fs::write(&p, y).unwrap();
    p.display().to_string()
}

#[test]
fn junit_is_red_exactly_when_the_run_fails() {
    let dir = TempDir::new("baseline");
    let run = |profile: &str, strict: bool, tag: &str| {
        let out = dir.path().join(tag);
        let (suite, out_s) = (suite(), out.display().to_string());
        let mut args = vec![
            "run", "--dut", profile, "--suite", &suite, "--case", "RES-*", "--case", "HS-01",
            "--case", "HS-02", "--out", &out_s,
        ];
        if strict {
            args.push("--strict");
        }
        let o = dicetest(&args);
        let xml = std::fs::read_to_string(out.join("junit.xml")).unwrap();
        let report = read_json(&out.join("report.json"));
        (o, xml, report, out)
    };
    let skipped_as = |doc: &roxmltree::Document, kind: &str| {
        doc.descendants()
            .filter(|n| n.has_tag_name("skipped") && n.attribute("type") == Some(kind))
            .count()
    };

    // Both fails expected, and a stale entry for HS-01 (which passes).
    let full = profile_with_baseline(
        dir.path(),
        &[
            (
                "RES-01",
                "no session cache: the abbreviated handshake cannot complete",
            ),
            (
                "RES-02",
                "no session cache: it repeats the unknown session id",
            ),
            ("HS-01", "stale: HS-01 passes on this board"),
        ],
    );
    let (o, xml, report, out) = run(&full, false, "expected");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let fails = report["summary"]["fail"].as_u64().unwrap();
    assert_eq!(fails, 2, "RES-01 and RES-02 fail on this board");
    assert_eq!(red(&doc), 0, "{xml}");
    assert_eq!(red(&doc), failing(&report, false));
    assert_eq!(report["run_fails"], false);
    assert_eq!(skipped_as(&doc, "expected_deviation"), 2, "{xml}");
    assert_eq!(skipped_as(&doc, "not_applicable"), 1, "{xml}");
    let msgs: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("type") == Some("expected_deviation"))
        .map(|n| n.attribute("message").unwrap())
        .collect();
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("expected deviation: no session cache: it repeats")),
        "{msgs:?}"
    );
    let top = doc.root_element();
    assert_eq!(top.attribute("failures"), Some("0"));
    assert_eq!(top.attribute("errors"), Some("0"));
    assert_eq!(top.attribute("skipped"), Some("3"));
    // No clause is violated by fails the baseline expects.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains(">violated</span>"));
    assert!(html.contains(">deviation expected by the baseline</span>"));
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("**CI:** ✅ the run passes (2 deviation(s) the baseline expects)"),
        "{md}"
    );

    // --strict: the stale HS-01 entry fails the run, and junit says so.
    let (o, xml, report, _) = run(&full, true, "strict");
    assert_eq!(o.status.code(), Some(1));
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(red(&doc), 1, "{xml}");
    assert_eq!(red(&doc), failing(&report, true));
    assert!(doc
        .descendants()
        .any(|n| n.has_tag_name("failure") && n.attribute("type") == Some("stale_baseline")));

    // Without a RES-02 entry its fail is unexpected: exit 1, one failure.
    let partial = profile_with_baseline(
        dir.path(),
        &[(
            "RES-01",
            "no session cache: the abbreviated handshake cannot complete",
        )],
    );
    let (o, xml, report, out) = run(&partial, false, "unexpected");
    assert_eq!(o.status.code(), Some(1));
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(red(&doc), 1, "{xml}");
    assert_eq!(red(&doc), failing(&report, false));
    let f = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(f.attribute("type"), Some("fail"));
    assert!(f
        .parent()
        .unwrap()
        .attribute("name")
        .unwrap()
        .starts_with("RES-02 "));
    assert_eq!(skipped_as(&doc, "expected_deviation"), 1);
    assert_eq!(report["run_fails"], true);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains(">violated</span>"),
        "RES-02 is a MUST-level case"
    );
}

fn tshark(args: &[&str]) -> String {
    let out = Command::new(program("tshark"))
        .args(args)
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn tshark_decrypts_the_coap_request_of_a_keylog_capture() {
    let dir = TempDir::new("keylog");
    dicetest_ok(
        &[
            "run",
            "--dut",
            "sim",
            "--suite",
            &suite(),
            "--case",
            "HS-01",
            "--keylog",
            "--out",
            dir.str(),
        ],
        0,
    );
    let cap = dir.path().join("captures/HS-01.pcapng");
    let bytes = std::fs::read(&cap).unwrap();
    let blocks = pcapng::blocks(&bytes).expect("well-formed pcapng");
    let dsb: Vec<&Vec<u8>> = blocks
        .iter()
        .filter(|(t, _)| *t == 0x0000_000A)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(dsb.len(), 1, "one Decryption Secrets Block");
    assert_eq!(
        u32::from_le_bytes(dsb[0][..4].try_into().unwrap()),
        pcapng::SECRETS_TLS_KEY_LOG
    );
    assert!(String::from_utf8_lossy(dsb[0]).contains("CLIENT_RANDOM "));
    assert!(!contains(&bytes, SIM_PSK_HEX.as_bytes()));

    let coap = tshark(&["-r", cap.to_str().unwrap(), "-Y", "coap", "-V"]);
    assert!(coap.contains("Constrained Application Protocol"), "{coap}");
    assert!(coap.contains("Code: GET (1)"), "{coap}");
    assert!(coap.contains("[Uri-Path: /.well-known/core]"), "{coap}");
    assert!(coap.contains("Code: 2.05 Content"), "{coap}");
    // The checksums dicetest computed are the ones tshark computes.
    let bad = tshark(&[
        "-r",
        cap.to_str().unwrap(),
        "-o",
        "udp.check_checksum:TRUE",
        "-o",
        "ip.check_checksum:TRUE",
        "-Y",
        "udp.checksum.status == \"Bad\" || ip.checksum.status == \"Bad\"",
    ]);
    assert_eq!(bad.trim(), "", "bad checksums: {bad}");
}

#[test]
fn without_keylog_the_capture_keeps_its_secrets() {
    let dir = TempDir::new("nokeylog");
    dicetest_ok(
        &[
            "run",
            "--dut",
            "sim",
            "--suite",
            &suite(),
            "--case",
            "HS-01",
            "--out",
            dir.str(),
        ],
        0,
    );
    let cap = dir.path().join("captures/HS-01.pcapng");
    let bytes = std::fs::read(&cap).unwrap();
    let blocks = pcapng::blocks(&bytes).expect("well-formed pcapng");
    assert!(blocks.iter().all(|(t, _)| *t != 0x0000_000A));
    assert!(!contains(&bytes, b"CLIENT_RANDOM"));
    let dtls = tshark(&["-r", cap.to_str().unwrap(), "-Y", "dtls"]);
    assert!(dtls.lines().count() >= 6, "{dtls}");
    let coap = tshark(&["-r", cap.to_str().unwrap(), "-Y", "coap"]);
    assert_eq!(
        coap.trim(),
        "",
        "CoAP must not be readable without the keys"
    );
}
