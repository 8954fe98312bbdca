//! `dicetest fuzz`: a mutation campaign against a DUT, with shrunk reproducers.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::cases::parse_duration;
use crate::dut::profile::find_profile;
use crate::fuzz::{run_campaign, Budget, CampaignOptions};

#[derive(Args, Debug)]
pub struct FuzzArgs {
    /// The DUT profile: a shipped name (`sim`) or a file.
    #[arg(long, value_name = "PROFILE")]
    pub dut: String,
    /// Run for this long (`2m`, `30s`); batches in flight finish.
    #[arg(long, value_name = "DURATION", conflicts_with = "iterations")]
    pub time: Option<String>,
    /// Run this many batches (deterministic: the same seed gives the same findings).
    #[arg(long, value_name = "N")]
    pub iterations: Option<u64>,
    /// Seed of every random choice; printed, so any campaign can be run again.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Mutated exchanges per batch (each batch ends with a liveness probe).
    #[arg(long, value_name = "K", default_value_t = 4)]
    pub batch: usize,
    /// Output folder: findings/<ID>.yaml|.pcapng|.txt, findings.json, summary.md.
    #[arg(long, value_name = "DIR", default_value = "out/fuzz")]
    pub out: PathBuf,
    /// Skip the pre-flight handshake that first checks the DUT is reachable, answers, and
    /// accepts the profile's credentials (a failed one ends the campaign as a setup error).
    #[arg(long)]
    pub no_preflight: bool,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn run(a: FuzzArgs) -> i32 {
    let profile = match find_profile(&a.dut) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    };
    let budget = match (&a.time, a.iterations) {
        (Some(t), _) => match parse_duration(t) {
            Some(d) => Budget::Time(d),
            None => {
                eprintln!("--time {t:?} is not a duration (write e.g. 30s or 2m)");
                return EXIT_USAGE;
            }
        },
        (None, Some(n)) => Budget::Iterations(n),
        (None, None) => Budget::Time(Duration::from_secs(120)),
    };
    let seed = a.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(1)
    });
    println!(
        "dicetest fuzz: {} ({}), seed {seed}, {}",
        profile.name,
        profile.description,
        match budget {
            Budget::Iterations(n) => format!("{n} batches"),
            Budget::Time(d) => format!("{} s", d.as_secs_f64()),
        }
    );
    // A campaign against a DUT that is not there would report every batch as a finding.
    if !a.no_preflight {
        let roles = [crate::cases::DutRole::Server];
        if let Err(e) = crate::runner::preflight::check(&profile, &roles, seed, &root()) {
            eprintln!(
                "dicetest fuzz: setup error, pre-flight failed ({}): {e}\n  no batch was run; --no-preflight skips this check",
                e.what()
            );
            return EXIT_USAGE;
        }
    }
    let opts = CampaignOptions {
        seed,
        budget,
        batch_size: a.batch.max(1),
        out: Some(a.out.clone()),
        root: root(),
    };
    let report = match run_campaign(&profile, &opts, &mut |line| println!("  {line}")) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    };
    println!(
        "\n{} batches, {} exchanges, {} finding(s) in {:.1} s — {}",
        report.batches,
        report.exchanges,
        report.findings.len(),
        report.duration_ms as f64 / 1000.0,
        a.out.join("summary.md").display()
    );
    for f in &report.findings {
        println!(
            "  {} {:?} {} — {}",
            f.id, f.oracle.level, f.oracle.title, f.files.reproducer
        );
    }
    if report.findings.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}
