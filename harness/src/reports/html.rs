//! `report.html`: one self-contained page (inline CSS, JS and SVG; nothing fetched) with
//! the summary by category and requirement level, every case with its verdict, reason
//! and references, a message sequence chart per case, and requirement coverage.
//!
//! The style sheet and script live in reports/assets/ and are compiled in.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::coverage::coverage;
use super::interop;
use super::model::{CaseRecord, Counts, Run, VERDICTS};
use super::msc;
use super::summary_md::level_rank;
use super::text::{html_escape as esc, Sources};
use crate::runner::Verdict;

const CSS: &str = include_str!("../../../reports/assets/report.css");
const JS: &str = include_str!("../../../reports/assets/report.js");

/// The anchor of a case's details: unique per DUT, id and run.
pub fn anchor(c: &CaseRecord) -> String {
    let raw = format!("case-{}-{}-{}", c.dut, c.id, c.run);
    raw.chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                ch
            } else {
                '_'
            }
        })
        .collect()
}

fn label(v: Verdict) -> &'static str {
    match v {
        Verdict::NotApplicable => "n/a",
        v => v.name(),
    }
}

fn badge(v: Verdict) -> String {
    format!("<span class=\"v v-{}\">{}</span>", v.name(), label(v))
}

pub fn render(run: &Run, sources: &Sources) -> String {
    let mut h = String::new();
    let title = format!("dicetest report — {}", run.title());
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    header(&mut h, run, &title);
    h.push_str("<main>\n");
    if interop::has_pairs(run) {
        interop::matrix_section(&mut h, run, anchor);
    }
    summary(&mut h, run);
    cases_table(&mut h, run);
    coverage_section(&mut h, run);
    details(&mut h, run, sources);
    h.push_str("</main>\n");
    let _ = write!(
        h,
        "<footer>dicetest {} · report.json, junit.xml and summary.md hold the same results · captures/*.pcapng open in Wireshark</footer>\n<script>\n{JS}</script>\n</body>\n</html>\n",
        esc(&run.tool_version)
    );
    h
}

fn header(h: &mut String, run: &Run, title: &str) {
    let _ = writeln!(h, "<header>\n<h1>{}</h1>", esc(title));
    h.push_str("<dl class=\"meta\">\n");
    // Many interop pairs: their descriptions fold away, the matrix says who met whom.
    let fold = interop::matrix_title(run).is_some();
    if fold {
        let _ = writeln!(
            h,
            "<dt>Pairs</dt><dd><details><summary>{} client × server pairs</summary>",
            run.duts.len()
        );
    }
    let (open, close) = if fold {
        ("<div>", "</div>")
    } else {
        ("<dt>DUT</dt><dd>", "</dd>")
    };
    for d in &run.duts {
        let _ = writeln!(
            h,
            "{open}<b>{}</b> — {} <span class=\"muted\">(kind {}, PSK identity {}, claims: {})</span>{close}",
            esc(&d.name),
            esc(&d.description),
            esc(&d.kind),
            esc(&d.psk_identity),
            esc(&d.claims.join(", "))
        );
    }
    if fold {
        h.push_str("</details></dd>\n");
    }
    if let Some(t) = &run.started_at {
        let _ = writeln!(h, "<dt>Started</dt><dd>{}</dd>", esc(t));
    }
    if let Some(t) = &run.finished_at {
        let _ = writeln!(h, "<dt>Finished</dt><dd>{}</dd>", esc(t));
    }
    let _ = writeln!(
        h,
        "<dt>Tool</dt><dd>dicetest {}</dd>\n</dl>",
        esc(&run.tool_version)
    );
    if !run.complete {
        let planned = run
            .planned
            .map(|p| format!(" of {p} planned, {} not run", run.not_run_count()))
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<p class=\"partial\"><b>Partial report:</b> {}; it shows the {} verdicts reached{planned}.</p>",
            esc(&run.stop_reason()),
            run.cases.len()
        );
    }
    h.push_str("<nav>");
    if interop::has_pairs(run) {
        h.push_str("<a href=\"#matrix\">Matrix</a>");
    }
    h.push_str("<a href=\"#summary\">Summary</a><a href=\"#cases\">Cases</a><a href=\"#coverage\">Coverage</a><a href=\"#details\">Exchanges</a></nav>\n</header>\n");
}

/// A bar of verdict shares, as inline SVG.
fn bar(n: &Counts, width: u32) -> String {
    let mut s = format!(
        "<svg class=\"bar\" width=\"{width}\" height=\"12\" viewBox=\"0 0 {width} 12\" aria-hidden=\"true\">"
    );
    let mut x = 0.0f64;
    for v in VERDICTS {
        let k = n.get(v);
        if k == 0 || n.total == 0 {
            continue;
        }
        let w = k as f64 * f64::from(width) / n.total as f64;
        let _ = write!(
            s,
            "<rect class=\"b-{}\" x=\"{x:.1}\" y=\"0\" width=\"{w:.1}\" height=\"12\"/>",
            v.name()
        );
        x += w;
    }
    s.push_str("</svg>");
    s
}

fn counts_table(h: &mut String, head: &str, rows: &[(String, Counts)]) {
    let _ = write!(
        h,
        "<table class=\"counts\"><thead><tr><th>{}</th>",
        esc(head)
    );
    for v in VERDICTS {
        let _ = write!(h, "<th>{}</th>", label(v));
    }
    h.push_str("<th>total</th><th>unexpected</th><th class=\"barcol\"></th></tr></thead><tbody>\n");
    for (k, n) in rows {
        let _ = write!(h, "<tr><th scope=\"row\">{}</th>", esc(k));
        for v in VERDICTS {
            let c = n.get(v);
            if c == 0 {
                h.push_str("<td class=\"zero\">0</td>");
            } else {
                let _ = write!(h, "<td class=\"c-{}\">{c}</td>", v.name());
            }
        }
        let _ = writeln!(
            h,
            "<td>{}</td><td{}>{}</td><td>{}</td></tr>",
            n.total,
            if n.unexpected > 0 {
                " class=\"c-fail\""
            } else {
                ""
            },
            n.unexpected,
            bar(n, 160)
        );
    }
    h.push_str("</tbody></table>\n");
}

fn summary(h: &mut String, run: &Run) {
    let all = run.counts();
    h.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"tiles\">\n");
    for v in VERDICTS {
        let _ = writeln!(
            h,
            "<div class=\"tile t-{}\"><span class=\"n\">{}</span><span class=\"l\">{}</span></div>",
            v.name(),
            all.get(v),
            v.name().replace('_', " ")
        );
    }
    let _ = writeln!(
        h,
        "<div class=\"tile t-unexpected\"><span class=\"n\">{}</span><span class=\"l\">unexpected vs baseline</span></div>\n</div>",
        all.unexpected
    );
    let _ = writeln!(h, "<p>{}</p>", bar(&all, 600));
    if run.duts.len() > 1 {
        let by_dut: Vec<(String, Counts)> = run
            .duts
            .iter()
            .map(|d| (d.name.clone(), Counts::of(run.cases_of(&d.name))))
            .collect();
        h.push_str("<h3>By DUT</h3>\n");
        counts_table(h, "DUT", &by_dut);
    }
    let mut by_cat: BTreeMap<String, Counts> = BTreeMap::new();
    let mut by_level: BTreeMap<(u8, String), Counts> = BTreeMap::new();
    for c in &run.cases {
        by_cat.entry(c.category.clone()).or_default().add(c);
        by_level
            .entry((level_rank(&c.level), c.level.clone()))
            .or_default()
            .add(c);
    }
    h.push_str("<div class=\"two\"><div>\n<h3>By category</h3>\n");
    counts_table(h, "category", &by_cat.into_iter().collect::<Vec<_>>());
    h.push_str("</div><div>\n<h3>By requirement level</h3>\n");
    let levels: Vec<(String, Counts)> = by_level.into_iter().map(|((_, l), n)| (l, n)).collect();
    counts_table(h, "level", &levels);
    h.push_str("</div></div>\n</section>\n");
}

fn cases_table(h: &mut String, run: &Run) {
    let all = run.counts();
    let multi = run.duts.len() > 1;
    h.push_str("<section id=\"cases\">\n<h2>Cases</h2>\n<div class=\"filters\" role=\"group\" aria-label=\"filter by verdict\">\n");
    for v in VERDICTS {
        let _ = write!(
            h,
            "<label class=\"f v-{}\"><input type=\"checkbox\" data-verdict=\"{}\" checked> {} ({})</label>",
            v.name(),
            v.name(),
            label(v),
            all.get(v)
        );
    }
    h.push_str("<label class=\"f\"><input type=\"checkbox\" id=\"only-unexpected\"> only unexpected</label><input type=\"search\" id=\"search\" placeholder=\"search id, title, reason, RFC…\" aria-label=\"search\"><span id=\"shown\"></span></div>\n");
    h.push_str("<table class=\"cases\"><thead><tr>");
    if multi {
        h.push_str("<th>DUT</th>");
    }
    h.push_str("<th>case</th><th>title</th><th>category</th><th>level</th><th>verdict</th><th>reason</th><th>references</th><th>time</th></tr></thead><tbody>\n");
    for c in &run.cases {
        let text = format!(
            "{} {} {} {} {} {} {}",
            c.dut,
            c.id,
            c.title,
            c.category,
            c.reason,
            c.refs.join(" "),
            c.level
        )
        .to_lowercase();
        let _ = write!(
            h,
            "<tr data-verdict=\"{}\" data-unexpected=\"{}\" data-text=\"{}\"{}>",
            c.verdict.name(),
            !c.as_expected,
            esc(&text),
            if c.as_expected {
                ""
            } else {
                " class=\"unexpected\""
            }
        );
        if multi {
            let _ = write!(h, "<td>{}</td>", esc(&c.dut));
        }
        let run_note = if c.run > 1 {
            format!(" <span class=\"muted\">run {}</span>", c.run)
        } else {
            String::new()
        };
        let baseline = match (&c.expected_deviation, c.as_expected) {
            (Some(e), _) => format!(
                "<div class=\"baseline\">baseline expects a deviation: {}</div>",
                esc(e)
            ),
            (None, false) => {
                "<div class=\"baseline\">unexpected: the baseline expects pass</div>".into()
            }
            _ => String::new(),
        };
        let _ = writeln!(
            h,
            "<td class=\"id\"><a href=\"#{}\">{}</a>{run_note}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{baseline}</td><td class=\"refs\">{}</td><td class=\"num\">{} ms</td></tr>",
            anchor(c),
            esc(&c.id),
            esc(&c.title),
            esc(&c.category),
            esc(&c.level),
            badge(c.verdict),
            esc(&c.reason),
            c.refs
                .iter()
                .map(|r| esc(r))
                .collect::<Vec<_>>()
                .join("<br>"),
            c.duration_ms
        );
    }
    h.push_str("</tbody></table>\n</section>\n");
}

fn coverage_section(h: &mut String, run: &Run) {
    let cov = coverage(run);
    h.push_str("<section id=\"coverage\">\n<h2>Requirement coverage</h2>\n");
    if cov.must_total == 0 {
        h.push_str("<p class=\"cov\"><b>No MUST clause is cited by these cases.</b></p>\n");
    } else {
        let pct = cov.must_percent();
        let _ = writeln!(
            h,
            "<p class=\"cov\"><b>{} of {} MUST clauses covered ({pct:.0}%)</b> <svg class=\"bar\" width=\"300\" height=\"12\" viewBox=\"0 0 300 12\" aria-hidden=\"true\"><rect class=\"b-none\" x=\"0\" y=\"0\" width=\"300\" height=\"12\"/><rect class=\"b-pass\" x=\"0\" y=\"0\" width=\"{:.1}\" height=\"12\"/></svg></p>",
            cov.must_covered,
            cov.must_total,
            pct * 3.0
        );
    }
    h.push_str("<p class=\"muted\">A clause is one reference as the cases cite it; it is a MUST clause when a MUST-level case cites it, and covered when a case citing it reached pass or fail (inconclusive, error and not-applicable verdicts show nothing about it). It is violated only when a MUST-level case citing it failed and the baseline does not expect that; a fail the baseline expects shows as a deviation expected by the baseline, an unexpected SHOULD- or MAY-level fail as SHOULD (MAY) not met. Only the clauses the cases of this report cite are counted.</p>\n");
    h.push_str("<table class=\"coverage\"><thead><tr><th>clause</th><th>level</th><th>status</th><th>cases</th></tr></thead><tbody>\n");
    for cl in &cov.clauses {
        // Only an unexpected MUST-level fail is shown as a violation (see coverage.rs).
        let class = if cl.violated {
            "v-fail"
        } else if cl.not_met.is_some() || cl.deviation_expected {
            "v-inconclusive"
        } else if cl.covered {
            "v-pass"
        } else {
            "v-not_applicable"
        };
        let status = format!("<span class=\"v {class}\">{}</span>", esc(&cl.status()));
        let cases: Vec<String> = cl
            .cases
            .iter()
            .filter_map(|&i| run.cases.get(i))
            .map(|c| {
                format!(
                    "<a class=\"cl v-{}\" href=\"#{}\" title=\"{}\">{}{}</a>",
                    c.verdict.name(),
                    anchor(c),
                    esc(&format!("{}: {}", c.verdict, c.title)),
                    esc(&c.id),
                    if run.duts.len() > 1 {
                        format!("@{}", esc(&c.dut))
                    } else {
                        String::new()
                    }
                )
            })
            .collect();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{status}</td><td>{}</td></tr>",
            esc(&cl.clause),
            esc(&cl.level),
            cases.join(" ")
        );
    }
    h.push_str("</tbody></table>\n</section>\n");
}

fn details(h: &mut String, run: &Run, sources: &Sources) {
    h.push_str("<section id=\"details\">\n<h2>Exchanges</h2>\n<p><button type=\"button\" id=\"expand\">open all</button> <button type=\"button\" id=\"collapse\">close all</button></p>\n");
    for c in &run.cases {
        let _ = writeln!(
            h,
            "<article class=\"case\" id=\"{}\" data-verdict=\"{}\" data-unexpected=\"{}\">\n<h3>{} {} {}{}</h3>",
            anchor(c),
            c.verdict.name(),
            !c.as_expected,
            badge(c.verdict),
            esc(&c.id),
            esc(&c.title),
            if run.duts.len() > 1 {
                format!(" <span class=\"muted\">on {}</span>", esc(&c.dut))
            } else {
                String::new()
            }
        );
        let _ = write!(
            h,
            "<p class=\"reason\">{}</p>\n{}<p class=\"muted\">{} · {}",
            esc(&c.reason),
            if c.branches.is_empty() {
                String::new()
            } else {
                format!(
                    "<p class=\"branches\">one_of: {}</p>\n",
                    esc(&c.branches.join("; "))
                )
            },
            esc(&c.level),
            esc(&c.refs.join("; "))
        );
        if !c.file.is_empty() {
            let at = match (c.step, c.line) {
                (Some(s), Some(l)) => format!(" · decided by step {s} ({}:{l})", c.file),
                _ => format!(" · {}", c.file),
            };
            h.push_str(&esc(&at));
        }
        let _ = write!(h, " · {} ms", c.duration_ms);
        if let Some(p) = &c.capture {
            let _ = write!(h, " · <a href=\"{}\">capture</a>", esc(p));
        }
        if let Some(p) = &c.evidence {
            let _ = write!(h, " · <a href=\"{}\">evidence</a>", esc(p));
        }
        h.push_str("</p>\n");
        if c.chart.is_empty() {
            h.push_str("<p class=\"muted\">No datagrams were exchanged.</p>\n");
        } else {
            let dut_is_client = c
                .chart
                .iter()
                .find(|d| {
                    d.records
                        .iter()
                        .any(|r| r.epoch == 0 && r.summary.starts_with("ClientHello"))
                })
                .is_some_and(|d| d.from_dut);
            let open = if c.verdict == Verdict::Pass {
                ""
            } else {
                " open"
            };
            // An interop session's lifelines are its two implementations (the server's
            // datagrams are the ones marked from_dut); dicetest is the relay between them.
            let pair = run
                .duts
                .iter()
                .find(|d| d.name == c.dut)
                .and_then(interop::split_pair);
            let svg = match pair {
                Some((client, server)) => msc::render_lanes(
                    &c.chart,
                    &format!("client {client}"),
                    &format!("server {server}"),
                ),
                None => msc::render(&c.chart, &c.dut, dut_is_client),
            };
            let _ = write!(
                h,
                "<details class=\"chart\"{open}><summary>Message sequence chart ({} datagrams)</summary>\n<div class=\"scroll\">{svg}</div></details>\n",
                c.chart.len(),
            );
        }
        if let Some(t) = sources.evidence(c) {
            let _ = writeln!(
                h,
                "<details class=\"trace\"><summary>Trace</summary><pre>{}</pre></details>",
                esc(&t)
            );
        }
        h.push_str("</article>\n");
    }
    h.push_str("</section>\n");
}
