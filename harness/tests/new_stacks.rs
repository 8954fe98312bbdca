//! A fast subset of the suite against the stacks dicetest was not written against (the
//! whole suite runs nightly in ci/real-stacks): Mbed TLS, wolfSSL and pion/dtls started by
//! their shipped profiles (peers built by scripts/install-peers.sh), aiocoap as a coaps
//! server. wolfSSL, pion and libcoap send a PSK identity hint by default, which the scripted
//! cases here must accept (RFC 4279 §2); each run must match its profile's baseline, so a
//! real deviation recorded there (pion's unchecked Finished, ALRT-07) must still show.

mod reports_util;

use reports_util::{dicetest, root, TempDir};
use serde_json::Value;

/// Runs `cases` against `dut`, held to its baseline (--strict); returns id → verdict.
fn run_strict(dut: &str, cases: &[&str]) -> Vec<(String, String, String)> {
    let out = TempDir::new(dut);
    let mut args = vec![
        "run",
        "--dut",
        dut,
        "--strict",
        "--jobs",
        "2",
        "--suite",
        root().join("suites").to_str().unwrap(),
        "--out",
        out.str(),
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    for c in cases {
        args.push("--case".into());
        args.push((*c).into());
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = dicetest(&a);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap())
            .unwrap_or_else(|e| panic!("report.json of {dut} parses: {e}\n{stdout}"));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{dut} differs from its baseline:\n{stdout}"
    );
    report["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_string(),
                c["verdict"].as_str().unwrap_or_default().to_string(),
                c["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn verdict<'a>(v: &'a [(String, String, String)], id: &str) -> (&'a str, &'a str) {
    v.iter()
        .find(|c| c.0 == id)
        .map(|c| (c.1.as_str(), c.2.as_str()))
        .unwrap_or_else(|| panic!("{id} missing: {v:?}"))
}

/// Scripted handshakes step by step against a server that sends an identity hint.
const SCRIPTED: &[&str] = &["SEQ-03", "SM-02", "ALRT-07", "HS-01"];

#[test]
fn wolfssl_scripted_cases_take_its_identity_hint() {
    let v = run_strict("wolfssl", SCRIPTED);
    for id in SCRIPTED {
        let (got, reason) = verdict(&v, id);
        assert_eq!(got, "pass", "wolfssl {id}: {reason}");
    }
}

#[test]
fn pion_unchecked_finished_is_found_behind_its_identity_hint() {
    let v = run_strict("pion", SCRIPTED);
    let (got, reason) = verdict(&v, "ALRT-07");
    assert_eq!(got, "fail", "pion ALRT-07: {reason}");
    for id in ["SEQ-03", "SM-02", "HS-01"] {
        let (got, reason) = verdict(&v, id);
        assert_eq!(got, "pass", "pion {id}: {reason}");
    }
}

#[test]
fn mbedtls_matches_its_baseline() {
    let v = run_strict("mbedtls", &["HS-01", "CK-05", "SM-02", "RTX-02"]);
    assert_eq!(verdict(&v, "CK-05").0, "fail", "{v:?}");
    assert_eq!(verdict(&v, "RTX-02").0, "pass", "{v:?}");
}

#[test]
fn aiocoap_serves_coaps() {
    let v = run_strict("aiocoap-server", &["HS-01", "COAPS-03", "COAPS-13"]);
    assert_eq!(verdict(&v, "COAPS-03").0, "pass", "{v:?}");
    assert_eq!(verdict(&v, "COAPS-13").0, "fail", "{v:?}");
}
