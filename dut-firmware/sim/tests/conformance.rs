//! Conformance gaps dicetest found in the board, one test each: fragmented ClientHellos
//! (RFC 6347 §4.2.3), next-epoch records before ChangeCipherSpec (§4.1), and stray records,
//! alerts and messages around an association. dicetest's engine is the client.

mod support;

use dicetest::engine::{
    FragmentLayout, FragmentSpec, HeaderOverrides, RecordOverrides, SendOptions,
};
use dicetest::wire::{AlertDescription, AlertLevel, Finished, HandshakeMessage, HelloRequest};
use dut_sim::Faults;
use support::*;

const CHANGE_CIPHER_SPEC: u8 = 20;
const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
const APPLICATION_DATA: u8 = 23;

fn content_type(record: &[u8]) -> u8 {
    record[0]
}

fn epoch(record: &[u8]) -> u16 {
    u16::from_be_bytes([record[3], record[4]])
}

fn seq(record: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b[2..].copy_from_slice(&record[5..11]);
    u64::from_be_bytes(b)
}

/// Every record the client has queued, one per element (the client is flushed first).
fn client_records(net: &mut Net) -> Vec<Vec<u8>> {
    net.client.flush();
    let mut out = Vec::new();
    while let Some(d) = net.client.poll_transmit() {
        out.extend(split_records(&d));
    }
    out
}

/// Delivers each record as its own datagram, in order; returns the board's answers
/// (delivered to the client too) per record.
fn deliver_each(net: &mut Net, records: &[Vec<u8>]) -> Vec<Vec<Vec<u8>>> {
    records
        .iter()
        .map(|r| {
            let answers = net.deliver_to_board(r);
            for a in &answers {
                net.deliver_to_client(a);
            }
            answers
        })
        .collect()
}

/// The records of a ClientHello (manual client) cut with `layout`.
fn hello_records(net: &mut Net, layout: FragmentLayout) -> Vec<Vec<u8>> {
    net.client.set_autopilot(false);
    net.client.begin_flight(1);
    let ch = net.client.default_client_hello();
    let o = SendOptions {
        layout,
        ..SendOptions::default()
    };
    net.client
        .send_handshake(&HandshakeMessage::ClientHello(ch), &o);
    client_records(net)
}

/// Manual flight 5: ClientKeyExchange, ChangeCipherSpec, Finished, as records.
fn flight_5_records(net: &mut Net) -> Vec<Vec<u8>> {
    let c = &mut net.client;
    c.begin_flight(5);
    let cke = c.default_client_key_exchange().unwrap();
    c.send_handshake(
        &HandshakeMessage::ClientKeyExchange(cke),
        &SendOptions::default(),
    );
    c.send_change_cipher_spec(&RecordOverrides::default());
    let verify_data = c.our_finished();
    c.send_handshake(
        &HandshakeMessage::Finished(Finished { verify_data }),
        &SendOptions::default(),
    );
    client_records(net)
}

fn connected(net: &Net) -> bool {
    net.board.device().sessions().any(|s| s.connected)
}

// ---- 1. fragmented ClientHello (RFC 6347 §4.2.3) ----------------------------------------

#[test]
fn a_client_hello_in_fragments_is_reassembled_before_and_after_the_cookie_exchange() {
    let mut net = Net::new(board_with(Faults::default()), client(41));
    let recs = hello_records(&mut net, FragmentLayout::MaxBody(20));
    assert!(
        recs.len() >= 3,
        "the ClientHello must come in several pieces"
    );
    // Out of order: the last piece first; the message is whole only with the last record.
    let mut order: Vec<Vec<u8>> = vec![recs[recs.len() - 1].clone()];
    order.extend(recs[..recs.len() - 1].iter().cloned());
    let answers = deliver_each(&mut net, &order);
    let (last, earlier) = answers.split_last().unwrap();
    assert!(earlier.iter().all(|a| a.is_empty()), "no answer to a piece");
    assert_eq!(plain_handshake_types(last), vec![3], "HelloVerifyRequest");
    let hvr = split_records(&last[0]);
    assert_eq!(
        seq(&hvr[0]),
        seq(order.last().unwrap()),
        "§4.2.1: the HelloVerifyRequest reuses the record number of the ClientHello \
         (the record that completed it)"
    );
    assert!(net.board.device().sessions().next().is_none(), "stateless");
    assert_eq!(net.board.poll_timeout(), None, "no timer before the cookie");

    // The ClientHello with the cookie, fragmented as well, starts the handshake.
    let recs = hello_records(&mut net, FragmentLayout::MaxBody(16));
    let answers: Vec<Vec<u8>> = deliver_each(&mut net, &recs).concat();
    assert_eq!(plain_handshake_types(&answers), vec![2, 14]);

    // The reassembled ClientHello is in the transcript: both Finished messages verify.
    let f5 = flight_5_records(&mut net);
    deliver_each(&mut net, &f5);
    assert!(connected(&net));
    assert_eq!(net.client.peer_finished_ok, Some(true));
}

#[test]
fn hello_fragments_from_a_flood_of_addresses_cost_no_session_and_no_timer() {
    let mut net = Net::new(board_with(Faults::default()), client(42));
    let recs = hello_records(&mut net, FragmentLayout::MaxBody(20));
    let spoofed =
        |i: u16| -> std::net::SocketAddr { format!("198.51.100.7:{}", 1000 + i).parse().unwrap() };
    for i in 0..50 {
        let answers = net.board.handle_datagram(0, spoofed(i), &recs[0]);
        assert!(answers.is_empty());
    }
    assert!(net.board.device().sessions().next().is_none());
    assert_eq!(net.board.poll_timeout(), None);

    // The client's first piece, then two other addresses: the shared area is bounded,
    // the client's piece was the oldest and is gone.
    assert!(deliver_each(&mut net, &recs[..1])[0].is_empty());
    net.board.handle_datagram(0, spoofed(100), &recs[0]);
    net.board.handle_datagram(0, spoofed(101), &recs[0]);
    let answers = deliver_each(&mut net, &recs[1..]).concat();
    assert!(
        answers.is_empty(),
        "an evicted partial ClientHello does not complete"
    );
    // Its retransmission, undisturbed, does.
    let answers = deliver_each(&mut net, &recs).concat();
    assert_eq!(plain_handshake_types(&answers), vec![3]);
}

#[test]
fn hello_fragments_that_lie_are_dropped() {
    let mut net = Net::new(board_with(Faults::default()), client(43));
    let lie = |offset, len, header| FragmentSpec {
        offset,
        len,
        header,
        ..Default::default()
    };
    let recs = hello_records(
        &mut net,
        FragmentLayout::Explicit(vec![
            lie(0, 20, HeaderOverrides::default()),
            // A length other than the first piece's, under the same message_seq.
            lie(
                20,
                1000,
                HeaderOverrides {
                    length: Some(5000),
                    ..HeaderOverrides::default()
                },
            ),
            // Reaching past the message (offset + length > length): CVE-2014-0195's shape.
            lie(
                20,
                1000,
                HeaderOverrides {
                    fragment_offset: Some(60),
                    ..HeaderOverrides::default()
                },
            ),
            // The honest rest.
            lie(20, 1000, HeaderOverrides::default()),
        ]),
    );
    assert_eq!(recs.len(), 4);
    let answers = deliver_each(&mut net, &recs);
    assert!(answers[..3].iter().all(|a| a.is_empty()), "{answers:?}");
    assert_eq!(plain_handshake_types(&answers[3]), vec![3]);
}

// ---- 2. next-epoch records before ChangeCipherSpec (RFC 6347 §4.1) ----------------------

/// Runs a whole handshake with the client's flight 5 rearranged by `arrange` (records in,
/// datagrams out). True when the board answered flight 6 without anyone retransmitting.
fn handshake_with_flight_5(arrange: fn(Vec<Vec<u8>>) -> Vec<Vec<u8>>, seed: u64) -> bool {
    handshake_with_flight_5_as(arrange, client(seed))
}

fn handshake_with_flight_5_as(
    arrange: fn(Vec<Vec<u8>>) -> Vec<Vec<u8>>,
    client: dicetest::engine::Connection,
) -> bool {
    let mut net = Net::new(board_with(Faults::default()), client);
    let ok = net.run_rewriting(&mut |d| {
        let recs = split_records(d);
        if recs.iter().any(|r| content_type(r) == CHANGE_CIPHER_SPEC) {
            arrange(recs)
        } else {
            vec![d.to_vec()]
        }
    });
    ok && net.now_ms == 0 && connected(&net)
}

fn epoch_1_first(recs: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let (e1, e0): (Vec<_>, Vec<_>) = recs.into_iter().partition(|r| epoch(r) == 1);
    e1.into_iter().chain(e0).collect()
}

#[test]
fn a_finished_that_overtakes_the_change_cipher_spec_is_kept_for_it() {
    // Finished, then ClientKeyExchange, then ChangeCipherSpec, each its own datagram.
    assert!(handshake_with_flight_5(epoch_1_first, 44));
    // ClientKeyExchange, Finished, ChangeCipherSpec in one datagram.
    assert!(handshake_with_flight_5(
        |recs| {
            let (ccs, rest): (Vec<_>, Vec<_>) = recs
                .into_iter()
                .partition(|r| content_type(r) == CHANGE_CIPHER_SPEC);
            vec![rest.into_iter().chain(ccs).flatten().collect()]
        },
        45,
    ));
    // The largest Finished record the device keeps: CBC-SHA256 (IV, MAC, padding).
    let cbc = dicetest::engine::Connection::new(
        dicetest::engine::Config::client()
            .with_psk(PSK_ID, PSK)
            .with_suites(&[0x00AE])
            .with_seed(57),
    );
    assert!(handshake_with_flight_5_as(epoch_1_first, cbc));
}

#[test]
fn only_a_few_early_records_are_kept() {
    // Three forged epoch-1 records ahead of the Finished fill the buffer: the Finished
    // finds no room and the handshake has to wait for the client's retransmission.
    let forged = |s: u8| {
        let mut r = vec![HANDSHAKE, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 0x40 + s, 0, 40];
        r.extend_from_slice(&[0x5a; 40]);
        r
    };
    let mut net = Net::new(board_with(Faults::default()), client(46));
    let mut first = true;
    let ok = net.run_rewriting(&mut |d| {
        let recs = split_records(d);
        if first && recs.iter().any(|r| content_type(r) == CHANGE_CIPHER_SPEC) {
            first = false;
            let mut out: Vec<Vec<u8>> = (0..3).map(forged).collect();
            out.extend(epoch_1_first(recs));
            out
        } else {
            vec![d.to_vec()]
        }
    });
    assert!(ok, "the retransmitted flight 5 completes the handshake");
    assert!(
        net.now_ms > 0,
        "the buffered Finished would have needed no retransmission"
    );
}

// ---- 3. stray records, alerts and messages ----------------------------------------------

/// A connected client whose next CoAP request (protected, not yet delivered) is returned.
fn connected_with_pending_request(seed: u64) -> (Net, Vec<u8>) {
    let mut net = Net::new(board_with(Faults::default()), client(seed));
    assert!(net.handshake());
    assert_eq!(net.send_app(&coap(0, 1, 1, &[1], &["light"], b"")).len(), 1);
    net.client
        .send_application_data(&coap(0, 1, 2, &[2], &["light"], b""));
    let pending = net.client.poll_transmit().unwrap();
    (net, pending)
}

#[test]
fn epoch_0_application_data_after_the_handshake_is_dropped() {
    let mut net = Net::new(board_with(Faults::default()), client(47));
    assert!(net.handshake());
    let clear = RecordOverrides {
        epoch: Some(0),
        plaintext: true,
        ..RecordOverrides::default()
    };
    net.client
        .send_application_data_with(&coap(0, 1, 3, &[3], &["light"], b""), &clear);
    let d = net.client.poll_transmit().unwrap();
    let r = &split_records(&d)[0];
    assert_eq!((content_type(r), epoch(r)), (APPLICATION_DATA, 0));
    assert!(
        net.deliver_to_board(&d).is_empty(),
        "§4.1: not from the current epoch"
    );
    assert_eq!(net.board.device().coap_requests_executed(), 0);
    assert_eq!(net.send_app(&coap(0, 1, 4, &[4], &["light"], b"")).len(), 1);
}

#[test]
fn a_second_change_cipher_spec_in_the_flight_is_not_acted_on_twice() {
    // CKE, CCS, CCS (a copy), Finished: a second epoch switch would leave the Finished
    // (epoch 1) unreadable.
    assert!(handshake_with_flight_5(
        |recs| {
            let mut out = Vec::new();
            for r in recs {
                if content_type(&r) == CHANGE_CIPHER_SPEC {
                    out.push(r.clone());
                }
                out.push(r);
            }
            out
        },
        48,
    ));
}

#[test]
fn application_data_after_close_notify_is_not_answered() {
    let (mut net, pending) = connected_with_pending_request(49);
    net.client.close();
    let close = net.client.poll_transmit().unwrap();
    let answer = net.deliver_to_board(&close);
    let kinds: Vec<u8> = answer
        .iter()
        .flat_map(|d| split_records(d))
        .map(|r| content_type(&r))
        .collect();
    assert_eq!(
        kinds,
        vec![ALERT],
        "close_notify is answered with close_notify"
    );
    assert!(net.deliver_to_board(&pending).is_empty(), "RFC 5246 §7.2.1");
    assert_eq!(net.board.device().coap_requests_executed(), 1);
}

#[test]
fn application_data_behind_close_notify_in_one_datagram_is_not_answered() {
    let (mut net, pending) = connected_with_pending_request(50);
    net.client.close();
    let mut d = net.client.poll_transmit().unwrap();
    d.extend_from_slice(&pending);
    let kinds: Vec<u8> = net
        .deliver_to_board(&d)
        .iter()
        .flat_map(|d| split_records(d))
        .map(|r| content_type(&r))
        .collect();
    assert_eq!(kinds, vec![ALERT]);
    assert_eq!(net.board.device().coap_requests_executed(), 1);
}

#[test]
fn a_fatal_alert_from_the_client_ends_the_association() {
    let (mut net, pending) = connected_with_pending_request(51);
    net.client.send_alert(
        AlertLevel::Fatal,
        AlertDescription::InternalError,
        &RecordOverrides::default(),
    );
    let alert = net.client.poll_transmit().unwrap();
    assert_eq!(epoch(&split_records(&alert)[0]), 1, "protected");
    assert!(
        net.deliver_to_board(&alert).is_empty(),
        "a fatal alert is not answered"
    );
    assert!(
        net.board.device().sessions().next().is_none(),
        "RFC 5246 §7.2.2"
    );
    assert!(net.deliver_to_board(&pending).is_empty());
}

#[test]
fn a_fatal_alert_during_the_handshake_ends_it() {
    let mut net = Net::new(board_with(Faults::default()), client(52));
    let recs = hello_records(&mut net, FragmentLayout::Whole);
    deliver_each(&mut net, &recs);
    let recs = hello_records(&mut net, FragmentLayout::Whole);
    deliver_each(&mut net, &recs);
    assert!(net.board.device().sessions().next().is_some());
    net.client.send_alert(
        AlertLevel::Fatal,
        AlertDescription::HandshakeFailure,
        &RecordOverrides::default(),
    );
    let alert = net.client.poll_transmit().unwrap();
    assert!(net.deliver_to_board(&alert).is_empty());
    assert!(net.board.device().sessions().next().is_none());
    assert_eq!(
        net.board.poll_timeout(),
        None,
        "no flight 4 retransmission after it"
    );
}

#[test]
fn a_hello_request_from_the_client_is_ignored_after_the_handshake() {
    for message_seq in [0, 4] {
        let mut net = Net::new(board_with(Faults::default()), client(53));
        assert!(net.handshake());
        let o = SendOptions {
            message_seq: Some(message_seq),
            no_retransmit: true,
            skip_transcript: true,
            ..SendOptions::default()
        };
        net.client
            .send_handshake(&HandshakeMessage::HelloRequest(HelloRequest), &o);
        net.client.flush();
        let d = net.client.poll_transmit().unwrap();
        assert!(
            net.deliver_to_board(&d).is_empty(),
            "message_seq {message_seq}: RFC 5246 §7.4.1.1, only a server sends HelloRequest"
        );
        assert!(connected(&net));
        assert_eq!(net.send_app(&coap(0, 1, 5, &[5], &["light"], b"")).len(), 1);
    }
}

#[test]
fn a_hello_request_from_the_client_is_ignored_during_the_handshake() {
    let mut net = Net::new(board_with(Faults::default()), client(54));
    let recs = hello_records(&mut net, FragmentLayout::Whole);
    deliver_each(&mut net, &recs);
    let recs = hello_records(&mut net, FragmentLayout::Whole);
    deliver_each(&mut net, &recs);
    // Numbered like the ClientKeyExchange that should come next.
    let o = SendOptions {
        message_seq: Some(net.client.next_message_seq()),
        no_retransmit: true,
        skip_transcript: true,
        ..SendOptions::default()
    };
    net.client
        .send_handshake(&HandshakeMessage::HelloRequest(HelloRequest), &o);
    let hr = client_records(&mut net);
    assert!(deliver_each(&mut net, &hr).concat().is_empty());
    let f5 = flight_5_records(&mut net);
    deliver_each(&mut net, &f5);
    assert!(connected(&net));
}

#[test]
fn the_hello_verify_request_reuses_the_client_hellos_record_number() {
    let mut net = Net::new(board_with(Faults::default()), client(55));
    net.client.set_autopilot(false);
    net.client.begin_flight(1);
    let ch = net.client.default_client_hello();
    let o = SendOptions {
        record: RecordOverrides {
            sequence_number: Some(7),
            ..RecordOverrides::default()
        },
        ..SendOptions::default()
    };
    net.client
        .send_handshake(&HandshakeMessage::ClientHello(ch), &o);
    let recs = client_records(&mut net);
    let answer = deliver_each(&mut net, &recs).concat();
    let hvr = split_records(&answer[0]);
    assert_eq!(
        (content_type(&hvr[0]), epoch(&hvr[0]), seq(&hvr[0])),
        (HANDSHAKE, 0, 7)
    );
}

#[test]
fn a_record_of_unknown_type_or_version_is_discarded_alone_not_with_its_datagram() {
    let (mut net, mut pending) = connected_with_pending_request(58);
    let bad_records = [
        vec![25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 3, 1, 2, 3], // content type 25
        vec![23, 0x03, 0x03, 0, 1, 0, 0, 0, 0, 0, 9, 0, 3, 1, 2, 3], // TLS 1.2's version
    ];
    for (i, bad) in bad_records.into_iter().enumerate() {
        let mut d = bad;
        d.extend_from_slice(&pending);
        // §4.1.2.7: the invalid record goes; the valid one behind it is read.
        let answers = net.deliver_to_board(&d);
        assert_eq!(answers.len(), 1, "record {i}");
        assert_eq!(net.board.device().coap_requests_executed(), 2 + i as u32);
        net.client
            .send_application_data(&coap(0, 1, 10 + i as u16, &[9], &["light"], b""));
        pending = net.client.poll_transmit().unwrap();
    }
}
