//! The `dicetest` command line.

mod check_cmd;
mod common;
mod connect;
mod farm_cmd;
mod fuzz_cmd;
mod heartbeat;
mod interop_cmd;
mod out_lock;
mod report_cmd;
mod serve;
mod suite_cmds;
mod vectors;

use clap::{Parser, Subcommand};

/// Exit codes: 0 success, 1 the check failed (handshake, vectors), 2 usage or setup error
/// (a failed pre-flight included); a run stopped by a signal exits 128 + its number (130
/// SIGINT, 143 SIGTERM) with partial reports (`crate::interrupt`).
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

#[derive(Parser)]
#[command(
    name = "dicetest",
    version,
    about = "Conformance and interoperability tests for DTLS 1.2 (RFC 6347), the RFC 7925 IoT profile and CoAP over DTLS",
    long_about = "dicetest drives a device or a DTLS stack with its own scriptable DTLS 1.2 engine and \
judges what comes back.\n\nFirst steps with a new device:\n  \
echo Client_identity:73656372657450534b > key.txt; chmod 600 key.txt   # IDENTITY:HEX\n  \
dicetest connect 192.0.2.10:5684 --psk-file key.txt --send hello\n  \
dicetest serve --listen 127.0.0.1:5684 --psk-file key.txt   # or DICETEST_PSK=HEX\n  \
dicetest vectors            # prove the engine against known answers first\n\n\
Conformance suite:\n  \
dicetest list               # the test descriptions, with their RFC clauses\n  \
dicetest run --dut sim      # all of them against the built-in simulated board\n  \
dicetest run --dut gnutls --case 'CK-*' --out out/gnutls\n  \
dicetest explain CK-04      # what a case checks, in words\n  \
dicetest interop --matrix gnutls openssl tinydtls bouncycastle dut-sim\n\n\
Untrusted devices, farms and CI:\n  \
dicetest fuzz --dut dut-sim --time 2m --out out/fuzz   # findings become runnable cases\n  \
dicetest farm run --inventory farm/sim-farm.yaml --out out/farm\n  \
dicetest run --dut sim --shard 1/4 --out out/shard1    # then: dicetest report merge\n\n\
The shipped suite and profiles are built into dicetest, so it runs from any folder; \
`--suite DIR` and `--dut FILE` take one's own. What a process profile starts (dut-sim, \
peers/build/bin) still comes from the checkout dicetest was built from.\n\n\
Before the cases, `run`, `fuzz` and `interop` check the DUT with one plain handshake \
(reachable, answers, credentials work); a DUT that fails it is a setup error, not a fail.\n\n\
Exit codes: 0 = success, 1 = the check failed, 2 = usage or setup error (a failed \
pre-flight included), 130 / 143 = interrupted by Ctrl-C / SIGTERM (the reports are \
written, marked partial)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Handshake with a DTLS server, optionally send one message, print what comes back.
    Connect(connect::ConnectArgs),
    /// Run an echo server that speaks DTLS 1.2 with PSK.
    Serve(serve::ServeArgs),
    /// Check every known-answer vector (crypto, key schedule, third-party transcripts).
    Vectors(vectors::VectorsArgs),
    /// List the test descriptions (id, level, DUT role, title, references).
    List(suite_cmds::ListArgs),
    /// Validate the suite (shipped, or --suite DIR) and DUT profiles (shipped, or --profiles
    /// DIR / --profile FILE); errors name file:line:column.
    Check(check_cmd::CheckArgs),
    /// Explain one case in words: objective, references, steps.
    Explain(suite_cmds::ExplainArgs),
    /// Run test descriptions against a DUT and give each a verdict.
    ///
    /// First a pre-flight handshake (see --no-preflight); then every case, each with its own
    /// DUT instance, in --jobs lanes. Every verdict goes to OUT/journal.jsonl the moment it
    /// is reached; report.json, junit.xml, summary.md and report.html are rendered from it at
    /// the end, or when Ctrl-C / SIGTERM stops the run (marked partial). One run per --out
    /// folder at a time. On a terminal a status line shows the cases running and an
    /// estimate; a log gets plain lines only.
    #[command(verbatim_doc_comment)]
    Run(suite_cmds::RunArgs),
    /// Interop sessions between two real implementations (or a --matrix of them), with
    /// dicetest on the path as an impairing, watching relay.
    Interop(interop_cmd::InteropArgs),
    /// Render report.json, junit.xml, summary.md and report.html from a run's journal
    /// (`--from OUTDIR`), merge shards (`merge --out OUT DIR...`), or print the schema.
    Report(report_cmd::ReportArgs),
    /// The board farm: the suite on every board of an inventory, in parallel lanes.
    Farm(farm_cmd::FarmArgs),
    /// A mutation campaign against a DUT: structure-aware mutations of valid exchanges,
    /// judged by the RFCs and a liveness probe; each finding shrunk to a runnable case.
    Fuzz(fuzz_cmd::FuzzArgs),
    /// Print the JSON Schema of case files (or, with --profile, of DUT profiles).
    Schema {
        /// The schema of DUT profiles instead of cases.
        #[arg(long)]
        profile: bool,
    },
}

pub fn main() -> i32 {
    // `dicetest list | head`: a closed pipe ends the output quietly, as for any Unix tool,
    // instead of a panic ("failed printing to stdout").
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Key files a killed run left behind (kill -9 runs no destructor) go at the next start,
    // whatever the command.
    crate::dut::secret_file::sweep_stale_once();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    EXIT_OK
                }
                _ => EXIT_USAGE,
            };
        }
    };
    match cli.command {
        Command::Connect(a) => connect::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Vectors(a) => vectors::run(a),
        Command::List(a) => suite_cmds::list(a),
        Command::Check(a) => check_cmd::check(a),
        Command::Explain(a) => suite_cmds::explain(a),
        Command::Run(a) => suite_cmds::run(a),
        Command::Report(a) => report_cmd::run(a),
        Command::Interop(a) => interop_cmd::run(a),
        Command::Farm(a) => farm_cmd::run(a),
        Command::Fuzz(a) => fuzz_cmd::run(a),
        Command::Schema { profile } => {
            print!(
                "{}",
                if profile {
                    crate::cases::schema::profile_schema()
                } else {
                    crate::cases::schema::case_schema()
                }
            );
            EXIT_OK
        }
    }
}
