//! Merging the shards of one campaign (several output folders) into one report.
//!
//! A case is one (DUT, id, run). The same case in two shards keeps the later shard's
//! result; the same id against different DUTs is two cases. Evidence and captures are
//! copied along; with several DUTs they go under a folder per DUT, since each shard names
//! them by case id only.

use std::path::{Component, Path, PathBuf};

use super::model::{CaseRecord, Run};

/// Merges runs in order: later wins.
pub fn merge(shards: &[Run]) -> Run {
    let mut out = Run {
        tool_version: env!("CARGO_PKG_VERSION").into(),
        complete: !shards.is_empty(),
        ..Default::default()
    };
    let mut planned = Some(0usize);
    let mut planned_keys = std::collections::HashSet::new();
    for s in shards {
        for d in &s.duts {
            match out.duts.iter_mut().find(|x| x.name == d.name) {
                Some(x) => *x = d.clone(),
                None => out.duts.push(d.clone()),
            }
        }
        for c in &s.cases {
            match out.cases.iter_mut().find(|x| x.key() == c.key()) {
                Some(x) => *x = c.clone(),
                None => out.cases.push(c.clone()),
            }
        }
        out.started_at = min_opt(out.started_at.take(), s.started_at.clone());
        out.finished_at = max_opt(out.finished_at.take(), s.finished_at.clone());
        out.complete &= s.complete;
        out.strict |= s.strict;
        // A shard that stopped early and said why: the merge says it too.
        if let Some(why) = &s.stopped {
            out.stopped = Some(match out.stopped.take() {
                Some(before) if before != *why => format!("{before}; {why}"),
                _ => why.clone(),
            });
        }
        planned = planned.zip(s.planned).map(|(a, b)| a + b);
        for p in &s.planned_cases {
            if planned_keys.insert(p.key()) {
                out.planned_cases.push(p.clone());
            }
        }
    }
    out.planned = planned;
    out.normalize();
    out
}

fn min_opt(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// A path a journal may name: relative and staying inside the output folder.
fn safe_relative(p: &str) -> Option<&Path> {
    let path = Path::new(p);
    path.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then_some(path)
}

/// A DUT name as one folder name.
pub fn folder_name(dut: &str) -> String {
    let s: String = dut
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    match s.trim_matches('.') {
        "" => "dut".into(),
        t => t.to_string(),
    }
}

/// Loads every shard folder, merges them and copies their evidence and captures to `out`.
/// Returns the merged run, its file paths pointing into `out`.
pub fn merge_dirs(dirs: &[PathBuf], out: &Path) -> Result<Run, String> {
    let mut shards = Vec::new();
    for d in dirs {
        shards.push(super::load(d).map_err(|e| e.to_string())?);
    }
    let mut run = merge(&shards);
    let multi = run.duts.len() > 1;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    for c in &mut run.cases {
        // The record came from the last shard that has it.
        let Some(dir) = dirs
            .iter()
            .zip(&shards)
            .rev()
            .find(|(_, s)| s.cases.iter().any(|x| x.key() == c.key()))
            .map(|(d, _)| d)
        else {
            continue;
        };
        c.evidence = copy_along(c, c.evidence.as_deref(), dir, out, multi)?;
        c.capture = copy_along(c, c.capture.as_deref(), dir, out, multi)?;
    }
    Ok(run)
}

/// Copies a record's file from its shard to `out`; the new relative path, or `None` when
/// the shard does not have the file.
fn copy_along(
    c: &CaseRecord,
    rel: Option<&str>,
    dir: &Path,
    out: &Path,
    multi: bool,
) -> Result<Option<String>, String> {
    let Some(rel) = rel else { return Ok(None) };
    let Some(rel_path) = safe_relative(rel) else {
        eprintln!(
            "merge: {}: ignoring the file path {rel:?}, which leaves the output folder",
            c.id
        );
        return Ok(None);
    };
    let src = dir.join(rel_path);
    if !src.is_file() {
        return Ok(None);
    }
    let dest_rel = if multi {
        Path::new(&folder_name(&c.dut)).join(rel_path)
    } else {
        rel_path.to_path_buf()
    };
    let dest = out.join(&dest_rel);
    let same = matches!(
        (src.canonicalize(), dest.canonicalize()),
        (Ok(a), Ok(b)) if a == b
    );
    if !same {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::copy(&src, &dest).map_err(|e| format!("{}: {e}", src.display()))?;
    }
    Ok(Some(dest_rel.to_string_lossy().replace('\\', "/")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::model::DutInfo;
    use crate::runner::Verdict;

    fn rec(dut: &str, id: &str, v: Verdict) -> CaseRecord {
        let mut r = crate::reports::model::CaseRecord {
            branches: Vec::new(),
            dut: dut.into(),
            id: id.into(),
            title: id.into(),
            verdict: v,
            reason: String::new(),
            step: None,
            line: None,
            refs: vec![],
            level: "MUST".into(),
            file: format!("suites/x/{id}.yaml"),
            category: String::new(),
            started_at: None,
            duration_ms: 1,
            as_expected: true,
            expected_deviation: None,
            evidence: None,
            capture: None,
            run: 1,
            chart: vec![],
        };
        r.category = crate::reports::model::category_of(&r.file);
        r
    }

    fn run(dut: &str, cases: Vec<CaseRecord>, started: &str) -> Run {
        Run {
            tool_version: "x".into(),
            duts: vec![DutInfo::named(dut)],
            cases,
            started_at: Some(started.into()),
            planned: Some(2),
            complete: true,
            ..Default::default()
        }
    }

    #[test]
    fn later_shard_wins_and_duts_stay_apart() {
        let a = run(
            "sim",
            vec![
                rec("sim", "A", Verdict::Fail),
                rec("sim", "B", Verdict::Pass),
            ],
            "2024-01-02",
        );
        let b = run("sim", vec![rec("sim", "A", Verdict::Pass)], "2024-01-01");
        let c = run(
            "openssl",
            vec![rec("openssl", "A", Verdict::Error)],
            "2024-01-03",
        );
        let m = merge(&[a, b, c]);
        let got: Vec<(String, String, Verdict)> = m
            .cases
            .iter()
            .map(|c| (c.dut.clone(), c.id.clone(), c.verdict))
            .collect();
        assert_eq!(
            got,
            [
                ("openssl".into(), "A".into(), Verdict::Error),
                ("sim".into(), "A".into(), Verdict::Pass),
                ("sim".into(), "B".into(), Verdict::Pass),
            ]
        );
        assert_eq!(m.duts.len(), 2);
        assert_eq!(m.started_at.as_deref(), Some("2024-01-01"));
        assert_eq!(m.planned, Some(6));
        assert!(m.complete);
    }

    #[test]
    fn plans_join_and_a_partial_or_strict_shard_makes_the_merge_so() {
        use crate::reports::model::PlannedCase;
        let plan = |dut: &str, ids: &[&str]| -> Vec<PlannedCase> {
            ids.iter()
                .map(|id| PlannedCase {
                    dut: dut.into(),
                    id: id.to_string(),
                    run: 1,
                })
                .collect()
        };
        let mut a = run("sim", vec![rec("sim", "A", Verdict::Pass)], "t");
        a.planned_cases = plan("sim", &["A", "B"]);
        a.complete = false;
        let mut b = run("ossl", vec![rec("ossl", "A", Verdict::Pass)], "t");
        b.planned_cases = plan("ossl", &["A"]);
        b.strict = true;
        let m = merge(&[a, b]);
        assert!(!m.complete && m.strict);
        assert_eq!(m.planned_cases.len(), 3);
        let not_run: Vec<(&str, &str)> = m
            .not_run()
            .iter()
            .map(|p| (p.dut.as_str(), p.id.as_str()))
            .collect();
        assert_eq!(not_run, [("sim", "B")]);
        assert!(m.fails());
    }

    #[test]
    fn paths_stay_inside() {
        assert!(safe_relative("evidence/A.txt").is_some());
        assert!(safe_relative("../x").is_none());
        assert!(safe_relative("/etc/passwd").is_none());
        assert!(safe_relative("a/../../b").is_none());
        assert_eq!(folder_name("my dut/1"), "my_dut_1");
        assert_eq!(folder_name(".."), "dut");
    }
}
