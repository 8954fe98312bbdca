//! report.html in a real browser: headless Chromium opens the report of a sim run, runs
//! its script and must log no console error. A page with a deliberate script error shows
//! that the check would catch one.

mod reports_util;

use reports_util::*;

#[test]
fn the_check_sees_a_script_error() {
    let dir = TempDir::new("html-broken");
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><p>x</p><script>undefinedFunction();</script></body></html>",
    )
    .unwrap();
    let (_, stderr) = chromium(&page, &["--dump-dom"]);
    assert!(
        !console_errors(&stderr).is_empty(),
        "a script error went unnoticed:\n{stderr}"
    );
}

#[test]
fn report_html_renders_in_chromium_without_console_errors() {
    let dir = TempDir::new("html-sim");
    let out = dicetest(&[
        "run",
        "--dut",
        "sim",
        "--suite",
        root().join("suites").to_str().unwrap(),
        "--out",
        dir.str(),
    ]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    let page = dir.path().join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    let rows = html.matches("<tr data-verdict=").count();
    assert!(rows >= 10, "{rows} rows");

    let (dom, stderr) = chromium(&page, &["--dump-dom"]);
    let errors = console_errors(&stderr);
    assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
    // The script ran to its end: it fills in how many rows the filters show.
    assert!(
        dom.contains(&format!("{rows} of {rows} shown")),
        "the script did not run:\n{}",
        &dom[..dom.len().min(2000)]
    );
    assert!(dom.contains("<svg class=\"msc\""));

    let shot = dir.path().join("report.png");
    let (_, stderr) = chromium(
        &page,
        &[
            "--window-size=1280,2000",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    assert!(console_errors(&stderr).is_empty(), "{stderr}");
    let png = std::fs::read(&shot).expect("a screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 20_000,
        "an almost empty page: {} bytes",
        png.len()
    );
}
