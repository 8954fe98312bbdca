//! The engine against itself, in memory, on a virtual clock: every suite, the cookie
//! exchange, loss of each flight, fragmentation. (Independent peers are in the interop tests.)

mod support;

use dicetest::crypto::IdentityKey;
use dicetest::engine::{Config, Connection, Event, HandshakeFailure, RpkCredentials};
use dicetest::time::Instant;
use support::*;

fn exchange(c: &mut Connection, s: &mut Connection) {
    let _ = events(s);
    c.send_application_data(b"ping");
    let mut n = 0;
    pump(c, s, Instant::ZERO, &mut |_, _, _| true, &mut n);
    assert_eq!(app_data(s), vec![b"ping".to_vec()]);
    s.send_application_data(b"pong");
    pump(c, s, Instant::ZERO, &mut |_, _, _| true, &mut n);
    assert_eq!(app_data(c).last(), Some(&b"pong".to_vec()));
}

#[test]
fn psk_suites_complete_and_carry_data() {
    for suite in [0xC0A8u16, 0xC0A4, 0x00AE] {
        let (mut c, mut s) = psk_pair(&[suite]);
        handshake(&mut c, &mut s, &mut |_, _, _| true)
            .unwrap_or_else(|| panic!("suite {suite:#x} did not complete"));
        assert_eq!(c.cipher_suite(), Some(suite));
        assert!(c.params.extended_master_secret);
        assert_eq!(c.keylog_line(), s.keylog_line());
        exchange(&mut c, &mut s);
    }
}

#[test]
fn cookie_exchange_happens_and_is_stateless() {
    let (mut c, mut s) = psk_pair(&[0xC0A8]);
    handshake(&mut c, &mut s, &mut |_, _, _| true).expect("handshake");
    let kinds: Vec<String> = events(&mut c)
        .into_iter()
        .filter_map(|e| match e {
            Event::HandshakeMessage { message, .. } => Some(message.msg_type().to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(kinds[0], "hello_verify_request", "{kinds:?}");
    assert!(kinds.contains(&"finished".to_string()));
}

#[test]
fn every_lost_datagram_is_recovered_by_retransmission() {
    // Drop each datagram of a clean run in turn (TD_COAP_DTLS_03's lossy handshake).
    for lost in 1..=8 {
        let (mut c, mut s) = psk_pair(&[0xC0A8]);
        let took = handshake(&mut c, &mut s, &mut |_, i, _| i != lost);
        assert!(
            took.is_some(),
            "handshake failed when datagram {lost} was lost"
        );
        exchange(&mut c, &mut s);
    }
}

#[test]
fn tiny_datagrams_force_fragmentation_and_still_complete() {
    let mut cc = Config::client().with_psk(PSK_ID, PSK).with_seed(3);
    cc.max_datagram_size = 60;
    let mut sc = Config::server().with_psk(PSK_ID, PSK).with_seed(4);
    sc.max_datagram_size = 60;
    let (mut c, mut s) = (Connection::new(cc), Connection::new(sc));
    let mut biggest = 0;
    handshake(&mut c, &mut s, &mut |_, _, d| {
        biggest = biggest.max(d.len());
        true
    })
    .expect("handshake with fragmentation");
    assert!(
        biggest <= 60,
        "a datagram of {biggest} bytes exceeded the limit"
    );
}

#[test]
fn wrong_psk_fails_without_connecting() {
    let c = Config::client().with_psk(PSK_ID, b"wrong").with_seed(1);
    let s = Config::server().with_psk(PSK_ID, PSK).with_seed(2);
    let (mut c, mut s) = (Connection::new(c), Connection::new(s));
    assert!(handshake(&mut c, &mut s, &mut |_, _, _| true).is_none());
    assert!(!c.is_connected() && !s.is_connected());
}

#[test]
fn unknown_identity_gets_unknown_psk_identity() {
    let c = Config::client().with_psk(b"somebody", PSK).with_seed(1);
    let s = Config::server().with_psk(PSK_ID, PSK).with_seed(2);
    let (mut c, mut s) = (Connection::new(c), Connection::new(s));
    assert!(handshake(&mut c, &mut s, &mut |_, _, _| true).is_none());
    let failed = events(&mut s).into_iter().find_map(|e| match e {
        Event::Failed(f) => Some(f),
        _ => None,
    });
    assert!(
        matches!(failed, Some(HandshakeFailure::UnknownPskIdentity(_))),
        "{failed:?}"
    );
}

#[test]
fn ecdhe_ecdsa_with_raw_public_keys() {
    let mut rng = rand_chacha::ChaCha20Rng::from_seed_u64(9);
    let ck = IdentityKey::generate(&mut rng);
    let sk = IdentityKey::generate(&mut rng);
    let mut cc = Config::client().with_suites(&[0xC0AE]).with_seed(5);
    cc.rpk = Some(RpkCredentials {
        key: ck.clone(),
        trusted_peer_spki: Some(sk.subject_public_key_info()),
    });
    let mut sc = Config::server().with_suites(&[0xC0AE]).with_seed(6);
    sc.request_client_certificate = true;
    sc.rpk = Some(RpkCredentials {
        key: sk,
        trusted_peer_spki: Some(ck.subject_public_key_info()),
    });
    let (mut c, mut s) = (Connection::new(cc), Connection::new(sc));
    handshake(&mut c, &mut s, &mut |_, _, _| true).expect("ECDHE-ECDSA handshake");
    assert_eq!(c.cipher_suite(), Some(0xC0AE));
    exchange(&mut c, &mut s);
}

trait SeedU64 {
    fn from_seed_u64(s: u64) -> Self;
}
impl SeedU64 for rand_chacha::ChaCha20Rng {
    fn from_seed_u64(s: u64) -> Self {
        use rand_chacha::rand_core::SeedableRng;
        rand_chacha::ChaCha20Rng::seed_from_u64(s)
    }
}

#[test]
fn a_session_is_resumed_with_an_abbreviated_handshake() {
    use dicetest::engine::SessionCache;
    let cache: SessionCache = Default::default();
    let server_cfg = |seed| {
        let mut c = Config::server().with_psk(PSK_ID, PSK).with_seed(seed);
        c.session_cache = Some(cache.clone());
        c
    };
    let mut c = Connection::new(Config::client().with_psk(PSK_ID, PSK).with_seed(1));
    let mut s = Connection::new(server_cfg(2));
    handshake(&mut c, &mut s, &mut |_, _, _| true).expect("full handshake");
    let session = c
        .resumable_session()
        .expect("the server issued a session id");
    assert_eq!(session.session_id.len(), 32);
    let first_master = c.params.master;

    let mut cfg = Config::client().with_psk(PSK_ID, PSK).with_seed(3);
    cfg.resume = Some(session.clone());
    let mut c2 = Connection::new(cfg);
    let mut s2 = Connection::new(server_cfg(4));
    let mut handshake_msgs = Vec::new();
    handshake(&mut c2, &mut s2, &mut |_, _, _| true).expect("abbreviated handshake");
    for e in events(&mut c2) {
        match e {
            Event::HandshakeMessage { message, .. } => {
                handshake_msgs.push(message.msg_type().to_string())
            }
            Event::Connected { resumed, .. } => assert!(resumed, "the handshake was a full one"),
            _ => {}
        }
    }
    // RFC 6347 Figure 2: HelloVerifyRequest, ServerHello, Finished; no ServerHelloDone.
    assert!(
        !handshake_msgs.contains(&"server_hello_done".to_string()),
        "{handshake_msgs:?}"
    );
    assert!(c2.resumed && s2.resumed);
    assert_eq!(
        c2.params.master, first_master,
        "a resumed session keeps its master secret"
    );
    exchange(&mut c2, &mut s2);

    // An unknown session id falls back to a full handshake.
    let mut forged = session;
    forged.session_id = vec![7; 32];
    let mut cfg = Config::client().with_psk(PSK_ID, PSK).with_seed(5);
    cfg.resume = Some(forged);
    let mut c3 = Connection::new(cfg);
    let mut s3 = Connection::new(server_cfg(6));
    handshake(&mut c3, &mut s3, &mut |_, _, _| true).expect("full handshake after a cache miss");
    assert!(!c3.resumed);
}
