//! The interpreter's own bounds: a DUT that never stops sending cannot make one case's
//! trace, capture or held observations grow without limit.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Interpreter, MAX_CAPTURED_BYTES, MAX_TRACE_LINES};
use crate::cases::load::load_case_str;
use crate::cases::DutRole;
use crate::dut::profile::find_profile;
use crate::dut::Link;
use crate::time::Instant;

/// A path on which a datagram of garbage records arrives every 100 µs, forever.
struct Endless {
    now: Instant,
    n: u64,
}

impl Link for Endless {
    fn now(&self) -> Instant {
        self.now
    }
    fn send(&mut self, _datagram: &[u8]) {}
    fn recv(&mut self, deadline: Instant) -> Option<Vec<u8>> {
        self.now = (self.now + Duration::from_micros(100)).min(deadline);
        self.n += 1;
        // Eight protected-looking records of epoch 1 per datagram (1.3 KB).
        let mut d = Vec::new();
        for i in 0..8u64 {
            d.extend([23, 0xfe, 0xfd, 0, 1]);
            d.extend(&(self.n * 8 + i).to_be_bytes()[2..]);
            d.extend(150u16.to_be_bytes());
            d.extend([0xa5; 150]);
        }
        Some(d)
    }
    fn new_source(&mut self) {}
}

#[test]
fn an_endless_sender_leaves_a_bounded_trace_and_capture() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let profile = find_profile(root.join("profiles/sim.yaml").to_str().unwrap()).expect("sim");
    let case = load_case_str(
        Path::new("endless.yaml"),
        "id: T-01\ntitle: t\nobjective: o\nrefs: [\"RFC 6347 §4.1\"]\nlevel: MUST\n\
         dut: {role: server}\nsteps:\n  - send: ClientHello\n  - wait: 10s\n  - expect: {silence: 5s}\n",
    )
    .expect("case loads");
    let mut link = Endless {
        now: Instant::ZERO,
        n: 0,
    };
    let out = Interpreter::new(&mut link, &profile, 1, DutRole::Server).run(&case.case);
    // 100 000 datagrams of 8 records each arrived; the judge still decided: the records
    // cannot be read (no keys for epoch 1), but the DUT sent them, so it was not silent.
    assert!(link.n >= 100_000, "{}", link.n);
    assert_eq!(out.verdict, crate::runner::Verdict::Fail, "{}", out.reason);
    assert!(out.reason.contains("cannot read"), "{}", out.reason);
    let records = out.trace.iter().filter(|l| l.contains(" <- ")).count();
    // The ClientHello sent and the first step's line took two of the lines.
    assert_eq!(records, MAX_TRACE_LINES - 2);
    assert!(
        out.trace.len() <= MAX_TRACE_LINES + 3,
        "{}",
        out.trace.len()
    );
    assert!(
        out.trace
            .last()
            .is_some_and(|l| l.contains("more records not shown")),
        "{:?}",
        out.trace.last()
    );
    let bytes: usize = out.captures.iter().map(|c| c.bytes.len()).sum();
    assert!(bytes <= MAX_CAPTURED_BYTES, "{bytes}");
    assert!(
        bytes > MAX_CAPTURED_BYTES / 2,
        "{bytes}: the capture kept too little"
    );
}
