//! What a run leaves for people and tools: `report.json`, `junit.xml`, `summary.md`,
//! `report.html` and a pcapng capture per case, all rendered from one result model
//! ([`Run`]) that is read back from the journal, so a run cut short still has a report.
//!
//! Secrets: PSKs are never written (profiles are summarized with the key redacted, and
//! quoted traces are scrubbed of known PSKs); key logs only go into captures when the
//! user asks (`dicetest run --keylog`).

pub mod chart;
pub mod coverage;
pub mod html;
pub mod interop;
pub mod journal;
pub mod json;
pub mod junit;
pub mod merge;
pub mod model;
pub mod msc;
pub mod pcapng;
pub mod summary_md;
pub mod text;

use std::path::{Path, PathBuf};

pub use model::{CaseRecord, Counts, DutInfo, Run};
pub use text::{Redactor, Sources};

use crate::runner::CaseResult;

/// The report files, in the order they are written.
pub const REPORT_JSON: &str = "report.json";
pub const JUNIT_XML: &str = "junit.xml";
pub const SUMMARY_MD: &str = "summary.md";
pub const REPORT_HTML: &str = "report.html";
pub const CAPTURES: &str = "captures";

/// Why an output folder holds no readable results.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    #[error("{0}")]
    Report(String),
    #[error("{0}: neither journal.jsonl nor report.json is there")]
    Empty(String),
}

/// Reads the results in an output folder: the journal (the source of truth, complete or
/// not), else `report.json`.
pub fn load(dir: &Path) -> Result<Run, LoadError> {
    let j = dir.join(journal::JOURNAL);
    if j.is_file() {
        return Ok(journal::read(&j)?);
    }
    let r = dir.join(REPORT_JSON);
    if r.is_file() {
        return json::read(&r).map_err(LoadError::Report);
    }
    Err(LoadError::Empty(dir.display().to_string()))
}

/// Renders every report format of `run` into `out`; returns the files written.
pub fn write_all(out: &Path, run: &Run, sources: &Sources) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)?;
    let files = [
        (REPORT_JSON, json::render(run)),
        (JUNIT_XML, junit::render(run, sources)),
        (SUMMARY_MD, summary_md::render(run)),
        (REPORT_HTML, html::render(run, sources)),
    ];
    let mut written = Vec::new();
    for (name, text) in files {
        let p = out.join(name);
        std::fs::write(&p, sources.redactor.apply(&text))?;
        written.push(p);
    }
    Ok(written)
}

/// What `dicetest run` keeps of each case the moment its verdict is reached: the
/// exchange decoded for the chart, the capture, and the journal line.
pub struct CaseWriter {
    pub out: PathBuf,
    pub dut: String,
    /// Put the session keys into the captures (`--keylog`). Off by default: they decrypt
    /// everything the DUT said.
    pub keylog: bool,
}

impl CaseWriter {
    /// Records one result (its `evidence` already set); returns the journal record.
    pub fn record(&self, r: &CaseResult) -> std::io::Result<CaseRecord> {
        let now = model::now_unix_ms();
        let start_ms = now.saturating_sub(r.duration_ms);
        let mut rec = CaseRecord::from_result(r, &self.dut);
        rec.started_at = Some(model::rfc3339(start_ms));
        // The chart is decoded with the keys even when the capture does not get them:
        // it holds decoded messages, never key material.
        rec.chart = chart::decode(&r.captures, &r.keylog);
        if !r.captures.is_empty() {
            let dir = self.out.join(CAPTURES);
            std::fs::create_dir_all(&dir)?;
            let name = format!("{}.pcapng", rec.file_stem());
            let dut_is_client = chart::dut_is_client(&r.captures);
            let keys: &[String] = if self.keylog { &r.keylog } else { &[] };
            let bytes = pcapng::capture(
                &r.captures,
                keys,
                pcapng::Layout {
                    dut_is_client,
                    start_unix_micros: start_ms * 1000,
                },
            );
            std::fs::write(dir.join(&name), bytes)?;
            rec.capture = Some(format!("{CAPTURES}/{name}"));
        }
        journal::append(&self.out, &rec)?;
        Ok(rec)
    }
}
