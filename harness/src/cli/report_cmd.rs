//! `dicetest report`: render every report format from an output folder's journal (whole
//! or cut short), merge the shards of a campaign, print the report.json schema.
//!
//! Exit codes: 0 the reports were written; 2 usage error or unreadable input;
//! [`EXIT_PARTIAL`] (3) the reports were written but the run is partial (interrupted
//! before every planned case was reached) — so a CI step that re-renders a cancelled
//! run does not pass — unless `--allow-partial` is given.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{EXIT_OK, EXIT_USAGE};

/// `report --from` / `report merge` on a partial run (without `--allow-partial`): every
/// format was written, marked partial, but the run did not reach every planned case.
/// Apart from 1 (a check failed) and 2 (usage), since nothing was judged wrong: the run
/// is not finished.
pub const EXIT_PARTIAL: i32 = 3;
use crate::reports::{self, Redactor, Sources};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: Option<ReportCommand>,
    /// Output folder of a run: its journal.jsonl (or report.json) is read.
    #[arg(long, value_name = "OUTDIR")]
    pub from: Option<PathBuf>,
    /// Where to write the reports (default: the --from folder).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Exit 0 for a partial run (interrupted) too; without it such a run exits 3.
    #[arg(long)]
    pub allow_partial: bool,
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Merge the output folders of several runs (shards) into one report.
    Merge(MergeArgs),
    /// Print the JSON Schema of report.json.
    Schema,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Folder for the merged journal, reports, evidence and captures.
    #[arg(long, value_name = "OUT")]
    pub out: PathBuf,
    /// Output folders of the shards; for the same case against the same DUT, the last
    /// folder given wins.
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// Exit 0 when a shard is partial (interrupted) too; without it the merge exits 3.
    #[arg(long)]
    pub allow_partial: bool,
}

pub fn run(a: ReportArgs) -> i32 {
    match a.command {
        Some(ReportCommand::Schema) => {
            print!("{}", reports::json::schema());
            EXIT_OK
        }
        Some(ReportCommand::Merge(m)) => merge(m),
        None => {
            let Some(from) = a.from else {
                eprintln!("dicetest report: give --from OUTDIR, or `merge`, or `schema`");
                return EXIT_USAGE;
            };
            let run = match reports::load(&from) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{e}");
                    return EXIT_USAGE;
                }
            };
            let out = a.out.unwrap_or_else(|| from.clone());
            // Relative evidence paths start at the folder the run wrote them to.
            let sources = Sources::new(&from, redactor(&run));
            finish(&run, &out, &sources, a.allow_partial)
        }
    }
}

fn redactor(run: &reports::Run) -> Redactor {
    Redactor::for_duts(run.duts.iter().map(|d| d.name.as_str()))
}

fn merge(m: MergeArgs) -> i32 {
    let run = match reports::merge::merge_dirs(&m.dirs, &m.out) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    };
    if let Err(e) = reports::journal::write_run(&m.out, &run) {
        eprintln!("cannot write {}: {e}", m.out.display());
        return EXIT_USAGE;
    }
    let sources = Sources::new(&m.out, redactor(&run));
    finish(&run, &m.out, &sources, m.allow_partial)
}

fn finish(
    run: &reports::Run,
    out: &std::path::Path,
    sources: &Sources,
    allow_partial: bool,
) -> i32 {
    match reports::write_all(out, run, sources) {
        Ok(files) => {
            let n = run.counts();
            println!(
                "{} case(s){}: {} pass, {} fail, {} inconclusive, {} error, {} not applicable",
                n.total,
                if run.complete {
                    String::new()
                } else {
                    " (partial: the run was interrupted)".into()
                },
                n.pass,
                n.fail,
                n.inconclusive,
                n.error,
                n.not_applicable
            );
            for f in files {
                println!("  {}", f.display());
            }
            if run.complete {
                return EXIT_OK;
            }
            let planned = match run.planned {
                Some(p) => format!(
                    "{} of {p} planned cases reached, {} not run",
                    run.cases.len(),
                    run.not_run_count()
                ),
                None => format!(
                    "{} cases reached, how many were planned is unknown",
                    run.cases.len()
                ),
            };
            if allow_partial {
                println!("partial run ({planned}); --allow-partial: exit 0");
                EXIT_OK
            } else {
                eprintln!(
                    "partial run: the run was interrupted ({planned}); the reports say so. \
                     Exit {EXIT_PARTIAL}; give --allow-partial to accept a partial run."
                );
                EXIT_PARTIAL
            }
        }
        Err(e) => {
            eprintln!("cannot write the reports to {}: {e}", out.display());
            EXIT_USAGE
        }
    }
}
