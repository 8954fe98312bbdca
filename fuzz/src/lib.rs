//! Shared plumbing of the fuzz targets: how one fuzz input becomes several datagrams, and
//! the engine pairs driven to each handshake state before hostile bytes arrive.
//!
//! The targets hunt panics, arithmetic overflow (debug assertions are on), endless loops
//! (libFuzzer's `-timeout`) and unbounded memory (`-rss_limit_mb`) in every parser that
//! reads bytes a device under test chose.

use dicetest::engine::{Config, Connection};
use dicetest::time::Instant;

/// The PSK every target and seed uses: the demo key of the shipped profiles and of the
/// recorded third-party transcripts (`vectors/transcripts/`), so seeds from those
/// transcripts decrypt.
pub const PSK_IDENTITY: &[u8] = b"Client_identity";
pub const PSK: &[u8] = b"secretPSK";

/// Splits a fuzz input into datagrams: each is a 2-byte big-endian header (the top bit
/// names the sender, 1 = server; the other 15 bits the length) and that many bytes. A
/// short last datagram takes what is left. This framing lets libFuzzer cut, grow and
/// reorder whole datagrams as well as bytes inside them.
pub fn datagrams(mut data: &[u8]) -> Vec<(bool, &[u8])> {
    let mut out = Vec::new();
    while data.len() >= 2 {
        let h = u16::from_be_bytes([data[0], data[1]]);
        let from_server = h & 0x8000 != 0;
        let len = usize::from(h & 0x7fff).min(data.len() - 2);
        out.push((from_server, &data[2..2 + len]));
        data = &data[2 + len..];
    }
    out
}

/// The inverse of [`datagrams`], for writing seeds.
pub fn frame(list: &[(bool, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (from_server, d) in list {
        let len = d.len().min(0x7fff) as u16;
        let h = len | if *from_server { 0x8000 } else { 0 };
        out.extend_from_slice(&h.to_be_bytes());
        out.extend_from_slice(&d[..usize::from(len)]);
    }
    out
}

/// A PSK client and server of the harness's engine, seeds fixed so every run sends the
/// same bytes (the seeds in `fuzz/seeds/engine/` are valid records for this pair).
pub fn psk_pair(suite: u16) -> (Connection, Connection) {
    let c = Connection::new(
        Config::client()
            .with_psk(PSK_IDENTITY, PSK)
            .with_suites(&[suite])
            .with_seed(1),
    );
    let s = Connection::new(
        Config::server()
            .with_psk(PSK_IDENTITY, PSK)
            .with_suites(&[suite])
            .with_seed(2),
    );
    (c, s)
}

/// Moves datagrams between the two until nothing moves or `budget` datagrams moved; a
/// handler that sees every datagram gets it too.
pub fn pump(
    c: &mut Connection,
    s: &mut Connection,
    now: Instant,
    budget: usize,
    seen: &mut dyn FnMut(bool, &[u8]),
) {
    let mut moved = 0;
    while moved < budget {
        let mut any = false;
        while let Some(d) = c.poll_transmit() {
            seen(false, &d);
            s.handle_datagram(now, &d);
            any = true;
            moved += 1;
        }
        while let Some(d) = s.poll_transmit() {
            seen(true, &d);
            c.handle_datagram(now, &d);
            any = true;
            moved += 1;
        }
        if !any {
            break;
        }
    }
}

/// How far the pair gets before the hostile datagrams: the number of datagrams of the
/// clean handshake delivered (0 = nothing; a large number = connected).
pub fn staged_pair(suite: u16, delivered: usize) -> (Connection, Connection) {
    let (mut c, mut s) = psk_pair(suite);
    let now = Instant::ZERO;
    c.start(now);
    let mut n = 0;
    'outer: loop {
        let mut any = false;
        while let Some(d) = c.poll_transmit() {
            if n >= delivered {
                break 'outer;
            }
            s.handle_datagram(now, &d);
            n += 1;
            any = true;
        }
        while let Some(d) = s.poll_transmit() {
            if n >= delivered {
                break 'outer;
            }
            c.handle_datagram(now, &d);
            n += 1;
            any = true;
        }
        if !any {
            break;
        }
    }
    while c.poll_event().is_some() {}
    while s.poll_event().is_some() {}
    (c, s)
}

/// Drains what an endpoint wants to say, so queues never grow across inputs.
pub fn drain(x: &mut Connection) {
    while x.poll_transmit().is_some() {}
    while x.poll_event().is_some() {}
}
