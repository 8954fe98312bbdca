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
