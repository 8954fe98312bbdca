//! The passive monitor of interop sessions (harness/src/monitor): both directions of an
//! exchange, each datagram chosen by the fuzzer, followed with the PSK. Seeds are the
//! recorded third-party handshakes, so mutations start deep inside a real session.
#![no_main]
use dicetest::monitor::{Monitor, Side};
use dicetest_fuzz::{datagrams, PSK};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut m = Monitor::new(Some(PSK.to_vec()), Vec::new());
    for (from_server, d) in datagrams(data) {
        let side = if from_server {
            Side::Server
        } else {
            Side::Client
        };
        for e in m.on_datagram(side, d) {
            let _ = format!("{e:?}");
        }
    }
    let _ = (
        m.master_secret(),
        m.cipher_suite(),
        m.handshakes_completed(),
    );
    let _ = m.next_association();
});
