//! Each legal-variation switch against the same scenario twice: off, the device makes its
//! default choice; on, the other choice the RFCs allow is visible on the wire, and a
//! conforming client (dicetest's engine) still completes the handshake and gets its answer.

mod support;

use dicetest::engine::{Event, SendOptions};
use dicetest::wire::HandshakeMessage;
use dut_sim::{SimBoard, Variations};
use support::*;

fn with(name: &str) -> Variations {
    let mut v = Variations::default();
    assert!(v.set_by_name(name), "no variation {name}");
    v
}

fn off() -> Variations {
    Variations::default()
}

fn board(v: Variations) -> SimBoard {
    board_varying(v)
}

/// The version field of each record of a datagram, in order.
fn record_versions(d: &[u8]) -> Vec<u16> {
    split_records(d)
        .iter()
        .map(|r| u16::from_be_bytes([r[1], r[2]]))
        .collect()
}

/// One handshake fragment as it went: (msg_type, message_seq, offset, fragment length,
/// message length).
type Frag = (u8, u16, u32, u32, u32);

/// The handshake fragments of each epoch-0 handshake record of a datagram.
fn fragments_per_record(d: &[u8]) -> Vec<Vec<Frag>> {
    let u24 = |b: &[u8]| u32::from_be_bytes([0, b[0], b[1], b[2]]);
    records(d)
        .into_iter()
        .filter(|(ct, epoch, _, _)| *ct == 22 && *epoch == 0)
        .map(|(_, _, _, f)| {
            let mut out = Vec::new();
            let mut rest = &f[..];
            while rest.len() >= 12 {
                let flen = u24(&rest[9..12]);
                out.push((
                    rest[0],
                    u16::from_be_bytes([rest[4], rest[5]]),
                    u24(&rest[6..9]),
                    flen,
                    u24(&rest[1..4]),
                ));
                rest = rest.get(12 + flen as usize..).unwrap_or(&[]);
            }
            out
        })
        .collect()
}

/// Board datagrams that carry a handshake message of `msg_type` in the clear.
fn datagrams_with(net: &Net, msg_type: u8) -> Vec<Vec<u8>> {
    net.from_board
        .iter()
        .filter(|d| plain_handshake_types(&[d.to_vec()]).contains(&msg_type))
        .cloned()
        .collect()
}

/// A full handshake and one CoAP GET of /light; the handshake must complete.
fn handshake_and_get(v: Variations, seed: u64) -> Net {
    let mut net = Net::new(board(v), client(seed));
    assert!(
        net.handshake(),
        "a conforming client completes the handshake"
    );
    net.send_app(&coap(0, 1, 0x200, &[5], &["light"], b""));
    let answers = net.app_data();
    assert_eq!(answers.len(), 1, "one answer to the GET");
    assert_eq!(coap_parts(&answers[0]).1, 0x45, "2.05 Content");
    net
}

// ---- psk_identity_hint -----------------------------------------------------------------

#[test]
fn psk_identity_hint() {
    let net = handshake_and_get(off(), 40);
    let f4 = datagrams_with(&net, 2);
    assert_eq!(plain_handshake_types(&f4[..1]), vec![2, 14]);

    // On: ServerHello, ServerKeyExchange (the hint), ServerHelloDone, numbered on; the
    // Finished messages cover it (the handshake completes).
    let net = handshake_and_get(with("psk_identity_hint"), 40);
    let f4 = datagrams_with(&net, 2);
    assert_eq!(plain_handshake_types(&f4[..1]), vec![2, 12, 14]);
    let frags: Vec<Frag> = fragments_per_record(&f4[0]).concat();
    assert_eq!(
        frags.iter().map(|f| f.1).collect::<Vec<_>>(),
        vec![1, 2, 3],
        "message_seq after the cookie exchange"
    );
    let ske = records(&f4[0])
        .into_iter()
        .find(|r| r.3.first() == Some(&12))
        .unwrap()
        .3;
    let hint = b"dicetest board";
    assert_eq!(&ske[12..14], &(hint.len() as u16).to_be_bytes());
    assert_eq!(&ske[14..], hint);
}

// ---- hello_verify_request_version_1_2 and the mixed choices ----------------------------

/// (record version, server_version) of the HelloVerifyRequest, after a full handshake.
fn hvr_versions(v: Variations) -> (u16, u16) {
    let net = handshake_and_get(v, 41);
    let hvr = &datagrams_with(&net, 3)[0];
    let (_, _, _, f) = &records(hvr)[0];
    (record_versions(hvr)[0], u16::from_be_bytes([f[12], f[13]]))
}

#[test]
fn hello_verify_request_versions() {
    assert_eq!(hvr_versions(off()), (0xfeff, 0xfeff), "DTLS 1.0 in both");
    assert_eq!(
        hvr_versions(with("hello_verify_request_version_1_2")),
        (0xfefd, 0xfefd)
    );
    assert_eq!(
        hvr_versions(with("hello_verify_request_record_version_1_2")),
        (0xfefd, 0xfeff)
    );
    assert_eq!(
        hvr_versions(with("hello_verify_request_server_version_1_2")),
        (0xfeff, 0xfefd)
    );
}

// ---- no_cookie_exchange ----------------------------------------------------------------

#[test]
fn no_cookie_exchange() {
    let net = handshake_and_get(off(), 42);
    assert_eq!(plain_handshake_types(&net.from_board)[0], 3);
    let net = handshake_and_get(with("no_cookie_exchange"), 42);
    let types = plain_handshake_types(&net.from_board);
    assert_eq!(types[0], 2, "ServerHello to the first ClientHello");
    assert!(!types.contains(&3), "no HelloVerifyRequest at all");
    // The server's first message is numbered 0 (RFC 6347 §4.2.2).
    let f4 = datagrams_with(&net, 2);
    assert_eq!(fragments_per_record(&f4[0])[0][0].1, 0);
    // What a server without the exchange must still do: from the address of the
    // association, a new ClientHello gets the exchange (§4.2.8), and the association stays.
    let mut net = net;
    let answer = new_hello(&mut net, 0);
    assert_eq!(plain_handshake_types(&answer), vec![3]);
    assert!(net.board.device().sessions().any(|s| s.connected));
    // A first ClientHello numbered 5 starts nothing (§4.2.2); numbered 0 it does.
    let mut net = Net::new(board(with("no_cookie_exchange")), client(42));
    assert!(new_hello(&mut net, 5).is_empty());
    assert_eq!(plain_handshake_types(&new_hello(&mut net, 0)), vec![2, 14]);
}

/// A fresh cookieless ClientHello in the clear, numbered `message_seq`: the board's answer.
fn new_hello(net: &mut Net, message_seq: u16) -> Vec<Vec<u8>> {
    net.client.set_autopilot(false);
    net.client.begin_flight(1);
    let mut ch = net.client.default_client_hello();
    ch.cookie = Vec::new();
    ch.random = [0x42; 32]; // a new client, not a late copy of the last hello
    let o = SendOptions {
        message_seq: Some(message_seq),
        record: dicetest::engine::RecordOverrides {
            epoch: Some(0),
            plaintext: true,
            ..Default::default()
        },
        ..SendOptions::default()
    };
    net.client
        .send_handshake(&HandshakeMessage::ClientHello(ch), &o);
    let mut answers = Vec::new();
    while let Some(d) = net.client.poll_transmit() {
        answers.extend(net.deliver_to_board(&d));
    }
    answers
}

// ---- one_datagram_per_message, messages_in_one_record ----------------------------------

/// The board's datagrams of the handshake: flight 4 and flight 6, as (records per
/// datagram) lists.
fn layout(v: Variations) -> (Vec<usize>, Vec<usize>) {
    let net = handshake_and_get(v, 43);
    let f4: Vec<usize> = net
        .from_board
        .iter()
        .filter(|d| {
            let t = plain_handshake_types(&[d.to_vec()]);
            t.contains(&2) || t.contains(&14)
        })
        .map(|d| records(d).len())
        .collect();
    // Flight 6: the datagrams with the ChangeCipherSpec or an epoch-1 handshake record.
    let f6: Vec<usize> = net
        .from_board
        .iter()
        .filter(|d| {
            records(d)
                .iter()
                .any(|r| r.0 == 20 || (r.0 == 22 && r.1 == 1))
        })
        .map(|d| records(d).len())
        .collect();
    (f4, f6)
}

#[test]
fn one_datagram_per_message() {
    assert_eq!(
        layout(off()),
        (vec![2], vec![2]),
        "each flight in one datagram"
    );
    assert_eq!(
        layout(with("one_datagram_per_message")),
        (vec![1, 1], vec![1, 1])
    );
}

#[test]
fn messages_in_one_record() {
    let net = handshake_and_get(off(), 44);
    let f4 = &datagrams_with(&net, 2)[0];
    assert_eq!(fragments_per_record(f4).len(), 2, "a record per message");
    let net = handshake_and_get(with("messages_in_one_record"), 44);
    let f4 = &datagrams_with(&net, 2)[0];
    let recs = fragments_per_record(f4);
    assert_eq!(recs.len(), 1, "one record");
    assert_eq!(
        recs[0].iter().map(|f| f.0).collect::<Vec<_>>(),
        vec![2, 14],
        "ServerHello and ServerHelloDone in it"
    );
}

// ---- fragmented_flights ----------------------------------------------------------------

#[test]
fn fragmented_flights() {
    let net = handshake_and_get(off(), 45);
    let all: Vec<Frag> = net
        .from_board
        .iter()
        .flat_map(|d| fragments_per_record(d).concat())
        .collect();
    assert!(all.iter().all(|f| f.2 == 0 && f.3 == f.4), "whole messages");

    let net = handshake_and_get(with("fragmented_flights"), 45);
    let hvr = &datagrams_with(&net, 3)[0];
    let recs = fragments_per_record(hvr);
    assert_eq!(
        recs.len(),
        1,
        "the HelloVerifyRequest keeps one record (§4.2.1)"
    );
    assert!(recs[0].len() >= 3, "{:?}", recs[0]);
    let f4 = &datagrams_with(&net, 2)[0];
    let frags: Vec<Frag> = fragments_per_record(f4).concat();
    assert!(frags.iter().all(|f| f.3 <= 16), "{frags:?}");
    let sh: Vec<&Frag> = frags.iter().filter(|f| f.0 == 2).collect();
    assert!(sh.len() >= 3, "the ServerHello in pieces: {sh:?}");
    let covered: u32 = sh.iter().map(|f| f.3).sum();
    assert_eq!(covered, sh[0].4, "the pieces cover the message once");
}

// ---- misses_datagram_after_hello_verify_request ----------------------------------------

#[test]
fn misses_datagram_after_hello_verify_request() {
    let net = handshake_and_get(off(), 46);
    assert!(net.now_ms < 1000, "no timer needed: {}", net.now_ms);
    let hellos = |net: &Net| {
        net.from_client
            .iter()
            .filter(|d| plain_handshake_types(&[d.to_vec()]).first() == Some(&1))
            .count()
    };
    assert_eq!(hellos(&net), 2);

    // On: the ClientHello with the cookie goes unread; the client's timer sends it again.
    let net = handshake_and_get(with("misses_datagram_after_hello_verify_request"), 46);
    assert_eq!(hellos(&net), 3, "the second ClientHello once more");
    assert!(net.now_ms >= 1000, "on the client's timer: {}", net.now_ms);
    assert_eq!(datagrams_with(&net, 3).len(), 1, "one HelloVerifyRequest");
}

// ---- early_retransmission --------------------------------------------------------------

/// Up to flight 4 by hand; then the board's timer: (first deadline, what it resends, next
/// deadline).
fn timer_after_flight_4(v: Variations) -> (u64, Vec<u8>, Option<u64>) {
    let mut net = Net::new(board(v), client(47));
    let now = net.now();
    net.client.start(now);
    let ch1 = net.client.poll_transmit().unwrap();
    let hvr = net.deliver_to_board(&ch1);
    net.deliver_to_client(&hvr[0]);
    let ch2 = net.client.poll_transmit().unwrap();
    net.deliver_to_board(&ch2);
    let t = net.board.poll_timeout().expect("a timer for flight 4");
    let again: Vec<Vec<u8>> = net
        .board
        .handle_timeout(t)
        .into_iter()
        .map(|x| x.1)
        .collect();
    (t, plain_handshake_types(&again), net.board.poll_timeout())
}

#[test]
fn early_retransmission() {
    assert_eq!(
        timer_after_flight_4(off()),
        (1000, vec![2, 14], Some(3000)),
        "1 s, then doubled"
    );
    assert_eq!(
        timer_after_flight_4(with("early_retransmission")),
        (50, vec![2, 14], Some(1000)),
        "an extra copy at 50 ms, then the configured timer from the first sending"
    );
    // And a handshake with it completes.
    handshake_and_get(with("early_retransmission"), 47);
}

// ---- alerts_where_optional -------------------------------------------------------------

/// Alerts (level, description) the client saw.
fn alerts_seen(net: &mut Net) -> Vec<(u8, u8)> {
    net.events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Alert {
                level, description, ..
            } => Some((level.get_u8(), description.get_u8())),
            _ => None,
        })
        .collect()
}

/// After the handshake, a record whose tag does not verify: the alerts the client then
/// sees, and whether a GET is still answered.
fn after_forged_record(v: Variations) -> (Vec<(u8, u8)>, bool) {
    let mut net = handshake_and_get(v, 48);
    let _ = net.events();
    let mut forged = vec![23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0x03, 0xe8, 0, 32];
    forged.extend_from_slice(&[0x5a; 32]);
    for r in net.deliver_to_board(&forged) {
        net.deliver_to_client(&r);
    }
    let alerts = alerts_seen(&mut net);
    net.send_app(&coap(0, 1, 0x201, &[6], &["light"], b""));
    (alerts, !net.app_data().is_empty())
}

/// After the handshake, a record of content type 99: the alerts seen.
fn after_unknown_content_type(v: Variations) -> Vec<(u8, u8)> {
    let mut net = handshake_and_get(v, 49);
    let _ = net.events();
    let mut odd = vec![99, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0x03, 0xe9, 0, 8];
    odd.extend_from_slice(&[0; 8]);
    for r in net.deliver_to_board(&odd) {
        net.deliver_to_client(&r);
    }
    alerts_seen(&mut net)
}

/// During the handshake (flight 4 received), an epoch-0 record: the plaintext alerts the
/// board answers with.
fn during_handshake(v: Variations, content_type: u8, fragment: &[u8]) -> Vec<(u8, u8)> {
    let mut net = Net::new(board(v), client(50));
    net.client.set_autopilot(false);
    for _ in 0..2 {
        net.client.begin_flight(1);
        let ch = net.client.default_client_hello();
        net.client
            .send_handshake(&HandshakeMessage::ClientHello(ch), &SendOptions::default());
        while let Some(d) = net.client.poll_transmit() {
            for r in net.deliver_to_board(&d) {
                net.deliver_to_client(&r);
            }
        }
    }
    assert_eq!(datagrams_with(&net, 2).len(), 1, "flight 4 came");
    let mut rec = vec![content_type, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 9];
    rec.extend_from_slice(&(fragment.len() as u16).to_be_bytes());
    rec.extend_from_slice(fragment);
    plain_alerts(&net.deliver_to_board(&rec))
}

#[test]
fn alerts_where_optional() {
    let v = || with("alerts_where_optional");
    assert_eq!(after_forged_record(off()), (vec![], true), "discarded");
    assert_eq!(
        after_forged_record(v()),
        (vec![(2, 20)], false),
        "fatal bad_record_mac, the association gone"
    );
    assert_eq!(after_unknown_content_type(off()), vec![]);
    assert_eq!(
        after_unknown_content_type(v()),
        vec![(2, 10)],
        "unexpected_message"
    );
    // A handshake fragment cut short, and a ChangeCipherSpec of the wrong value.
    let short = [16u8, 0, 0, 4, 0];
    assert_eq!(during_handshake(off(), 22, &short), vec![]);
    assert_eq!(during_handshake(v(), 22, &short), vec![(2, 50)]);
    assert_eq!(during_handshake(off(), 20, &[2]), vec![]);
    assert_eq!(during_handshake(v(), 20, &[2]), vec![(2, 50)]);
}

// ---- unknown_identity_as_decrypt_error -------------------------------------------------

/// A client with an identity the board does not know: the plaintext alerts the board
/// sent, and whether the client got as far as its Finished.
fn unknown_identity(v: Variations) -> (Vec<(u8, u8)>, bool) {
    let c = dicetest::engine::Connection::new(
        dicetest::engine::Config::client()
            .with_psk(b"somebody", PSK)
            .with_seed(51),
    );
    let mut net = Net::new(board(v), c);
    assert!(!net.handshake());
    // Whether the client got as far as sending its Finished (an epoch-1 record).
    let sent_finished = net
        .from_client
        .iter()
        .any(|d| records(d).iter().any(|r| r.0 == 22 && r.1 == 1));
    (plain_alerts(&net.from_board), sent_finished)
}

#[test]
fn unknown_identity_as_decrypt_error() {
    assert_eq!(
        unknown_identity(off()),
        (vec![(2, 115)], true),
        "unknown_psk_identity at the ClientKeyExchange (the client sent its whole flight 5)"
    );
    assert_eq!(
        unknown_identity(with("unknown_identity_as_decrypt_error")),
        (vec![(2, 51)], true),
        "decrypt_error, at the Finished"
    );
}

// ---- closes_after_answer ---------------------------------------------------------------

/// Two GETs on one association: answers received, and whether the client saw it closed.
fn two_gets(v: Variations) -> (usize, bool) {
    let mut net = Net::new(board(v), client(52));
    assert!(net.handshake());
    let _ = net.events();
    let mut answers = 0;
    let mut closed = false;
    for mid in [0x300u16, 0x301] {
        net.send_app(&coap(0, 1, mid, &[7], &["light"], b""));
        for e in net.events() {
            match e {
                Event::ApplicationData(_) => answers += 1,
                Event::Alert { description, .. } if description.get_u8() == 0 => closed = true,
                Event::Closed => closed = true,
                _ => {}
            }
        }
    }
    (answers, closed)
}

#[test]
fn closes_after_answer() {
    assert_eq!(two_gets(off()), (2, false));
    assert_eq!(
        two_gets(with("closes_after_answer")),
        (1, true),
        "one answer, then close_notify"
    );
}

// ---- serial_server ---------------------------------------------------------

/// What a second client's first ClientHello gets while a first one is connected.
fn second_client_answer(v: Variations) -> Vec<u8> {
    let mut net = Net::new(board(v), client(54));
    assert!(net.handshake());
    let mut other = client(55);
    other.start(net.now());
    let hello = other.poll_transmit().expect("a ClientHello");
    let from: std::net::SocketAddr = "127.0.0.1:40002".parse().unwrap();
    let answers: Vec<Vec<u8>> = net
        .board
        .handle_datagram(net.now_ms, from, &hello)
        .into_iter()
        .map(|x| x.1)
        .collect();
    plain_handshake_types(&answers)
}

#[test]
fn serial_server() {
    assert_eq!(second_client_answer(off()), vec![3], "a HelloVerifyRequest");
    assert_eq!(
        second_client_answer(with("serial_server")),
        Vec::<u8>::new(),
        "a serial server does not answer while busy"
    );
}

// ---- all together ----------------------------------------------------------------------

#[test]
fn the_variations_combine() {
    // Every variation but the two a combination would hide or contradict: without the
    // cookie exchange there is no HelloVerifyRequest to vary, and a flight in one record
    // cannot be a datagram per message.
    let mut v = Variations::default();
    for name in Variations::NAMES {
        if !["no_cookie_exchange", "one_datagram_per_message"].contains(name) {
            assert!(v.set_by_name(name));
        }
    }
    let net = handshake_and_get(v, 53);
    let types = plain_handshake_types(&net.from_board);
    assert!(types.contains(&3) && types.contains(&12), "{types:?}");
}
