//! `dicetest report` as a user runs it: from a journal cut short by `kill -9`, from a
//! hand-cut journal, and merging shards. A partial run renders every format, marked
//! partial, and exits 3 unless `--allow-partial`.

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

    // Partial: every format is written, and the exit code says it is not a whole run.
    let stdout = dicetest_ok(&["report", "--from", dir.str()], 3);
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
    let planned = report["planned"].as_u64().unwrap() as usize;
    assert_eq!(
        report["not_run"].as_array().unwrap().len(),
        planned - reached.len()
    );
    assert_eq!(report["run_fails"], true);
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    // Every planned play is a testcase (reached, or skipped as not run), plus the
    // dicetest.run error that keeps a partial run from looking green.
    let testcases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(testcases.len(), planned + 1);
    let not_run = testcases
        .iter()
        .filter(|t| {
            t.children()
                .any(|c| c.has_tag_name("skipped") && c.attribute("type") == Some("not_run"))
        })
        .count();
    assert_eq!(not_run, planned - reached.len());
    let run_error = testcases
        .iter()
        .find(|t| t.attribute("name") == Some("dicetest.run"))
        .expect("the dicetest.run testcase");
    let err = run_error
        .children()
        .find(|c| c.has_tag_name("error"))
        .expect("an error");
    assert_eq!(err.attribute("type"), Some("interrupted"));
    assert_eq!(
        doc.root_element().attribute("errors").unwrap(),
        doc.descendants()
            .filter(|n| n.has_tag_name("error"))
            .count()
            .to_string()
    );
    dicetest_ok(&["report", "--from", dir.str(), "--allow-partial"], 0);
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
    let out = dicetest(&["report", "--from", dir.str()]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("partial run")
            && stderr.contains("2 of 3 planned cases reached, 1 not run"),
        "{stderr}"
    );
    dicetest_ok(&["report", "--from", dir.str(), "--allow-partial"], 0);
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

/// A journal as `dicetest run` now starts it: the plan (with a repeat) and `strict`.
#[test]
fn a_partial_journal_lists_its_unreached_cases_and_is_red() {
    let dir = TempDir::new("planned");
    let start = START.replace("DUTNAME", "board").replace(
        "\"planned\":3}",
        "\"planned\":4,\"planned_cases\":[\"CK-01\",\"CK-02\",\"CK-01\",\"CK-02\"],\"strict\":false}",
    );
    assert!(start.contains("planned_cases"));
    let mut j = start + "\n";
    j += &line("board", "CK-01", "pass");
    j.push('\n');
    j += &line("board", "CK-02", "pass");
    j.push('\n');
    std::fs::write(dir.path().join("journal.jsonl"), j).unwrap();

    let out = dicetest(&["report", "--from", dir.str()]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let names: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|n| n.attribute("name").unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "CK-01 CK-01 title",
            "CK-02 CK-02 title",
            "CK-01 (not run) (run 2)",
            "CK-02 (not run) (run 2)",
            "dicetest.run"
        ]
    );
    let messages: Vec<(&str, &str)> = doc
        .descendants()
        .filter(|n| {
            n.has_tag_name("skipped") || n.has_tag_name("error") || n.has_tag_name("failure")
        })
        .map(|n| (n.tag_name().name(), n.attribute("message").unwrap()))
        .collect();
    assert_eq!(
        messages,
        [
            (
                "skipped",
                "not run: the run was interrupted before this case"
            ),
            (
                "skipped",
                "not run: the run was interrupted before this case"
            ),
            (
                "error",
                "the run was interrupted: 2 of 4 planned cases not run (2 reached)"
            ),
        ]
    );
    let suite = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some(name))
            .unwrap()
    };
    let board = suite("board");
    assert_eq!(board.attribute("tests"), Some("4"));
    assert_eq!(board.attribute("skipped"), Some("2"));
    assert!(board.descendants().any(|p| p.has_tag_name("property")
        && p.attribute("name") == Some("complete")
        && p.attribute("value") == Some("false")));
    let top = doc.root_element();
    assert_eq!(top.attribute("tests"), Some("5"));
    assert_eq!(top.attribute("errors"), Some("1"));
    assert_eq!(top.attribute("failures"), Some("0"));
    // Every other format says partial, with the count of cases not run.
    let report = read_json(&dir.path().join("report.json"));
    assert_eq!(report["complete"], false);
    assert_eq!(report["planned"], 4);
    let not_run: Vec<(String, u64)> = report["not_run"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["run"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        not_run,
        [("CK-01".to_string(), 2), ("CK-02".to_string(), 2)]
    );
    let schema = read_json(&root().join("reports/report.schema.json"));
    assert_eq!(validate(&schema, &report), Vec::<String>::new());
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(
        md.contains("2 verdicts reached of 4 planned, 2 not run"),
        "{md}"
    );
    assert!(
        md.contains("**CI:** ❌ the run fails: it was interrupted"),
        "{md}"
    );
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("2 verdicts reached of 4 planned, 2 not run"));

    // Accepted when asked, and a finished journal is a whole run that exits 0.
    let ok = dicetest_ok(&["report", "--from", dir.str(), "--allow-partial"], 0);
    assert!(
        ok.contains("partial run (2 of 4 planned cases reached, 2 not run)"),
        "{ok}"
    );
    let p = dir.path().join("journal.jsonl");
    let mut text = std::fs::read_to_string(&p).unwrap();
    text += "{\"journal_end\":true}\n";
    std::fs::write(&p, text).unwrap();
    dicetest_ok(&["report", "--from", dir.str()], 0);
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(
        !xml.contains("dicetest.run") && !xml.contains("not_run\""),
        "{xml}"
    );

    // A merge of a partial shard is partial too.
    let part = shard("partial-shard", "board", &[("CK-01", "pass")], false);
    let merged = TempDir::new("merged-partial");
    let m = dicetest(&["report", "merge", "--out", merged.str(), part.str()]);
    assert_eq!(m.status.code(), Some(3));
    dicetest_ok(
        &[
            "report",
            "merge",
            "--allow-partial",
            "--out",
            merged.str(),
            part.str(),
        ],
        0,
    );
}
