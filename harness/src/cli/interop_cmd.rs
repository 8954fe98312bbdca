//! `dicetest interop`: two real implementations, dicetest on the path between them.

use std::path::PathBuf;

use clap::Args;

use super::suite_cmds::{default_suites, glob};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::dut::profile::find_profile;
use crate::dut::Profile;
use crate::interop::{load_interop_dir, run_session};
use crate::runner::report::{append_journal, summarize, write_evidence, write_report};
use crate::runner::{CaseResult, Verdict};

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
    /// Folder of interop descriptions.
    #[arg(long, value_name = "DIR", default_value_os_t = default_suites().join("interop"))]
    pub suite: PathBuf,
    #[arg(long, value_name = "DIR", default_value = "out/interop")]
    pub out: PathBuf,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn run(a: InteropArgs) -> i32 {
    let (cases, errors) = load_interop_dir(&a.suite);
    for e in &errors {
        eprintln!("{e}");
    }
    if !errors.is_empty() {
        return EXIT_USAGE;
    }
    let cases: Vec<_> = cases
        .into_iter()
        .filter(|(c, _)| a.cases.is_empty() || a.cases.iter().any(|g| glob(g, &c.id)))
        .collect();
    if cases.is_empty() {
        eprintln!("no interop case under {}", a.suite.display());
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
    let pairs: Vec<(Profile, Profile)> = if a.matrix.is_empty() {
        vec![(profiles[0].clone(), profiles[1].clone())]
    } else {
        let mut v = Vec::new();
        for c in profiles.iter().filter(|p| p.client_start.is_some()) {
            for s in profiles.iter().filter(|p| p.start.is_some()) {
                v.push((c.clone(), s.clone()));
            }
        }
        v
    };
    let mut matrix = Vec::new();
    let mut unexpected = 0;
    for (c, s) in &pairs {
        let dir = a.out.join(format!("{}__{}", c.name, s.name));
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::remove_file(dir.join("journal.jsonl"));
        println!("== client {} × server {}", c.name, s.name);
        let mut results: Vec<CaseResult> = Vec::new();
        for (case, file) in &cases {
            let mut r = run_session(case, file, c, s, &root());
            r.evidence = write_evidence(&dir, &r).ok();
            let _ = append_journal(&dir, &r);
            println!(
                "{}{:<12} {:<14} {}",
                if r.as_expected { "  " } else { "! " },
                r.id,
                r.verdict.name(),
                r.reason
            );
            results.push(r);
        }
        let mut pair = s.clone();
        pair.name = format!("{} (client) × {} (server)", c.name, s.name);
        pair.description = format!(
            "interop session: {} against {}",
            c.description, s.description
        );
        let _ = write_report(&dir, &pair, &results);
        let sum = summarize(&results);
        unexpected += sum.unexpected;
        matrix.push(serde_json::json!({
            "client": c.name, "server": s.name,
            "pass": sum.pass, "fail": sum.fail, "inconclusive": sum.inconclusive,
            "error": sum.error, "not_applicable": sum.not_applicable,
            "report": format!("{}__{}/report.json", c.name, s.name),
        }));
    }
    let _ = std::fs::write(
        a.out.join("matrix.json"),
        serde_json::to_vec_pretty(&matrix).unwrap_or_default(),
    );
    // A plain-text grid: clients down, servers across, "pass/total" per cell.
    let servers: Vec<String> =
        pairs
            .iter()
            .map(|p| p.1.name.clone())
            .fold(Vec::new(), |mut v, n| {
                if !v.contains(&n) {
                    v.push(n)
                }
                v
            });
    let clients: Vec<String> =
        pairs
            .iter()
            .map(|p| p.0.name.clone())
            .fold(Vec::new(), |mut v, n| {
                if !v.contains(&n) {
                    v.push(n)
                }
                v
            });
    let mut md = format!(
        "| client \\ server | {} |\n|---|{}\n",
        servers.join(" | "),
        "---|".repeat(servers.len())
    );
    for c in &clients {
        md += &format!("| {c} |");
        for s in &servers {
            let cell = matrix
                .iter()
                .find(|m| m["client"] == *c && m["server"] == *s);
            match cell {
                Some(m) => {
                    let applicable = m["pass"].as_u64().unwrap_or(0)
                        + m["fail"].as_u64().unwrap_or(0)
                        + m["inconclusive"].as_u64().unwrap_or(0)
                        + m["error"].as_u64().unwrap_or(0);
                    md += &format!(" {}/{} |", m["pass"], applicable)
                }
                None => md += " – |",
            }
        }
        md += "\n";
    }
    let _ = std::fs::write(a.out.join("matrix.md"), &md);
    println!("\n{md}\nmatrix: {}", a.out.join("matrix.json").display());
    let _ = Verdict::Pass;
    if unexpected > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}
