//! The case format's path impairments and retransmission, run against the simulated board
//! (the reference firmware's core, an independent implementation): `retransmit: flight`
//! sends new records, `replay` the same ones; `withhold` delays a datagram past later
//! ones; `duplicate` sends a datagram more than once.

use std::path::{Path, PathBuf};

use dicetest::cases::{load_case_file, LoadedCase};
use dicetest::dut::profile::find_profile;
use dicetest::runner::{run_case, CaseResult, Verdict};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fresh folder for one test's case files.
fn scratch() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "dicetest-path-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn case(dir: &Path, name: &str, steps: &str) -> LoadedCase {
    let path = dir.join(format!("{name}.yaml"));
    let text = format!(
        "id: {name}\ntitle: t\nobjective: o\nrefs: [\"RFC 6347 §4.2.4\"]\nlevel: MUST\n\
         dut: {{ role: server, claims: [psk-ccm8] }}\nsteps:\n{steps}"
    );
    std::fs::write(&path, text).unwrap();
    load_case_file(&path).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn run(c: &LoadedCase) -> CaseResult {
    let sim = find_profile(root().join("profiles/sim.yaml").to_str().unwrap()).unwrap();
    run_case(c, &sim, 7, &root())
}

fn from_harness(r: &CaseResult) -> Vec<Vec<u8>> {
    r.captures
        .iter()
        .filter(|c| !c.from_dut)
        .map(|c| c.bytes.clone())
        .collect()
}

/// A scripted handshake up to flight 5, its Finished kept as `$finished`.
const TO_FLIGHT_5: &str = "  - send: ClientHello
  - expect: { message: HelloVerifyRequest, keep: { cookie: cookie } }
  - send: ClientHello
    with: { cookie: $cookie }
  - expect: { message: ServerHello }
  - expect: { message: ServerHelloDone }
  - send: ClientKeyExchange
  - send: ChangeCipherSpec
  - send: Finished
    keep_datagram: finished
  - expect: { connected: true }
";

#[test]
fn a_retransmitted_flight_has_new_record_numbers_and_gets_flight_6_again() {
    let dir = scratch();
    let c = case(
        dir.as_path(),
        "PATH-RTX",
        &format!(
            "{TO_FLIGHT_5}  - retransmit: flight\n  - expect: {{ change_cipher_spec: true }}\n"
        ),
    );
    let r = run(&c);
    assert_eq!(
        r.verdict,
        Verdict::Pass,
        "{}\n{}",
        r.reason,
        r.trace.join("\n")
    );
    let sent = from_harness(&r);
    // The first ClientHello, the second, flight 5 (CKE, CCS, Finished) and its
    // retransmission: the retransmitted datagrams are new bytes, not copies.
    let (first, again) = sent.split_at(sent.len() / 2 + 1);
    assert!(sent.len() >= 6, "{} datagrams", sent.len());
    for d in again {
        assert!(
            !first.contains(d),
            "a retransmission repeated a datagram byte for byte"
        );
    }
}

#[test]
fn replaying_the_finished_byte_for_byte_is_discarded_as_a_replay() {
    let dir = scratch();
    // The protected Finished again as a copy: the board's replay window (RFC 6347 §4.1.2.6)
    // drops it, so the board sees no repeated flight and stays quiet. Shows the difference
    // `retransmit` makes.
    let c = case(
        dir.as_path(),
        "PATH-REPLAY",
        &format!("{TO_FLIGHT_5}  - replay: $finished\n  - expect: {{ silence: 2s }}\n"),
    );
    let r = run(&c);
    assert_eq!(
        r.verdict,
        Verdict::Pass,
        "{}\n{}",
        r.reason,
        r.trace.join("\n")
    );
}

#[test]
fn duplicate_sends_each_datagram_again() {
    let dir = scratch();
    let c = case(
        dir.as_path(),
        "PATH-DUP",
        "  - send: ClientHello\n    duplicate: 2\n  - expect: { message: HelloVerifyRequest }\n",
    );
    let r = run(&c);
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.reason);
    let sent = from_harness(&r);
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|d| d == &sent[0]));
}

#[test]
fn withheld_datagrams_go_out_only_when_replayed_so_they_arrive_late() {
    let dir = scratch();
    let c = case(
        dir.as_path(),
        "PATH-HOLD",
        "  - send: ClientHello
    keep_datagram: late
    withhold: true
  - expect: { silence: 1s }
  - replay: $late
  - expect: { message: HelloVerifyRequest }
",
    );
    let r = run(&c);
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.reason);
    let sent = from_harness(&r);
    assert_eq!(
        sent.len(),
        1,
        "the withheld datagram went out once, when replayed"
    );
}

#[test]
fn withhold_without_a_name_and_unknown_retransmits_are_refused_with_their_line() {
    let dir = scratch();
    for (name, steps, want) in [
        (
            "BAD-HOLD",
            "  - send: ClientHello\n    withhold: true\n",
            "withhold",
        ),
        ("BAD-RTX", "  - retransmit: record\n", "retransmit"),
    ] {
        let path = dir.as_path().join(format!("{name}.yaml"));
        std::fs::write(
            &path,
            format!(
                "id: {name}\ntitle: t\nobjective: o\nrefs: [x]\nlevel: MUST\n\
                 dut: {{ role: server }}\nsteps:\n{steps}"
            ),
        )
        .unwrap();
        let errors = load_case_file(&path).expect_err(name);
        assert!(
            errors
                .iter()
                .any(|e| e.line == 8 && e.message.contains(want)),
            "{name}: {errors:?}"
        );
    }
}
