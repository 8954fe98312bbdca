//! dicetest's engine as a client peer of the in-process SimBoard on a virtual clock:
//! handshakes, CoAP over the session, and retransmission without waiting.

mod support;

use dut_sim::Faults;
use support::*;

#[test]
fn handshake_then_coap_get_put_get() {
    let mut net = Net::new(board_with(Faults::default()), client(1));
    assert!(net.handshake(), "handshake did not complete");
    assert_eq!(net.client.cipher_suite(), Some(0xC0A8));
    assert!(net.client.params.extended_master_secret);
    assert!(net.board.device().sessions().any(|s| s.connected));

    net.send_app(&coap(0, 1, 0x100, &[1, 2], &["light"], b""));
    let r = net.app_data();
    assert_eq!(r.len(), 1);
    assert_eq!(
        coap_parts(&r[0]),
        (2, 0x45, 0x100, vec![1, 2], b"off".to_vec())
    );

    net.send_app(&coap(0, 3, 0x101, &[3], &["light"], b"on"));
    assert_eq!(coap_parts(&net.app_data()[0]).1, 0x44);
    assert!(net.board.device().light_on());

    net.board.device_mut().sensors_mut().temperature_decicelsius = 198;
    net.send_app(&coap(1, 1, 0x102, &[4], &["sensors", "temperature"], b""));
    let (t, code, _, tok, p) = coap_parts(&net.app_data()[0]);
    assert_eq!((t, code, tok, p), (1, 0x45, vec![4], b"19.8".to_vec()));
}

#[test]
fn a_lost_flight_4_comes_again_after_the_timer_without_real_waiting() {
    let mut net = Net::new(board_with(Faults::default()), client(2));
    // Datagrams: 1 CH, 2 HVR, 3 CH+cookie, 4 flight 4 (dropped).
    let mut dropped_at = None;
    let ok = net.run(&mut |from_client, i, d| {
        let flight4 = !from_client && plain_handshake_types(&[d.to_vec()]).first() == Some(&2);
        if flight4 && dropped_at.is_none() {
            dropped_at = Some(i);
            return false;
        }
        true
    });
    assert!(ok, "no recovery from a lost flight 4");
    assert!(dropped_at.is_some());
    let server_hellos = plain_handshake_types(&net.from_board)
        .iter()
        .filter(|&&t| t == 2)
        .count();
    // Once lost, then again on the board's timer; the client's repeated flight 3 due at
    // the same virtual instant may draw one more copy.
    assert!(
        (2..=3).contains(&server_hellos),
        "{server_hellos} ServerHellos"
    );
    // The retransmission came from the board's timer (1 s) or the client's repeated
    // flight 3; either way on virtual time, well under the client's own giving up.
    assert!(net.now_ms >= 1000 && net.now_ms < 10_000, "{}", net.now_ms);
}

#[test]
fn the_board_timer_alone_resends_flight_4_with_backoff() {
    let mut net = Net::new(board_with(Faults::default()), client(3));
    let now = net.now();
    net.client.start(now);
    let ch1 = net.client.poll_transmit().unwrap();
    let hvr = net.deliver_to_board(&ch1);
    net.deliver_to_client(&hvr[0]);
    let ch2 = net.client.poll_transmit().unwrap();
    let f4 = net.deliver_to_board(&ch2);
    assert_eq!(plain_handshake_types(&f4), vec![2, 14]);
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = net.board.poll_timeout().expect("a running timer");
        times.push(t);
        let again = net.board.handle_timeout(t);
        assert_eq!(again.len(), 1);
        let seqs: Vec<u64> = records(&again[0].1).iter().map(|r| r.2).collect();
        let first: Vec<u64> = records(&f4[0]).iter().map(|r| r.2).collect();
        assert!(
            seqs[0] > first[0],
            "a retransmission takes new sequence numbers"
        );
    }
    // RFC 6347 §4.2.4.1 defaults: 1 s, then doubling.
    assert_eq!(times, vec![1000, 3000, 7000]);
}

#[test]
fn flight_6_is_resent_only_when_the_client_repeats_flight_5() {
    let mut net = Net::new(board_with(Faults::default()), client(4));
    let mut dropped = false;
    let ok = net.run(&mut |from_client, _, d| {
        let has_ccs = records(d).iter().any(|r| r.0 == 20);
        if !from_client && has_ccs && !dropped {
            dropped = true;
            return false;
        }
        true
    });
    assert!(dropped);
    assert!(ok, "the handshake did not recover from a lost flight 6");
    let flights6 = net
        .from_board
        .iter()
        .filter(|d| records(d).iter().any(|r| r.0 == 20))
        .count();
    assert_eq!(flights6, 2);
    assert_eq!(net.board.poll_timeout(), None, "flight 6 has no timer");
}

#[test]
fn every_lost_datagram_is_recovered() {
    for lost in 1..=8 {
        let mut net = Net::new(board_with(Faults::default()), client(10 + lost as u64));
        assert!(
            net.run(&mut |_, i, _| i != lost),
            "handshake failed when datagram {lost} was lost"
        );
    }
}

#[test]
fn close_notify_is_answered_and_the_session_forgotten() {
    let mut net = Net::new(board_with(Faults::default()), client(5));
    assert!(net.handshake());
    net.client.close();
    while let Some(d) = net.client.poll_transmit() {
        for r in net.deliver_to_board(&d) {
            net.deliver_to_client(&r);
        }
    }
    assert_eq!(net.board.device().sessions().count(), 0);
    let last = net.from_board.last().expect("an answer");
    let alert = records(last);
    assert_eq!(
        (alert[0].0, alert[0].1),
        (21, 1),
        "the board did not answer close_notify with a protected alert"
    );
}
