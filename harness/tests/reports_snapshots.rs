//! Snapshots (insta) of the textual formats on a fixed, synthetic result set: two DUTs,
//! every verdict, a result that differs from the baseline, a deviation the baseline
//! expects, a repeat that makes a case flaky, a case the (interrupted) run did not reach,
//! evidence with a secret in it. No timestamps, so the snapshots are stable.

mod reports_util;

use dicetest::reports::chart::{ChartDatagram, ChartRecord, Protection};
use dicetest::reports::model::PlannedCase;
use dicetest::reports::{html, junit, summary_md, CaseRecord, DutInfo, Redactor, Run, Sources};
use dicetest::runner::Verdict;
use reports_util::TempDir;

fn case(dut: &str, file: &str, id: &str, verdict: Verdict, reason: &str) -> CaseRecord {
    CaseRecord {
        branches: Vec::new(),
        dut: dut.into(),
        id: id.into(),
        title: format!("{id} does what RFC 6347 says"),
        verdict,
        reason: reason.into(),
        step: (verdict != Verdict::Pass).then_some(2),
        line: (verdict != Verdict::Pass).then_some(14),
        refs: vec!["RFC 6347 §4.2.1".into(), "RFC 7925 §4.2".into()],
        level: "MUST".into(),
        file: file.into(),
        category: String::new(),
        started_at: None,
        duration_ms: 12,
        as_expected: verdict == Verdict::Pass || verdict == Verdict::NotApplicable,
        expected_deviation: None,
        evidence: None,
        capture: None,
        run: 1,
        chart: Vec::new(),
    }
}

fn dut(name: &str) -> DutInfo {
    DutInfo {
        name: name.into(),
        description: format!("{name} under test"),
        kind: "process".into(),
        claims: vec!["psk-ccm8".into(), "coap".into()],
        psk_identity: "Client_identity".into(),
        psk: "<redacted>".into(),
    }
}

/// The fixed result set; evidence files go to `dir`.
fn synthetic(dir: &std::path::Path) -> Run {
    let mut cases = vec![
        case(
            "board",
            "suites/handshake/HS-01.yaml",
            "HS-01",
            Verdict::Pass,
            "got CoAP ACK 2.05",
        ),
        case(
            "board",
            "suites/cookie/CK-01.yaml",
            "CK-01",
            Verdict::Fail,
            "expected a HelloVerifyRequest, got ServerHello | with <angle> & \"quotes\"",
        ),
        case(
            "board",
            "suites/replay/RPL-01.yaml",
            "RPL-01",
            Verdict::Error,
            "DUT setup failed: exit 1",
        ),
        case(
            "board",
            "suites/record/REC-01.yaml",
            "REC-01",
            Verdict::Inconclusive,
            "the handshake did not complete, so the record test could not start",
        ),
        case(
            "board",
            "suites/handshake/HS-02.yaml",
            "HS-02",
            Verdict::NotApplicable,
            "the profile does not claim psk-ccm",
        ),
        case(
            "other",
            "suites/handshake/HS-01.yaml",
            "HS-01",
            Verdict::Fail,
            "no answer within 3s",
        ),
        case(
            "other",
            "suites/cookie/CK-01.yaml",
            "CK-01",
            Verdict::Pass,
            "got HelloVerifyRequest",
        ),
    ];
    // A known deviation that did not happen: differs from the baseline the other way.
    cases[6].expected_deviation = Some("old firmware skips the cookie".into());
    cases[6].as_expected = false;
    cases[5].level = "SHOULD".into();
    let mut again = cases[0].clone();
    again.run = 2;
    again.verdict = Verdict::Fail;
    again.reason = "got nothing".into();
    again.as_expected = false;
    cases.push(again);
    // A fail the baseline expects: not a CI failure.
    let mut known = case(
        "other",
        "suites/resumption/RES-01.yaml",
        "RES-01",
        Verdict::Fail,
        "the ServerHello repeats the unknown session id",
    );
    known.expected_deviation = Some("no session cache in this firmware".into());
    known.as_expected = true;
    known.refs = vec!["RFC 5246 §7.4.1.3".into()];
    cases.push(known);
    std::fs::create_dir_all(dir.join("evidence")).unwrap();
    for (i, c) in cases.iter_mut().enumerate().take(2) {
        let rel = format!("evidence/{}.txt", c.id);
        std::fs::write(
            dir.join(&rel),
            format!(
                "{} trace\nt+0.001000s -> handshake epoch=0 seq={i} ClientHello\nDUT said: psk=73656372657450534b\n",
                c.id
            ),
        )
        .unwrap();
        c.evidence = Some(rel);
        c.capture = Some(format!("captures/{}.pcapng", c.id));
    }
    cases[0].chart = vec![ChartDatagram {
        micros: 1000,
        from_dut: false,
        dropped: false,
        len: 78,
        records: vec![ChartRecord {
            content_type: "handshake".into(),
            epoch: 0,
            seq: 0,
            summary: "ClientHello v=DTLS1.2 (seq 0)".into(),
            protection: Protection::Plain,
        }],
        malformed: None,
    }];
    // The plan: every case reached, and RES-02 against the board, which was not.
    let mut planned_cases: Vec<PlannedCase> = cases
        .iter()
        .map(|c| PlannedCase {
            dut: c.dut.clone(),
            id: c.id.clone(),
            run: c.run,
        })
        .collect();
    planned_cases.push(PlannedCase {
        dut: "board".into(),
        id: "RES-02".into(),
        run: 1,
    });
    let mut run = Run {
        tool_version: "0.0.0-test".into(),
        duts: vec![dut("board"), dut("other")],
        cases,
        planned: Some(10),
        planned_cases,
        complete: false,
        ..Default::default()
    };
    run.normalize();
    run
}

fn sources(dir: &std::path::Path) -> Sources {
    Sources::new(dir, Redactor::default().with_psk(b"secretPSK"))
}

#[test]
fn summary_md_snapshot() {
    let dir = TempDir::new("snap-md");
    let md = summary_md::render(&synthetic(dir.path()));
    insta::assert_snapshot!("summary_md", md);
}

#[test]
fn junit_xml_snapshot_and_structure() {
    let dir = TempDir::new("snap-junit");
    let run = synthetic(dir.path());
    let xml = junit::render(&run, &sources(dir.path()));
    assert!(!xml.contains("73656372657450534b"), "the PSK leaked");
    let doc = roxmltree::Document::parse(&xml).expect("junit.xml parses");
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    // A suite per DUT, and the one that makes the partial run red.
    assert_eq!(
        suites
            .iter()
            .map(|s| s.attribute("name").unwrap())
            .collect::<Vec<_>>(),
        ["board", "other", "dicetest"]
    );
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    // Every result, the case not reached, and dicetest.run.
    assert_eq!(cases.len(), run.cases.len() + 2);
    let count = |tag: &str| {
        cases
            .iter()
            .filter(|c| c.children().any(|x| x.has_tag_name(tag)))
            .count()
    };
    // What fails the run is what is red: CK-01 and HS-01 (board), HS-01 (other) failed,
    // and HS-01 (board) is flaky in both its runs; RPL-01 is an error, REC-01 an
    // unexpected inconclusive. Plus the interruption.
    assert_eq!(
        count("failure") + count("error"),
        run.failing_results().len() + 1
    );
    assert_eq!(count("failure"), 4);
    assert_eq!(count("error"), 3);
    // HS-02 not applicable, RES-01 expected by the baseline, RES-02 not run.
    assert_eq!(count("skipped"), 3);
    let skipped: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("skipped"))
        .map(|n| n.attribute("message").unwrap())
        .collect();
    assert!(skipped.contains(&"not run: the run was interrupted before this case"));
    assert!(skipped.contains(
        &"expected deviation: no session cache in this firmware (verdict fail: the ServerHello repeats the unknown session id)"
    ));
    let board = suites[0];
    assert_eq!(board.attribute("tests"), Some("7"));
    assert_eq!(board.attribute("failures"), Some("3"));
    assert_eq!(board.attribute("errors"), Some("2"));
    assert_eq!(board.attribute("skipped"), Some("2"));
    let top = doc.root_element();
    assert_eq!(top.attribute("tests"), Some("11"));
    assert_eq!(top.attribute("failures"), Some("4"));
    assert_eq!(top.attribute("errors"), Some("3"));
    assert_eq!(top.attribute("skipped"), Some("3"));
    let ck = cases
        .iter()
        .find(|c| c.attribute("name").unwrap().starts_with("CK-01") && c.parent() == Some(board))
        .unwrap();
    assert_eq!(ck.attribute("classname"), Some("cookie"));
    let failure = ck.children().find(|x| x.has_tag_name("failure")).unwrap();
    assert_eq!(
        failure.attribute("message"),
        Some("expected a HelloVerifyRequest, got ServerHello | with <angle> & \"quotes\"")
    );
    insta::assert_snapshot!("junit_xml", xml);
}

#[test]
fn html_is_one_file_without_network_or_secrets() {
    let dir = TempDir::new("snap-html");
    let run = synthetic(dir.path());
    let page = html::render(&run, &sources(dir.path()));
    assert!(!page.contains("73656372657450534b"));
    // Nothing is fetched: no external scripts, styles, images or fonts.
    for bad in ["src=\"http", "href=\"http", "url(", "@import", "<link"] {
        assert!(!page.contains(bad), "{bad}");
    }
    // Every case has its row and its details, with unique anchors.
    let anchors: std::collections::BTreeSet<String> = run.cases.iter().map(html::anchor).collect();
    assert_eq!(anchors.len(), run.cases.len());
    for a in &anchors {
        assert!(page.contains(&format!("id=\"{a}\"")), "{a}");
        assert!(page.contains(&format!("href=\"#{a}\"")), "{a}");
    }
    assert!(page.contains("<svg class=\"msc\""));
    assert!(page.contains("Partial report"));
    // Coverage: 3 clauses, all cited by MUST cases and exercised.
    assert!(
        page.contains("3 of 3 MUST clauses covered (100%)"),
        "coverage line"
    );
    // The two the board's CK-01 failed unexpectedly are violated; the one only an
    // expected deviation cites is not.
    assert_eq!(page.matches(">violated</span>").count(), 2);
    assert!(page.contains(">deviation expected by the baseline</span>"));
    assert!(page.contains("verdicts reached of 10 planned, 1 not run."));
}
