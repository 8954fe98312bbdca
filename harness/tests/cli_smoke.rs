//! The smoke tools as a user runs them: `dicetest connect`, `serve` and `vectors`.

mod support;

use std::process::Command;
use std::time::Duration;

use support::peers::*;

fn dicetest() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dicetest"))
}

const GNUTLS_PSK: &str = "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-CCM-8";

#[test]
fn connect_to_gnutls_serv_echoes_and_names_the_suite() {
    let port = free_port();
    let psk = gnutls_psk_file();
    let _peer = Peer::spawn(
        program("gnutls-serv"),
        &[
            "--udp",
            "--echo",
            "-p",
            &port.to_string(),
            "--priority",
            GNUTLS_PSK,
            "--pskpasswd",
            psk.as_str(),
        ],
    );
    wait_for_port(port, Duration::from_secs(10));
    let keylog = tempfile_path::TempPath::new("keylog");
    let out = dicetest()
        .args([
            "connect",
            &format!("127.0.0.1:{port}"),
            "--psk-file",
            &key_file(),
            "--send",
            "hello",
            "--keylog",
            keylog.as_str(),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("handshake complete: TLS_PSK_WITH_AES_128_CCM_8"),
        "{stdout}"
    );
    assert!(stdout.contains("received: hello"), "{stdout}");
    assert!(
        stdout.contains("HelloVerifyRequest") || stdout.contains("hello_verify_request"),
        "trace missing: {stdout}"
    );
    // Key log on request, in NSS format: CLIENT_RANDOM <32 bytes hex> <48 bytes hex>.
    let log = std::fs::read_to_string(&keylog.0).expect("key log written");
    let fields: Vec<&str> = log.split_whitespace().collect();
    assert_eq!(fields.len(), 3, "{log}");
    assert_eq!(
        (fields[0], fields[1].len(), fields[2].len()),
        ("CLIENT_RANDOM", 64, 96)
    );
    assert!(
        !stdout.contains(fields[2]),
        "the master secret leaked to stdout"
    );
    // The key never shows.
    assert!(!stdout.contains(PSK_HEX) && !stdout.contains("secretPSK"));

    // A wrong key: non-zero exit and one line that says why.
    let out = dicetest()
        .args([
            "connect",
            &format!("127.0.0.1:{port}"),
            "--psk-identity",
            "Client_identity",
            "--psk",
            "00112233",
            "--send",
            "hello",
            "--timeout",
            "6",
            "--rto-ms",
            "500",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("handshake failed") && stderr.contains("PSK"),
        "{stderr}"
    );
}

#[test]
fn connect_to_a_closed_port_says_unreachable() {
    let port = free_port();
    let out = dicetest()
        .args([
            "connect",
            &format!("127.0.0.1:{port}"),
            "--psk-file",
            &key_file(),
            "--timeout",
            "5",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("unreachable"), "{stderr}");
}

#[test]
fn connect_with_an_unknown_suite_is_a_usage_error() {
    let out = dicetest()
        .args([
            "connect",
            "127.0.0.1:9",
            "--psk-file",
            &key_file(),
            "--suite",
            "rot13",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown cipher suite"));
    let out = dicetest()
        .args(["connect", "127.0.0.1:9", "--psk", "xyz"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--psk must be hex"));
}

#[test]
fn serve_answers_openssl_s_client() {
    let port = free_port();
    let server = Peer::spawn(
        env!("CARGO_BIN_EXE_dicetest").into(),
        &[
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--psk-file",
            &key_file(),
        ],
    );
    assert!(
        server.wait_output("listening on", Duration::from_secs(10)),
        "{}",
        server.output()
    );
    let mut client = Peer::spawn(
        program("openssl"),
        &[
            "s_client",
            "-dtls1_2",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-psk_identity",
            "Client_identity",
            "-psk",
            PSK_HEX,
            "-cipher",
            "PSK-AES128-CCM8",
            "-quiet",
        ],
    );
    assert!(
        server.wait_output("handshake complete", Duration::from_secs(20)),
        "server:\n{}\nclient:\n{}",
        server.output(),
        client.output()
    );
    client.write_line("ping over dtls");
    assert!(
        client.wait_output("ping over dtls", Duration::from_secs(10)),
        "no echo:\n{}\nserver:\n{}",
        client.output(),
        server.output()
    );
    assert!(!server.output().contains(PSK_HEX));
}

#[test]
fn vectors_command_checks_every_vector() {
    let out = dicetest()
        .args(["vectors", "--dir", root().join("vectors").to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    let n: usize = last
        .split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or(0);
    assert!(n >= 15, "{last}");
    let transcripts: usize = last
        .split('(')
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|w| w.parse().ok())
        .unwrap_or(0);
    assert!(transcripts >= 2, "{last}");
}

#[test]
fn vectors_command_fails_on_a_wrong_vector() {
    let dir = std::env::temp_dir().join(format!("dicetest-badvec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = root().join("vectors/transcripts/psk-ccm8_openssl-client_gnutls-server.toml");
    let text = std::fs::read_to_string(src).unwrap();
    // Change the recorded PSK: the master secret can no longer match the key log.
    let bad = text.replace(
        "psk_hex = \"73656372657450534b\"",
        "psk_hex = \"73656372657450534c\"",
    );
    assert_ne!(bad, text);
    std::fs::write(dir.join("bad.toml"), bad).unwrap();
    let out = dicetest()
        .args(["vectors", "--dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL") && stdout.contains("master secret"),
        "{stdout}"
    );
}

#[test]
fn serve_resumes_a_gnutls_cli_session() {
    let port = free_port();
    let server = Peer::spawn(
        env!("CARGO_BIN_EXE_dicetest").into(),
        &[
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--psk-file",
            &key_file(),
        ],
    );
    assert!(
        server.wait_output("listening on", Duration::from_secs(10)),
        "{}",
        server.output()
    );
    // gnutls-cli --resume connects, closes, and connects again offering the session id.
    let client = Peer::spawn(
        program("gnutls-cli"),
        &[
            "--udp",
            "--resume",
            "-p",
            &port.to_string(),
            "--priority",
            GNUTLS_PSK,
            "--pskusername",
            "Client_identity",
            "--pskkey",
            PSK_HEX,
            "127.0.0.1",
        ],
    );
    assert!(
        client.wait_output("This is a resumed session", Duration::from_secs(30)),
        "gnutls-cli:\n{}\nserver:\n{}",
        client.output(),
        server.output()
    );
    assert!(
        server.wait_output("(resumed session)", Duration::from_secs(5)),
        "{}",
        server.output()
    );
}
