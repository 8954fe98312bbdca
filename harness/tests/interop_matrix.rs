//! One command, an interop matrix: four real implementations as clients against the same
//! four and the reference firmware (dut-sim) as servers, every session judged by the monitor
//! on the relay. Real processes on loopback, started by the profiles.

use std::process::Command;

#[test]
fn psk_interop_matrix_over_four_stacks_and_the_reference_board() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::env::temp_dir().join(format!("dicetest-matrix-{}", std::process::id()));
    let status = Command::new(env!("CARGO_BIN_EXE_dicetest"))
        .current_dir(&root)
        .args([
            "interop",
            "--matrix",
            "gnutls",
            "openssl",
            "tinydtls",
            "bouncycastle",
            "dut-sim",
            "--case",
            "INT-PSK-01",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("dicetest runs");
    let stdout = String::from_utf8_lossy(&status.stdout);
    let matrix: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join("matrix.json")).expect("matrix.json written"),
    )
    .expect("matrix.json parses");
    let cells = matrix.as_array().expect("a list of pairs");
    // dut-sim is a server only: 4 clients × 5 servers.
    assert_eq!(cells.len(), 20, "{stdout}");
    let failed: Vec<String> = cells
        .iter()
        .filter(|c| c["pass"].as_u64() != Some(1))
        .map(|c| format!("{} -> {}", c["client"], c["server"]))
        .collect();
    assert!(
        failed.is_empty(),
        "pairs that did not pass INT-PSK-01: {failed:?}\n{stdout}"
    );
    assert!(status.status.success(), "{stdout}");
    for c in cells {
        let report = out.join(c["report"].as_str().unwrap());
        let text = std::fs::read_to_string(&report).expect("per-pair report.json");
        assert!(
            !text.contains("73656372657450534b"),
            "the PSK leaked into {}",
            report.display()
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}
