//! The denial-of-service cases (suites/dos/) against DUTs that run as processes, where the
//! flood step also reads the DUT's resident memory (VmRSS) before and after:
//! - the reference core as the dut-sim process passes both, its memory measured;
//! - dut-sim with `retransmit_hello_verify_request` on fails the flood (state per
//!   cookieless ClientHello, seen as HelloVerifyRequests it sends on its own);
//! - a process that answers like a stateless server but keeps 32 KB per ClientHello fails
//!   on memory alone: the memory bound itself can fail.

use std::path::PathBuf;
use std::process::Command;

use dicetest::cases::{load_suite_dir, LoadedCase};
use dicetest::dut::profile::{find_profile, Profile};
use dicetest::runner::{run_case, Verdict};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn build_dut_sim() {
    let status = Command::new(env!("CARGO"))
        .current_dir(root())
        .args(["build", "-q", "-p", "dut-sim"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building dut-sim failed");
}

fn dos_case(id: &str) -> LoadedCase {
    let (cases, errors) = load_suite_dir(&root().join("suites/dos"));
    assert!(errors.is_empty(), "{errors:?}");
    cases
        .into_iter()
        .find(|c| c.case.id == id)
        .unwrap_or_else(|| panic!("{id} in suites/dos"))
}

fn dut_sim() -> Profile {
    find_profile(root().join("profiles/dut-sim.yaml").to_str().unwrap()).expect("dut-sim")
}

fn run(id: &str, p: &Profile) -> (Verdict, String, String) {
    let r = run_case(&dos_case(id), p, 1, &root());
    (r.verdict, r.reason, r.trace.join("\n"))
}

#[test]
fn the_reference_core_as_a_process_passes_both_and_its_memory_is_measured() {
    build_dut_sim();
    let p = dut_sim();
    for id in ["DOS-01", "DOS-02"] {
        let (v, reason, trace) = run(id, &p);
        assert_eq!(v, Verdict::Pass, "{id}: {reason}\n{trace}");
        if id == "DOS-01" {
            // The memory was really read, not skipped as for an in-process board.
            assert!(trace.contains("resident memory:"), "{trace}");
            assert!(trace.contains("and nothing more"), "{trace}");
        }
    }
}

#[test]
fn dut_sim_that_keeps_state_per_hello_verify_request_fails_the_flood() {
    build_dut_sim();
    let mut p = dut_sim();
    p.name = "dut-sim+retransmit_hello_verify_request".into();
    if let Some(s) = p.start.as_mut() {
        s.command
            .extend(["--fault".into(), "retransmit_hello_verify_request".into()]);
    }
    let (v, reason, trace) = run("DOS-01", &p);
    assert_eq!(v, Verdict::Fail, "{reason}\n{trace}");
    assert!(
        reason.contains("beyond one answer per ClientHello"),
        "{reason}"
    );
}

/// A UDP server that answers every datagram with one small HelloVerifyRequest-shaped
/// record, as a stateless server would, but keeps 32 KB for each.
const LEAKY_SERVER: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
hvr = bytes.fromhex("16feff00000000000000000023030000170000000000000017feff14" + "ab" * 20)
kept = []
while True:
    d, a = s.recvfrom(65535)
    kept.append(bytearray(32 * 1024))
    s.sendto(hvr, a)
"#;

#[test]
fn a_process_whose_memory_grows_with_the_flood_fails_on_memory() {
    let script = std::env::temp_dir().join(format!("dicetest-leaky-{}.py", std::process::id()));
    std::fs::write(&script, LEAKY_SERVER).expect("script");
    let yaml = format!(
        "name: leaky\ndescription: keeps 32 KB per ClientHello\nkind: process\nroles: [server]\n\
         start: {{ command: [python3, \"{}\", \"{{port}}\"], ready: udp_port }}\n\
         credentials: {{ psk_hex: 73656372657450534b }}\nclaims: [psk-ccm8, cookie_exchange]\n\
         timers: {{ response_ms: 500 }}\n",
        script.display()
    );
    let file = std::env::temp_dir().join(format!("dicetest-leaky-{}.yaml", std::process::id()));
    std::fs::write(&file, yaml).expect("profile");
    let p = find_profile(file.to_str().unwrap()).expect("leaky profile");
    let (v, reason, trace) = run("DOS-01", &p);
    let _ = std::fs::remove_file(&script);
    let _ = std::fs::remove_file(&file);
    assert_eq!(v, Verdict::Fail, "{reason}\n{trace}");
    assert!(reason.contains("grew from"), "{reason}");
}
