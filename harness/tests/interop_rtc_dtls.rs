//! The engine against webrtc-rs's sans-IO DTLS (rtc-dtls, via peers/rtc-peer), in-process on
//! one virtual clock: a deterministic third-party peer for both roles.

use std::time::Duration;

use dicetest::engine::{Config, Connection, Event};
use rtc_peer::{PskPeerConfig, Role, RtcPeer};

/// Our clock and theirs, advanced together.
struct Clocks {
    base: std::time::Instant,
    ours: dicetest::time::Instant,
}

impl Clocks {
    fn theirs(&self) -> std::time::Instant {
        self.base + (self.ours - dicetest::time::Instant::ZERO)
    }
}

/// Pumps until both sides are done or 60 s of virtual time pass. `drop_first_from_them`
/// loses their first datagram, to exercise retransmission on both clocks.
fn run(
    ours: &mut Connection,
    theirs: &mut RtcPeer,
    clocks: &mut Clocks,
    mut drop_first_from_them: bool,
) -> bool {
    for _ in 0..500 {
        let mut moved = true;
        while moved {
            moved = false;
            while let Some(d) = ours.poll_transmit() {
                moved = true;
                let _ = theirs.handle_datagram(clocks.theirs(), &d);
            }
            while let Some(d) = theirs.poll_transmit() {
                moved = true;
                if drop_first_from_them {
                    drop_first_from_them = false;
                    continue;
                }
                ours.handle_datagram(clocks.ours, &d);
            }
        }
        if ours.is_connected() && theirs.is_handshake_complete() {
            return true;
        }
        if ours.is_finished() || theirs.failure().is_some() {
            return false;
        }
        let t_ours = ours.poll_timeout();
        let t_theirs = theirs
            .poll_timeout()
            .map(|t| dicetest::time::Instant::ZERO + t.saturating_duration_since(clocks.base));
        let Some(next) = [t_ours, t_theirs].into_iter().flatten().min() else {
            return false;
        };
        if next - dicetest::time::Instant::ZERO > Duration::from_secs(60) {
            return false;
        }
        clocks.ours = clocks.ours.max(next);
        ours.handle_timeout(clocks.ours);
        theirs.handle_timeout(clocks.theirs());
    }
    false
}

fn ours(cfg: Config) -> Connection {
    Connection::new(cfg.with_psk(b"Client_identity", b"secretPSK").with_seed(77))
}

fn theirs(role: Role, clocks: &Clocks) -> RtcPeer {
    let mut cfg = PskPeerConfig::new(role, b"Client_identity", b"secretPSK");
    cfg.seed = Some(5);
    RtcPeer::new(cfg, clocks.theirs()).expect("rtc peer")
}

fn exchange(ours: &mut Connection, theirs: &mut RtcPeer, clocks: &Clocks) {
    ours.send_application_data(b"from dicetest");
    while let Some(d) = ours.poll_transmit() {
        theirs.handle_datagram(clocks.theirs(), &d).unwrap();
    }
    assert_eq!(
        theirs.poll_application_data().as_deref(),
        Some(&b"from dicetest"[..])
    );
    theirs.send_application_data(b"from rtc-dtls").unwrap();
    while let Some(d) = theirs.poll_transmit() {
        ours.handle_datagram(clocks.ours, &d);
    }
    let got: Vec<Vec<u8>> = std::iter::from_fn(|| ours.poll_event())
        .filter_map(|e| match e {
            Event::ApplicationData(d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(got, vec![b"from rtc-dtls".to_vec()]);
}

#[test]
fn our_client_against_rtc_dtls_server() {
    for drop in [false, true] {
        let mut clocks = Clocks {
            base: std::time::Instant::now(),
            ours: dicetest::time::Instant::ZERO,
        };
        let mut s = theirs(Role::Server, &clocks);
        let mut c = ours(Config::client());
        c.start(clocks.ours);
        assert!(
            run(&mut c, &mut s, &mut clocks, drop),
            "handshake failed (drop first = {drop})"
        );
        assert_eq!(c.cipher_suite(), Some(0xC0A8));
        assert_eq!(s.negotiated_suite(), Some(0xC0A8));
        exchange(&mut c, &mut s, &clocks);
    }
}

#[test]
fn our_server_against_rtc_dtls_client() {
    for drop in [false, true] {
        let mut clocks = Clocks {
            base: std::time::Instant::now(),
            ours: dicetest::time::Instant::ZERO,
        };
        let mut c = theirs(Role::Client, &clocks);
        let mut s = ours(Config::server());
        assert!(
            run(&mut s, &mut c, &mut clocks, drop),
            "handshake failed (drop first = {drop})"
        );
        assert_eq!(s.cipher_suite(), Some(0xC0A8));
        exchange(&mut s, &mut c, &clocks);
    }
}

#[test]
fn a_wrong_psk_does_not_connect() {
    let mut clocks = Clocks {
        base: std::time::Instant::now(),
        ours: dicetest::time::Instant::ZERO,
    };
    let mut s = theirs(Role::Server, &clocks);
    let mut c = Connection::new(
        Config::client()
            .with_psk(b"Client_identity", b"not the key")
            .with_seed(3),
    );
    c.start(clocks.ours);
    assert!(!run(&mut c, &mut s, &mut clocks, false));
    assert!(!c.is_connected());
}
