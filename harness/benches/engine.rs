//! Rough speed figures for the engine, printed and never asserted:
//!
//! - (a) in-memory PSK-CCM8 handshakes per second, engine against engine, with the cookie
//!   exchange of RFC 6347 §4.2.1;
//! - (b, c) record protect/unprotect throughput of CCM-8, CCM and CBC-SHA256 for small and
//!   large payloads, straight on `dicetest_crypto::record_protection` with a fixed key.
//!
//! `cargo bench -p dicetest --bench engine`. No criterion: plain loops timed with
//! `std::time::Instant`, a fixed time budget each, so the whole run takes a few seconds.

use std::hint::black_box;
use std::time::{Duration, Instant};

use dicetest::crypto::{record_protection, suite_by_id, AadFields, RecordProtection};
use dicetest::engine::{Config, Connection};
use dicetest::time::Instant as EngineInstant;

const PSK_ID: &[u8] = b"Client_identity";
const PSK: &[u8] = b"secretPSK";

/// Time budget of each measurement.
const BUDGET: Duration = Duration::from_millis(300);

/// Runs `f` repeatedly for about `budget`; returns (iterations, elapsed).
fn timed(budget: Duration, mut f: impl FnMut()) -> (u64, Duration) {
    // Warm-up: caches, lazy statics, the allocator.
    for _ in 0..8 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u64;
    // Check the clock every few iterations only, so cheap bodies are not dominated by it.
    while start.elapsed() < budget {
        for _ in 0..16 {
            f();
        }
        n += 16;
    }
    (n, start.elapsed())
}

/// One full handshake between two fresh engines on a virtual clock that never moves:
/// nothing is lost, so no timer ever has to fire.
fn handshake(seed: u64) -> bool {
    let cc = Config::client()
        .with_psk(PSK_ID, PSK)
        .with_suites(&[0xC0A8])
        .with_seed(seed);
    let sc = Config::server()
        .with_psk(PSK_ID, PSK)
        .with_suites(&[0xC0A8])
        .with_seed(!seed);
    let (mut c, mut s) = (Connection::new(cc), Connection::new(sc));
    let now = EngineInstant::ZERO;
    c.start(now);
    loop {
        let mut moved = false;
        while let Some(d) = c.poll_transmit() {
            moved = true;
            s.handle_datagram(now, &d);
        }
        while let Some(d) = s.poll_transmit() {
            moved = true;
            c.handle_datagram(now, &d);
        }
        if !moved {
            return c.is_connected() && s.is_connected();
        }
    }
}

fn bench_handshakes() {
    let mut seed = 0u64;
    let mut failures = 0u64;
    let (n, took) = timed(Duration::from_secs(1), || {
        seed += 1;
        if !black_box(handshake(seed)) {
            failures += 1;
        }
    });
    let per_sec = n as f64 / took.as_secs_f64();
    println!(
        "(a) PSK-CCM8 handshakes, engine against engine, with cookie exchange: {per_sec:>9.0} /s  \
         ({:.1} µs each, {n} runs{})",
        took.as_secs_f64() * 1e6 / n as f64,
        if failures > 0 {
            format!(", {failures} FAILED")
        } else {
            String::new()
        }
    );
}

/// A fixed key for `suite`: the bytes do not matter for speed, only the lengths.
fn fixed_protection(suite: u16) -> Box<dyn RecordProtection> {
    let params = suite_by_id(suite).expect("known suite");
    let key = vec![0x42; params.enc_key_len];
    let iv = vec![0x24; params.fixed_iv_len];
    let mac_key = vec![0x5A; params.mac_key_len];
    record_protection(params, &key, &iv, &mac_key)
}

fn aad(sequence_number: u64) -> AadFields {
    AadFields {
        epoch: 1,
        sequence_number,
        content_type: 23,
        version: [0xFE, 0xFD],
    }
}

/// The explicit nonce (CCM, RFC 6655 §3: epoch || seq) or IV (CBC) for a record.
fn explicit(p: &dyn RecordProtection, a: &AadFields) -> Vec<u8> {
    let mut e = a.seq_num().expect("48-bit sequence number").to_vec();
    e.resize(p.explicit_nonce_len(), 0x11);
    e
}

fn mb_per_s(bytes: usize, n: u64, took: Duration) -> f64 {
    (bytes as f64 * n as f64) / took.as_secs_f64() / 1e6
}

fn bench_records(label: &str, suite: u16) {
    let p = fixed_protection(suite);
    for size in [16usize, 1024] {
        let plaintext = vec![0xA5u8; size];
        let mut seq = 0u64;
        let (n_seal, t_seal) = timed(BUDGET, || {
            seq += 1;
            let a = aad(seq);
            let e = explicit(p.as_ref(), &a);
            black_box(p.seal(&a, &e, black_box(&plaintext)));
        });
        // Unprotect one genuine record again and again: the cost is the cipher, not the
        // replay window, which lives in the engine's record layer.
        let a = aad(7);
        let fragment = p.seal(&a, &explicit(p.as_ref(), &a), &plaintext);
        let (n_open, t_open) = timed(BUDGET, || {
            let pt = p
                .open(&a, black_box(&fragment))
                .expect("genuine record opens");
            black_box(pt);
        });
        println!(
            "{label:<23} {size:>5} B payload: protect {:>8.1} MB/s ({:>9.0} records/s)   unprotect {:>8.1} MB/s ({:>9.0} records/s)",
            mb_per_s(size, n_seal, t_seal),
            n_seal as f64 / t_seal.as_secs_f64(),
            mb_per_s(size, n_open, t_open),
            n_open as f64 / t_open.as_secs_f64(),
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument, if any, is ignored.
    println!("dicetest engine figures (printed, not asserted)");
    bench_handshakes();
    bench_records("(b) AES-128-CCM-8", 0xC0A8);
    bench_records("(c) AES-128-CCM", 0xC0A4);
    bench_records("(c) AES-128-CBC-SHA256", 0x00AE);
}
