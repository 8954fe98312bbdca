//! Two rtc-dtls peers handshake against each other in memory on a virtual clock.

mod common;

use common::{config, keep_all, records, Direction, Wire};
use rtc_peer::{
    ExtendedMasterSecret, Role, TLS_PSK_WITH_AES_128_CCM, TLS_PSK_WITH_AES_128_CCM_8,
    TLS_PSK_WITH_AES_128_GCM_SHA256,
};
use std::time::Duration;

const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
const HELLO_VERIFY_REQUEST: u8 = 3;
const APPLICATION_DATA: u8 = 23;

fn exchange_ping_pong(wire: &mut Wire) {
    wire.client
        .send_application_data(b"ping")
        .expect("client write");
    wire.exchange(&mut keep_all);
    assert_eq!(
        wire.server.poll_application_data().as_deref(),
        Some(&b"ping"[..])
    );
    wire.server
        .send_application_data(b"pong")
        .expect("server write");
    wire.exchange(&mut keep_all);
    assert_eq!(
        wire.client.poll_application_data().as_deref(),
        Some(&b"pong"[..])
    );
    assert_eq!(wire.client.poll_application_data(), None);
    assert_eq!(wire.server.poll_application_data(), None);
}

#[test]
fn psk_ccm8_handshake_then_ping_pong() {
    let mut wire = Wire::new(config(Role::Client, 1), config(Role::Server, 1));
    assert!(
        wire.handshake(&mut keep_all, 0),
        "handshake without loss needs no timer"
    );
    assert_eq!(wire.elapsed, Duration::ZERO);
    assert_eq!(
        wire.client.negotiated_suite(),
        Some(TLS_PSK_WITH_AES_128_CCM_8)
    );
    assert_eq!(
        wire.server.negotiated_suite(),
        Some(TLS_PSK_WITH_AES_128_CCM_8)
    );
    assert!(wire.client.failure().is_none() && wire.server.failure().is_none());

    exchange_ping_pong(&mut wire);

    // The application data travelled as epoch-1 application_data records (RFC 6347 §4.1),
    // CCM_8: 8-byte explicit nonce + 4 bytes of "ping" + 8-byte tag (RFC 6655 §3).
    let ping = wire
        .log
        .iter()
        .rev()
        .find(|d| d.direction == Direction::ClientToServer);
    let ping = &ping.expect("client sent the ping").bytes;
    assert_eq!(records(ping), vec![(APPLICATION_DATA, 1, None)]);
    assert_eq!(ping.len(), 13 + 8 + 4 + 8);
}

#[test]
fn server_answers_the_first_client_hello_with_a_hello_verify_request() {
    let mut wire = Wire::new(config(Role::Client, 2), config(Role::Server, 2));
    assert!(wire.handshake(&mut keep_all, 0));
    let first_client = &wire.sent(Direction::ClientToServer)[0].bytes;
    let first_server = &wire.sent(Direction::ServerToClient)[0].bytes;
    assert_eq!(records(first_client), vec![(22, 0, Some(CLIENT_HELLO))]);
    assert_eq!(
        records(first_server),
        vec![(22, 0, Some(HELLO_VERIFY_REQUEST))]
    );
    let second_server = &wire.sent(Direction::ServerToClient)[1].bytes;
    assert_eq!(
        records(second_server).first(),
        Some(&(22, 0, Some(SERVER_HELLO)))
    );
}

#[test]
fn lost_first_server_flight_is_recovered_by_client_retransmission() {
    let mut wire = Wire::new(config(Role::Client, 3), config(Role::Server, 3));
    // Lose the HelloVerifyRequest, the server's first flight.
    let mut lose_first_server_datagram = |direction: Direction, index: usize, _: &[u8]| {
        direction == Direction::ServerToClient && index == 0
    };
    wire.exchange(&mut lose_first_server_datagram);
    assert!(!wire.client.is_handshake_complete());
    let timer = wire
        .client
        .poll_timeout()
        .expect("client waits with a retransmission timer");
    assert_eq!(timer - wire.start, Duration::from_secs(1));

    assert!(wire.handshake(&mut lose_first_server_datagram, 8));
    // The client sent its first ClientHello twice: the original and the timer-driven copy.
    let hellos: Vec<_> = wire
        .sent(Direction::ClientToServer)
        .into_iter()
        .filter(|d| records(&d.bytes) == vec![(22, 0, Some(CLIENT_HELLO))])
        .collect();
    assert!(
        hellos.len() >= 3,
        "original, retransmission and cookie ClientHello: {}",
        hellos.len()
    );
    assert_eq!(
        hellos[1].at,
        Duration::from_secs(1),
        "retransmitted when the timer fired"
    );
    assert!(wire.sent(Direction::ServerToClient)[0].dropped);
    exchange_ping_pong(&mut wire);
}

#[test]
fn lost_server_hello_flight_is_retransmitted() {
    let mut wire = Wire::new(config(Role::Client, 4), config(Role::Server, 4));
    let mut lost = 0;
    // Lose every datagram of the first ServerHello flight (RFC 6347 §4.2.4, flight 4).
    let mut lose_server_hello_flight = |direction: Direction, _: usize, bytes: &[u8]| {
        let first_server_hello = direction == Direction::ServerToClient
            && lost == 0
            && records(bytes).first() == Some(&(22, 0, Some(SERVER_HELLO)));
        if first_server_hello {
            lost += 1;
        }
        first_server_hello
    };
    assert!(wire.handshake(&mut lose_server_hello_flight, 8));
    let server_hellos = wire
        .sent(Direction::ServerToClient)
        .into_iter()
        .filter(|d| records(&d.bytes).first() == Some(&(22, 0, Some(SERVER_HELLO))))
        .count();
    assert_eq!(server_hellos, 2, "the ServerHello flight went out twice");
    assert!(
        wire.elapsed >= Duration::from_secs(1),
        "recovery took a timer: {:?}",
        wire.elapsed
    );
    exchange_ping_pong(&mut wire);
}

#[test]
fn server_picks_the_suite_both_sides_have() {
    let mut client = config(Role::Client, 5);
    client.cipher_suites = vec![TLS_PSK_WITH_AES_128_GCM_SHA256, TLS_PSK_WITH_AES_128_CCM];
    let mut server = config(Role::Server, 5);
    server.cipher_suites = vec![TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_CCM];
    let mut wire = Wire::new(client, server);
    assert!(wire.handshake(&mut keep_all, 0));
    assert_eq!(
        wire.client.negotiated_suite(),
        Some(TLS_PSK_WITH_AES_128_CCM)
    );
    assert_eq!(
        wire.server.negotiated_suite(),
        Some(TLS_PSK_WITH_AES_128_CCM)
    );
    exchange_ping_pong(&mut wire);
}

#[test]
fn handshake_works_without_extended_master_secret() {
    let mut client = config(Role::Client, 6);
    client.extended_master_secret = ExtendedMasterSecret::Disable;
    let mut wire = Wire::new(client, config(Role::Server, 6));
    assert!(wire.handshake(&mut keep_all, 0));
    exchange_ping_pong(&mut wire);
}

#[test]
fn wrong_psk_never_completes() {
    let mut client = config(Role::Client, 7);
    client.psk = b"not the key".to_vec();
    let mut wire = Wire::new(client, config(Role::Server, 7));
    assert!(!wire.handshake(&mut keep_all, 20));
    assert!(!wire.server.is_handshake_complete());
    assert!(!wire.client.is_handshake_complete());
    assert!(
        wire.server.failure().is_some(),
        "the server saw a bad Finished"
    );
    assert!(wire.client.send_application_data(b"x").is_err());
    // rtc-dtls cannot decrypt the client's Finished and answers with a plaintext fatal
    // unknown_psk_identity alert (RFC 4279 §2 names it for PSK problems) instead of
    // discarding the record.
    let alert = wire
        .sent(Direction::ServerToClient)
        .into_iter()
        .find(|d| records(&d.bytes).first().map(|r| r.0) == Some(21))
        .expect("the server sent an alert");
    assert_eq!(records(&alert.bytes), vec![(21, 0, None)]);
    assert_eq!(
        alert.bytes.get(13..15),
        Some(&[2u8, 115][..]),
        "fatal(2) unknown_psk_identity(115)"
    );
    // The client takes it as fatal too.
    assert!(wire.client.failure().is_some());
}

#[test]
fn unknown_identity_is_refused() {
    let mut client = config(Role::Client, 8);
    client.identity = b"somebody else".to_vec();
    let mut wire = Wire::new(client, config(Role::Server, 8));
    assert!(!wire.handshake(&mut keep_all, 20));
    let failure = wire.server.failure().expect("server refused the identity");
    assert!(failure.contains("somebody else"), "{failure}");
}

#[test]
fn unsupported_suite_is_a_config_error() {
    let mut cfg = config(Role::Client, 9);
    cfg.cipher_suites = vec![0x00AE]; // TLS_PSK_WITH_AES_128_CBC_SHA256: not in rtc-dtls
    let err = rtc_peer::RtcPeer::new(cfg, std::time::Instant::now()).err();
    assert!(err.expect("refused").contains("0x00AE"));
}

#[test]
fn a_seed_makes_the_client_hello_repeatable() {
    // Bytes 27..31 of the datagram are gmt_unix_time (record 13 + handshake 12 + version 2),
    // which rtc-dtls takes from the wall clock; everything else must repeat for one seed.
    let hello = |seed| {
        let mut peer =
            rtc_peer::RtcPeer::new(config(Role::Client, seed), std::time::Instant::now())
                .expect("client");
        let mut datagram = peer.poll_transmit().expect("ClientHello");
        datagram[27..31].fill(0);
        datagram
    };
    assert_eq!(hello(10), hello(10));
    assert_ne!(hello(10), hello(11));
}
