//! The shipped libcoap profiles start real libcoap servers (Debian libcoap3-bin, from
//! scripts/install-peers.sh) with its OpenSSL and its GnuTLS backend, and the suite passes
//! a PSK handshake (HS-01, answered with CoAP) and a CoAP case over DTLS against each.
//! libcoap takes CoAP over DTLS on `-p` + 1: the `{port-1}` placeholder is what makes
//! these runs reach the right port at all.

mod reports_util;

use reports_util::{dicetest, root, TempDir};
use serde_json::Value;

fn run_profile(dut: &str) {
    let out = TempDir::new(dut);
    let o = dicetest(&[
        "run",
        "--dut",
        dut,
        "--suite",
        root().join("suites").to_str().unwrap(),
        "--case",
        "HS-01",
        "--case",
        "COAPS-07",
        "--out",
        out.str(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap())
            .unwrap_or_else(|e| panic!("report.json of {dut} parses: {e}\n{stdout}"));
    let cases = report["cases"].as_array().expect("cases");
    let verdicts: Vec<(String, String, String)> = cases
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_string(),
                c["verdict"].as_str().unwrap_or_default().to_string(),
                c["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(verdicts.len(), 2, "{dut}: {verdicts:?}");
    for (id, verdict, reason) in &verdicts {
        assert_eq!(verdict, "pass", "{dut} {id}: {reason}\n{stdout}");
    }
    // HS-01's probe is a CoAP GET of /.well-known/core: the answer is libcoap's own 2.05.
    let hs01 = &verdicts.iter().find(|v| v.0 == "HS-01").unwrap().2;
    assert!(hs01.contains("2.05"), "{dut} HS-01: {hs01}");
    let coaps = &verdicts.iter().find(|v| v.0 == "COAPS-07").unwrap().2;
    assert!(
        coaps.contains("token=a1b2c3d4e5f60718"),
        "{dut} COAPS-07: {coaps}"
    );
    assert_eq!(o.status.code(), Some(0), "{stdout}");
}

#[test]
fn libcoap_openssl_handshake_and_coaps() {
    run_profile("libcoap-openssl");
}

#[test]
fn libcoap_gnutls_handshake_and_coaps() {
    run_profile("libcoap-gnutls");
}
