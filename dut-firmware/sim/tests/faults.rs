//! Each fault switch against the same scenario twice: off, the device behaves as the RFC
//! says; on, the misbehaviour is visible on the wire. dicetest's engine is the client.

mod support;

use dicetest::engine::{RecordOverrides, SendOptions};
use dicetest::wire::{Finished, HandshakeMessage};
use dut_sim::Faults;
use support::*;

fn with(name: &str) -> Faults {
    let mut f = Faults::default();
    assert!(f.set_by_name(name), "no fault {name}");
    f
}

/// Sends a ClientHello built by the engine (manual mode), with options; returns the
/// board's answers, already delivered to the client.
fn send_hello(
    net: &mut Net,
    edit: &dyn Fn(&mut dicetest::wire::ClientHello),
    o: SendOptions,
) -> Vec<Vec<u8>> {
    net.client.set_autopilot(false);
    net.client.begin_flight(1);
    let mut ch = net.client.default_client_hello();
    edit(&mut ch);
    net.client
        .send_handshake(&HandshakeMessage::ClientHello(ch), &o);
    deliver_client_datagrams(net)
}

fn deliver_client_datagrams(net: &mut Net) -> Vec<Vec<u8>> {
    let mut answers = Vec::new();
    while let Some(d) = net.client.poll_transmit() {
        for r in net.deliver_to_board(&d) {
            net.deliver_to_client(&r);
            answers.push(r);
        }
    }
    answers
}

/// Manual client up to the board's flight 4.
fn up_to_flight_4(net: &mut Net) {
    let hvr = send_hello(net, &|_| {}, SendOptions::default());
    assert_eq!(plain_handshake_types(&hvr), vec![3]);
    let f4 = send_hello(net, &|_| {}, SendOptions::default());
    assert_eq!(
        plain_handshake_types(&f4),
        vec![2, 14],
        "ServerHello, ServerHelloDone"
    );
}

// ---- accept_unencrypted_finished -----------------------------------------------------

fn finished_without_ccs(faults: Faults) -> (Vec<Vec<u8>>, bool) {
    let mut net = Net::new(board_with(faults), client(21));
    up_to_flight_4(&mut net);
    let c = &mut net.client;
    c.begin_flight(5);
    let cke = c.default_client_key_exchange().unwrap();
    c.send_handshake(
        &HandshakeMessage::ClientKeyExchange(cke),
        &SendOptions::default(),
    );
    // No ChangeCipherSpec: the Finished goes out in epoch 0, in the clear.
    let verify_data = c.our_finished();
    c.send_handshake(
        &HandshakeMessage::Finished(Finished { verify_data }),
        &SendOptions::default(),
    );
    let answers = deliver_client_datagrams(&mut net);
    let connected = net.board.device().sessions().any(|s| s.connected);
    (answers, connected)
}

#[test]
fn accept_unencrypted_finished() {
    let (answers, connected) = finished_without_ccs(Faults::default());
    assert_eq!(
        plain_alerts(&answers),
        vec![(2, 10)],
        "fatal unexpected_message"
    );
    assert!(!connected);
    let (answers, connected) = finished_without_ccs(with("accept_unencrypted_finished"));
    assert!(
        answers.iter().flat_map(|d| records(d)).any(|r| r.0 == 20),
        "the faulty board answers with its ChangeCipherSpec and Finished"
    );
    assert!(connected);
}

// ---- no_replay_window ------------------------------------------------------------------

fn replayed_request_answers(faults: Faults) -> usize {
    let mut net = Net::new(board_with(faults), client(22));
    assert!(net.handshake());
    net.client
        .send_application_data(&coap(1, 1, 7, &[1], &["light"], b""));
    let d = net.client.poll_transmit().unwrap();
    assert_eq!(
        net.deliver_to_board(&d).len(),
        1,
        "the original is answered"
    );
    net.deliver_to_board(&d).len()
}

#[test]
fn no_replay_window() {
    assert_eq!(replayed_request_answers(Faults::default()), 0);
    assert_eq!(replayed_request_answers(with("no_replay_window")), 1);
}

// ---- cookie_not_bound_to_params --------------------------------------------------------

fn cookie_reused_with_other_random(faults: Faults) -> Vec<u8> {
    let mut net = Net::new(board_with(faults), client(23));
    let hvr = send_hello(&mut net, &|_| {}, SendOptions::default());
    assert_eq!(plain_handshake_types(&hvr), vec![3]);
    // The engine now holds the cookie; change the random it was computed over.
    let answer = send_hello(
        &mut net,
        &|ch| ch.random = [0x42; 32],
        SendOptions::default(),
    );
    plain_handshake_types(&answer)
}

#[test]
fn cookie_not_bound_to_params() {
    assert_eq!(cookie_reused_with_other_random(Faults::default()), vec![3]);
    assert_eq!(
        cookie_reused_with_other_random(with("cookie_not_bound_to_params")),
        vec![2, 14]
    );
}

// ---- retransmit_hello_verify_request ------------------------------------------------

fn hvr_after_silence(faults: Faults) -> Vec<u8> {
    let mut net = Net::new(board_with(faults), client(24));
    send_hello(&mut net, &|_| {}, SendOptions::default());
    match net.board.poll_timeout() {
        None => Vec::new(),
        Some(t) => {
            let again: Vec<Vec<u8>> = net
                .board
                .handle_timeout(t)
                .into_iter()
                .map(|x| x.1)
                .collect();
            plain_handshake_types(&again)
        }
    }
}

#[test]
fn retransmit_hello_verify_request() {
    assert_eq!(hvr_after_silence(Faults::default()), Vec::<u8>::new());
    assert_eq!(
        hvr_after_silence(with("retransmit_hello_verify_request")),
        vec![3]
    );
}

// ---- replay_window_before_tag_check --------------------------------------------------

fn request_after_forged_record(faults: Faults) -> usize {
    let mut net = Net::new(board_with(faults), client(25));
    assert!(net.handshake());
    // Epoch 1, sequence number 1000, garbage instead of a valid CCM-8 fragment.
    let mut forged = vec![23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0x03, 0xe8, 0, 32];
    forged.extend_from_slice(&[0x5a; 32]);
    assert!(net.deliver_to_board(&forged).is_empty());
    net.send_app(&coap(0, 1, 8, &[2], &["light"], b"")).len()
}

#[test]
fn replay_window_before_tag_check() {
    assert_eq!(request_after_forged_record(Faults::default()), 1);
    assert_eq!(
        request_after_forged_record(with("replay_window_before_tag_check")),
        0,
        "the forged record moved the window past the genuine request"
    );
}

// ---- wrong_alert_for_unknown_identity ------------------------------------------------

fn alert_for_unknown_identity(faults: Faults) -> Vec<(u8, u8)> {
    let c = dicetest::engine::Connection::new(
        dicetest::engine::Config::client()
            .with_psk(b"somebody", PSK)
            .with_seed(26),
    );
    let mut net = Net::new(board_with(faults), c);
    assert!(!net.handshake());
    plain_alerts(&net.from_board)
}

#[test]
fn wrong_alert_for_unknown_identity() {
    assert_eq!(
        alert_for_unknown_identity(Faults::default()),
        vec![(2, 115)]
    );
    assert_eq!(
        alert_for_unknown_identity(with("wrong_alert_for_unknown_identity")),
        vec![(2, 40)]
    );
}

// ---- accept_renegotiation ------------------------------------------------------------

/// Content types of the board's answer to a ClientHello on the connection, and whether the
/// session is still connected.
fn renegotiation_answer(faults: Faults) -> (Vec<(u8, u16)>, bool) {
    let mut net = Net::new(board_with(faults), client(27));
    assert!(net.handshake());
    let answer = send_hello(
        &mut net,
        &|_| {},
        SendOptions {
            message_seq: Some(0),
            ..SendOptions::default()
        },
    );
    let kinds = answer
        .iter()
        .flat_map(|d| records(d))
        .map(|r| (r.0, r.1))
        .collect();
    let connected = net.board.device().sessions().any(|s| s.connected);
    (kinds, connected)
}

#[test]
fn accept_renegotiation() {
    // Off: one protected alert (warning no_renegotiation), the connection goes on.
    assert_eq!(
        renegotiation_answer(Faults::default()),
        (vec![(21, 1)], true)
    );
    // On: a protected ServerHello flight (ServerHello and ServerHelloDone, one record each);
    // a new handshake is under way.
    assert_eq!(
        renegotiation_answer(with("accept_renegotiation")),
        (vec![(22, 1), (22, 1)], false)
    );
}

#[test]
fn the_no_renegotiation_alert_is_a_warning() {
    let mut net = Net::new(board_with(Faults::default()), client(28));
    assert!(net.handshake());
    let _ = net.events();
    send_hello(
        &mut net,
        &|_| {},
        SendOptions {
            message_seq: Some(0),
            ..SendOptions::default()
        },
    );
    let alert = net.events().into_iter().find_map(|e| match e {
        dicetest::engine::Event::Alert {
            level, description, ..
        } => Some((level.get_u8(), description.get_u8())),
        _ => None,
    });
    assert_eq!(alert, Some((1, 100)));
    // And the connection still carries CoAP.
    net.client.set_autopilot(true);
    assert_eq!(net.send_app(&coap(0, 1, 9, &[], &["light"], b"")).len(), 1);
}

// ---- accept_client_hello_in_epoch_1 --------------------------------------------------

fn plaintext_hello_in_epoch_1(faults: Faults) -> Vec<u8> {
    let mut net = Net::new(board_with(faults), client(29));
    let o = SendOptions {
        record: RecordOverrides {
            epoch: Some(1),
            ..RecordOverrides::default()
        },
        ..SendOptions::default()
    };
    let answer = send_hello(&mut net, &|_| {}, o);
    plain_handshake_types(&answer)
}

#[test]
fn accept_client_hello_in_epoch_1() {
    assert_eq!(
        plaintext_hello_in_epoch_1(Faults::default()),
        Vec::<u8>::new()
    );
    assert_eq!(
        plaintext_hello_in_epoch_1(with("accept_client_hello_in_epoch_1")),
        vec![3]
    );
}

// ---- no_hello_verify_request ---------------------------------------------------------

fn first_answer(faults: Faults) -> u8 {
    let mut net = Net::new(board_with(faults), client(30));
    assert!(net.handshake(), "the handshake completes either way");
    plain_handshake_types(&net.from_board)[0]
}

#[test]
fn no_hello_verify_request() {
    assert_eq!(first_answer(Faults::default()), 3);
    assert_eq!(first_answer(with("no_hello_verify_request")), 2);
}

// ---- coap_token_not_echoed -----------------------------------------------------------

fn response_token(faults: Faults) -> Vec<u8> {
    let mut net = Net::new(board_with(faults), client(31));
    assert!(net.handshake());
    net.send_app(&coap(0, 1, 10, &[7, 7, 7], &["light"], b""));
    coap_parts(&net.app_data()[0]).3
}

#[test]
fn coap_token_not_echoed() {
    assert_eq!(response_token(Faults::default()), vec![7, 7, 7]);
    assert_eq!(
        response_token(with("coap_token_not_echoed")),
        Vec::<u8>::new()
    );
}

// ---- coap_ignores_accept, coap_ignores_critical_options, coap_ignores_content_format --

/// A CON request with options (number, value), in ascending order, after its Uri-Path.
fn coap_with_options(code: u8, path: &[&str], options: &[(u16, &[u8])], payload: &[u8]) -> Vec<u8> {
    let mut m = coap(0, code, 11, &[9], path, &[]);
    let mut last = if path.is_empty() { 0 } else { 11 };
    for (num, value) in options {
        // Extended deltas (RFC 7252 §3.1): 13 + one byte, 14 + two bytes.
        let delta = num - last;
        last = *num;
        let (nib, ext): (u8, Vec<u8>) = match delta {
            0..=12 => (delta as u8, vec![]),
            13..=268 => (13, vec![(delta - 13) as u8]),
            _ => (14, (delta - 269).to_be_bytes().to_vec()),
        };
        m.push(nib << 4 | value.len() as u8);
        m.extend_from_slice(&ext);
        m.extend_from_slice(value);
    }
    if !payload.is_empty() {
        m.push(0xff);
        m.extend_from_slice(payload);
    }
    m
}

/// The response code the board gives to each request, in order, on one session.
fn codes(faults: Faults, requests: &[Vec<u8>]) -> Vec<u8> {
    let mut net = Net::new(board_with(faults), client(32));
    assert!(net.handshake());
    requests
        .iter()
        .map(|r| {
            net.send_app(r);
            coap_parts(&net.app_data()[0]).1
        })
        .collect()
}

#[test]
fn coap_ignores_accept() {
    // GET /.well-known/core, Accept: text/plain (0); it exists only as link format.
    let get = coap_with_options(1, &[".well-known", "core"], &[(17, &[])], b"");
    assert_eq!(
        codes(Faults::default(), std::slice::from_ref(&get)),
        [0x86],
        "4.06"
    );
    assert_eq!(codes(with("coap_ignores_accept"), &[get]), [0x45], "2.05");
}

#[test]
fn coap_ignores_critical_options() {
    let get = coap_with_options(1, &["light"], &[(65001, &[1])], b"");
    assert_eq!(
        codes(Faults::default(), std::slice::from_ref(&get)),
        [0x82],
        "4.02"
    );
    assert_eq!(
        codes(with("coap_ignores_critical_options"), &[get]),
        [0x45],
        "2.05"
    );
}

#[test]
fn coap_ignores_content_format() {
    // PUT /light "on" as application/json (50), then GET /light.
    let put = coap_with_options(3, &["light"], &[(12, &[50])], b"on");
    let get = coap(0, 1, 12, &[8], &["light"], b"");
    let good = codes(Faults::default(), &[put.clone(), get.clone()]);
    assert_eq!(good, [0x8f, 0x45], "4.15, then the light is unchanged");
    let bad = codes(with("coap_ignores_content_format"), &[put, get]);
    assert_eq!(
        bad,
        [0x44, 0x45],
        "2.04: the JSON-labelled payload was applied"
    );
}

#[test]
fn every_fault_switch_has_a_test_here() {
    let me = include_str!("faults.rs");
    for name in Faults::NAMES {
        assert!(
            me.contains(&format!("fn {name}()")),
            "fault {name} has no test in faults.rs"
        );
    }
}

// ---- Record layer, fragmentation, reordering, retransmission --------------------------

fn request(mid: u16) -> Vec<u8> {
    coap(0, 1, mid, &[mid as u8], &["light"], b"")
}

/// After a handshake, the client's next request tampered with by `tamper`: the board's
/// answers to it, then to a genuine request.
/// A change made to a datagram on its way.
type Tamper = dyn Fn(&mut [u8]);

fn answers_after(faults: Faults, seed: u64, tamper: &Tamper) -> (usize, usize) {
    let mut net = Net::new(board_with(faults), client(seed));
    assert!(net.handshake());
    net.client.send_application_data(&request(40));
    let mut d = net.client.poll_transmit().unwrap();
    tamper(&mut d);
    let first = net.deliver_to_board(&d).len();
    let after = net.send_app(&request(41)).len();
    (first, after)
}

fn flip_tag(d: &mut [u8]) {
    *d.last_mut().unwrap() ^= 1;
}

#[test]
fn record_tag_not_checked() {
    assert_eq!(answers_after(Faults::default(), 40, &flip_tag), (0, 1));
    assert_eq!(
        answers_after(with("record_tag_not_checked"), 40, &flip_tag),
        (1, 1),
        "the forged request was answered"
    );
}

#[test]
fn unreadable_record_ends_association() {
    let tls_version = |d: &mut [u8]| d[1..3].copy_from_slice(&[3, 3]);
    let past_the_end = |d: &mut [u8]| d[11..13].copy_from_slice(&1000u16.to_be_bytes());
    let unknown_epoch = |d: &mut [u8]| d[3..5].copy_from_slice(&[0xff, 0xff]);
    let lies: [&Tamper; 4] = [&flip_tag, &tls_version, &past_the_end, &unknown_epoch];
    for lie in lies {
        assert_eq!(answers_after(Faults::default(), 41, lie), (0, 1));
        assert_eq!(
            answers_after(with("unreadable_record_ends_association"), 41, lie),
            (0, 0),
            "the association ended with the unreadable record"
        );
    }
}

#[test]
fn unknown_content_type_crashes() {
    for t in [99u8, 25] {
        let retype = move |d: &mut [u8]| d[0] = t;
        assert_eq!(answers_after(Faults::default(), 42, &retype), (0, 1));
        let mut net = Net::new(board_with(with("unknown_content_type_crashes")), client(42));
        assert!(net.handshake());
        net.client.send_application_data(&request(40));
        let mut d = net.client.poll_transmit().unwrap();
        retype(&mut d);
        assert!(net.deliver_to_board(&d).is_empty());
        assert!(
            send_hello(&mut net, &|_| {}, SendOptions::default()).is_empty(),
            "a crashed board answers nothing"
        );
    }
}

/// Records the board answers to a datagram carrying the same cookieless ClientHello
/// twice (each gets its own stateless HelloVerifyRequest).
fn records_answered_to_two_in_one_datagram(faults: Faults) -> usize {
    let mut net = Net::new(board_with(faults), client(43));
    net.client.set_autopilot(false);
    net.client.begin_flight(1);
    let ch = net.client.default_client_hello();
    net.client
        .send_handshake(&HandshakeMessage::ClientHello(ch), &SendOptions::default());
    let mut d = net.client.poll_transmit().unwrap();
    d.extend(d.clone());
    let answers = net.deliver_to_board(&d);
    answers.iter().map(|a| split_records(a).len()).sum()
}

#[test]
fn first_record_only() {
    assert_eq!(
        records_answered_to_two_in_one_datagram(Faults::default()),
        2
    );
    assert_eq!(
        records_answered_to_two_in_one_datagram(with("first_record_only")),
        1
    );
}

fn fragments(list: &[(u32, u32, Option<u32>)]) -> SendOptions {
    let specs = list
        .iter()
        .map(|&(offset, len, length)| dicetest::engine::FragmentSpec {
            offset,
            len,
            header: dicetest::engine::HeaderOverrides {
                length,
                ..Default::default()
            },
            ..Default::default()
        })
        .collect();
    SendOptions {
        layout: dicetest::engine::FragmentLayout::Explicit(specs),
        ..Default::default()
    }
}

/// A manual client up to flight 4, then `before` (ClientKeyExchanges sent as the options
/// say), ChangeCipherSpec and Finished. Returns the net and whether the board connected.
fn flight_5_with(faults: Faults, seed: u64, before: &[SendOptions]) -> (Net, bool) {
    let mut net = Net::new(board_with(faults), client(seed));
    up_to_flight_4(&mut net);
    let c = &mut net.client;
    c.begin_flight(5);
    for o in before {
        let cke = c.default_client_key_exchange().unwrap();
        c.send_handshake(&HandshakeMessage::ClientKeyExchange(cke), o);
    }
    c.send_change_cipher_spec(&RecordOverrides::default());
    let verify_data = c.our_finished();
    c.send_handshake(
        &HandshakeMessage::Finished(Finished { verify_data }),
        &SendOptions::default(),
    );
    deliver_client_datagrams(&mut net);
    let connected = net.board.device().sessions().any(|s| s.connected);
    (net, connected)
}

#[test]
fn no_fragment_reassembly() {
    let small = SendOptions {
        layout: dicetest::engine::FragmentLayout::MaxBody(6),
        ..Default::default()
    };
    assert!(flight_5_with(Faults::default(), 44, std::slice::from_ref(&small)).1);
    assert!(!flight_5_with(with("no_fragment_reassembly"), 44, &[small]).1);
}

#[test]
fn fragment_offset_ignored() {
    let reversed = fragments(&[(9, 8, None), (0, 9, None)]);
    assert!(flight_5_with(Faults::default(), 45, std::slice::from_ref(&reversed)).1);
    assert!(!flight_5_with(with("fragment_offset_ignored"), 45, &[reversed]).1);
}

#[test]
fn fragments_merged_by_message_seq() {
    let disagreeing = fragments(&[(0, 9, None), (9, 8, Some(40))]);
    assert!(!flight_5_with(Faults::default(), 46, std::slice::from_ref(&disagreeing)).1);
    assert!(flight_5_with(with("fragments_merged_by_message_seq"), 46, &[disagreeing]).1);
}

#[test]
fn fragment_header_trusted() {
    // 17 bytes of a ClientKeyExchange that claims to be 10 long.
    let lying = fragments(&[(0, 17, Some(10))]);
    for (faults, alive) in [
        (Faults::default(), true),
        (with("fragment_header_trusted"), false),
    ] {
        let (net, connected) = flight_5_with(faults, 47, std::slice::from_ref(&lying));
        assert!(!connected);
        // A live board still waits for the ClientKeyExchange, its flight 4 on a timer.
        assert_eq!(net.board.poll_timeout().is_some(), alive);
    }
}

#[test]
fn message_seq_not_checked() {
    let ahead = SendOptions {
        message_seq: Some(5),
        skip_transcript: true,
        ..Default::default()
    };
    let both = [ahead, SendOptions::default()];
    assert!(flight_5_with(Faults::default(), 48, &both).1);
    assert!(!flight_5_with(with("message_seq_not_checked"), 48, &both).1);
}

fn server_hello_message_seq(faults: Faults) -> u16 {
    let mut net = Net::new(board_with(faults), client(49));
    send_hello(&mut net, &|_| {}, SendOptions::default());
    let f4 = send_hello(&mut net, &|_| {}, SendOptions::default());
    let (_, _, _, fragment) = records(&f4[0]).remove(0);
    assert_eq!(fragment[0], 2, "ServerHello");
    u16::from_be_bytes([fragment[4], fragment[5]])
}

#[test]
fn server_hello_numbered_from_zero() {
    assert_eq!(server_hello_message_seq(Faults::default()), 1);
    assert_eq!(
        server_hello_message_seq(with("server_hello_numbered_from_zero")),
        0
    );
}

fn answers_to_data_before_finished(faults: Faults) -> usize {
    let mut net = Net::new(board_with(faults), client(50));
    up_to_flight_4(&mut net);
    let c = &mut net.client;
    c.begin_flight(5);
    let cke = c.default_client_key_exchange().unwrap();
    c.send_handshake(
        &HandshakeMessage::ClientKeyExchange(cke),
        &SendOptions::default(),
    );
    c.send_change_cipher_spec(&RecordOverrides::default());
    c.send_application_data(&request(40));
    deliver_client_datagrams(&mut net).len()
}

#[test]
fn application_data_before_finished() {
    assert_eq!(answers_to_data_before_finished(Faults::default()), 0);
    assert_eq!(
        answers_to_data_before_finished(with("application_data_before_finished")),
        1
    );
}

/// (answers to a ClientHello and to the same datagram again, whether the board keeps a
/// retransmission timer for flight 4).
fn retransmissions(faults: Faults) -> (usize, usize, bool) {
    let mut net = Net::new(board_with(faults), client(51));
    net.client.set_autopilot(false);
    net.client.begin_flight(1);
    let ch = net.client.default_client_hello();
    net.client
        .send_handshake(&HandshakeMessage::ClientHello(ch), &SendOptions::default());
    let d = net.client.poll_transmit().unwrap();
    let first = net.deliver_to_board(&d);
    let again = net.deliver_to_board(&d).len();
    net.deliver_to_client(&first[0]);
    send_hello(&mut net, &|_| {}, SendOptions::default());
    (first.len(), again, net.board.poll_timeout().is_some())
}

#[test]
fn no_retransmission() {
    assert_eq!(retransmissions(Faults::default()), (1, 1, true));
    assert_eq!(retransmissions(with("no_retransmission")), (1, 0, false));
}

fn change_cipher_spec_after_new_finished(faults: Faults) -> bool {
    let mut net = Net::new(board_with(faults), client(52));
    assert!(net.handshake());
    let c = &mut net.client;
    c.set_autopilot(false);
    c.begin_flight(7);
    c.send_handshake(
        &HandshakeMessage::Finished(Finished {
            verify_data: vec![0; 12],
        }),
        &SendOptions {
            skip_transcript: true,
            ..Default::default()
        },
    );
    let answers = deliver_client_datagrams(&mut net);
    answers.iter().flat_map(|d| records(d)).any(|r| r.0 == 20)
}

#[test]
fn new_message_taken_for_retransmission() {
    assert!(!change_cipher_spec_after_new_finished(Faults::default()));
    assert!(change_cipher_spec_after_new_finished(with(
        "new_message_taken_for_retransmission"
    )));
}

// ==== Handshake, cookies, state machine, alerts, profile ===============================

/// A record in the clear, built by hand: content type, epoch 0, sequence number `seq`.
fn plain_record(content_type: u8, seq: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![content_type, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, seq];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

/// The body of the first handshake message of `msg_type` in the board's plaintext records.
fn plain_message(ds: &[Vec<u8>], msg_type: u8) -> Option<Vec<u8>> {
    ds.iter()
        .flat_map(|d| records(d))
        .filter(|(ct, epoch, _, f)| *ct == 22 && *epoch == 0 && f.len() >= 12)
        .find(|(_, _, _, f)| f[0] == msg_type)
        .map(|(_, _, _, f)| f[12..].to_vec())
}

/// (session id, cipher suite, compression method, extension types) of a ServerHello body.
fn server_hello_fields(sh: &[u8]) -> (Vec<u8>, u16, u8, Vec<u16>) {
    let sid_len = sh[34] as usize;
    let sid = sh[35..35 + sid_len].to_vec();
    let at = 35 + sid_len;
    let suite = u16::from_be_bytes([sh[at], sh[at + 1]]);
    let comp = sh[at + 2];
    let mut types = Vec::new();
    let mut rest = sh.get(at + 5..).unwrap_or(&[]);
    while rest.len() >= 4 {
        types.push(u16::from_be_bytes([rest[0], rest[1]]));
        let n = u16::from_be_bytes([rest[2], rest[3]]) as usize;
        rest = rest.get(4 + n..).unwrap_or(&[]);
    }
    (sid, suite, comp, types)
}

/// What a ServerHello said: (session id, cipher suite, compression method, extension types).
type ServerHelloSeen = (Vec<u8>, u16, u8, Vec<u16>);

/// The ServerHello answering two identical ClientHellos edited by `edit` (the second with
/// the cookie), or the alerts (level, description) when there is none.
fn server_hello_for(
    faults: Faults,
    seed: u64,
    edit: &dyn Fn(&mut dicetest::wire::ClientHello),
) -> Result<ServerHelloSeen, Vec<(u8, u8)>> {
    let mut net = Net::new(board_with(faults), client(seed));
    let hvr = send_hello(&mut net, edit, SendOptions::default());
    assert_eq!(plain_handshake_types(&hvr), vec![3]);
    let answer = send_hello(&mut net, edit, SendOptions::default());
    plain_message(&answer, 2)
        .map(|sh| server_hello_fields(&sh))
        .ok_or_else(|| plain_alerts(&answer))
}

/// A second client, at another port of the same address, sends `datagram`.
fn from_other_port(net: &mut Net, datagram: &[u8]) -> Vec<Vec<u8>> {
    let other: std::net::SocketAddr = "127.0.0.1:40001".parse().unwrap();
    net.board
        .handle_datagram(net.now_ms, other, datagram)
        .into_iter()
        .map(|x| x.1)
        .collect()
}

fn connected(net: &Net) -> bool {
    net.board.device().sessions().any(|s| s.connected)
}

// ---- ignore_alerts -------------------------------------------------------------------

/// How many datagrams answer the client's close_notify, and whether the board still holds
/// the connection.
fn close_notify_answer(faults: Faults) -> (usize, bool) {
    let mut net = Net::new(board_with(faults), client(40));
    assert!(net.handshake());
    net.client.close();
    let mut answers = Vec::new();
    while let Some(d) = net.client.poll_transmit() {
        answers.extend(net.deliver_to_board(&d));
    }
    (answers.len(), connected(&net))
}

#[test]
fn ignore_alerts() {
    assert_eq!(close_notify_answer(Faults::default()), (1, false));
    assert_eq!(close_notify_answer(with("ignore_alerts")), (0, true));
}

// ---- accept_plaintext_records --------------------------------------------------------

fn answers_to_plaintext_request(faults: Faults) -> usize {
    let mut net = Net::new(board_with(faults), client(41));
    assert!(net.handshake());
    let request = coap(0, 1, 11, &[3], &["light"], b"");
    net.deliver_to_board(&plain_record(23, 50, &request)).len()
}

#[test]
fn accept_plaintext_records() {
    assert_eq!(answers_to_plaintext_request(Faults::default()), 0);
    assert_eq!(
        answers_to_plaintext_request(with("accept_plaintext_records")),
        1
    );
}

// ---- skip_finished_check -------------------------------------------------------------

/// Flight 5 with a Finished of zeros: the board's plaintext alerts, and whether it connected.
fn wrong_finished(faults: Faults) -> (Vec<(u8, u8)>, bool) {
    let mut net = Net::new(board_with(faults), client(42));
    up_to_flight_4(&mut net);
    let c = &mut net.client;
    c.begin_flight(5);
    let cke = c.default_client_key_exchange().unwrap();
    c.send_handshake(
        &HandshakeMessage::ClientKeyExchange(cke),
        &SendOptions::default(),
    );
    c.send_change_cipher_spec(&RecordOverrides::default());
    let finished = Finished {
        verify_data: vec![0; 12],
    };
    c.send_handshake(
        &HandshakeMessage::Finished(finished),
        &SendOptions::default(),
    );
    let answers = deliver_client_datagrams(&mut net);
    (plain_alerts(&answers), connected(&net))
}

#[test]
fn skip_finished_check() {
    assert_eq!(wrong_finished(Faults::default()), (vec![(2, 51)], false));
    assert_eq!(wrong_finished(with("skip_finished_check")), (vec![], true));
}

// ---- one_association_at_a_time -------------------------------------------------------

/// A second client's first ClientHello while the first client is half through its
/// handshake: the board's answers to it.
fn second_client_answer(faults: Faults) -> Vec<u8> {
    let mut net = Net::new(board_with(faults), client(43));
    up_to_flight_4(&mut net);
    let mut other = client(44);
    other.start(net.now());
    let hello = other.poll_transmit().unwrap();
    plain_handshake_types(&from_other_port(&mut net, &hello))
}

#[test]
fn one_association_at_a_time() {
    assert_eq!(second_client_answer(Faults::default()), vec![3]);
    assert_eq!(
        second_client_answer(with("one_association_at_a_time")),
        Vec::<u8>::new()
    );
}

// ---- crash_on_unexpected_input -------------------------------------------------------

fn serves_after_a_stray_change_cipher_spec(faults: Faults) -> bool {
    let mut net = Net::new(board_with(faults), client(45));
    assert!(net.deliver_to_board(&plain_record(20, 0, &[1])).is_empty());
    net.handshake()
}

#[test]
fn crash_on_unexpected_input() {
    assert!(serves_after_a_stray_change_cipher_spec(Faults::default()));
    assert!(!serves_after_a_stray_change_cipher_spec(with(
        "crash_on_unexpected_input"
    )));
    // An empty ClientHello: an alert, or (crashed) nothing, then nothing ever again.
    let mut net = Net::new(board_with(with("crash_on_unexpected_input")), client(46));
    let empty = [
        22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    assert!(net.deliver_to_board(&empty).is_empty());
    assert_eq!(net.board.poll_timeout(), None);
    assert!(!net.handshake());
    let mut net = Net::new(board_with(Faults::default()), client(46));
    assert_eq!(plain_alerts(&net.deliver_to_board(&empty)), vec![(2, 50)]);
}

// ---- select_first_compression_method -------------------------------------------------

#[test]
fn select_first_compression_method() {
    use dicetest::wire::CompressionMethod;
    let deflate_first = |ch: &mut dicetest::wire::ClientHello| {
        ch.compression_methods = vec![CompressionMethod::Deflate, CompressionMethod::Null]
    };
    let deflate_only = |ch: &mut dicetest::wire::ClientHello| {
        ch.compression_methods = vec![CompressionMethod::Deflate]
    };
    let off = Faults::default();
    let on = with("select_first_compression_method");
    assert_eq!(server_hello_for(off, 47, &deflate_first).unwrap().2, 0);
    assert_eq!(server_hello_for(on, 47, &deflate_first).unwrap().2, 1);
    assert_eq!(server_hello_for(off, 47, &deflate_only), Err(vec![(2, 47)]));
    assert_eq!(server_hello_for(on, 47, &deflate_only).unwrap().2, 1);
}

// ---- suite_not_checked_against_offer -------------------------------------------------

#[test]
fn suite_not_checked_against_offer() {
    let rsa_only = |ch: &mut dicetest::wire::ClientHello| {
        ch.cipher_suites = vec![dicetest::wire::CipherSuite::from(0x002f)]
    };
    assert_eq!(
        server_hello_for(Faults::default(), 48, &rsa_only),
        Err(vec![(2, 40)])
    );
    let on = with("suite_not_checked_against_offer");
    assert_eq!(server_hello_for(on, 48, &rsa_only).unwrap().1, 0xC0A8);
}

// ---- no_renegotiation_info -----------------------------------------------------------

#[test]
fn no_renegotiation_info() {
    let has_ri = |f: Faults| {
        server_hello_for(f, 49, &|_| {})
            .unwrap()
            .3
            .contains(&0xff01)
    };
    assert!(has_ri(Faults::default()));
    assert!(!has_ri(with("no_renegotiation_info")));
}

// ---- session_id_without_cache --------------------------------------------------------

#[test]
fn session_id_without_cache() {
    let offer = |ch: &mut dicetest::wire::ClientHello| ch.session_id = vec![0x51; 32];
    let off = Faults::default();
    let on = with("session_id_without_cache");
    assert_eq!(
        server_hello_for(off, 50, &|_| {}).unwrap().0,
        Vec::<u8>::new()
    );
    assert_eq!(
        server_hello_for(off, 50, &offer).unwrap().0,
        Vec::<u8>::new()
    );
    assert_eq!(server_hello_for(on, 50, &|_| {}).unwrap().0.len(), 32);
    assert_eq!(server_hello_for(on, 50, &offer).unwrap().0, vec![0x51; 32]);
}

// ---- hello_verify_request_tls_version ------------------------------------------------

fn hello_verify_request_version(faults: Faults) -> u16 {
    let mut net = Net::new(board_with(faults), client(51));
    let hvr = send_hello(&mut net, &|_| {}, SendOptions::default());
    let body = plain_message(&hvr, 3).unwrap();
    u16::from_be_bytes([body[0], body[1]])
}

#[test]
fn hello_verify_request_tls_version() {
    assert_eq!(hello_verify_request_version(Faults::default()), 0xfeff);
    assert_eq!(
        hello_verify_request_version(with("hello_verify_request_tls_version")),
        0x0303
    );
}

// ---- cookie_not_bound_to_port --------------------------------------------------------

/// The cookie earned at one port, brought back from another: the board's answer.
fn cookie_from_other_port(faults: Faults) -> Vec<u8> {
    let mut net = Net::new(board_with(faults), client(52));
    send_hello(&mut net, &|_| {}, SendOptions::default());
    net.client.begin_flight(1);
    let ch = net.client.default_client_hello();
    assert!(!ch.cookie.is_empty());
    net.client
        .send_handshake(&HandshakeMessage::ClientHello(ch), &SendOptions::default());
    let d = net.client.poll_transmit().unwrap();
    plain_handshake_types(&from_other_port(&mut net, &d))
}

#[test]
fn cookie_not_bound_to_port() {
    assert_eq!(cookie_from_other_port(Faults::default()), vec![3]);
    assert_eq!(
        cookie_from_other_port(with("cookie_not_bound_to_port")),
        vec![2, 14]
    );
}

// ---- own_record_numbers_after_cookie -------------------------------------------------

/// The record sequence number of the ServerHello answering a ClientHello sent as record 9.
fn server_hello_record_number(faults: Faults) -> u64 {
    let mut net = Net::new(board_with(faults), client(53));
    send_hello(&mut net, &|_| {}, SendOptions::default());
    let o = SendOptions {
        record: RecordOverrides {
            sequence_number: Some(9),
            ..RecordOverrides::default()
        },
        ..SendOptions::default()
    };
    let answer = send_hello(&mut net, &|_| {}, o);
    let first = answer.iter().flat_map(|d| records(d)).next().unwrap();
    assert_eq!((first.0, first.3[0]), (22, 2), "a ServerHello");
    first.2
}

#[test]
fn own_record_numbers_after_cookie() {
    assert_eq!(server_hello_record_number(Faults::default()), 9);
    assert_eq!(
        server_hello_record_number(with("own_record_numbers_after_cookie")),
        1
    );
}

// ---- client_hello_ends_association ---------------------------------------------------

/// After a handshake, a cookieless epoch-0 ClientHello in the clear from the same address
/// (a client that rebooted, RFC 6347 §4.2.8): the board's answer, and the network.
fn rebooted_client_hello(faults: Faults, seed: u64) -> (Vec<Vec<u8>>, Net) {
    let mut net = Net::new(board_with(faults), client(seed));
    assert!(net.handshake());
    let o = SendOptions {
        message_seq: Some(0),
        record: RecordOverrides {
            epoch: Some(0),
            plaintext: true,
            sequence_number: Some(30),
            ..RecordOverrides::default()
        },
        ..SendOptions::default()
    };
    let answer = send_hello(
        &mut net,
        &|ch| {
            ch.random = [5; 32];
            ch.cookie = Vec::new();
        },
        o,
    );
    (answer, net)
}

/// Whether the connection survives a cookieless epoch-0 ClientHello from its address.
fn survives_a_new_client_hello(faults: Faults) -> bool {
    let (answer, net) = rebooted_client_hello(faults, 54);
    assert_eq!(
        plain_handshake_types(&answer),
        vec![3],
        "a HelloVerifyRequest"
    );
    connected(&net)
}

#[test]
fn client_hello_ends_association() {
    assert!(survives_a_new_client_hello(Faults::default()));
    assert!(!survives_a_new_client_hello(with(
        "client_hello_ends_association"
    )));
}

// ---- every_change_cipher_spec_moves_epoch --------------------------------------------

/// Flight 5 with a second, epoch-0 ChangeCipherSpec before the Finished: whether the
/// handshake completes.
fn completes_after_a_repeated_change_cipher_spec(faults: Faults) -> bool {
    let mut net = Net::new(board_with(faults), client(55));
    up_to_flight_4(&mut net);
    let c = &mut net.client;
    c.begin_flight(5);
    let cke = c.default_client_key_exchange().unwrap();
    c.send_handshake(
        &HandshakeMessage::ClientKeyExchange(cke),
        &SendOptions::default(),
    );
    c.send_change_cipher_spec(&RecordOverrides::default());
    deliver_client_datagrams(&mut net);
    assert!(net.deliver_to_board(&plain_record(20, 20, &[1])).is_empty());
    let verify_data = net.client.our_finished();
    net.client.send_handshake(
        &HandshakeMessage::Finished(Finished { verify_data }),
        &SendOptions::default(),
    );
    deliver_client_datagrams(&mut net);
    connected(&net)
}

#[test]
fn every_change_cipher_spec_moves_epoch() {
    assert!(completes_after_a_repeated_change_cipher_spec(
        Faults::default()
    ));
    assert!(!completes_after_a_repeated_change_cipher_spec(with(
        "every_change_cipher_spec_moves_epoch"
    )));
}

// ---- refuse_unknown_extensions -------------------------------------------------------

#[test]
fn refuse_unknown_extensions() {
    use dicetest::wire::Extension;
    // RFC 6066 §4: max_fragment_length 2^9, which the board does not implement.
    let mfl = |ch: &mut dicetest::wire::ClientHello| {
        ch.extensions
            .get_or_insert_with(Vec::new)
            .push(Extension::MaxFragmentLength(1))
    };
    let on = with("refuse_unknown_extensions");
    assert!(server_hello_for(Faults::default(), 53, &mfl).is_ok());
    assert_eq!(server_hello_for(on, 53, &mfl), Err(vec![(2, 110)]));
    // The two extensions the board acts on are not refused.
    assert!(server_hello_for(on, 53, &|_| {}).is_ok());
}

// ---- retransmission_changes_content --------------------------------------------------

/// Flight 4 as first sent and as sent again on the board's timer: the ServerHello bodies.
fn server_hello_and_repeat(faults: Faults) -> (Vec<u8>, Vec<u8>) {
    let mut net = Net::new(board_with(faults), client(54));
    send_hello(&mut net, &|_| {}, SendOptions::default());
    let first = send_hello(&mut net, &|_| {}, SendOptions::default());
    let at = net.board.poll_timeout().expect("flight 4 has a timer");
    let again = net.board.handle_timeout(at);
    let again: Vec<Vec<u8>> = again.into_iter().map(|x| x.1).collect();
    (
        plain_message(&first, 2).expect("a ServerHello"),
        plain_message(&again, 2).expect("a repeated ServerHello"),
    )
}

#[test]
fn retransmission_changes_content() {
    let (a, b) = server_hello_and_repeat(Faults::default());
    assert_eq!(a, b, "RFC 6347 §4.2.4: the same message again");
    let (a, b) = server_hello_and_repeat(with("retransmission_changes_content"));
    assert_ne!(a, b);
    assert_eq!(a.len(), b.len());
}

// ---- client_hello_ignored_on_association -------------------------------------------------

/// How many datagrams answer a rebooted client's ClientHello (a new handshake begins with a
/// HelloVerifyRequest, RFC 6347 §4.2.8).
fn answers_to_a_rebooted_client(faults: Faults) -> usize {
    rebooted_client_hello(faults, 56).0.len()
}

#[test]
fn client_hello_ignored_on_association() {
    assert_eq!(answers_to_a_rebooted_client(Faults::default()), 1);
    assert_eq!(
        answers_to_a_rebooted_client(with("client_hello_ignored_on_association")),
        0
    );
}

// ---- protected_records_version_1_0 --------------------------------------------------------

/// The record version of the board's protected answer to a request (RFC 6347 §4.1).
fn protected_answer_version(faults: Faults) -> u16 {
    let mut net = Net::new(board_with(faults), client(57));
    assert!(net.handshake());
    net.client
        .send_application_data(&coap(1, 1, 9, &[1], &["light"], b""));
    let d = net.client.poll_transmit().unwrap();
    let answer = net.deliver_to_board(&d);
    let first = answer.first().expect("the request is answered");
    assert!(first[3] != 0 || first[4] != 0, "an epoch-1 record");
    u16::from_be_bytes([first[1], first[2]])
}

#[test]
fn protected_records_version_1_0() {
    assert_eq!(protected_answer_version(Faults::default()), 0xfefd);
    assert_eq!(
        protected_answer_version(with("protected_records_version_1_0")),
        0xfeff
    );
}
