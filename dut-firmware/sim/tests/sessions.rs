//! The session table under pressure, and hostile bytes in every state.

mod support;

use std::net::SocketAddr;

use dicetest::engine::Connection;
use dicetest::time::Instant;
use dut_sim::{default_config, peer_of, Device, Faults};
use support::*;

/// Moves datagrams between `c` (at `addr`) and the device until quiet.
fn pump<const N: usize>(dev: &mut Device<N>, c: &mut Connection, addr: SocketAddr, now: u64) {
    let peer = peer_of(addr);
    loop {
        let mut moved = false;
        while let Some(d) = c.poll_transmit() {
            moved = true;
            let mut answers = Vec::new();
            dev.handle_datagram(now, peer, &mut d.clone(), &mut |to, b| {
                assert_eq!(*to, peer);
                answers.push(b.to_vec())
            });
            for a in answers {
                c.handle_datagram(Instant::from_millis(now), &a);
            }
        }
        if !moved {
            return;
        }
    }
}

#[test]
fn the_oldest_unfinished_handshake_is_evicted_not_the_connection() {
    let mut dev: Device<2> = Device::new(default_config());
    let a: SocketAddr = "127.0.0.1:1001".parse().unwrap();
    let b: SocketAddr = "127.0.0.1:1002".parse().unwrap();
    let c: SocketAddr = "127.0.0.1:1003".parse().unwrap();
    let mut ca = client(41);
    ca.start(Instant::ZERO);
    pump(&mut dev, &mut ca, a, 0);
    assert!(ca.is_connected());

    // B stops after the cookie exchange: flight 4 is never answered.
    let mut cb = client(42);
    cb.start(Instant::ZERO);
    let ch1 = cb.poll_transmit().unwrap();
    let mut hvr = Vec::new();
    dev.handle_datagram(1, peer_of(b), &mut ch1.clone(), &mut |_, d| {
        hvr.push(d.to_vec())
    });
    cb.handle_datagram(Instant::from_millis(1), &hvr[0]);
    let ch2 = cb.poll_transmit().unwrap();
    dev.handle_datagram(1, peer_of(b), &mut ch2.clone(), &mut |_, _| {});
    assert_eq!(dev.sessions().count(), 2);

    // C needs a slot: B's unfinished handshake goes, A's connection stays.
    let mut cc = client(43);
    cc.start(Instant::from_millis(2));
    pump(&mut dev, &mut cc, c, 2);
    assert!(cc.is_connected());
    let peers: Vec<_> = dev.sessions().map(|s| s.peer).collect();
    assert!(peers.contains(&peer_of(a)) && peers.contains(&peer_of(c)));
    assert!(!peers.contains(&peer_of(b)));

    // A still talks CoAP.
    ca.send_application_data(&coap(0, 1, 1, &[], &["light"], b""));
    pump(&mut dev, &mut ca, a, 3);
    let got = std::iter::from_fn(|| ca.poll_event())
        .any(|e| matches!(e, dicetest::engine::Event::ApplicationData(_)));
    assert!(got, "the connected session was disturbed");
}

#[test]
fn cookies_survive_one_rotation_but_not_two() {
    let mut cfg = default_config();
    cfg.cookie_rotation_ms = 1000;
    let mut dev: Device<2> = Device::new(cfg);
    let addr: SocketAddr = "127.0.0.1:2000".parse().unwrap();
    let mut types_after = |delay: u64, seed: u64| {
        let mut c = client(seed);
        c.start(Instant::ZERO);
        let ch1 = c.poll_transmit().unwrap();
        let t0 = 10_000 * seed;
        let mut hvr = Vec::new();
        dev.handle_datagram(t0, peer_of(addr), &mut ch1.clone(), &mut |_, d| {
            hvr.push(d.to_vec())
        });
        c.handle_datagram(Instant::ZERO, &hvr[0]);
        let ch2 = c.poll_transmit().unwrap();
        let mut answer = Vec::new();
        dev.handle_datagram(t0 + delay, peer_of(addr), &mut ch2.clone(), &mut |_, d| {
            answer.push(d.to_vec())
        });
        plain_handshake_types(&answer)
    };
    assert_eq!(types_after(0, 1), vec![2, 14]);
    assert_eq!(
        types_after(1500, 2),
        vec![2, 14],
        "previous secret still accepted"
    );
    assert_eq!(
        types_after(2500, 3),
        vec![3],
        "two rotations later: a new cookie"
    );
}

/// A small deterministic generator for hostile inputs.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn random_and_mutated_datagrams_never_panic_in_any_state() {
    let mut rng = Lcg(7);
    for faults in [Faults::default(), {
        // Every switch but those under which no handshake completes at all (the engine
        // packs flight 5 into one datagram; it takes ServerHello only as message 1).
        const NO_HANDSHAKE: &[&str] = &["first_record_only", "server_hello_numbered_from_zero"];
        let mut f = Faults::default();
        for n in Faults::NAMES.iter().filter(|n| !NO_HANDSHAKE.contains(n)) {
            f.set_by_name(n);
        }
        f
    }] {
        let mut net = Net::new(board_with(faults), client(44));
        assert!(net.handshake());
        let samples: Vec<Vec<u8>> = net
            .from_client
            .iter()
            .chain(net.from_board.iter())
            .cloned()
            .collect();
        for i in 0..20_000u64 {
            let mut d = samples[(rng.next() as usize) % samples.len()].clone();
            match i % 4 {
                0 => {
                    let n = (rng.next() % 64) as usize;
                    d = (0..n).map(|_| rng.next() as u8).collect();
                }
                1 => {
                    let at = (rng.next() as usize) % d.len();
                    d[at] ^= 1 << (rng.next() % 8);
                }
                2 => {
                    let n = (rng.next() as usize) % d.len();
                    d.truncate(n);
                }
                _ => {
                    let at = (rng.next() as usize) % d.len();
                    d[at] = rng.next() as u8;
                }
            }
            net.deliver_to_board(&d);
            if i % 1000 == 0 {
                if let Some(t) = net.board.poll_timeout() {
                    net.board.handle_timeout(t);
                }
            }
        }
    }
}
