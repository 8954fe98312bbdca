//! Interop sessions in the report model: a client × server pair is the "DUT" of its
//! cases (kind `interop`), so every format renders an interop run as it renders a suite
//! run, and `report.html` adds the matrix of client × server with verdict counts per cell
//! (the plugtest view, issue 5).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::model::{CaseRecord, Counts, DutInfo, Run, VERDICTS};
use super::text::html_escape as esc;
use crate::dut::Profile;

/// `DutInfo::kind` of a client × server pair.
pub const KIND: &str = "interop";

/// What joins the two names of a pair (`gnutls × openssl`: client first).
const JOIN: &str = " × ";

/// The name of a pair: client first.
pub fn pair_name(client: &str, server: &str) -> String {
    format!("{client}{JOIN}{server}")
}

/// The folder a pair's results go to under the matrix's output folder.
pub fn pair_dir(client: &str, server: &str) -> String {
    format!("{client}__{server}")
}

/// The report model's DUT for a pair. The PSK stays redacted like any DUT's.
pub fn pair_info(client: &Profile, server: &Profile) -> DutInfo {
    let mut d = DutInfo::from_profile(server);
    d.name = pair_name(&client.name, &server.name);
    d.kind = KIND.into();
    d.description = format!(
        "interop session: client {} ({}) against server {} ({})",
        client.name, client.description, server.name, server.description
    );
    d.claims = server
        .claims
        .iter()
        .filter(|c| client.claims(c))
        .cloned()
        .collect();
    d
}

/// (client, server) of a pair's DUT, or None when the DUT is not a pair.
pub fn split_pair(d: &DutInfo) -> Option<(&str, &str)> {
    if d.kind != KIND {
        return None;
    }
    split_name(&d.name)
}

/// (client, server) of a pair's name.
pub fn split_name(name: &str) -> Option<(&str, &str)> {
    name.split_once(JOIN)
}

/// Makes a pair's records point into its folder (`evidence/X.txt` →
/// `PAIR/evidence/X.txt`), for a report rendered one folder up.
pub fn prefix_paths(run: &mut Run, dir: &str) {
    for c in &mut run.cases {
        for p in [&mut c.evidence, &mut c.capture].into_iter().flatten() {
            *p = format!("{dir}/{p}");
        }
    }
}

/// The folder a pair's cases live in relative to the report, when every record of the pair
/// names one (a matrix report one folder up); None in the pair's own folder.
fn folder_of<'a>(cases: &[&'a CaseRecord]) -> Option<&'a str> {
    let mut dirs = cases.iter().map(|c| {
        c.evidence
            .as_deref()
            .or(c.capture.as_deref())
            .and_then(|p| p.split_once('/'))
            .map(|(d, _)| d)
            .filter(|d| !["evidence", super::CAPTURES].contains(d))
    });
    let first = dirs.next()??;
    dirs.all(|d| d == Some(first)).then_some(first)
}

/// The clients and the servers of the run's pairs, each in first-seen order.
fn sides(run: &Run) -> (Vec<&str>, Vec<&str>) {
    let mut clients: Vec<&str> = Vec::new();
    let mut servers: Vec<&str> = Vec::new();
    for (c, s) in run.duts.iter().filter_map(split_pair) {
        if !clients.contains(&c) {
            clients.push(c);
        }
        if !servers.contains(&s) {
            servers.push(s);
        }
    }
    (clients, servers)
}

/// `interop matrix: 2 clients × 3 servers` for a run of several pairs (a title that
/// listed twenty pairs would be no title).
pub fn matrix_title(run: &Run) -> Option<String> {
    if run.duts.len() < 2 || !run.duts.iter().all(|d| split_pair(d).is_some()) {
        return None;
    }
    let (c, s) = sides(run);
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    Some(format!(
        "interop matrix: {} × {}",
        plural(c.len(), "client"),
        plural(s.len(), "server")
    ))
}

/// Whether the run holds interop pairs (and so gets a matrix).
pub fn has_pairs(run: &Run) -> bool {
    run.duts.iter().any(|d| split_pair(d).is_some())
}

/// The matrix section of `report.html`: clients down, servers across; each cell counts
/// the pair's verdicts and links to its cases in this page and to its own report.
pub fn matrix_section(h: &mut String, run: &Run, anchor: impl Fn(&CaseRecord) -> String) {
    let (clients, servers) = sides(run);
    let cells: BTreeMap<(&str, &str), &DutInfo> = run
        .duts
        .iter()
        .filter_map(|d| split_pair(d).map(|p| (p, d)))
        .collect();
    h.push_str("<section id=\"matrix\">\n<h2>Interop matrix</h2>\n<p class=\"muted\">Clients down, servers across. Each cell counts the verdicts of the pair's sessions (dicetest on the path as a relay, the monitor judging with the shared PSK); the case links open the session in this page, <i>report</i> opens the pair's own report.</p>\n");
    h.push_str("<table class=\"matrix\"><thead><tr><th>client \\ server</th>");
    for s in &servers {
        let _ = write!(h, "<th scope=\"col\">{}</th>", esc(s));
    }
    h.push_str("</tr></thead><tbody>\n");
    for c in &clients {
        let _ = write!(h, "<tr><th scope=\"row\">{}</th>", esc(c));
        for s in &servers {
            match cells.get(&(*c, *s)) {
                Some(d) => cell(h, run, d, c, s, &anchor),
                None => h.push_str("<td class=\"cell empty\">–</td>"),
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n</section>\n");
}

fn cell(
    h: &mut String,
    run: &Run,
    d: &DutInfo,
    client: &str,
    server: &str,
    anchor: &impl Fn(&CaseRecord) -> String,
) {
    let cases: Vec<&CaseRecord> = run.cases_of(&d.name).collect();
    let n = Counts::of(cases.iter().copied());
    // The worst verdict colours the cell.
    let worst = VERDICTS
        .iter()
        .find(|v| n.get(**v) > 0)
        .map(|v| v.name())
        .unwrap_or("none");
    let _ = write!(
        h,
        "<td class=\"cell w-{worst}\" data-client=\"{}\" data-server=\"{}\" data-total=\"{}\"",
        esc(client),
        esc(server),
        n.total
    );
    for v in VERDICTS {
        let _ = write!(h, " data-{}=\"{}\"", v.name().replace('_', "-"), n.get(v));
    }
    h.push_str("><div class=\"counts\">");
    let parts: Vec<String> = VERDICTS
        .iter()
        .filter(|v| n.get(**v) > 0)
        .map(|v| {
            format!(
                "<span class=\"v v-{}\">{} {}</span>",
                v.name(),
                n.get(*v),
                if *v == crate::runner::Verdict::NotApplicable {
                    "n/a"
                } else {
                    v.name()
                }
            )
        })
        .collect();
    if parts.is_empty() {
        h.push_str("<span class=\"muted\">no case</span>");
    } else {
        h.push_str(&parts.join(" "));
    }
    h.push_str("</div><div class=\"links\">");
    for c in &cases {
        let _ = write!(
            h,
            "<a class=\"cl v-{}\" href=\"#{}\" title=\"{}\">{}</a>",
            c.verdict.name(),
            anchor(c),
            esc(&format!("{}: {}", c.verdict.name(), c.reason)),
            esc(&c.id)
        );
    }
    if let Some(dir) = folder_of(&cases) {
        let _ = write!(
            h,
            " <a class=\"pair-report\" href=\"{}/{}\">report</a>",
            esc(dir),
            super::REPORT_HTML
        );
    }
    h.push_str("</div></td>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::Verdict;

    fn record(dut: &str, id: &str, v: Verdict, evidence: Option<&str>) -> CaseRecord {
        CaseRecord {
            branches: Vec::new(),
            dut: dut.into(),
            id: id.into(),
            title: "t".into(),
            verdict: v,
            reason: "r".into(),
            step: None,
            line: None,
            refs: vec![],
            level: "MUST".into(),
            file: "suites/interop/X.yaml".into(),
            category: "interop".into(),
            started_at: None,
            duration_ms: 1,
            as_expected: true,
            expected_deviation: None,
            evidence: evidence.map(Into::into),
            capture: None,
            run: 1,
            chart: vec![],
        }
    }

    fn pair(name: &str) -> DutInfo {
        let mut d = DutInfo::named(name);
        d.kind = KIND.into();
        d
    }

    #[test]
    fn names_split_back_and_paths_get_their_folder() {
        assert_eq!(split_name(&pair_name("a", "b")), Some(("a", "b")));
        assert_eq!(
            split_pair(&DutInfo::named("a × b")),
            None,
            "not kind interop"
        );
        let mut run = Run {
            cases: vec![record(
                "a × b",
                "I-1",
                Verdict::Pass,
                Some("evidence/I-1.txt"),
            )],
            ..Default::default()
        };
        prefix_paths(&mut run, "a__b");
        assert_eq!(
            run.cases[0].evidence.as_deref(),
            Some("a__b/evidence/I-1.txt")
        );
        assert_eq!(run.cases[0].capture, None);
    }

    #[test]
    fn the_matrix_counts_each_pair_and_links_its_cases() {
        let mut run = Run {
            duts: vec![pair("a × x"), pair("a × y"), pair("b × x")],
            cases: vec![
                record("a × x", "I-1", Verdict::Pass, Some("a__x/evidence/I-1.txt")),
                record("a × x", "I-2", Verdict::Fail, Some("a__x/evidence/I-2.txt")),
                record("a × y", "I-1", Verdict::Pass, Some("evidence/I-1.txt")),
                record("b × x", "I-1", Verdict::NotApplicable, None),
            ],
            ..Default::default()
        };
        run.normalize();
        let mut h = String::new();
        matrix_section(&mut h, &run, |c| {
            format!("{}-{}", c.dut.replace(" × ", "_"), c.id)
        });
        // 2 clients × 2 servers: three pairs and one empty cell.
        assert_eq!(h.matches("<td class=\"cell ").count(), 4);
        assert_eq!(h.matches("cell empty").count(), 1);
        assert!(h.contains("<td class=\"cell w-fail\" data-client=\"a\" data-server=\"x\" data-total=\"2\" data-fail=\"1\""));
        assert!(h.contains("data-pass=\"1\""));
        assert!(h.contains("href=\"#a_x-I-2\""));
        // Only the pair whose records name a folder links to a report of its own.
        assert_eq!(h.matches("class=\"pair-report\"").count(), 1);
        assert!(h.contains("href=\"a__x/report.html\""));
        assert!(h.contains("w-not_applicable"));
        assert_eq!(
            matrix_title(&run).as_deref(),
            Some("interop matrix: 2 clients × 2 servers")
        );
        run.duts.truncate(1);
        assert_eq!(matrix_title(&run), None, "one pair keeps its name");
    }
}
