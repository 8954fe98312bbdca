//! In-memory plumbing for engine tests: two sans-IO endpoints and a virtual clock.

#![allow(dead_code)]

pub mod peers;

use std::time::Duration;

use dicetest::engine::{Config, Connection, Event};
use dicetest::time::Instant;

pub const PSK_ID: &[u8] = b"Client_identity";
pub const PSK: &[u8] = b"secretPSK";

pub fn psk_pair(suites: &[u16]) -> (Connection, Connection) {
    let c = Connection::new(
        Config::client()
            .with_psk(PSK_ID, PSK)
            .with_suites(suites)
            .with_seed(1),
    );
    let s = Connection::new(
        Config::server()
            .with_psk(PSK_ID, PSK)
            .with_suites(suites)
            .with_seed(2),
    );
    (c, s)
}

/// Moves datagrams both ways until nothing moves; `filter(from_client, index, datagram)`
/// returns false to drop a datagram. Returns the number of datagrams delivered.
pub fn pump(
    c: &mut Connection,
    s: &mut Connection,
    now: Instant,
    filter: &mut dyn FnMut(bool, usize, &[u8]) -> bool,
    counter: &mut usize,
) -> usize {
    let mut moved = 0;
    loop {
        let mut any = false;
        while let Some(d) = c.poll_transmit() {
            any = true;
            *counter += 1;
            if filter(true, *counter, &d) {
                s.handle_datagram(now, &d);
                moved += 1;
            }
        }
        while let Some(d) = s.poll_transmit() {
            any = true;
            *counter += 1;
            if filter(false, *counter, &d) {
                c.handle_datagram(now, &d);
                moved += 1;
            }
        }
        if !any {
            return moved;
        }
    }
}

/// Runs the handshake on a virtual clock, firing timers, until both are connected or
/// `limit` of virtual time passes. Returns the virtual time it took.
pub fn handshake(
    c: &mut Connection,
    s: &mut Connection,
    filter: &mut dyn FnMut(bool, usize, &[u8]) -> bool,
) -> Option<Duration> {
    let mut now = Instant::ZERO;
    let mut counter = 0;
    c.start(now);
    for _ in 0..200 {
        pump(c, s, now, filter, &mut counter);
        if c.is_connected() && s.is_connected() {
            return Some(now - Instant::ZERO);
        }
        if c.is_finished() || s.is_finished() {
            return None;
        }
        let next = [c.poll_timeout(), s.poll_timeout()]
            .into_iter()
            .flatten()
            .min()?;
        now = next;
        c.handle_timeout(now);
        s.handle_timeout(now);
    }
    None
}

pub fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

pub fn app_data(conn: &mut Connection) -> Vec<Vec<u8>> {
    events(conn)
        .into_iter()
        .filter_map(|e| match e {
            Event::ApplicationData(d) => Some(d),
            _ => None,
        })
        .collect()
}
