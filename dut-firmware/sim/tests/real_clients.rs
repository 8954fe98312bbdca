//! dut-sim (the real binary, on loopback) against real third-party clients installed by
//! scripts/install-peers.sh: OpenSSL s_client, GnuTLS gnutls-cli, libcoap's coap-client
//! with its OpenSSL and GnuTLS backends. A missing client fails the test with the fix.

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const PSK_HEX: &str = "73656372657450534b";
const PRIORITY_CCM8: &str =
    "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-CCM-8";
const PRIORITY_CBC: &str =
    "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA256";

/// A client program: those scripts/install-peers.sh builds or links (aiocoap-client, from
/// the project's Python venv) in peers/build/bin first, then PATH.
fn program(name: &str) -> PathBuf {
    let local = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../peers/build/bin")
        .join(name);
    if local.exists() {
        return local;
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.exists())
        })
        .unwrap_or_else(|| panic!("{name} is not installed: run scripts/install-peers.sh"))
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A running dut-sim; killed (by its own pid) when dropped.
struct Sim {
    child: Child,
    port: u16,
}

impl Sim {
    fn start(extra: &[&str]) -> Sim {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        // The key from the environment, as documented: never on dut-sim's command line.
        let mut child = Command::new(env!("CARGO_BIN_EXE_dut-sim"))
            .env("DUT_SIM_PSK", PSK_HEX)
            .args(["--listen", &listen])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dut-sim");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("dut-sim output");
        assert_eq!(line.trim(), format!("dut-sim listening on {listen}"));
        Sim { child, port }
    }

    fn url(&self, path: &str) -> String {
        format!("coaps://127.0.0.1:{}/{path}", self.port)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command with `input` on stdin (kept open `hold` long) under a time limit.
fn run(cmd: &mut Command, input: &[u8], hold: Duration, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start client");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).unwrap();
    let pid = child.id();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(hold);
        drop(stdin);
        std::thread::sleep(limit.saturating_sub(hold));
        // The client's own pid, never a name.
        let _ = Command::new("kill").arg(pid.to_string()).status();
    });
    let out = child.wait_with_output().expect("client output");
    drop(killer);
    out
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// libcoap's client; its exit code does not tell success, its output does.
fn coap_client(backend: &str, args: &[&str]) -> String {
    let o = run(
        Command::new(program(backend))
            .args(["-u", "Client_identity", "-k", "secretPSK", "-B", "10"])
            .args(args),
        b"",
        Duration::from_millis(0),
        Duration::from_secs(15),
    );
    // The payload goes to stdout, an error response code ("4.04") to stderr.
    text(&o).trim().to_string()
}

#[test]
fn openssl_s_client_completes_the_handshake() {
    let sim = Sim::start(&[]);
    let port = sim.port.to_string();
    let o = run(
        Command::new(program("openssl")).args([
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
        ]),
        b"",
        Duration::from_secs(2),
        Duration::from_secs(10),
    );
    let t = text(&o);
    assert!(t.contains("Cipher is PSK-AES128-CCM8"), "{t}");
    assert!(t.contains("Extended master secret: yes"), "{t}");
}

/// s_client with `-state`, towards `port`, with key `psk_hex`.
fn s_client(port: u16, psk_hex: &str) -> String {
    text(&run(
        Command::new(program("openssl")).args([
            "s_client",
            "-dtls1_2",
            "-state",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-psk_identity",
            "Client_identity",
            "-psk",
            psk_hex,
            "-cipher",
            "PSK-AES128-CCM8",
        ]),
        b"",
        Duration::from_secs(2),
        Duration::from_secs(4),
    ))
}

/// A wrong key shows only at the Finished messages (RFC 5246 §7.4.9: each side checks
/// the other's verify_data, which the key feeds through the master secret; RFC 4279 §2
/// gives the server no earlier way to tell). So the failure must be exactly that: the
/// client got the server's whole first flight, sent its Finished, and never got the
/// server's (dut-sim drops the record it cannot authenticate, as RFC 6347 §4.1.2.7
/// allows, or alerts); and the same command with the right key, against the same
/// device, connects. Anything else (nothing listening, cipher refused, identity refused)
/// fails this test.
#[test]
fn openssl_s_client_with_a_wrong_key_fails_at_finished_and_the_right_key_connects() {
    let sim = Sim::start(&[]);
    let t = s_client(sim.port, "00112233");
    assert!(t.contains("read server done"), "no full server flight: {t}");
    assert!(
        t.contains("write finished"),
        "the client never sent Finished: {t}"
    );
    assert!(
        !t.contains("read finished") && !t.contains("Cipher is PSK-AES128-CCM8"),
        "connected with a wrong key: {t}"
    );
    let alerts: Vec<&str> = t.lines().filter(|l| l.contains("SSL3 alert")).collect();
    assert!(
        alerts.iter().all(|l| {
            ["decrypt error", "bad record mac", "handshake failure"]
                .iter()
                .any(|a| l.contains(a))
        }),
        "an alert that is not about the key: {alerts:?}"
    );
    let t = s_client(sim.port, PSK_HEX);
    assert!(t.contains("read finished"), "{t}");
    assert!(t.contains("Cipher is PSK-AES128-CCM8"), "{t}");
}

fn gnutls(port: u16, priority: &str) -> String {
    let o = run(
        Command::new(program("gnutls-cli")).args([
            "--udp",
            "-p",
            &port.to_string(),
            "--priority",
            priority,
            "--pskusername",
            "Client_identity",
            "--pskkey",
            PSK_HEX,
            "127.0.0.1",
        ]),
        b"",
        Duration::from_secs(2),
        Duration::from_secs(10),
    );
    text(&o)
}

#[test]
fn gnutls_cli_completes_the_handshake_with_ccm8_and_cbc_sha256() {
    let sim = Sim::start(&[]);
    let t = gnutls(sim.port, PRIORITY_CCM8);
    assert!(t.contains("Handshake was completed"), "{t}");
    assert!(t.contains("AES-128-CCM-8"), "{t}");
    let t = gnutls(sim.port, PRIORITY_CBC);
    assert!(t.contains("Handshake was completed"), "{t}");
    assert!(t.contains("AES-128-CBC"), "{t}");
}

fn coap_get_put_get(backend: &str) {
    let sim = Sim::start(&[]);
    let light = sim.url("light");
    assert_eq!(coap_client(backend, &["-m", "get", &light]), "off");
    // PUT answers 2.04 with no payload: nothing printed.
    assert_eq!(coap_client(backend, &["-m", "put", "-e", "on", &light]), "");
    assert_eq!(coap_client(backend, &["-m", "get", &light]), "on");
    assert_eq!(
        coap_client(backend, &["-m", "get", &sim.url("sensors/temperature")]),
        "21.5"
    );
    let core = coap_client(backend, &["-m", "get", &sim.url(".well-known/core")]);
    assert!(core.contains("</light>;rt=\"light\""), "{core}");
    assert!(core.contains("</sensors/humidity>"), "{core}");
    assert_eq!(
        coap_client(backend, &["-m", "get", &sim.url("nope")]),
        "4.04"
    );
    assert_eq!(
        coap_client(backend, &["-m", "post", &sim.url("sensors/humidity")]),
        "4.05"
    );
}

#[test]
fn coap_client_openssl_get_put_get() {
    coap_get_put_get("coap-client-openssl");
}

#[test]
fn coap_client_gnutls_get_put_get() {
    coap_get_put_get("coap-client-gnutls");
}

#[test]
fn dut_sim_refuses_unknown_faults_and_lists_known_ones() {
    let o = Command::new(env!("CARGO_BIN_EXE_dut-sim"))
        .args(["--fault", "no_such_thing"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = Command::new(env!("CARGO_BIN_EXE_dut-sim"))
        .args(["--fault", "list"])
        .output()
        .unwrap();
    let names = String::from_utf8_lossy(&o.stdout);
    assert_eq!(names.lines().count(), dut_sim::Faults::NAMES.len());
    assert!(names.contains("accept_renegotiation"));
}

/// aiocoap's client (Python, DTLS through DTLSSocket/tinydtls), installed from PyPI by
/// scripts/install-peers.sh into its venv (peers/build/bin/aiocoap-client links there);
/// PSK credentials come from a JSON file.
fn aiocoap(creds: &std::path::Path, args: &[&str]) -> String {
    let o = run(
        Command::new(program("aiocoap-client"))
            .arg("--credentials")
            .arg(creds)
            .args(args),
        b"",
        Duration::from_millis(0),
        Duration::from_secs(20),
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn aiocoap_client_get_put_get() {
    let sim = Sim::start(&[]);
    let creds = std::env::temp_dir().join(format!("dut-sim-aiocoap-{}.json", sim.port));
    std::fs::write(
        &creds,
        format!(
            r#"{{"coaps://127.0.0.1:{}/*": {{"dtls": {{"psk": {{"ascii": "secretPSK"}}, "client-identity": {{"ascii": "Client_identity"}}}}}}}}"#,
            sim.port
        ),
    )
    .unwrap();
    let light = sim.url("light");
    assert_eq!(aiocoap(&creds, &[&light]), "off");
    let _ = aiocoap(&creds, &["-m", "PUT", "--payload", "on", &light]);
    assert_eq!(aiocoap(&creds, &[&light]), "on");
    let _ = std::fs::remove_file(&creds);
}
