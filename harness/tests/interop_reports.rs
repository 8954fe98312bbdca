//! An interop matrix through the report model: real peers (GnuTLS and Bouncy Castle as
//! clients; GnuTLS, Bouncy Castle and the reference board dut-sim as servers), two
//! interop cases. The top-level report.html must show one matrix cell per pair whose
//! counts agree with that pair's own report.json and whose links all resolve; each pair's
//! folder must hold every format, its junit.xml a testcase per case; the page must render
//! in headless Chromium without console errors; --keylog must put the keys in captures.

mod reports_util;

use std::collections::BTreeSet;
use std::path::Path;

use reports_util::*;
use serde_json::Value;

const CLIENTS: [&str; 2] = ["gnutls", "bouncycastle"];
const SERVERS: [&str; 3] = ["gnutls", "bouncycastle", "dut-sim"];
const CASES: [&str; 2] = ["INT-PSK-01", "INT-DUP-01"];

/// The value of `name="..."` in an HTML start tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let len = tag[at..].find('"')?;
    Some(&tag[at..at + len])
}

/// Undoes the escaping the report applies to attribute values.
fn unescape(s: &str) -> String {
    s.replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// One matrix cell of report.html: its start tag and its content.
struct Cell<'a> {
    tag: &'a str,
    body: &'a str,
}

fn cells(html: &str) -> Vec<Cell<'_>> {
    let section = html
        .split("<section id=\"matrix\">")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("report.html has a matrix section");
    section
        .match_indices("<td class=\"cell ")
        .map(|(i, _)| {
            let rest = &section[i..];
            let tag_end = rest.find('>').expect("tag ends");
            let body_end = rest.find("</td>").expect("cell ends");
            Cell {
                tag: &rest[..tag_end],
                body: &rest[tag_end + 1..body_end],
            }
        })
        .collect()
}

fn hrefs(body: &str) -> Vec<String> {
    body.match_indices("<a ")
        .filter_map(|(i, _)| {
            let tag = &body[i..i + body[i..].find('>')?];
            attr(tag, "href").map(unescape)
        })
        .collect()
}

/// Whether `page` has an element with this id.
fn has_id(page: &Path, id: &str) -> bool {
    std::fs::read_to_string(page)
        .unwrap_or_default()
        .contains(&format!(" id=\"{id}\""))
}

/// Checks that a link of `page` leads somewhere: a file beside it, and the element its
/// fragment names in that file (or in the page itself).
fn resolve(out: &Path, page: &Path, href: &str) -> Result<(), String> {
    let (file, frag) = match href.split_once('#') {
        Some((f, id)) => (f, Some(id)),
        None => (href, None),
    };
    if file.contains("://") || file.starts_with('/') {
        return Err(format!("{href} leaves the output folder"));
    }
    let target = if file.is_empty() {
        page.to_path_buf()
    } else {
        out.join(file)
    };
    if !target.is_file() {
        return Err(format!("{href}: {} is not there", target.display()));
    }
    if let Some(id) = frag {
        if !has_id(&target, id) {
            return Err(format!("{href}: no element {id} in {}", target.display()));
        }
    }
    Ok(())
}

fn json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap_or_else(|e| panic!("{} parses: {e}", p.display()))
}

#[test]
fn an_interop_matrix_renders_every_format_with_a_linked_matrix() {
    let out = TempDir::new("interop-reports");
    let mut args = vec!["interop", "--matrix"];
    args.extend(["gnutls", "bouncycastle", "dut-sim"]);
    for c in CASES {
        args.extend(["--case", c]);
    }
    args.extend(["--keylog", "--out", out.str()]);
    let stdout = dicetest_ok(&args, 0);
    let top = out.path().join("report.html");
    let html = std::fs::read_to_string(&top).expect("a top-level report.html");

    // One cell per client × server pair, counts as in the pair's own report.json.
    let matrix = cells(&html);
    let mut seen = BTreeSet::new();
    for cell in &matrix {
        let client = attr(cell.tag, "data-client").expect("data-client");
        let server = attr(cell.tag, "data-server").expect("data-server");
        assert!(seen.insert((client.to_string(), server.to_string())));
        let dir = out.path().join(format!("{client}__{server}"));
        let report = json(&dir.join("report.json"));
        let cases = report["cases"].as_array().expect("cases");
        assert_eq!(cases.len(), CASES.len(), "{client} × {server}");
        for v in ["pass", "fail", "inconclusive", "error", "not_applicable"] {
            let n = cases.iter().filter(|c| c["verdict"] == v).count();
            let shown: usize = attr(cell.tag, &format!("data-{}", v.replace('_', "-")))
                .and_then(|x| x.parse().ok())
                .unwrap_or_else(|| panic!("{client} × {server}: no count of {v}"));
            assert_eq!(shown, n, "{client} × {server}: {v}");
        }
        // Real peers agree on RFC 7925's suite: every session of every pair passes.
        assert_eq!(
            attr(cell.tag, "data-pass"),
            Some("2"),
            "{client} × {server}\n{stdout}"
        );
        // Its links: each case in this page, and the pair's own report.
        let links = hrefs(cell.body);
        let in_page: Vec<&String> = links.iter().filter(|h| h.starts_with('#')).collect();
        assert_eq!(in_page.len(), CASES.len(), "{client} × {server}: {links:?}");
        assert!(
            links.contains(&format!("{client}__{server}/report.html")),
            "{links:?}"
        );
        for h in &links {
            resolve(out.path(), &top, h).unwrap_or_else(|e| panic!("{client} × {server}: {e}"));
        }
        // The in-page case links open that pair's sessions, not another pair's.
        for h in in_page {
            let id = &h[1..];
            let article = html
                .split(&format!("<article class=\"case\" id=\"{id}\""))
                .nth(1)
                .and_then(|a| a.split("</article>").next())
                .expect("the case's article");
            assert!(
                article.contains(&format!("client {client}"))
                    && article.contains(&format!("server {server}")),
                "{id}: the chart's lifelines do not name the pair"
            );
        }
    }
    let want: BTreeSet<(String, String)> = CLIENTS
        .iter()
        .flat_map(|c| SERVERS.iter().map(move |s| (c.to_string(), s.to_string())))
        .collect();
    assert_eq!(seen, want);

    // Every format in every pair's folder; junit.xml a testcase per case.
    for (client, server) in &want {
        let dir = out.path().join(format!("{client}__{server}"));
        for f in [
            "report.json",
            "junit.xml",
            "summary.md",
            "report.html",
            "journal.jsonl",
        ] {
            assert!(dir.join(f).is_file(), "{}: no {f}", dir.display());
        }
        let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
        let doc = roxmltree::Document::parse(&xml).expect("junit.xml is XML");
        let names: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .filter_map(|n| n.attribute("name"))
            .collect();
        assert_eq!(names.len(), CASES.len(), "{names:?}");
        for c in CASES {
            assert_eq!(names.iter().filter(|n| n.starts_with(c)).count(), 1, "{c}");
            let pcap = std::fs::read(dir.join(format!("captures/{c}.pcapng")))
                .unwrap_or_else(|e| panic!("{}: capture of {c}: {e}", dir.display()));
            // With --keylog the capture carries a Decryption Secrets Block (type 0x0A)
            // holding a TLS key log line.
            assert!(contains(&pcap, b"CLIENT_RANDOM "), "{c}: no keys");
        }
        // The pair's own report has the 1 × 1 matrix, its links local.
        let own = dir.join("report.html");
        let own_html = std::fs::read_to_string(&own).unwrap();
        let own_cells = cells(&own_html);
        assert_eq!(own_cells.len(), 1);
        for h in hrefs(own_cells[0].body) {
            resolve(&dir, &own, &h).unwrap_or_else(|e| panic!("{}: {e}", own.display()));
        }
    }

    // The campaign's own junit.xml: a testsuite per pair.
    let xml = std::fs::read_to_string(out.path().join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("junit.xml is XML");
    let suites = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .count();
    assert_eq!(suites, want.len());

    // No PSK anywhere, keys only where asked (captures).
    for f in files(out.path()) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !contains(&bytes, SIM_PSK_HEX.as_bytes()),
            "the PSK is in {}",
            f.display()
        );
    }

    // The page renders in a browser without console errors.
    let (dom, stderr) = chromium(&top, &["--dump-dom"]);
    let errors = console_errors(&stderr);
    assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
    assert!(dom.contains("<table class=\"matrix\">"));
    // The page's script ran to its end (it counts the rows the filters show).
    let rows = html.matches("<tr data-verdict=").count();
    assert_eq!(rows, want.len() * CASES.len());
    assert!(dom.contains(&format!("{rows} of {rows} shown")));
}

#[test]
fn report_from_renders_the_matrix_again() {
    // A one-pair session: the campaign journal alone gives the same matrix back.
    let out = TempDir::new("interop-report-from");
    dicetest_ok(
        &[
            "interop",
            "--client",
            "gnutls",
            "--server",
            "dut-sim",
            "--case",
            "INT-PSK-01",
            "--out",
            out.str(),
        ],
        0,
    );
    let top = out.path().join("report.html");
    let before = std::fs::read_to_string(&top).unwrap();
    std::fs::remove_file(&top).unwrap();
    dicetest_ok(&["report", "--from", out.str()], 0);
    let after = std::fs::read_to_string(&top).unwrap();
    let (a, b) = (cells(&before), cells(&after));
    assert_eq!(a.len(), 1);
    assert_eq!(b.len(), 1);
    assert_eq!(a[0].tag, b[0].tag);
    assert_eq!(hrefs(a[0].body), hrefs(b[0].body));
    assert!(!contains(
        &std::fs::read(
            out.path()
                .join("gnutls__dut-sim/captures/INT-PSK-01.pcapng")
        )
        .unwrap(),
        b"CLIENT_RANDOM "
    ));
}
