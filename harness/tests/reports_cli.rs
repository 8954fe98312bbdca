//! `dicetest report` as a user runs it: from a journal cut short by `kill -9`, from a
//! hand-cut journal, and merging shards.

mod reports_util;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reports_util::*;
use serde_json::Value;

fn read_json(p: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Journal lines that are whole JSON objects with a case id: (id, run).
fn case_lines(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("id").is_some())
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_string(),
                v["run"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_run_killed_halfway_still_has_its_report() {
    let dir = TempDir::new("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dicetest"))
        .args([
            "run",
            "--dut",
            "sim",
            "--suite",
            root().join("suites").to_str().unwrap(),
            "--repeat",
            "200",
            "--out",
            dir.str(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let journal = dir.path().join("journal.jsonl");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = std::fs::read_to_string(&journal)
            .map(|t| case_lines(&t).len())
            .unwrap_or(0);
        if n >= 20 {
            break;
        }
        assert!(Instant::now() < deadline, "the run wrote no verdicts");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no chance to tidy up
    child.wait().unwrap();
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(
        !text.contains("\"journal_end\""),
        "the run finished before it was killed; raise --repeat"
    );
    assert!(!dir.path().join("report.json").exists());
    let reached = case_lines(&text);

    let stdout = dicetest_ok(&["report", "--from", dir.str()], 0);
    assert!(stdout.contains("partial"), "{stdout}");
    let report = read_json(&dir.path().join("report.json"));
    assert_eq!(report["complete"], false);
    let cases = report["cases"].as_array().unwrap();
    assert_eq!(cases.len(), reached.len());
    for (id, run) in &reached {
        assert!(
            cases
                .iter()
                .any(|c| c["id"] == id.as_str() && c["run"] == *run),
            "{id} run {run} missing"
        );
    }
    assert!(report["planned"].as_u64().unwrap() > cases.len() as u64);
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(md.contains("**Partial:**"), "{md}");
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("Partial report"));
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count(),
        reached.len()
    );
}

const START: &str = r#"{"journal":1,"tool_version":"0.1.0","started_at":"2024-01-01T00:00:00.000Z","duts":[{"name":"DUTNAME","description":"d","kind":"process","claims":[],"psk_identity":"Client_identity","psk":"<redacted>"}],"planned":3}"#;

fn line(dut: &str, id: &str, verdict: &str) -> String {
    format!(
        r#"{{"dut":"{dut}","id":"{id}","title":"{id} title","verdict":"{verdict}","reason":"{verdict} in {dut}","refs":["RFC 6347 §4.2.1"],"level":"MUST","file":"suites/cookie/{id}.yaml","duration_ms":2,"as_expected":true,"evidence":"evidence/{id}.txt","run":1}}"#
    )
}

/// A shard folder: a journal and one evidence file per case that says where it is from.
fn shard(tag: &str, dut: &str, cases: &[(&str, &str)], end: bool) -> TempDir {
    let dir = TempDir::new(tag);
    let mut j = START.replace("DUTNAME", dut) + "\n";
    std::fs::create_dir_all(dir.path().join("evidence")).unwrap();
    for (id, v) in cases {
        j += &line(dut, id, v);
        j.push('\n');
        std::fs::write(
            dir.path().join(format!("evidence/{id}.txt")),
            format!("{id} from {tag}\n"),
        )
        .unwrap();
    }
    if end {
        j += "{\"journal_end\":true,\"finished_at\":\"2024-01-01T00:01:00.000Z\"}\n";
    }
    std::fs::write(dir.path().join("journal.jsonl"), j).unwrap();
    dir
}

#[test]
fn report_from_a_journal_cut_mid_line() {
    let dir = shard(
        "cut",
        "board",
        &[("CK-01", "pass"), ("CK-02", "fail")],
        false,
    );
    let p = dir.path().join("journal.jsonl");
    let mut text = std::fs::read_to_string(&p).unwrap();
    text += &line("board", "CK-03", "pass")[..50]; // the kill hit mid-write
    std::fs::write(&p, text).unwrap();
    dicetest_ok(&["report", "--from", dir.str()], 0);
    let report = read_json(&dir.path().join("report.json"));
    let ids: Vec<&str> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["CK-01", "CK-02"]);
    assert_eq!(report["summary"]["fail"], 1);
    assert_eq!(report["complete"], false);
    let schema = read_json(&root().join("reports/report.schema.json"));
    assert_eq!(validate(&schema, &report), Vec::<String>::new());

    // A journal that is not one is refused, naming the line.
    std::fs::write(&p, "{\"journal\":1}\nnot json\n{}\n").unwrap();
    let out = dicetest(&["report", "--from", dir.str()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("journal.jsonl:2"));
}

#[test]
fn merge_keeps_the_last_shard_per_dut_and_both_duts() {
    let a = shard(
        "shard-a",
        "sim",
        &[("CK-01", "fail"), ("CK-02", "pass")],
        true,
    );
    let b = shard("shard-b", "sim", &[("CK-01", "pass")], true);
    let c = shard("shard-c", "openssl", &[("CK-01", "error")], true);
    let out = TempDir::new("merged");
    dicetest_ok(
        &[
            "report",
            "merge",
            "--out",
            out.str(),
            a.str(),
            b.str(),
            c.str(),
        ],
        0,
    );
    let report = read_json(&out.path().join("report.json"));
    let got: Vec<(String, String, String)> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["dut"].as_str().unwrap().into(),
                c["id"].as_str().unwrap().into(),
                c["verdict"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("openssl".into(), "CK-01".into(), "error".into()),
            ("sim".into(), "CK-01".into(), "pass".into()),
            ("sim".into(), "CK-02".into(), "pass".into()),
        ]
    );
    assert!(report["dut"].is_null());
    assert_eq!(report["duts"].as_array().unwrap().len(), 2);
    assert_eq!(report["complete"], true);
    // Evidence came along, per DUT, from the shard whose result was kept.
    let ev = |dut: &str, id: &str| {
        std::fs::read_to_string(out.path().join(format!("{dut}/evidence/{id}.txt"))).unwrap()
    };
    assert_eq!(ev("sim", "CK-01"), "CK-01 from shard-b\n");
    assert_eq!(ev("sim", "CK-02"), "CK-02 from shard-a\n");
    assert_eq!(ev("openssl", "CK-01"), "CK-01 from shard-c\n");
    let cases = report["cases"].as_array().unwrap();
    assert_eq!(cases[0]["evidence"], "openssl/evidence/CK-01.txt");
    // junit.xml: a testsuite per DUT.
    let xml = std::fs::read_to_string(out.path().join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suites: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|n| n.attribute("name").unwrap())
        .collect();
    assert_eq!(suites, ["sim", "openssl"]);
    let sysout: String = doc
        .descendants()
        .filter(|n| n.has_tag_name("system-out"))
        .filter_map(|n| n.text())
        .collect();
    assert!(sysout.contains("CK-01 from shard-b"), "{sysout}");
    // The merged folder is itself a journal that renders the same.
    let again = TempDir::new("merged-again");
    dicetest_ok(&["report", "--from", out.str(), "--out", again.str()], 0);
    assert_eq!(
        std::fs::read(out.path().join("summary.md")).unwrap(),
        std::fs::read(again.path().join("summary.md")).unwrap()
    );
}
