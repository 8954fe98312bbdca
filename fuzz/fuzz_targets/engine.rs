//! The harness's engine fed hostile datagrams in each state of a handshake. The first byte
//! picks which side is attacked and the suite, the second how many datagrams of a clean
//! handshake were delivered first (so every state from "nothing yet" to "connected" is
//! reached); the rest are the attacker's datagrams (framing of `dicetest_fuzz::datagrams`),
//! each followed by a timer tick.
#![no_main]
use std::time::Duration;

use dicetest::time::Instant;
use dicetest_fuzz::{datagrams, drain, staged_pair};
use libfuzzer_sys::fuzz_target;

const SUITES: [u16; 3] = [0xC0A8, 0xC0A4, 0x00AE];

fuzz_target!(|data: &[u8]| {
    let [pick, stage, rest @ ..] = data else {
        return;
    };
    let suite = SUITES[usize::from(*pick >> 1) % SUITES.len()];
    let (mut c, mut s) = staged_pair(suite, usize::from(*stage % 16));
    let target = if pick & 1 == 0 { &mut c } else { &mut s };
    let mut now = Instant::ZERO;
    for (_, d) in datagrams(rest).into_iter().take(64) {
        now = now + Duration::from_millis(10);
        target.handle_datagram(now, d);
        drain(target);
        if let Some(t) = target.poll_timeout() {
            target.handle_timeout(t.max(now));
            drain(target);
        }
    }
    let _ = (target.state(), target.is_connected(), target.keylog_line());
});
