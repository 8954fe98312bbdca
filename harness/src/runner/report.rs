//! What a run leaves behind: `report.json`, a journal of verdicts written as they are
//! reached, and per-case evidence files.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::CaseResult;
use crate::dut::Profile;

/// Version of the report.json layout (see `crate::reports::json`).
pub const REPORT_SCHEMA_VERSION: u32 = crate::reports::model::SCHEMA_VERSION;

#[derive(Serialize, Default, Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub total: usize,
    pub pass: usize,
    pub fail: usize,
    pub inconclusive: usize,
    pub error: usize,
    pub not_applicable: usize,
    pub unexpected: usize,
    pub flaky: Vec<String>,
}

pub fn summarize(results: &[CaseResult]) -> Summary {
    use super::Verdict::*;
    let mut s = Summary {
        total: results.len(),
        ..Default::default()
    };
    for r in results {
        match r.verdict {
            Pass => s.pass += 1,
            Fail => s.fail += 1,
            Inconclusive => s.inconclusive += 1,
            Error => s.error += 1,
            NotApplicable => s.not_applicable += 1,
        }
        if !r.as_expected {
            s.unexpected += 1;
        }
    }
    let mut by_id: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
        Default::default();
    for r in results {
        by_id.entry(&r.id).or_default().insert(r.verdict.name());
    }
    s.flaky = by_id
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(k, _)| k.to_string())
        .collect();
    s
}

/// Writes `report.json` into `out` (the layout of `crate::reports::json`, PSK redacted).
pub fn write_report(
    out: &Path,
    profile: &Profile,
    results: &[CaseResult],
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(out)?;
    let run = crate::reports::Run::from_results(profile, results);
    let path = out.join(crate::reports::REPORT_JSON);
    std::fs::write(&path, crate::reports::json::render(&run))?;
    Ok(path)
}

/// Appends one verdict to `journal.jsonl` at once, so an interrupted run keeps it.
/// (`dicetest run` writes richer lines with `crate::reports::CaseWriter`; both read back.)
pub fn append_journal(out: &Path, r: &CaseResult) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out.join("journal.jsonl"))?;
    let mut line = serde_json::to_vec(r).map_err(std::io::Error::other)?;
    line.push(b'\n');
    f.write_all(&line)?;
    f.sync_data()
}

/// Writes the case's trace (and the DUT's output) to `evidence/ID[-runN].txt`.
pub fn write_evidence(out: &Path, r: &CaseResult) -> std::io::Result<String> {
    let dir = out.join("evidence");
    std::fs::create_dir_all(&dir)?;
    let name = if r.run > 1 {
        format!("{}-run{}.txt", r.id, r.run)
    } else {
        format!("{}.txt", r.id)
    };
    let mut text = format!(
        "{} — {}\nverdict: {}\nreason: {}\nrefs: {}\n\n",
        r.id,
        r.title,
        r.verdict,
        r.reason,
        r.refs.join(", ")
    );
    for l in &r.trace {
        text.push_str(l);
        text.push('\n');
    }
    if !r.dut_log.is_empty() {
        text.push_str("\n--- DUT output ---\n");
        text.push_str(&r.dut_log);
    }
    std::fs::write(dir.join(&name), text)?;
    Ok(format!("evidence/{name}"))
}
