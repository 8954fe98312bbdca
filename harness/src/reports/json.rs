//! `report.json`: the machine-readable report, with a published JSON Schema
//! (`reports/report.schema.json`, regenerated with `dicetest report schema`).

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::{CaseRecord, Counts, DutInfo, PlannedCase, Run, SCHEMA_VERSION};

/// The layout of `report.json`.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct ReportJson {
    /// Version of this layout; see reports/README.md for what changed when.
    pub schema_version: u32,
    /// Always `dicetest`.
    pub tool: String,
    pub tool_version: String,
    /// When the run started and ended (RFC 3339, UTC); absent for synthetic results.
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
    /// Sum of the cases' durations.
    pub duration_ms: u64,
    /// False when the run was interrupted and this report holds only the verdicts reached.
    pub complete: bool,
    /// Cases the run meant to play, if known.
    #[serde(default)]
    pub planned: Option<usize>,
    /// The planned plays that have no result (a partial run's unreached cases), when the
    /// plan is known.
    #[serde(default)]
    pub not_run: Vec<PlannedCase>,
    /// The run was made with `--strict`.
    #[serde(default)]
    pub strict: bool,
    /// Why a partial run stopped, when it said so (a signal, a failed pre-flight).
    #[serde(default)]
    pub stopped: Option<String>,
    /// Whether the run fails, as `dicetest run`'s exit code says: a result fails it
    /// (an unexpected fail or inconclusive, an error, a flaky case; with `strict`, a pass
    /// the baseline does not expect), or the run was interrupted.
    #[serde(default)]
    pub run_fails: bool,
    /// The DUT, when the report is about one (null for a merge of several).
    pub dut: Option<DutInfo>,
    pub duts: Vec<DutInfo>,
    pub summary: Summary,
    pub cases: Vec<CaseRecord>,
}

/// Verdict counts over every case, and the cases whose verdict changed across runs.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    #[serde(flatten)]
    pub counts: Counts,
    /// Case ids (DUT/id with several DUTs) that gave different verdicts across `--repeat`.
    pub flaky: Vec<String>,
}

impl ReportJson {
    pub fn of(run: &Run) -> Self {
        ReportJson {
            schema_version: SCHEMA_VERSION,
            tool: "dicetest".into(),
            tool_version: run.tool_version.clone(),
            started_at: run.started_at.clone(),
            finished_at: run.finished_at.clone(),
            duration_ms: run.cases.iter().map(|c| c.duration_ms).sum(),
            complete: run.complete,
            planned: run.planned,
            not_run: run.not_run().into_iter().cloned().collect(),
            strict: run.strict,
            stopped: run.stopped.clone(),
            run_fails: run.fails(),
            dut: (run.duts.len() == 1).then(|| run.duts[0].clone()),
            duts: run.duts.clone(),
            summary: Summary {
                counts: run.counts(),
                flaky: run.flaky(),
            },
            // The decoded exchanges stay in the journal and the HTML.
            cases: run
                .cases
                .iter()
                .map(|c| CaseRecord {
                    chart: Vec::new(),
                    ..c.clone()
                })
                .collect(),
        }
    }

    pub fn into_run(self) -> Run {
        let mut run = Run {
            tool_version: self.tool_version,
            started_at: self.started_at,
            finished_at: self.finished_at,
            duts: self.duts,
            cases: self.cases,
            planned: self.planned,
            complete: self.complete,
            planned_cases: Vec::new(),
            strict: self.strict,
            stopped: self.stopped,
        };
        // The plan is what was reached plus what was not (only a partial run needs it).
        if !self.not_run.is_empty() {
            run.planned_cases = run
                .cases
                .iter()
                .map(|c| PlannedCase {
                    dut: c.dut.clone(),
                    id: c.id.clone(),
                    run: c.run,
                })
                .chain(self.not_run)
                .collect();
        }
        if run.duts.is_empty() {
            run.duts.extend(self.dut);
        }
        run.normalize();
        run
    }
}

pub fn render(run: &Run) -> String {
    serde_json::to_string_pretty(&ReportJson::of(run)).unwrap_or_default() + "\n"
}

/// Reads a `report.json` (of this or an earlier layout version) back into a run.
pub fn read(path: &Path) -> Result<Run, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    // Version 1 had no `duts`, `complete` or `duration_ms`.
    if let Some(o) = v.as_object_mut() {
        o.entry("duts").or_insert_with(|| serde_json::json!([]));
        o.entry("complete").or_insert(serde_json::Value::Bool(true));
        o.entry("duration_ms").or_insert(serde_json::json!(0));
    }
    let r: ReportJson =
        serde_json::from_value(v).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(r.into_run())
}

/// The JSON Schema of `report.json`.
pub fn schema() -> String {
    let s = schemars::schema_for!(ReportJson);
    serde_json::to_string_pretty(&s).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// reports/report.schema.json is regenerated with
    /// `dicetest report schema > reports/report.schema.json`; this fails when the layout
    /// changed and the published file did not.
    #[test]
    fn published_schema_is_current() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let published =
            std::fs::read_to_string(root.join("reports/report.schema.json")).unwrap_or_default();
        assert_eq!(
            published,
            super::schema(),
            "run: dicetest report schema > reports/report.schema.json"
        );
        assert!(published.contains("\"schema_version\""));
    }
}
