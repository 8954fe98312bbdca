//! `farm.json` and `farm.md`: what became of each board (healthy, quarantined with the
//! health check's words, given up after a hang), its resets and hangs, and its verdict
//! counts; the report itself (report.html, junit.xml, ...) has a DUT per board.

use std::path::Path;

use serde::Serialize;

use super::inventory::Inventory;
use super::lane::{LaneEnd, LaneSummary};
use super::shard::Shard;
use crate::reports::{Counts, Run};

pub const FARM_JSON: &str = "farm.json";
pub const FARM_MD: &str = "farm.md";

#[derive(Serialize)]
pub struct FarmSummary {
    pub inventory: String,
    pub shard: String,
    pub reset: &'static str,
    pub boards: Vec<BoardLine>,
    /// Across every board.
    pub counts: Counts,
}

#[derive(Serialize)]
pub struct BoardLine {
    pub name: String,
    /// `completed`, `quarantined` or `given_up`.
    pub status: &'static str,
    pub reason: Option<String>,
    pub resets: usize,
    /// `CASE: what the health check said`.
    pub hangs: Vec<String>,
    pub counts: Counts,
}

pub fn build(inv: &Inventory, shard: Shard, lanes: &[LaneSummary], run: &Run) -> FarmSummary {
    FarmSummary {
        inventory: inv.name.clone(),
        shard: shard.to_string(),
        reset: inv.reset.name(),
        boards: lanes
            .iter()
            .map(|l| {
                let (status, reason) = match &l.end {
                    LaneEnd::Completed => ("completed", None),
                    LaneEnd::Quarantined(w) => ("quarantined", Some(w.clone())),
                    LaneEnd::GivenUp(w) => ("given_up", Some(w.clone())),
                };
                BoardLine {
                    name: l.board.clone(),
                    status,
                    reason,
                    resets: l.resets,
                    hangs: l.hangs.iter().map(|(c, w)| format!("{c}: {w}")).collect(),
                    counts: Counts::of(run.cases_of(&l.board)),
                }
            })
            .collect(),
        counts: run.counts(),
    }
}

pub fn render_md(s: &FarmSummary) -> String {
    let mut md = format!(
        "# Farm {} (shard {}, reset {})\n\n| board | status | pass | fail | inconclusive | error | n/a | resets | note |\n|---|---|---|---|---|---|---|---|---|\n",
        s.inventory, s.shard, s.reset
    );
    for b in &s.boards {
        let c = &b.counts;
        md += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            b.name,
            b.status,
            c.pass,
            c.fail,
            c.inconclusive,
            c.error,
            c.not_applicable,
            b.resets,
            b.reason.as_deref().unwrap_or("").replace('|', "\\|")
        );
    }
    let c = &s.counts;
    md += &format!(
        "| **all** | | {} | {} | {} | {} | {} | | |\n",
        c.pass, c.fail, c.inconclusive, c.error, c.not_applicable
    );
    for b in &s.boards {
        for h in &b.hangs {
            md += &format!("\n- {} hung during {h}", b.name);
        }
    }
    md.push('\n');
    md
}

pub fn write(
    out: &Path,
    inv: &Inventory,
    shard: Shard,
    lanes: &[LaneSummary],
    run: &Run,
) -> std::io::Result<()> {
    let s = build(inv, shard, lanes, run);
    let json = serde_json::to_string_pretty(&s).map_err(std::io::Error::other)?;
    std::fs::write(out.join(FARM_JSON), json + "\n")?;
    std::fs::write(out.join(FARM_MD), render_md(&s))
}
