//! The engine against real third-party DTLS 1.2 implementations on loopback, both roles.
//! Peers are installed by scripts/install-peers.sh; none of them is a mock.

mod support;

use std::cell::RefCell;
use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

use dicetest::crypto::IdentityKey;
use dicetest::engine::{Config, Connection, Event, RpkCredentials};
use dicetest::io::{udp::accept_one, DriveOutcome, Driver};
use support::peers::*;

const TEXT: &str = "hello dicetest";

/// Our server's thread: (negotiated suite, data echoed, engine events for the failure message).
type ServerThread = std::thread::JoinHandle<(Option<u16>, Option<Vec<u8>>, Vec<String>)>;

/// Runs our client against 127.0.0.1:`port`; returns the driver once connected.
fn engine_client(port: u16, cfg: Config) -> Driver {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(("127.0.0.1", port)).unwrap();
    let mut conn = Connection::new(cfg);
    conn.start(dicetest::time::Instant::ZERO);
    let mut d = Driver::new(socket, conn);
    let r = d.drive_until(Duration::from_secs(20), &mut |_| {}, &mut |c| {
        c.is_connected()
    });
    assert!(
        matches!(r, Ok(DriveOutcome::Reached)),
        "handshake did not complete: {r:?}; events: {:#?}",
        d.events
            .iter()
            .filter(|e| !matches!(e, Event::Record(_)))
            .collect::<Vec<_>>()
    );
    d
}

/// Waits for application data on a driven connection.
fn receive(d: &mut Driver, limit: Duration) -> Option<Vec<u8>> {
    let got = RefCell::new(None::<Vec<u8>>);
    let _ = d.drive_until(
        limit,
        &mut |e| {
            if let Event::ApplicationData(x) = e {
                got.borrow_mut()
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(x);
            }
        },
        &mut |_| got.borrow().is_some(),
    );
    got.into_inner()
}

fn psk_client(suite: u16) -> Config {
    let mut c = Config::client()
        .with_psk(b"Client_identity", b"secretPSK")
        .with_suites(&[suite])
        .with_seed(11);
    c.timers.initial = Duration::from_millis(500);
    c
}

fn psk_server(suite: u16) -> Config {
    let mut c = Config::server()
        .with_psk(b"Client_identity", b"secretPSK")
        .with_suites(&[suite])
        .with_seed(12);
    c.timers.initial = Duration::from_millis(500);
    c
}

/// Our client: handshake, send TEXT, expect it echoed.
fn client_expects_echo(port: u16, cfg: Config, peer: &Peer) {
    let suite = cfg.cipher_suites[0];
    let mut d = engine_client(port, cfg);
    assert_eq!(d.conn.cipher_suite(), Some(suite));
    d.conn.send_application_data(TEXT.as_bytes());
    let got = receive(&mut d, Duration::from_secs(10));
    assert_eq!(
        got.as_deref()
            .map(String::from_utf8_lossy)
            .as_deref()
            .map(str::trim_end),
        Some(TEXT),
        "peer output:\n{}",
        peer.output()
    );
    d.conn.close();
    let _ = d.drive_until(Duration::from_millis(20), &mut |_| {}, &mut |_| true);
}

/// Our server in a thread: accept one client, complete the handshake, echo one message.
/// Returns the negotiated suite and what was echoed.
fn engine_server(cfg: Config) -> (u16, ServerThread) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let mut d = match accept_one(socket, cfg, Duration::from_secs(20)) {
            Ok(d) => d,
            Err(e) => return (None, None, vec![format!("no client: {e}")]),
        };
        let r = d.drive_until(Duration::from_secs(20), &mut |_| {}, &mut |c| {
            c.is_connected()
        });
        let notes = |d: &Driver| {
            d.events
                .iter()
                .filter(|e| !matches!(e, Event::Record(_)))
                .map(|e| format!("{e:?}"))
                .collect::<Vec<_>>()
        };
        if !matches!(r, Ok(DriveOutcome::Reached)) {
            return (None, None, notes(&d));
        }
        let suite = d.conn.cipher_suite();
        let got = receive(&mut d, Duration::from_secs(15));
        if let Some(data) = &got {
            d.conn.send_application_data(data);
        }
        // Keep serving a moment, so a lost flight 6 can still be repeated (§4.2.4), and echo
        // whatever else comes: clients may split one line over several records (gnutls-cli
        // sometimes sends the newline on its own).
        while let Some(more) = receive(&mut d, Duration::from_millis(1500)) {
            d.conn.send_application_data(&more);
        }
        (suite, got, notes(&d))
    });
    (port, h)
}

fn check_server_result(h: ServerThread, suite: u16, peer: &Peer) {
    let (got_suite, got, notes) = h.join().expect("server thread");
    assert_eq!(
        got_suite,
        Some(suite),
        "handshake failed; engine events {notes:#?}\npeer output:\n{}",
        peer.output()
    );
    let got = got.map(|g| String::from_utf8_lossy(&g).trim_end().to_string());
    assert_eq!(
        got.as_deref(),
        Some(TEXT),
        "peer output:\n{}",
        peer.output()
    );
}

const GNUTLS_PSK: &str = "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-CCM-8";

// ---- our client against real servers --------------------------------------------------

#[test]
fn client_psk_ccm8_against_openssl_s_server() {
    let port = free_port();
    let mut peer = Peer::spawn(
        program("openssl"),
        &[
            "s_server",
            "-dtls1_2",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-nocert",
            "-psk_identity",
            "Client_identity",
            "-psk",
            PSK_HEX,
            "-cipher",
            "PSK-AES128-CCM8",
        ],
    );
    wait_for_port(port, Duration::from_secs(10));
    let mut d = engine_client(port, psk_client(0xC0A8));
    assert_eq!(d.conn.cipher_suite(), Some(0xC0A8));
    d.conn.send_application_data(format!("{TEXT}\n").as_bytes());
    // s_server prints what it receives and sends what is typed on its stdin.
    let _ = d.drive_until(Duration::from_millis(300), &mut |_| {}, &mut |_| false);
    assert!(
        peer.wait_output(TEXT, Duration::from_secs(10)),
        "s_server did not print our data:\n{}",
        peer.output()
    );
    peer.write_line("hello from openssl");
    let got = receive(&mut d, Duration::from_secs(10)).expect("data from s_server");
    assert_eq!(
        String::from_utf8_lossy(&got).trim_end(),
        "hello from openssl"
    );
}

#[test]
fn client_psk_ccm8_against_gnutls_serv() {
    gnutls_client_case(0xC0A8, GNUTLS_PSK);
}

#[test]
fn client_psk_ccm_against_gnutls_serv() {
    gnutls_client_case(
        0xC0A4,
        "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-CCM",
    );
}

#[test]
fn client_psk_cbc_sha256_against_gnutls_serv() {
    gnutls_client_case(
        0x00AE,
        "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA256",
    );
}

fn gnutls_client_case(suite: u16, priority: &str) {
    let port = free_port();
    let psk = gnutls_psk_file();
    let peer = Peer::spawn(
        program("gnutls-serv"),
        &[
            "--udp",
            "--echo",
            "-p",
            &port.to_string(),
            "--priority",
            priority,
            "--pskpasswd",
            psk.as_str(),
        ],
    );
    wait_for_port(port, Duration::from_secs(10));
    client_expects_echo(port, psk_client(suite), &peer);
}

#[test]
fn client_psk_ccm8_against_tinydtls_server() {
    let port = free_port();
    let peer = Peer::spawn(
        program("tinydtls-server"),
        &[
            "-A",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-c",
            "TLS_PSK_WITH_AES_128_CCM_8",
        ],
    );
    wait_for_port(port, Duration::from_secs(10));
    client_expects_echo(port, psk_client(0xC0A8), &peer);
}

#[test]
fn client_psk_ccm8_against_bouncy_castle() {
    let port = free_port();
    let run = root().join("peers/bc/run.sh");
    assert!(run.exists(), "peers/bc/run.sh missing");
    let peer = Peer::spawn(
        run,
        &[
            "server",
            "--port",
            &port.to_string(),
            "--pskfile",
            &key_file(),
        ],
    );
    assert!(
        peer.wait_output("READY", Duration::from_secs(30)),
        "Bouncy Castle peer did not start:\n{}",
        peer.output()
    );
    client_expects_echo(port, psk_client(0xC0A8), &peer);
}

/// A P-256 key pair made by OpenSSL: (PEM private key path, DER SPKI bytes, PEM public path).
fn openssl_p256_key(tag: &str) -> (tempfile_path::TempPath, Vec<u8>, tempfile_path::TempPath) {
    let key = tempfile_path::TempPath::new(tag);
    let pubp = tempfile_path::TempPath::new(&format!("{tag}-pub"));
    let der = tempfile_path::TempPath::new(&format!("{tag}-der"));
    let ok = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            key.as_str(),
        ])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    assert!(Command::new("openssl")
        .args([
            "pkey",
            "-in",
            key.as_str(),
            "-pubout",
            "-out",
            pubp.as_str()
        ])
        .status()
        .unwrap()
        .success());
    assert!(Command::new("openssl")
        .args([
            "pkey",
            "-in",
            key.as_str(),
            "-pubout",
            "-outform",
            "DER",
            "-out",
            der.as_str()
        ])
        .status()
        .unwrap()
        .success());
    let spki = std::fs::read(&der.0).unwrap();
    (key, spki, pubp)
}

fn our_rpk(seed: u64) -> IdentityKey {
    use rand_chacha::rand_core::SeedableRng;
    IdentityKey::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(seed))
}

const GNUTLS_RPK: &str = "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+ECDHE-ECDSA:-CIPHER-ALL:+AES-128-CCM-8:-GROUP-ALL:+GROUP-SECP256R1:-CTYPE-ALL:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK";

#[test]
fn client_ecdhe_ecdsa_ccm8_raw_public_keys_against_gnutls_serv() {
    let (key, spki, pubp) = openssl_p256_key("gserv-rpk");
    let port = free_port();
    let peer = Peer::spawn(
        program("gnutls-serv"),
        &[
            "--udp",
            "--echo",
            "-p",
            &port.to_string(),
            "--priority",
            GNUTLS_RPK,
            "--rawpkkeyfile",
            key.as_str(),
            "--rawpkfile",
            pubp.as_str(),
            "--require-client-cert",
        ],
    );
    wait_for_port(port, Duration::from_secs(10));
    let mut cfg = Config::client().with_suites(&[0xC0AE]).with_seed(21);
    // We pin the server's key: the handshake must prove possession of exactly that key.
    cfg.rpk = Some(RpkCredentials {
        key: our_rpk(5),
        trusted_peer_spki: Some(spki),
    });
    client_expects_echo(port, cfg, &peer);
}

#[test]
fn client_ecdhe_ecdsa_ccm8_raw_public_keys_against_tinydtls_server() {
    let port = free_port();
    let peer = Peer::spawn(
        program("tinydtls-server"),
        &[
            "-A",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-c",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
        ],
    );
    wait_for_port(port, Duration::from_secs(10));
    let mut cfg = Config::client().with_suites(&[0xC0AE]).with_seed(22);
    cfg.rpk = Some(RpkCredentials {
        key: our_rpk(6),
        trusted_peer_spki: None,
    });
    client_expects_echo(port, cfg, &peer);
}

// ---- real clients against our server ---------------------------------------------------

#[test]
fn server_psk_ccm8_against_openssl_s_client() {
    let (port, h) = engine_server(psk_server(0xC0A8));
    let mut peer = Peer::spawn(
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
    // s_client sends each stdin line once connected; give it the handshake first.
    std::thread::sleep(Duration::from_millis(1500));
    peer.write_line(TEXT);
    check_server_result(h, 0xC0A8, &peer);
    assert!(
        peer.wait_output(TEXT, Duration::from_secs(5)),
        "s_client did not print the echo:\n{}",
        peer.output()
    );
}

#[test]
fn server_psk_ccm8_against_gnutls_cli() {
    let (port, h) = engine_server(psk_server(0xC0A8));
    let mut peer = Peer::spawn(
        program("gnutls-cli"),
        &[
            "--udp",
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
        peer.wait_output("Handshake was completed", Duration::from_secs(20)),
        "gnutls-cli:\n{}",
        peer.output()
    );
    peer.write_line(TEXT);
    check_server_result(h, 0xC0A8, &peer);
    assert!(
        peer.wait_output(TEXT, Duration::from_secs(5)),
        "gnutls-cli did not print the echo:\n{}",
        peer.output()
    );
}

#[test]
fn server_psk_ccm8_against_tinydtls_client() {
    let (port, h) = engine_server(psk_server(0xC0A8));
    let mut peer = Peer::spawn(
        program("tinydtls-client"),
        &[
            "-v",
            "6",
            "-c",
            "TLS_PSK_WITH_AES_128_CCM_8",
            "127.0.0.1",
            &port.to_string(),
        ],
    );
    // tinydtls-client drops lines typed before its handshake completes.
    assert!(
        peer.wait_output("Handshake complete", Duration::from_secs(20)),
        "tinydtls-client:\n{}",
        peer.output()
    );
    peer.write_line(TEXT);
    check_server_result(h, 0xC0A8, &peer);
    peer.write_line("client:exit");
}

#[test]
fn server_psk_ccm8_against_bouncy_castle() {
    let (port, h) = engine_server(psk_server(0xC0A8));
    let peer = Peer::spawn(
        root().join("peers/bc/run.sh"),
        &[
            "client",
            "--connect",
            &format!("127.0.0.1:{port}"),
            "--pskfile",
            &key_file(),
            "--send",
            TEXT,
        ],
    );
    check_server_result(h, 0xC0A8, &peer);
    assert!(
        peer.wait_output(&format!("RECV {TEXT}"), Duration::from_secs(10)),
        "Bouncy Castle client:\n{}",
        peer.output()
    );
}

#[test]
fn server_ecdhe_ecdsa_ccm8_raw_public_keys_against_gnutls_cli() {
    let (key, spki, pubp) = openssl_p256_key("gcli-rpk");
    let mut cfg = Config::server().with_suites(&[0xC0AE]).with_seed(23);
    cfg.request_client_certificate = true;
    cfg.rpk = Some(RpkCredentials {
        key: our_rpk(7),
        trusted_peer_spki: Some(spki),
    });
    let (port, h) = engine_server(cfg);
    let mut peer = Peer::spawn(
        program("gnutls-cli"),
        &[
            "--udp",
            "-p",
            &port.to_string(),
            "--priority",
            GNUTLS_RPK,
            "--rawpkkeyfile",
            key.as_str(),
            "--rawpkfile",
            pubp.as_str(),
            "--insecure",
            "127.0.0.1",
        ],
    );
    assert!(
        peer.wait_output("Handshake was completed", Duration::from_secs(20)),
        "gnutls-cli:\n{}",
        peer.output()
    );
    peer.write_line(TEXT);
    check_server_result(h, 0xC0AE, &peer);
}

/// Full handshake, close, then an abbreviated handshake with the session id the server gave.
fn resume_against(port: u16) -> (bool, bool) {
    let mut d = engine_client(port, psk_client(0xC0A8));
    let session = d.conn.resumable_session();
    d.conn.close();
    let _ = d.drive_until(Duration::from_millis(200), &mut |_| {}, &mut |_| false);
    let Some(session) = session else {
        return (false, false);
    };
    let mut cfg = psk_client(0xC0A8);
    cfg.resume = Some(session);
    let mut d2 = engine_client(port, cfg);
    let resumed = d2.conn.resumed;
    d2.conn.send_application_data(TEXT.as_bytes());
    let echoed = receive(&mut d2, Duration::from_secs(10)).is_some();
    (resumed, echoed)
}

#[test]
fn client_resumes_a_session_with_gnutls_serv() {
    let port = free_port();
    let psk = gnutls_psk_file();
    let peer = Peer::spawn(
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
    let (resumed, echoed) = resume_against(port);
    assert!(
        resumed,
        "gnutls-serv did not resume the session:\n{}",
        peer.output()
    );
    assert!(echoed, "no echo after resumption:\n{}", peer.output());
}
