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
    assert_eq!(report["schema_version"], 2);
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
    let not_run = cases
        .iter()
        .filter(|c| c["verdict"] == "not_applicable" || c["verdict"] == "inconclusive")
        .count();
    assert_eq!(skipped, not_run);
    assert_eq!(
        suites[0].attribute("skipped"),
        Some(not_run.to_string().as_str())
    );
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
