//! The interop descriptions beyond the PSK handshake, each against real pairs on loopback
//! (peers from scripts/install-peers.sh): CoAP GET and PUT over DTLS, session resumption,
//! the extended master secret, a demanded cipher suite, and the ECDHE_PSK sessions a
//! passive monitor cannot follow. Every check that passes is paired with one made to fail
//! (a changed description or profile), so the verdicts are computed, not given.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dicetest-idesc-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// (id, verdict, reason) of every case one pair ran.
type Verdicts = Vec<(String, String, String)>;

/// `dicetest interop --client C --server S` with `args`; the pair's verdicts.
fn interop(client: &str, server: &str, args: &[&str], out: &Path) -> Verdicts {
    let o = Command::new(env!("CARGO_BIN_EXE_dicetest"))
        .current_dir(root())
        .args(["interop", "--client", client, "--server", server, "--out"])
        .arg(out)
        .args(args)
        .output()
        .expect("dicetest runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let name = |p: &str| {
        Path::new(p)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let dir = out.join(format!("{}__{}", name(client), name(server)));
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("report.json"))
            .unwrap_or_else(|e| panic!("{}: {e}\n{stdout}", dir.display())),
    )
    .expect("report.json parses");
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

fn verdict<'a>(v: &'a Verdicts, id: &str) -> (&'a str, &'a str) {
    v.iter()
        .find(|(i, _, _)| i == id)
        .map(|(_, v, r)| (v.as_str(), r.as_str()))
        .unwrap_or_else(|| panic!("{id} did not run: {v:?}"))
}

/// A copy of a shipped description with some lines changed, alone in its own folder.
fn description(dir: &Path, id: &str, edit: &[(&str, &str)]) -> PathBuf {
    let suite = dir.join("suite");
    std::fs::create_dir_all(&suite).unwrap();
    let mut text =
        std::fs::read_to_string(root().join(format!("suites/interop/{id}.yaml"))).unwrap();
    for (a, b) in edit {
        assert!(text.contains(a), "{id} has no {a:?}");
        text = text.replace(a, b);
    }
    std::fs::write(suite.join(format!("{id}.yaml")), text).unwrap();
    suite
}

/// A copy of a shipped profile under another name, with some text changed.
fn profile(dir: &Path, name: &str, new_name: &str, edit: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(root().join(format!("profiles/{name}.yaml"))).unwrap();
    text = text.replace(&format!("name: {name}\n"), &format!("name: {new_name}\n"));
    for (a, b) in edit {
        assert!(text.contains(a), "{name} has no {a:?}");
        text = text.replace(a, b);
    }
    let p = dir.join(format!("{new_name}.yaml"));
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn coap_get_and_put_over_dtls_between_real_coap_implementations() {
    let out = scratch("coap");
    let cases = ["--case", "INT-COAP-*"];
    // libcoap (GnuTLS backend) against libcoap (OpenSSL backend), libcoap (OpenSSL) against
    // the reference board, aiocoap (tinydtls) against libcoap (GnuTLS): the request, its
    // token and code, and the PUT's payload.
    for (c, s, put_path) in [
        ("libcoap-gnutls", "libcoap-openssl", "/example_data"),
        ("libcoap-openssl", "dut-sim", "/light"),
        ("aiocoap", "libcoap-gnutls", "/example_data"),
    ] {
        let v = interop(c, s, &cases, &out);
        let (get, why) = verdict(&v, "INT-COAP-01");
        assert_eq!(get, "pass", "{c} → {s} GET: {why}");
        assert!(
            why.contains("GET /.well-known/core") && why.contains("answered 2.05"),
            "{why}"
        );
        let (put, why) = verdict(&v, "INT-COAP-02");
        assert_eq!(put, "pass", "{c} → {s} PUT: {why}");
        assert!(
            why.contains(&format!("PUT {put_path} with payload \"on\"")) && why.contains("token"),
            "{why}"
        );
    }
    // Able to fail: a description that accepts only 2.05 for the PUT.
    let suite = description(
        &out,
        "INT-COAP-02",
        &[("[\"2.04\", \"2.01\"]", "[\"2.05\"]")],
    );
    let v = interop(
        "libcoap-openssl",
        "dut-sim",
        &["--suite", suite.to_str().unwrap()],
        &out.join("strict"),
    );
    let (put, why) = verdict(&v, "INT-COAP-02");
    assert_eq!(put, "fail", "{why}");
    assert!(
        why.contains("answered 2.04") && why.contains("only 2.05"),
        "{why}"
    );
    // Only CoAP-capable pairs apply: gnutls-cli sends no CoAP; gnutls-serv serves none.
    let v = interop("gnutls", "dut-sim", &cases, &out);
    let (na, why) = verdict(&v, "INT-COAP-01");
    assert_eq!(na, "not_applicable", "{why}");
    assert!(why.contains("gnutls declares no CoAP client"), "{why}");
    let v = interop("libcoap-gnutls", "gnutls", &cases, &out);
    let (na, why) = verdict(&v, "INT-COAP-02");
    assert_eq!(na, "not_applicable", "{why}");
    assert!(why.contains("gnutls does not claim coap"), "{why}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_second_session_resumes_the_first() {
    let out = scratch("resume");
    let case = ["--case", "INT-RES-01"];
    // gnutls-cli --resume (a ticket, then the echoed session id) and s_client -reconnect,
    // against GnuTLS and against libcoap's OpenSSL server.
    for (c, s) in [("gnutls", "gnutls"), ("openssl", "libcoap-openssl")] {
        let v = interop(c, s, &case, &out);
        let (r, why) = verdict(&v, "INT-RES-01");
        assert_eq!(r, "pass", "{c} → {s}: {why}");
        assert!(why.contains("abbreviated handshake"), "{why}");
    }
    // Able to fail: libcoap's GnuTLS server gives a full handshake to a resumption offer;
    // a copy of its profile that claims resumption gets a fail, not a pass.
    let claims = profile(
        &out,
        "libcoap-gnutls",
        "libcoap-gnutls-claims-resumption",
        &[("claims: [", "claims: [resumption, ")],
    );
    let v = interop("gnutls", &claims, &case, &out);
    let (r, why) = verdict(&v, "INT-RES-01");
    assert_eq!(r, "fail", "{why}");
    assert!(why.contains("none abbreviated"), "{why}");
    // A client that cannot be asked to resume, a server that does not claim it.
    let v = interop("tinydtls", "gnutls", &case, &out);
    assert_eq!(verdict(&v, "INT-RES-01").0, "not_applicable");
    let v = interop("gnutls", "dut-sim", &case, &out);
    let (na, why) = verdict(&v, "INT-RES-01");
    assert_eq!(na, "not_applicable");
    assert!(why.contains("dut-sim does not claim resumption"), "{why}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn the_extended_master_secret_is_seen_in_both_hellos() {
    let out = scratch("ems");
    let case = ["--case", "INT-EMS-01"];
    for (c, s) in [("tinydtls", "gnutls"), ("gnutls", "dut-sim")] {
        let v = interop(c, s, &case, &out);
        let (r, why) = verdict(&v, "INT-EMS-01");
        assert_eq!(r, "pass", "{c} → {s}: {why}");
        assert!(
            why.contains("extended_master_secret in both hellos"),
            "{why}"
        );
    }
    // Able to fail: gnutls-serv told not to negotiate it (%NO_SESSION_HASH) while its
    // profile still claims ems.
    let no_ems = profile(
        &out,
        "gnutls",
        "gnutls-without-ems",
        &[("+AEAD:+SHA256\"]", "+AEAD:+SHA256:%NO_SESSION_HASH\"]")],
    );
    let v = interop("gnutls", &no_ems, &case, &out);
    let (r, why) = verdict(&v, "INT-EMS-01");
    assert_eq!(r, "fail", "{why}");
    assert!(why.contains("ServerHello did not carry it"), "{why}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_demanded_suite_and_the_sessions_the_monitor_cannot_follow() {
    let out = scratch("suite");
    // INT-PSK-01 demanding psk-ccm: gnutls-serv offers it, but gnutls-cli's profile offers
    // CCM-8 alone, so the pair negotiates another suite than demanded: inconclusive.
    let ccm = description(&out, "INT-PSK-01", &[("suite: psk-ccm8", "suite: psk-ccm")]);
    let ccm = ["--suite", ccm.to_str().unwrap()];
    let v = interop("gnutls", "gnutls", &ccm, &out);
    let (r, why) = verdict(&v, "INT-PSK-01");
    assert_eq!(r, "inconclusive", "{why}");
    assert!(
        why.contains("TLS_PSK_WITH_AES_128_CCM_8, not the TLS_PSK_WITH_AES_128_CCM"),
        "{why}"
    );
    // tinydtls does not claim psk-ccm: the pair does not apply.
    let v = interop("tinydtls", "gnutls", &ccm, &out.join("na"));
    let (na, why) = verdict(&v, "INT-PSK-01");
    assert_eq!(na, "not_applicable");
    assert!(why.contains("tinydtls does not claim psk-ccm"), "{why}");
    // libcoap × libcoap: the GnuTLS client offers only the PSK suite (its priority
    // overrides), so the monitor follows the session; the OpenSSL client cannot be limited
    // and the pair negotiates ECDHE_PSK, which is inconclusive and says why.
    let v = interop(
        "libcoap-gnutls",
        "libcoap-gnutls",
        &["--case", "INT-PSK-01"],
        &out,
    );
    let (r, why) = verdict(&v, "INT-PSK-01");
    assert_eq!(r, "pass", "{why}");
    let quick = description(
        &out.join("q"),
        "INT-PSK-01",
        &[("level: MUST", "level: MUST\nwithin: 4s")],
    );
    let v = interop(
        "libcoap-openssl",
        "libcoap-openssl",
        &["--suite", quick.to_str().unwrap()],
        &out,
    );
    let (r, why) = verdict(&v, "INT-PSK-01");
    assert_eq!(r, "inconclusive", "{why}");
    assert!(
        why.contains("TLS_ECDHE_PSK_") && why.contains("cannot derive from the PSK"),
        "{why}"
    );
    let _ = std::fs::remove_dir_all(&out);
}
