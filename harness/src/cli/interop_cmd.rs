//! `dicetest interop`: two real implementations, dicetest on the path between them.
//!
//! Each client × server pair is a DUT of the report model (`reports::interop`): its
//! folder `OUT/CLIENT__SERVER/` gets a journal written as verdicts are reached, evidence,
//! captures and every report format. `OUT/` itself gets the whole campaign rendered from
//! the pairs' journals (report.html opening with the client × server matrix, junit.xml
//! with a testsuite per pair, report.json, summary.md) and matrix.json / matrix.md.

use std::path::{Path, PathBuf};

use clap::Args;

use super::suite_cmds::select;
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::dut::profile::find_profile;
use crate::dut::Profile;
use crate::interop::{load_interop_dir, run_session, InteropCase};
use crate::reports::model::{now_unix_ms, rfc3339};
use crate::reports::{self, interop, journal, CaseWriter, Redactor, Run, Sources};
use crate::runner::report::write_evidence;

#[derive(Args, Debug)]
pub struct InteropArgs {
    /// Client implementation (a profile with client_start).
    #[arg(long, value_name = "PROFILE", required_unless_present = "matrix")]
    pub client: Option<String>,
    /// Server implementation (a profile with start).
    #[arg(long, value_name = "PROFILE", required_unless_present = "matrix")]
    pub server: Option<String>,
    /// Every client × server pair of these profiles.
    #[arg(long, value_name = "PROFILE", num_args = 1..)]
    pub matrix: Vec<String>,
    /// Only interop cases whose id matches (repeatable).
    #[arg(long = "case", value_name = "GLOB")]
    pub cases: Vec<String>,
    /// Folder of one's own interop descriptions [default: the shipped ones
    /// (suites/interop), built into dicetest]
    #[arg(long, value_name = "DIR")]
    pub suite: Option<PathBuf>,
    #[arg(long, value_name = "DIR", default_value = "out/interop")]
    pub out: PathBuf,
    /// Put each session's keys into its capture (a pcapng Decryption Secrets Block) so
    /// Wireshark decrypts it. Anyone with the file can then read the whole exchange.
    #[arg(long)]
    pub keylog: bool,
    /// Skip the pre-flight: by default each party first completes one plain handshake with
    /// dicetest in the role it plays (server, client), so that a party that cannot start,
    /// answer or use its credentials ends the run as a setup error, naming it.
    #[arg(long)]
    pub no_preflight: bool,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Adds the PSKs a pair's outputs must not show: the shared one, and any a case gives
/// the client instead.
fn hide_keys(r: Redactor, c: &Profile, s: &Profile, cases: &[(InteropCase, PathBuf)]) -> Redactor {
    let mut r = r.with_psk(&c.psk()).with_psk(&s.psk());
    for (case, _) in cases {
        if let Some(k) = case
            .client_psk_hex
            .as_deref()
            .and_then(|h| hex::decode(h).ok())
        {
            r = r.with_psk(&k);
        }
    }
    r
}

/// The pairs to run: one, or every client × server of the matrix.
fn pairs(a: &InteropArgs, profiles: &[Profile]) -> Vec<(Profile, Profile)> {
    if a.matrix.is_empty() {
        return vec![(profiles[0].clone(), profiles[1].clone())];
    }
    let mut v = Vec::new();
    for c in profiles.iter().filter(|p| p.client_start.is_some()) {
        for s in profiles.iter().filter(|p| p.start.is_some()) {
            v.push((c.clone(), s.clone()));
        }
    }
    v
}

pub fn run(a: InteropArgs) -> i32 {
    let (cases, errors) = match &a.suite {
        Some(dir) => load_interop_dir(dir),
        None => crate::shipped::load_interop(None),
    };
    let suite_name = a
        .suite
        .clone()
        .unwrap_or_else(|| "suites/interop (built in)".into());
    for e in &errors {
        eprintln!("{e}");
    }
    if !errors.is_empty() {
        return EXIT_USAGE;
    }
    let cases = match select(&a.cases, cases, |(c, _)| &c.id, &suite_name) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    };
    if cases.is_empty() {
        eprintln!("no interop case under {}", suite_name.display());
        return EXIT_USAGE;
    }
    let names: Vec<String> = if a.matrix.is_empty() {
        vec![
            a.client.clone().unwrap_or_default(),
            a.server.clone().unwrap_or_default(),
        ]
    } else {
        a.matrix.clone()
    };
    let mut profiles = Vec::new();
    for n in &names {
        match find_profile(n) {
            Ok(p) => profiles.push(p),
            Err(e) => {
                eprintln!("{e}");
                return EXIT_USAGE;
            }
        }
    }
    // Each party of a matrix once: a name given twice would play every session twice and
    // split its results between two identical rows and columns. (A single pair may be one
    // implementation on both ends: gnutls-cli against gnutls-serv.)
    for (i, p) in profiles.iter().enumerate() {
        if !a.matrix.is_empty() && profiles[..i].iter().any(|q| q.name == p.name) {
            eprintln!(
                "dicetest interop: {} is named twice (profile names must differ: one row and one column each)",
                p.name
            );
            return EXIT_USAGE;
        }
    }
    // A party must be able to play a part: one that can be neither client nor server here
    // (an in-process board, a device at an address) is refused by name, not dropped.
    for p in &profiles {
        if p.client_start.is_none() && p.start.is_none() {
            eprintln!(
                "dicetest interop: {} cannot be a party: an interop party is a program dicetest starts (a profile of kind process with start and/or client_start); {} is of kind {}",
                p.name, p.name, p.kind
            );
            return EXIT_USAGE;
        }
    }
    let pairs = pairs(&a, &profiles);
    if pairs.is_empty() {
        eprintln!("no client × server pair: a client needs client_start, a server start");
        return EXIT_USAGE;
    }
    if !a.no_preflight {
        for p in &profiles {
            let mut roles = Vec::new();
            if pairs.iter().any(|(c, _)| c.name == p.name) {
                roles.push(crate::cases::DutRole::Client);
            }
            if pairs.iter().any(|(_, s)| s.name == p.name) {
                roles.push(crate::cases::DutRole::Server);
            }
            if let Err(e) = crate::runner::preflight::check(p, &roles, 1, &root()) {
                eprintln!(
                    "dicetest interop: setup error, pre-flight of {} failed ({}): {e}\n  no session was run; --no-preflight skips this check",
                    p.name,
                    e.what()
                );
                return EXIT_USAGE;
            }
        }
    }
    let started = rfc3339(now_unix_ms());
    let mut campaign = Run {
        tool_version: env!("CARGO_PKG_VERSION").into(),
        started_at: Some(started.clone()),
        complete: true,
        planned: Some(pairs.len() * cases.len()),
        ..Default::default()
    };
    let mut hide = Redactor::default();
    for (c, s) in &pairs {
        let name = interop::pair_dir(&c.name, &s.name);
        let dir = a.out.join(&name);
        let redact = hide_keys(Redactor::default(), c, s, &cases);
        println!("== client {} × server {}", c.name, s.name);
        let mut run = match run_pair(&a, &dir, c, s, &cases, &redact) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{}: {e}", dir.display());
                return EXIT_USAGE;
            }
        };
        interop::prefix_paths(&mut run, &name);
        campaign.complete &= run.complete;
        campaign.duts.extend(run.duts);
        campaign.cases.extend(run.cases);
        hide = hide_keys(hide, c, s, &cases);
    }
    campaign.finished_at = Some(rfc3339(now_unix_ms()));
    campaign.normalize();
    // The campaign gets a journal of its own too, so `dicetest report --from OUT`
    // renders it again, matrix included.
    let rendered = journal::write_run(&a.out, &campaign)
        .and_then(|_| reports::write_all(&a.out, &campaign, &Sources::new(&a.out, hide)));
    if let Err(e) = rendered {
        eprintln!("cannot write the reports to {}: {e}", a.out.display());
        return EXIT_USAGE;
    }
    let md = write_matrix(&a.out, &pairs, &campaign);
    let n = campaign.counts();
    println!(
        "\n{md}\n{} pass, {} fail, {} inconclusive, {} error, {} not applicable — report: {}",
        n.pass,
        n.fail,
        n.inconclusive,
        n.error,
        n.not_applicable,
        a.out.join(reports::REPORT_HTML).display()
    );
    if n.unexpected > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

/// Plays every case for one pair into `dir` (journal, evidence, captures as each verdict
/// is reached; then every format) and returns the pair's results read back from its
/// journal.
fn run_pair(
    a: &InteropArgs,
    dir: &Path,
    c: &Profile,
    s: &Profile,
    cases: &[(InteropCase, PathBuf)],
    redact: &Redactor,
) -> Result<Run, String> {
    let info = interop::pair_info(c, s);
    let planned: Vec<String> = cases.iter().map(|(c, _)| c.id.clone()).collect();
    journal::start(
        dir,
        std::slice::from_ref(&info),
        &planned,
        false,
        &rfc3339(now_unix_ms()),
    )
    .map_err(|e| format!("cannot start the journal: {e}"))?;
    let writer = CaseWriter {
        out: dir.to_path_buf(),
        dut: info.name.clone(),
        keylog: a.keylog,
    };
    for (case, file) in cases {
        let mut r = run_session(case, file, c, s, &root());
        r.evidence = write_evidence(dir, &r).ok();
        if let Err(e) = writer.record(&r) {
            eprintln!("cannot record {} in {}: {e}", r.id, dir.display());
        }
        println!(
            "{}{:<12} {:<14} {}",
            if r.as_expected { "  " } else { "! " },
            r.id,
            r.verdict.name(),
            redact.apply(&r.reason)
        );
    }
    journal::finish(dir, &rfc3339(now_unix_ms()))
        .map_err(|e| format!("cannot finish the journal: {e}"))?;
    let run = reports::load(dir).map_err(|e| e.to_string())?;
    reports::write_all(dir, &run, &Sources::new(dir, redact.clone()))
        .map_err(|e| format!("cannot write the reports: {e}"))?;
    Ok(run)
}

/// `matrix.json` (a cell per pair with its counts and files) and `matrix.md` (clients
/// down, servers across, passes of the applicable cases per cell); returns the grid.
fn write_matrix(out: &Path, pairs: &[(Profile, Profile)], campaign: &Run) -> String {
    let mut cells = Vec::new();
    for (c, s) in pairs {
        let n = reports::Counts::of(campaign.cases_of(&interop::pair_name(&c.name, &s.name)));
        let dir = interop::pair_dir(&c.name, &s.name);
        cells.push(serde_json::json!({
            "client": c.name, "server": s.name,
            "pass": n.pass, "fail": n.fail, "inconclusive": n.inconclusive,
            "error": n.error, "not_applicable": n.not_applicable, "unexpected": n.unexpected,
            "report": format!("{dir}/{}", reports::REPORT_JSON),
            "report_html": format!("{dir}/{}", reports::REPORT_HTML),
            "junit": format!("{dir}/{}", reports::JUNIT_XML),
        }));
    }
    let _ = std::fs::write(
        out.join("matrix.json"),
        serde_json::to_vec_pretty(&cells).unwrap_or_default(),
    );
    let names: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(c, s)| (c.name.as_str(), s.name.as_str()))
        .collect();
    let md = matrix_md(&names, campaign);
    let _ = std::fs::write(out.join("matrix.md"), &md);
    md
}

/// The grid of matrix.md: one row per client and one column per server, each named once
/// (in first-seen order) however many pairs name it.
fn matrix_md(pairs: &[(&str, &str)], campaign: &Run) -> String {
    let mut servers: Vec<&str> = Vec::new();
    let mut clients: Vec<&str> = Vec::new();
    for &(c, s) in pairs {
        if !clients.contains(&c) {
            clients.push(c);
        }
        if !servers.contains(&s) {
            servers.push(s);
        }
    }
    let mut md = format!(
        "| client \\ server | {} |\n|---|{}\n",
        servers.join(" | "),
        "---|".repeat(servers.len())
    );
    for c in &clients {
        md += &format!("| {c} |");
        for s in &servers {
            let name = interop::pair_name(c, s);
            if campaign.duts.iter().any(|d| d.name == name) {
                let n = reports::Counts::of(campaign.cases_of(&name));
                md += &format!(
                    " {}/{} |",
                    n.pass,
                    n.pass + n.fail + n.inconclusive + n.error
                );
            } else {
                md += " – |";
            }
        }
        md += "\n";
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::{CaseRecord, DutInfo};

    #[test]
    fn matrix_md_lists_each_client_and_server_once() {
        let mut run = Run::default();
        let pairs = [
            ("gnutls", "gnutls"),
            ("gnutls", "openssl"),
            ("gnutls", "dut-sim"),
            ("openssl", "gnutls"),
            ("openssl", "openssl"),
            ("openssl", "dut-sim"),
            // A pair named again (the same client later in the list) adds no row.
            ("gnutls", "openssl"),
        ];
        for (c, s) in &pairs[..6] {
            let name = interop::pair_name(c, s);
            run.duts.push(DutInfo::named(&name));
            run.cases.push(CaseRecord {
                branches: Vec::new(),
                dut: name,
                id: "INT-PSK-01".into(),
                title: "t".into(),
                verdict: crate::runner::Verdict::Pass,
                reason: "r".into(),
                step: None,
                line: None,
                refs: vec![],
                level: "MUST".into(),
                file: "suites/interop/INT-PSK-01.yaml".into(),
                category: "interop".into(),
                started_at: None,
                duration_ms: 1,
                as_expected: true,
                expected_deviation: None,
                evidence: None,
                capture: None,
                run: 1,
                chart: vec![],
            });
        }
        let md = matrix_md(&pairs, &run);
        let rows: Vec<&str> = md.lines().skip(2).collect();
        assert_eq!(rows.len(), 2, "{md}");
        assert_eq!(rows[0], "| gnutls | 1/1 | 1/1 | 1/1 |", "{md}");
        assert_eq!(rows[1], "| openssl | 1/1 | 1/1 | 1/1 |", "{md}");
        assert_eq!(
            md.lines().next(),
            Some("| client \\ server | gnutls | openssl | dut-sim |")
        );
        // A pair that was not run shows as a dash, not as a row of its own.
        let md = matrix_md(&[("a", "b"), ("c", "b")], &run);
        assert_eq!(
            md.lines().skip(2).collect::<Vec<_>>(),
            ["| a | – |", "| c | – |"]
        );
    }
}
