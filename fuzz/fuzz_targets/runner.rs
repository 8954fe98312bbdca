//! The case interpreter (harness/src/runner/interpret.rs) judging a DUT that says whatever
//! the fuzzer wants: the first byte picks a case of the suite, the rest are the DUT's
//! datagrams (framing of `dicetest_fuzz::datagrams`), one per receive, on a virtual clock.
//! Every case must end with a verdict; nothing the DUT sends may panic the judge.
#![no_main]
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use dicetest::cases::{load_suite_dir, DutRole, LoadedCase};
use dicetest::dut::profile::{find_profile, Profile};
use dicetest::dut::Link;
use dicetest::runner::Interpreter;
use dicetest::time::Instant;
use dicetest_fuzz::datagrams;
use libfuzzer_sys::fuzz_target;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn suite() -> &'static (Vec<LoadedCase>, Profile) {
    static S: OnceLock<(Vec<LoadedCase>, Profile)> = OnceLock::new();
    S.get_or_init(|| {
        let (cases, _) = load_suite_dir(&root().join("suites"));
        let cases = cases
            .into_iter()
            .filter(|c| c.case.dut.role == DutRole::Server)
            .collect();
        let p = find_profile(
            root()
                .join("profiles/sim.yaml")
                .to_str()
                .unwrap_or_default(),
        )
        .expect("profiles/sim.yaml");
        (cases, p)
    })
}

/// The DUT as the fuzzer plays it: each receive gets the next datagram 1 ms later; when
/// they run out, the DUT is silent.
struct Scripted<'a> {
    now: Instant,
    replies: std::vec::IntoIter<(bool, &'a [u8])>,
}

impl Link for Scripted<'_> {
    fn now(&self) -> Instant {
        self.now
    }
    fn send(&mut self, _datagram: &[u8]) {}
    fn recv(&mut self, deadline: Instant) -> Option<Vec<u8>> {
        match self.replies.next() {
            Some((_, d)) if self.now + Duration::from_millis(1) <= deadline => {
                self.now = self.now + Duration::from_millis(1);
                Some(d.to_vec())
            }
            _ => {
                self.now = self.now.max(deadline);
                None
            }
        }
    }
    fn new_source(&mut self) {}
}

fuzz_target!(|data: &[u8]| {
    let [pick, rest @ ..] = data else { return };
    let (cases, profile) = suite();
    if cases.is_empty() {
        return;
    }
    let case = &cases[usize::from(*pick) % cases.len()];
    let mut link = Scripted {
        now: Instant::ZERO,
        replies: datagrams(rest)
            .into_iter()
            .take(256)
            .collect::<Vec<_>>()
            .into_iter(),
    };
    let out = Interpreter::new(&mut link, profile, 1, DutRole::Server).run(&case.case);
    let _ = (out.verdict, out.reason.len(), out.trace.len());
});
