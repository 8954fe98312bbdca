//! `journal.jsonl`: one JSON object a line, appended and synced the moment something is
//! known, so a run killed at any point leaves every verdict it reached.
//!
//! - a start line: `{"journal": 1, "tool_version", "started_at", "duts": [...], "planned",
//!   "planned_cases": [...], "strict"}`. `planned_cases` lists every play the run means to
//!   make, in order: a case id (against the line's first DUT; its k-th appearance is run k
//!   under `--repeat`), or `{"dut", "id", "run"}` (a merge's journal). `planned` (their
//!   count) stays for older readers; `strict` is whether the run was made with `--strict`,
//!   which decides what fails it (`model::CaseRecord::ci_outcome`). Both are absent from
//!   the journals of older versions: the plan is then unknown and the run not strict.
//! - a case line per verdict: a [`CaseRecord`] (with its decoded exchange);
//! - an end line: `{"journal_end": true, "finished_at"}` — missing when the run was killed;
//!   `{"journal_end": false, "finished_at", "stopped": "why"}` when it stopped early and
//!   could say why (a signal, a failed pre-flight).
//!
//! Several start lines may appear (a merged journal); case lines written by older
//! versions (no `dut`) take the DUT of the start line before them.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::model::{CaseRecord, DutInfo, PlannedCase, Run};

pub const JOURNAL: &str = "journal.jsonl";
pub const JOURNAL_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct StartLine {
    journal: u32,
    #[serde(default)]
    tool_version: String,
    #[serde(default)]
    started_at: Option<String>,
    #[serde(default)]
    duts: Vec<DutInfo>,
    #[serde(default)]
    planned: Option<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    planned_cases: Vec<PlannedEntry>,
    #[serde(default)]
    strict: bool,
}

/// One entry of `planned_cases`.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum PlannedEntry {
    /// A case id, against the start line's first DUT; the k-th appearance is run k.
    Id(String),
    Full(PlannedCase),
}

#[derive(Serialize, Deserialize)]
struct EndLine {
    journal_end: bool,
    #[serde(default)]
    finished_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stopped: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Line {
    Start(StartLine),
    End(EndLine),
    Case(Box<CaseRecord>),
}

/// Why a journal could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: not a journal line: {message}")]
    BadLine {
        path: String,
        line: usize,
        message: String,
    },
}

fn append_line(out: &Path, value: &impl Serialize) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out.join(JOURNAL))?;
    let mut line = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    line.push(b'\n');
    f.write_all(&line)?;
    f.sync_data()
}

/// Starts a new journal in `out` (an old one is replaced).
/// `planned_cases` holds a case id per play the run means to make, in order (an id
/// appears once per `--repeat` run); `strict` is whether the run was made with `--strict`.
pub fn start(
    out: &Path,
    duts: &[DutInfo],
    planned_cases: &[String],
    strict: bool,
    started_at: &str,
) -> std::io::Result<()> {
    match std::fs::remove_file(out.join(JOURNAL)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    append_line(
        out,
        &StartLine {
            journal: JOURNAL_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            started_at: Some(started_at.into()),
            duts: duts.to_vec(),
            planned: Some(planned_cases.len()),
            planned_cases: planned_cases
                .iter()
                .map(|id| PlannedEntry::Id(id.clone()))
                .collect(),
            strict,
        },
    )
}

/// Appends one verdict.
pub fn append(out: &Path, record: &CaseRecord) -> std::io::Result<()> {
    append_line(out, record)
}

/// Marks the run complete.
pub fn finish(out: &Path, finished_at: &str) -> std::io::Result<()> {
    append_line(
        out,
        &EndLine {
            journal_end: true,
            finished_at: Some(finished_at.into()),
            stopped: None,
        },
    )
}

/// Marks the run stopped early, saying why (it stays partial: complete is false).
pub fn stop(out: &Path, finished_at: &str, why: &str) -> std::io::Result<()> {
    append_line(
        out,
        &EndLine {
            journal_end: false,
            finished_at: Some(finished_at.into()),
            stopped: Some(why.into()),
        },
    )
}

/// Writes a whole run as a journal (a merge's result), replacing any journal in `out`.
pub fn write_run(out: &Path, run: &Run) -> std::io::Result<()> {
    let path = out.join(JOURNAL);
    let _ = std::fs::remove_file(&path);
    append_line(
        out,
        &StartLine {
            journal: JOURNAL_VERSION,
            tool_version: run.tool_version.clone(),
            started_at: run.started_at.clone(),
            duts: run.duts.clone(),
            planned: run.planned,
            planned_cases: run
                .planned_cases
                .iter()
                .cloned()
                .map(PlannedEntry::Full)
                .collect(),
            strict: run.strict,
        },
    )?;
    for c in &run.cases {
        append(out, c)?;
    }
    if run.complete {
        finish(out, run.finished_at.as_deref().unwrap_or_default())?;
    } else if let Some(why) = &run.stopped {
        stop(out, run.finished_at.as_deref().unwrap_or_default(), why)?;
    }
    Ok(())
}

/// Reads a journal. A last line cut short by a kill is skipped; any other bad line is
/// an error, since it means the file is not a journal.
pub fn read(path: &Path) -> Result<Run, JournalError> {
    let text = std::fs::read_to_string(path).map_err(|source| JournalError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text, &path.display().to_string())
}

pub fn parse(text: &str, path: &str) -> Result<Run, JournalError> {
    let mut run = Run::default();
    let lines: Vec<&str> = text.lines().collect();
    let mut current_dut: Option<String> = None;
    // Plays planned so far per (DUT, id), and every planned key once.
    let mut runs_planned: std::collections::HashMap<(String, String), u32> = Default::default();
    let mut planned_keys: std::collections::HashSet<(String, String, u32)> = Default::default();
    for (i, l) in lines.iter().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let line = match serde_json::from_str::<Line>(l) {
            Ok(line) => line,
            // The process died while writing the last line: that verdict was not reached.
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => break,
            Err(e) => {
                return Err(JournalError::BadLine {
                    path: path.into(),
                    line: i + 1,
                    message: e.to_string(),
                })
            }
        };
        match line {
            Line::Start(s) => {
                if run.tool_version.is_empty() {
                    run.tool_version = s.tool_version;
                }
                if run.started_at.is_none() {
                    run.started_at = s.started_at;
                }
                run.planned = match (run.planned, s.planned) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => a.or(b),
                };
                current_dut = s.duts.first().map(|d| d.name.clone());
                run.strict |= s.strict;
                for p in s.planned_cases {
                    let p = match p {
                        PlannedEntry::Full(p) => p,
                        PlannedEntry::Id(id) => {
                            let dut = current_dut.clone().unwrap_or_default();
                            let n = runs_planned.entry((dut.clone(), id.clone())).or_insert(0);
                            *n += 1;
                            PlannedCase { dut, id, run: *n }
                        }
                    };
                    if planned_keys.insert(p.key()) {
                        run.planned_cases.push(p);
                    }
                }
                for d in s.duts {
                    if !run.duts.iter().any(|x| x.name == d.name) {
                        run.duts.push(d);
                    }
                }
                run.complete = false;
            }
            Line::End(e) => {
                run.complete = e.journal_end;
                run.finished_at = e.finished_at.or(run.finished_at);
                run.stopped = e.stopped;
            }
            Line::Case(mut c) => {
                if c.dut.is_empty() {
                    c.dut = current_dut.clone().unwrap_or_default();
                }
                // A repeated line (same DUT, case and run) replaces the earlier one.
                match run.cases.iter_mut().find(|x| x.key() == c.key()) {
                    Some(x) => *x = *c,
                    None => run.cases.push(*c),
                }
            }
        }
    }
    if run.tool_version.is_empty() {
        run.tool_version = "unknown".into();
    }
    run.normalize();
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASE: &str = r#"{"id":"HS-01","title":"t","verdict":"pass","reason":"ok","refs":["RFC 6347 §4.2"],"level":"MUST","file":"suites/handshake/HS-01.yaml","duration_ms":3,"as_expected":true,"run":1}"#;

    #[test]
    fn partial_and_legacy_lines() {
        let text = format!(
            "{{\"journal\":1,\"tool_version\":\"0.1.0\",\"duts\":[{{\"name\":\"sim\"}}],\"planned\":3}}\n{CASE}\n{}",
            &CASE[..40]
        );
        let run = parse(&text, "j").expect("reads");
        assert!(!run.complete);
        assert_eq!(run.planned, Some(3));
        assert_eq!(run.cases.len(), 1);
        assert_eq!(run.cases[0].dut, "sim");
        assert_eq!(run.cases[0].category, "handshake");
        assert_eq!(run.duts[0].psk, "<redacted>");

        let done = format!("{text}\n{{\"journal_end\":true,\"finished_at\":\"x\"}}\n");
        // The cut line is no longer the last one: an error now.
        assert!(matches!(
            parse(&done, "j"),
            Err(JournalError::BadLine { line: 3, .. })
        ));
        let whole = format!("{CASE}\n{{\"journal_end\":true}}\n");
        let run = parse(&whole, "j").expect("reads");
        assert!(run.complete);
        assert_eq!(run.cases[0].dut, "unknown");
    }

    #[test]
    fn the_plan_and_strict_are_kept() {
        let dir =
            std::env::temp_dir().join(format!("dicetest-journal-plan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ids: Vec<String> = ["HS-01", "CK-01", "HS-01", "CK-01"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        start(&dir, &[DutInfo::named("sim")], &ids, true, "t0").expect("starts");
        append(&dir, &serde_json::from_str::<CaseRecord>(CASE).unwrap()).expect("appends");
        let run = read(&dir.join(JOURNAL)).expect("reads");
        assert!(run.strict);
        assert!(!run.complete);
        assert_eq!(run.planned, Some(4));
        let plan: Vec<(&str, &str, u32)> = run
            .planned_cases
            .iter()
            .map(|p| (p.dut.as_str(), p.id.as_str(), p.run))
            .collect();
        assert_eq!(
            plan,
            [
                ("sim", "HS-01", 1),
                ("sim", "CK-01", 1),
                ("sim", "HS-01", 2),
                ("sim", "CK-01", 2)
            ]
        );
        assert_eq!(run.not_run().len(), 3);
        // A merge's journal writes the plan whole and reads it back the same.
        let again = dir.join("again");
        write_run(&again, &run).expect("writes");
        let back = read(&again.join(JOURNAL)).expect("reads");
        assert_eq!(back.planned_cases, run.planned_cases);
        assert!(back.strict && !back.complete);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
