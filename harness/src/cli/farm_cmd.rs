//! `dicetest farm`: run the suite on every board of a farm inventory (`run`), validate an
//! inventory (`check`), and gate a release on a (merged) farm report (`gate`).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use clap::{Args, Subcommand};

use super::suite_cmds::select;
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::farm::lane::LaneEnd;
use crate::farm::{load_inventory, run_farm, FarmOptions, Shard};
use crate::runner::CaseResult;

#[derive(Args, Debug)]
pub struct FarmArgs {
    #[command(subcommand)]
    pub command: FarmCommand,
}

#[derive(Subcommand, Debug)]
pub enum FarmCommand {
    /// Run the cases on every board of the inventory, a parallel lane per board, into one
    /// report with a DUT per board (and farm.json / farm.md: what became of each board).
    Run(RunArgs),
    /// Validate an inventory file (errors name file:line:column).
    Check(CheckArgs),
    /// Exit 1 if any result of a (merged) report differs from its DUT's baseline, if a
    /// run was cut short, or if a board was quarantined: the release gate.
    Gate(GateArgs),
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The farm inventory (see farm/sim-farm.yaml).
    #[arg(long, value_name = "FILE")]
    pub inventory: PathBuf,
    /// Folder of one's own case files [default: the shipped suite, built into dicetest]
    #[arg(long, value_name = "DIR")]
    pub suite: Option<PathBuf>,
    /// Only cases whose id matches this glob; repeatable.
    #[arg(long = "case", value_name = "GLOB")]
    pub cases: Vec<String>,
    /// Output folder: one report over every board, and a folder per board.
    #[arg(long, value_name = "DIR", default_value = "out/farm")]
    pub out: PathBuf,
    /// Take share K of N of the cases (deterministic: ids in order, dealt out in turn);
    /// `dicetest report merge` joins the shards.
    #[arg(long, value_name = "K/N", default_value = "1/1")]
    pub shard: Shard,
    /// Only the boards whose `farm_host` is this (the CI runner's label).
    #[arg(long, value_name = "LABEL")]
    pub farm_host: Option<String>,
    /// Also fail on results better than the baseline.
    #[arg(long)]
    pub strict: bool,
    /// Seed of the harness's random numbers (each case's seed comes from it and its id).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Put each case's session keys into its capture.
    #[arg(long)]
    pub keylog: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[arg(long, value_name = "FILE")]
    pub inventory: PathBuf,
}

#[derive(Args, Debug)]
pub struct GateArgs {
    /// Output folder of a farm run or of `dicetest report merge`.
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
}

pub fn run(a: FarmArgs) -> i32 {
    match a.command {
        FarmCommand::Run(r) => farm_run(r),
        FarmCommand::Check(c) => match load_inventory(&c.inventory) {
            Ok(inv) => {
                println!(
                    "{}: {} board(s), reset {}",
                    c.inventory.display(),
                    inv.boards.len(),
                    inv.reset.name()
                );
                EXIT_OK
            }
            Err(e) => {
                eprintln!("{e}");
                EXIT_FAILED
            }
        },
        FarmCommand::Gate(g) => gate(g),
    }
}

fn farm_run(a: RunArgs) -> i32 {
    let inv = match load_inventory(&a.inventory) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    };
    let (cases, errors) = crate::shipped::load_cases(a.suite.as_deref());
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("{e}");
        }
        return EXIT_USAGE;
    }
    let suite_name = crate::shipped::suite_name(a.suite.as_deref());
    let cases = match select(&a.cases, cases, |c| &c.case.id, &suite_name) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    };
    let cases = a.shard.select(cases);
    if cases.is_empty() {
        eprintln!("no case in shard {} matches {:?}", a.shard, a.cases);
        return EXIT_USAGE;
    }
    let root = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let opts = FarmOptions {
        out: a.out.clone(),
        shard: a.shard,
        seed: a.seed,
        root,
        farm_host: a.farm_host.clone(),
        keylog: a.keylog,
    };
    println!(
        "dicetest farm: {} case(s) (shard {}) on the boards of {}",
        cases.len(),
        a.shard,
        inv.name
    );
    let stdout = Mutex::new(());
    let progress = |board: &str, r: &CaseResult, done: usize, total: usize| {
        let _g = stdout.lock();
        let mark = if r.as_expected { " " } else { "!" };
        println!(
            "{mark}{board:<12} [{done:>3}/{total}] {:<10} {:<13} {}",
            r.id,
            r.verdict.name(),
            r.reason
        );
        let _ = std::io::stdout().flush();
    };
    let outcome = match run_farm(&inv, &cases, &opts, &progress) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("dicetest farm: {e}");
            return EXIT_USAGE;
        }
    };
    println!();
    let mut failed = false;
    for l in &outcome.lanes {
        let c = crate::reports::Counts::of(outcome.run.cases_of(&l.board));
        let status = match &l.end {
            LaneEnd::Completed => "completed".to_string(),
            LaneEnd::Quarantined(w) => {
                failed = true;
                format!("QUARANTINED: {w}")
            }
            LaneEnd::GivenUp(w) => {
                failed = true;
                format!("GIVEN UP: {w}")
            }
        };
        println!(
            "board {:<12} {} pass, {} fail, {} inconclusive, {} error, {} n/a, {} reset(s) — {status}",
            l.board, c.pass, c.fail, c.inconclusive, c.error, c.not_applicable, l.resets
        );
    }
    let worse = outcome
        .run
        .cases
        .iter()
        .filter(|c| !c.as_expected && c.expected_deviation.is_none())
        .count();
    let better = outcome
        .run
        .cases
        .iter()
        .filter(|c| !c.as_expected && c.expected_deviation.is_some())
        .count();
    println!(
        "{worse} result(s) worse and {better} better than the baselines — report: {}",
        outcome.out.join("report.html").display()
    );
    if failed || worse > 0 || (a.strict && better > 0) {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

fn gate(g: GateArgs) -> i32 {
    let run = match crate::reports::load(&g.from) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    };
    let mut problems = Vec::new();
    if !run.complete {
        problems.push("the run was cut short (the journal has no end line)".to_string());
    }
    if run.cases.is_empty() {
        problems.push("the report holds no result".into());
    }
    for c in run.cases.iter().filter(|c| !c.as_expected) {
        problems.push(format!(
            "{} on {}: {} — {}{}",
            c.id,
            c.dut,
            c.verdict,
            c.reason,
            c.expected_deviation
                .as_ref()
                .map(|d| format!(" (the baseline expects a deviation: {d})"))
                .unwrap_or_default()
        ));
    }
    let n = run.counts();
    if problems.is_empty() {
        println!(
            "gate passed: {} result(s) on {} DUT(s), all as the baselines expect",
            n.total,
            run.duts.len()
        );
        EXIT_OK
    } else {
        for p in &problems {
            println!("differs: {p}");
        }
        println!(
            "gate FAILED: {} difference(s) from the baselines",
            problems.len()
        );
        EXIT_FAILED
    }
}
