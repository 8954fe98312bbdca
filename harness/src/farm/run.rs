//! `dicetest farm run`: every board of the inventory as a parallel lane, each with its own
//! output folder (`OUT/<board>/`: journal, evidence, captures, as `dicetest run` writes
//! them), then one report over all of them in `OUT/`, merged exactly as
//! `dicetest report merge` merges shards: a DUT per board. `OUT/farm.json` and
//! `OUT/farm.md` say what became of each board.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::board;
use super::inventory::{BoardKind, BoardSpec, Inventory};
use super::lane::{unrun, Lane, LaneEnd, LaneSummary};
use super::shard::Shard;
use super::summary;
use crate::cases::LoadedCase;
use crate::dut::{find_profile, Profile};
use crate::reports::merge::{folder_name, merge_dirs};
use crate::reports::model::{now_unix_ms, rfc3339};
use crate::reports::{self, journal, CaseWriter, DutInfo, Redactor, Run, Sources};
use crate::runner::report::write_evidence;
use crate::runner::{CaseResult, Verdict};

pub struct FarmOptions {
    pub out: PathBuf,
    pub shard: Shard,
    pub seed: u64,
    /// Paths in the inventory (images) are relative to this folder.
    pub root: PathBuf,
    /// Only the boards attached to this farm host (`farm_host` in the inventory).
    pub farm_host: Option<String>,
    /// Put session keys into the captures.
    pub keylog: bool,
}

/// Why the farm could not run at all (a board's trouble is never this: it is reported).
#[derive(Debug, thiserror::Error)]
pub enum FarmError {
    #[error("no board of the inventory is on farm host {0:?}")]
    NoBoard(String),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("merging the boards' results: {0}")]
    Merge(String),
}

/// What a farm run produced.
pub struct FarmOutcome {
    pub lanes: Vec<LaneSummary>,
    pub run: Run,
    pub out: PathBuf,
}

/// The boards this run drives.
pub fn selected<'a>(inv: &'a Inventory, farm_host: Option<&str>) -> Vec<&'a BoardSpec> {
    inv.boards()
        .filter(|b| farm_host.is_none() || b.farm_host.as_deref() == farm_host)
        .collect()
}

/// The DUT a board is in the report: its firmware's profile under the board's name.
fn dut_info(spec: &BoardSpec, profile: Option<&Profile>) -> DutInfo {
    let mut d = match profile {
        Some(p) => DutInfo::from_profile(p),
        None => DutInfo::named(&spec.name),
    };
    d.name = spec.name.clone();
    d.psk_identity = spec.credentials.psk_identity.clone();
    let place = match (&spec.chip, &spec.farm_host) {
        (Some(c), Some(h)) => format!("{c} on {h}"),
        (Some(c), None) => c.clone(),
        (None, Some(h)) => format!("simulated, on {h}"),
        (None, None) => "simulated".into(),
    };
    d.description = format!("farm board ({place}): {}", d.description);
    d.kind = format!("farm:{}", d.kind);
    d
}

pub fn run_farm(
    inv: &Inventory,
    cases: &[LoadedCase],
    opts: &FarmOptions,
    progress: &(dyn Fn(&str, &CaseResult, usize, usize) + Sync),
) -> Result<FarmOutcome, FarmError> {
    let boards = selected(inv, opts.farm_host.as_deref());
    if boards.is_empty() {
        return Err(FarmError::NoBoard(
            opts.farm_host.clone().unwrap_or_default(),
        ));
    }
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |e| FarmError::Io(p, e)
    };
    std::fs::create_dir_all(&opts.out).map_err(io(&opts.out))?;
    let started = rfc3339(now_unix_ms());
    let dirs: Vec<PathBuf> = boards
        .iter()
        .map(|b| opts.out.join(folder_name(&b.name)))
        .collect();
    let lanes: Mutex<Vec<LaneSummary>> = Mutex::new(Vec::new());
    let failures: Mutex<Vec<FarmError>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for (spec, dir) in boards.iter().zip(&dirs) {
            let (lanes, failures, started) = (&lanes, &failures, &started);
            scope.spawn(
                move || match run_lane(inv, spec, cases, opts, dir, started, progress) {
                    Ok(s) => lanes.lock().unwrap_or_else(|p| p.into_inner()).push(s),
                    Err(e) => failures.lock().unwrap_or_else(|p| p.into_inner()).push(e),
                },
            );
        }
    });
    if let Some(e) = failures.into_inner().unwrap_or_default().into_iter().next() {
        return Err(e);
    }
    let mut lanes = lanes.into_inner().unwrap_or_default();
    lanes.sort_by(|a, b| a.board.cmp(&b.board));
    let run = merge_dirs(&dirs, &opts.out).map_err(FarmError::Merge)?;
    journal::write_run(&opts.out, &run).map_err(io(&opts.out))?;
    let mut redact = Redactor::for_duts(boards.iter().map(|b| b.name.as_str()));
    for b in &boards {
        redact = redact.with_psk(&hex::decode(&b.credentials.psk_hex).unwrap_or_default());
    }
    reports::write_all(&opts.out, &run, &Sources::new(&opts.out, redact)).map_err(io(&opts.out))?;
    summary::write(&opts.out, inv, opts.shard, &lanes, &run).map_err(io(&opts.out))?;
    Ok(FarmOutcome {
        lanes,
        run,
        out: opts.out.clone(),
    })
}

/// One board: its own journal and evidence under `dir`, as `dicetest run` writes them.
fn run_lane(
    inv: &Inventory,
    spec: &BoardSpec,
    cases: &[LoadedCase],
    opts: &FarmOptions,
    dir: &Path,
    started: &str,
    progress: &(dyn Fn(&str, &CaseResult, usize, usize) + Sync),
) -> Result<LaneSummary, FarmError> {
    let profile = find_profile(&spec.profile);
    let info = dut_info(spec, profile.as_ref().ok());
    let _ = std::fs::remove_dir_all(dir.join("evidence"));
    let _ = std::fs::remove_dir_all(dir.join(reports::CAPTURES));
    let planned: Vec<String> = cases.iter().map(|c| c.case.id.clone()).collect();
    journal::start(dir, &[info], &planned, false, started)
        .map_err(|e| FarmError::Io(dir.display().to_string(), e))?;
    let writer = CaseWriter {
        out: dir.to_path_buf(),
        dut: spec.name.clone(),
        keylog: opts.keylog,
    };
    let total = cases.len();
    let mut done = 0;
    let mut record = |r: &CaseResult| {
        let mut r = r.clone();
        done += 1;
        r.evidence = write_evidence(dir, &r).ok();
        if let Err(e) = writer.record(&r) {
            eprintln!("cannot record {} in {}: {e}", r.id, dir.display());
        }
        progress(&spec.name, &r, done, total);
    };
    let summary = match open(inv, spec, profile, opts) {
        Ok(lane) => lane.run(cases, &mut record),
        Err((why, baseline)) => {
            let reason = format!("not run: board {} is quarantined: {why}", spec.name);
            for c in cases {
                record(&unrun(c, &baseline, Verdict::Error, reason.clone()));
            }
            // (Without a profile, whether a case applies cannot be said: all are errors.)
            LaneSummary {
                board: spec.name.clone(),
                end: LaneEnd::Quarantined(why),
                hangs: Vec::new(),
                resets: 0,
            }
        }
    };
    journal::finish(dir, &rfc3339(now_unix_ms()))
        .map_err(|e| FarmError::Io(dir.display().to_string(), e))?;
    Ok(summary)
}

/// The lane of a board, or why it is quarantined (with the baseline its cases are
/// recorded against).
fn open<'a>(
    inv: &'a Inventory,
    spec: &BoardSpec,
    profile: Result<Profile, crate::cases::LoadError>,
    opts: &'a FarmOptions,
) -> Result<Lane<'a>, (String, BTreeMap<String, String>)> {
    let profile = profile.map_err(|e| (format!("its DUT profile: {e}"), BTreeMap::new()))?;
    let board = board::open(spec, &profile, &opts.root).map_err(|e| {
        (
            format!("cannot open it: {e}"),
            profile.expected_deviations.clone(),
        )
    })?;
    let image = match (&spec.image, spec.kind) {
        (Some(i), BoardKind::ProbeRs) => opts.root.join(i).display().to_string(),
        (Some(i), BoardKind::Sim) => i.clone(),
        (None, _) => "{bin:dut-sim}".into(),
    };
    Ok(Lane {
        board,
        profile,
        inventory: inv,
        image,
        seed: opts.seed,
        root: &opts.root,
    })
}
