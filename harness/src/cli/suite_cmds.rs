//! `dicetest list`, `check`, `explain` and `run`: test descriptions against a DUT.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::cases::LoadedCase;
use crate::dut::profile::find_profile;
use crate::reports::{self, journal, CaseWriter, DutInfo, Redactor, Sources};
use crate::runner::report::{summarize, write_evidence};
use crate::runner::{run_all, RunOptions};
use crate::shipped;

use super::heartbeat::Heartbeat;
use super::out_lock::OutLock;

/// The checkout dicetest was built from: what process profiles use on disk ({root},
/// {bin:NAME}). The suite and the profiles themselves are built in (`crate::shipped`).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[derive(Args, Debug)]
pub struct SuiteArgs {
    /// Folder of one's own case files (searched recursively for *.yaml) [default: the
    /// shipped suite, built into dicetest]
    #[arg(long, value_name = "DIR")]
    pub suite: Option<PathBuf>,
    /// Only cases whose id matches this pattern (`CK-*`, `CK-0[1-3]`, `*REPLAY*`;
    /// case-insensitive); repeatable. A pattern that matches no case is an error.
    #[arg(long = "case", value_name = "GLOB")]
    pub cases: Vec<String>,
}

impl SuiteArgs {
    /// The folder given, or the shipped suite's name, for messages.
    pub fn name(&self) -> PathBuf {
        shipped::suite_name(self.suite.as_deref())
    }

    /// Loads and filters; load errors are printed and end the command.
    fn load(&self) -> Result<Vec<LoadedCase>, i32> {
        let (cases, errors) = shipped::load_cases(self.suite.as_deref());
        if !errors.is_empty() {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!(
                "{} error(s) in the case files; `dicetest check` lists them all",
                errors.len()
            );
            return Err(EXIT_USAGE);
        }
        if cases.is_empty() {
            eprintln!("no case files under {}", self.name().display());
            return Err(EXIT_USAGE);
        }
        select(&self.cases, cases, |c| &c.case.id, &self.name()).map_err(|e| {
            eprintln!("{e}");
            EXIT_USAGE
        })
    }
}

/// Shell-style matching, case-insensitive: `*` any run of characters, `?` one, `[abc]` one
/// of a set, `[0-3]` a range, `[!x]` anything but. A malformed pattern matches nothing
/// (`glob_error` says why).
pub fn glob(pattern: &str, text: &str) -> bool {
    fn class(p: &[char], c: char) -> Option<(bool, usize)> {
        // p starts after '['; returns (matched, length of the class including ']').
        let (negate, mut i) = match p.first() {
            Some('!') | Some('^') => (true, 1),
            _ => (false, 0),
        };
        let start = i;
        let mut hit = false;
        let c = c.to_ascii_lowercase();
        while i < p.len() && (p[i] != ']' || i == start) {
            let lo = p[i].to_ascii_lowercase();
            if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
                let hi = p[i + 2].to_ascii_lowercase();
                hit |= lo <= c && c <= hi;
                i += 3;
            } else {
                hit |= lo == c;
                i += 1;
            }
        }
        (i < p.len()).then_some((hit != negate, i + 1))
    }
    fn go(p: &[char], t: &[char]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some('['), Some(&c)) => match class(&p[1..], c) {
                Some((true, n)) => go(&p[1 + n..], &t[1..]),
                _ => false,
            },
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    go(&p, &t)
}

/// The items whose id matches one of `patterns` (all when there are none). Every pattern
/// must mean something: one that is malformed or matches nothing is refused, not silently
/// dropped beside the others.
pub fn select<T>(
    patterns: &[String],
    items: Vec<T>,
    id: impl Fn(&T) -> &str,
    suite: &std::path::Path,
) -> Result<Vec<T>, String> {
    for g in patterns {
        if let Some(why) = glob_error(g) {
            return Err(format!(
                "--case {g:?}: {why} (patterns: * any run, ? one character, [0-3] a range, [!x] not x)"
            ));
        }
        if !items.iter().any(|c| glob(g, id(c))) {
            return Err(format!(
                "--case {g:?} matches no case in {} (`dicetest list` shows the ids)",
                suite.display()
            ));
        }
    }
    Ok(items
        .into_iter()
        .filter(|c| patterns.is_empty() || patterns.iter().any(|g| glob(g, id(c))))
        .collect())
}

/// Why a `--case` pattern cannot match anything as written, if it cannot.
pub fn glob_error(pattern: &str) -> Option<String> {
    if pattern.trim().is_empty() {
        return Some("an empty pattern".into());
    }
    let mut rest = pattern;
    while let Some(i) = rest.find('[') {
        let after = &rest[i + 1..];
        let body = after
            .strip_prefix('!')
            .or_else(|| after.strip_prefix('^'))
            .unwrap_or(after);
        // A ']' right after '[' (or '[!') is a member, not the end.
        let skip = usize::from(body.starts_with(']'));
        match body[skip..].find(']') {
            Some(j) => rest = &body[skip + j + 1..],
            None => return Some(format!("{pattern:?} has a '[' without its ']'")),
        }
    }
    None
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub suite: SuiteArgs,
}

pub fn list(a: ListArgs) -> i32 {
    let cases = match a.suite.load() {
        Ok(c) => c,
        Err(code) => return code,
    };
    for c in &cases {
        let k = &c.case;
        println!(
            "{:<10} {:<6} {:<7} {:<55} {}",
            k.id,
            format!("{:?}", k.level),
            crate::runner::role_name(k.dut.role),
            k.title,
            k.refs.join("; ")
        );
    }
    println!("{} cases", cases.len());
    EXIT_OK
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// Case id.
    pub case: String,
    /// Folder of one's own case files [default: the shipped suite, built into dicetest]
    #[arg(long, value_name = "DIR")]
    pub suite: Option<PathBuf>,
}

pub fn explain(a: ExplainArgs) -> i32 {
    let (cases, _) = shipped::load_cases(a.suite.as_deref());
    let Some(c) = cases
        .iter()
        .find(|c| c.case.id.eq_ignore_ascii_case(&a.case))
    else {
        // Interop descriptions are test descriptions too (suites/interop/).
        let (interop, _) = shipped::load_interop(a.suite.as_deref());
        if let Some((d, file)) = interop
            .iter()
            .find(|(d, _)| d.id.eq_ignore_ascii_case(&a.case))
        {
            explain_interop(d, file);
            return EXIT_OK;
        }
        eprintln!(
            "no case or interop description {} under {} (`dicetest list` shows the cases)",
            a.case,
            shipped::suite_name(a.suite.as_deref()).display()
        );
        return EXIT_USAGE;
    };
    let k = &c.case;
    println!("{} — {}\n", k.id, k.title);
    println!("Objective:  {}", k.objective.trim());
    println!("References: {}", k.refs.join("; "));
    println!("Level:      {:?}", k.level);
    println!(
        "DUT:        {}{}",
        crate::runner::role_name(k.dut.role),
        if k.dut.claims.is_empty() {
            String::new()
        } else {
            format!(", claiming {}", k.dut.claims.join(", "))
        }
    );
    if let Some(amb) = &k.ambiguity {
        println!("Ambiguity:  {}", amb.trim());
    }
    if k.harness_retransmits == Some(false) {
        println!("Harness:    does not retransmit its flights (loss is what the case tests)");
    }
    println!("File:       {}\n\nSteps:", c.file.display());
    for (i, s) in k.steps.iter().enumerate() {
        let checks = if s.value.checks {
            "   <- checks the requirement"
        } else {
            ""
        };
        println!("  {:>2}. {}{checks}", i + 1, describe_step(&s.value));
    }
    let used = fields_used(k);
    if !used.is_empty() {
        println!("\nFields:");
        for f in used {
            println!("  {f}");
        }
    }
    EXIT_OK
}

/// An interop description in words: the session two implementations hold, what the relay
/// does to it, and what the judge checks.
fn explain_interop(d: &crate::interop::InteropCase, file: &std::path::Path) {
    println!("{} — {} (interop description)\n", d.id, d.title);
    println!("Objective:  {}", d.objective.trim());
    println!("References: {}", d.refs.join("; "));
    println!("Level:      {:?}", d.level);
    if !d.claims.is_empty() {
        println!("Both claim: {}", d.claims.join(", "));
    }
    println!("File:       {}\n\nSession:", file.display());
    let mut lines = vec![format!(
        "a client and a server, both real implementations, with dicetest relaying and watching between them{}",
        d.suite
            .as_deref()
            .map(|s| format!(", on suite {s}"))
            .unwrap_or_default()
    )];
    if d.client_psk_hex.is_some() {
        lines.push("the client is given a different PSK from the server's".into());
    }
    if d.extended_master_secret {
        lines.push("both hellos must carry extended_master_secret (RFC 7627 §5.1)".into());
    }
    let i = &d.impair;
    let nums = |s: &std::collections::BTreeSet<u32>| {
        s.iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !i.drop.is_empty() {
        lines.push(format!("the relay loses datagram(s) {}", nums(&i.drop)));
    }
    if !i.duplicate.is_empty() {
        lines.push(format!(
            "the relay delivers datagram(s) {} twice",
            nums(&i.duplicate)
        ));
    }
    if !i.reorder.is_empty() {
        lines.push(format!(
            "the relay holds back datagram(s) {} until after the next",
            nums(&i.reorder)
        ));
    }
    if let Some(m) = i.max_datagram {
        lines.push(format!(
            "datagrams over {m} bytes are lost (a small path MTU)"
        ));
    }
    match &d.coap {
        Some(c) => lines.push(format!(
            "the client sends a CoAP {} {}{}; a response of {} counts",
            c.method,
            c.path.as_deref().unwrap_or("(the server profile's path)"),
            if c.payload.is_empty() {
                String::new()
            } else {
                format!(" with payload {:?}", c.payload)
            },
            c.response.join(" or ")
        )),
        None => lines.push(format!("the client sends {:?} once connected", d.send)),
    }
    if d.resume {
        lines.push("the client then resumes the session in an abbreviated handshake".into());
    }
    lines.push(format!(
        "expected outcome: {}{}",
        d.outcome,
        d.within
            .as_deref()
            .map(|w| format!(", within {w}"))
            .unwrap_or_default()
    ));
    for (n, l) in lines.iter().enumerate() {
        println!("  {:>2}. {l}", n + 1);
    }
    if let Some(f) = &d.able_to_fail {
        println!(
            "\nShown able to fail by: client {} × server {} gives {}, decided by the check {:?}",
            f.client, f.server, f.verdict, f.check
        );
    }
}

fn describe_step(s: &crate::cases::Step) -> String {
    let note = s
        .note
        .as_ref()
        .map(|n| format!("  ({n})"))
        .unwrap_or_default();
    let base = if let Some(h) = &s.handshake {
        match s.outcome.as_deref() {
            Some("failure") => format!(
                "Attempt a {h} handshake{}; it must fail",
                if s.psk_hex.is_some() {
                    " with a different PSK"
                } else {
                    ""
                }
            ),
            _ => format!(
                "Complete a correct {h} handshake{}",
                if s.same_port {
                    " from the same address and port as before (the old association not closed)"
                } else {
                    ""
                }
            ),
        }
    } else if let Some(m) = &s.send {
        let mut d = format!("Send {m}");
        if !s.with.is_empty() {
            d += &format!(
                " with {}",
                s.with
                    .iter()
                    .map(|(k, v)| crate::cases::fields::describe_with(k, v))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if let Some(r) = &s.record {
            d += &describe_record(r);
        }
        if let Some(f) = &s.fragments {
            d += &format!(" {}", f.describe());
        }
        if let Some(n) = s.duplicate {
            d += &format!(", each datagram {} time(s) more", n);
        }
        if s.withhold {
            if let Some(k) = &s.keep_datagram {
                d += &format!(", but hold it back as ${k} (it goes out when replayed)");
            }
        }
        d
    } else if let Some(e) = &s.expect {
        format!("Expect {}", describe_expect(e))
    } else if let Some(w) = &s.wait {
        format!("Wait {w}")
    } else if let Some(n) = s.drop {
        format!(
            "Lose the next {n} datagram(s) from the DUT{}",
            s.keep_datagram
                .as_ref()
                .map(|k| format!(", keeping what was lost as ${k}"))
                .unwrap_or_default()
        )
    } else if let Some(r) = &s.replay {
        format!("Send {r} again, byte for byte")
    } else if s.retransmit.is_some() {
        "Retransmit the current flight, in new records".into()
    } else if s.new_client.is_some() {
        "Start over as a new client".into()
    } else if s.reconnect.is_some() {
        "Start a new association from the same address and port, without closing the old one (a rebooted client, RFC 6347 §4.2.8)".into()
    } else if s.liveness.is_some() {
        "Check the DUT still completes a fresh handshake".into()
    } else if let Some(c) = &s.coap {
        let mut d = format!("CoAP {} {} {}", c.r#type, c.method, c.uri);
        if let Some(p) = &c.payload {
            d += &format!(" with payload {p:?}");
        }
        d += &describe_options(&c.options, "with");
        d
    } else if let Some(r) = &s.every_record {
        let mut parts = Vec::new();
        if let Some(v) = r.version {
            parts.push(format!("carries version {v:#06x}"));
        }
        if let Some(n) = r.max_plaintext {
            parts.push(format!("carries at most {n} bytes of plaintext"));
        }
        if let Some(n) = r.max_length {
            parts.push(format!("has a length of at most {n}"));
        }
        if parts.is_empty() {
            "From here on, no rule for every record".into()
        } else {
            format!(
                "From here to the end, every record the DUT sends{} {}{}",
                r.from_epoch
                    .map(|e| format!(" in epoch {e} or later"))
                    .unwrap_or_default(),
                parts.join(" and "),
                r.clause
                    .as_ref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            )
        }
    } else if let Some(f) = &s.flood {
        format!(
            "Flood: {} ClientHellos without a cookie from {} source ports; only HelloVerifyRequests may come back, nothing later{}",
            f.client_hellos,
            f.source_ports,
            f.max_memory_growth
                .as_ref()
                .map(|m| format!(", and a DUT process may grow by at most {m}"))
                .unwrap_or_default()
        )
    } else {
        "?".into()
    };
    base + &note
}

/// " in a record with epoch 1, sequence number 5, sent in plaintext" for a record override.
fn describe_record(r: &crate::cases::model::RecordSpec) -> String {
    let mut parts = Vec::new();
    if let Some(t) = r.content_type {
        parts.push(format!("content type {t}"));
    }
    if let Some(v) = r.version {
        parts.push(format!("version {v:#06x}"));
    }
    if let Some(e) = r.epoch {
        parts.push(format!("epoch {e}"));
    }
    if let Some(n) = r.sequence_number {
        parts.push(format!("sequence number {n}"));
    }
    if let Some(l) = r.length {
        parts.push(format!("a length field of {l}"));
    }
    if r.plaintext {
        parts.push("sent in plaintext".into());
    }
    if let Some(x) = &r.tag_xor {
        parts.push(format!("its last bytes XORed with {x} (a forged tag)"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" in a record with {}", parts.join(", "))
    }
}

/// The fields a case sets or checks, each with its meaning from the one table
/// (`cases::fields::FIELDS`), for the end of `explain`.
fn fields_used(k: &crate::cases::Case) -> Vec<String> {
    use crate::cases::fields::{checkable, sendable};
    let mut out = std::collections::BTreeSet::new();
    fn expect_fields(e: &crate::cases::Expect, out: &mut std::collections::BTreeSet<String>) {
        let what = e
            .message
            .as_deref()
            .or(e.alert.as_ref().map(|_| "Alert"))
            .or(e.flight.as_ref().and_then(|f| f.last()).map(|s| s.as_str()));
        let names: Vec<&String> = e.r#match.keys().chain(e.keep.values()).collect();
        for f in checkable(what) {
            if names.iter().any(|n| *n == f.name) {
                out.insert(format!("{} ({}): {}", f.name, f.message, f.doc));
            }
        }
        for a in e.one_of.iter().flatten() {
            expect_fields(a, out);
        }
    }
    for s in &k.steps {
        let s = &s.value;
        if let Some(m) = &s.send {
            for f in sendable(m) {
                if s.with.contains_key(f.name) {
                    out.insert(format!("{} ({}): {}", f.name, f.message, f.doc));
                }
            }
        }
        if let Some(e) = &s.expect {
            expect_fields(e, &mut out);
        }
    }
    out.into_iter().collect()
}

/// ", with accept = 0, observe absent" for CoAP options as a case writes them.
fn describe_options(
    options: &std::collections::BTreeMap<String, serde_json::Value>,
    verb: &str,
) -> String {
    if options.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = options
        .iter()
        .map(|(k, v)| match v {
            serde_json::Value::Null => format!("{k} absent"),
            v => format!("{k} = {v}"),
        })
        .collect();
    format!(", {verb} {}", parts.join(", "))
}

fn describe_expect(e: &crate::cases::Expect) -> String {
    let mut d = if let Some(m) = &e.message {
        m.clone()
    } else if let Some(f) = &e.flight {
        format!("the flight {}", f.join(", "))
    } else if let Some(a) = &e.alert {
        let level = e
            .alert_level
            .as_ref()
            .map(|l| format!("{l} "))
            .unwrap_or_default();
        let what = if a == "any" {
            format!("{level}alert (any description)")
        } else {
            format!("{level}{a} alert")
        };
        let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{article} {what}")
    } else if let Some(s) = &e.silence {
        format!("silence for {s}")
    } else if e.change_cipher_spec.is_some() {
        "ChangeCipherSpec".into()
    } else if e.probe_reply.is_some() {
        "the DUT's answer to the probe".into()
    } else if e.connected.is_some() {
        "the DUT's ChangeCipherSpec and a Finished that verifies".into()
    } else if let Some(t) = &e.application_data {
        format!("application data {t:?}")
    } else if let Some(c) = &e.coap {
        let mut d = format!(
            "a CoAP response{}",
            c.code.as_ref().map(|x| format!(" {x}")).unwrap_or_default()
        );
        if let Some(p) = &c.payload {
            d += &format!(" with payload {p:?}");
        }
        if let Some(p) = &c.payload_contains {
            d += &format!(" whose payload contains {p:?}");
        }
        d + &describe_options(&c.options, "carrying")
    } else if let Some(alts) = &e.one_of {
        format!(
            "one of: {}",
            alts.iter()
                .map(|a| format!(
                    "{}{}{}",
                    describe_expect(a),
                    a.verdict
                        .as_ref()
                        .map(|v| format!(" [{v}]"))
                        .unwrap_or_default(),
                    if a.end_case {
                        " (settles the case)"
                    } else {
                        ""
                    }
                ))
                .collect::<Vec<_>>()
                .join(" | ")
        )
    } else {
        "?".into()
    };
    if !e.r#match.is_empty() {
        d += &format!(
            " where {}",
            e.r#match
                .iter()
                .map(|(k, v)| crate::cases::fields::describe_match(k, v))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !e.keep.is_empty() {
        d += &format!(
            ", keeping {}",
            e.keep
                .iter()
                .map(|(k, v)| format!("{v} as ${k}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !e.never.is_empty() {
        d += &format!(", never {}", e.never.join(" or "));
    }
    d
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// DUT profile: a shipped name (sim, openssl, gnutls, tinydtls, ...; built into
    /// dicetest, whatever the working directory holds) or a YAML file of one's own
    /// (`./my-dut.yaml`). What a process profile starts ({bin:NAME}: dut-sim, peers/build/bin)
    /// is taken from the checkout dicetest was built from.
    #[arg(long, value_name = "NAME|FILE", default_value = "sim")]
    pub dut: String,
    #[command(flatten)]
    pub suite: SuiteArgs,
    /// Output folder for report.json, journal.jsonl and evidence/.
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out: PathBuf,
    /// Parallel lanes, each with its own DUT instance and port (at least 1).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = at_least_one)]
    pub jobs: usize,
    /// Run every case N times and report cases whose verdict changed as flaky.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub repeat: u32,
    /// Fail the run on any difference from the profile's baseline, improvements included.
    #[arg(long)]
    pub strict: bool,
    /// Seed of the harness's random numbers.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Put each case's session keys into its capture (a pcapng Decryption Secrets Block)
    /// so Wireshark decrypts it. Anyone with the file can then read the whole exchange.
    #[arg(long)]
    pub keylog: bool,
    /// Take share K of N of the cases (ids in order, dealt out in turn), for N CI jobs;
    /// `dicetest report merge` joins them.
    #[arg(long, value_name = "K/N", default_value = "1/1")]
    pub shard: crate::farm::Shard,
    /// Skip the pre-flight: by default, before any case, one plain handshake checks that
    /// the DUT is reachable, answers, and accepts the profile's credentials; if not, the run
    /// ends at once as a setup error (exit 2) rather than blaming the DUT case after case.
    /// Skip it for a DUT that must be judged from its very first datagram.
    #[arg(long)]
    pub no_preflight: bool,
}

/// `--jobs` and the like: a count of at least one.
pub fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

pub fn run(a: RunArgs) -> i32 {
    crate::interrupt::install();
    let profile = match find_profile(&a.dut) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    };
    let cases = match a.suite.load() {
        Ok(c) => a.shard.select(c),
        Err(code) => return code,
    };
    if cases.is_empty() {
        eprintln!("no case in shard {} matches {:?}", a.shard, a.suite.cases);
        return EXIT_USAGE;
    }
    let _lock = match OutLock::take(&a.out) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("dicetest run: {e}");
            return EXIT_USAGE;
        }
    };
    // A new journal for this run: verdicts are appended the moment they are reached.
    let planned: Vec<String> = (0..a.repeat.max(1))
        .flat_map(|_| cases.iter().map(|c| c.case.id.clone()))
        .collect();
    let started = reports::model::rfc3339(reports::model::now_unix_ms());
    if let Err(e) = journal::start(
        &a.out,
        &[DutInfo::from_profile(&profile)],
        &planned,
        a.strict,
        &started,
    ) {
        eprintln!("cannot start the journal in {}: {e}", a.out.display());
        return EXIT_USAGE;
    }
    println!(
        "dicetest: {} case(s) against {} ({}), {} lane(s)",
        cases.len(),
        profile.name,
        profile.description,
        a.jobs
    );
    let render = |out: &std::path::Path| -> Result<reports::model::Run, String> {
        let run = reports::load(out).map_err(|e| e.to_string())?;
        let redact = Redactor::for_duts([profile.name.as_str()]).with_psk(&profile.psk());
        reports::write_all(out, &run, &Sources::new(out, redact)).map_err(|e| e.to_string())?;
        Ok(run)
    };
    // Pre-flight: the DUT must be there, answer and hold our credentials before any case
    // can blame it for anything.
    if !a.no_preflight {
        let mut roles: Vec<crate::cases::DutRole> = cases
            .iter()
            .filter(|c| crate::runner::applicability(c, &profile).is_none())
            .map(|c| c.case.dut.role)
            .collect();
        roles.sort_by_key(|r| *r as u8);
        roles.dedup();
        match crate::runner::preflight::check(&profile, &roles, a.seed, &root()) {
            Ok(what) if !what.is_empty() => println!("pre-flight: {what}"),
            Ok(_) => {}
            Err(e) => {
                let why = format!("setup error, pre-flight failed ({}): {e}", e.what());
                eprintln!(
                    "dicetest run: {why}\n  no case was run; `dicetest connect` probes a server by hand, --no-preflight skips this check"
                );
                let now = reports::model::rfc3339(reports::model::now_unix_ms());
                let _ = journal::stop(&a.out, &now, &format!("the run stopped at a {why}"));
                let _ = render(&a.out);
                return EXIT_USAGE;
            }
        }
    }
    let writer = CaseWriter {
        out: a.out.clone(),
        dut: profile.name.clone(),
        keylog: a.keylog,
    };
    let beat = std::sync::Arc::new(Heartbeat::default());
    let opts = RunOptions {
        jobs: a.jobs,
        repeat: a.repeat,
        out: Some(a.out.clone()),
        seed: a.seed,
        progress: Some(beat.progress.clone()),
    };
    let out = a.out.clone();
    let beat_cb = beat.clone();
    let mut on_result = |r: &crate::runner::CaseResult, done: usize, total: usize| {
        let mut r = r.clone();
        r.evidence = write_evidence(&out, &r).ok();
        if let Err(e) = writer.record(&r) {
            eprintln!("cannot record {} in {}: {e}", r.id, out.display());
        }
        beat_cb.case_done(done);
        let mark = if r.as_expected { " " } else { "!" };
        // The alternative of the deciding one_of, when one decided (the rest are in
        // report.json's `branches`).
        let branch = r
            .step
            .and_then(|s| {
                r.branches
                    .iter()
                    .find(|b| b.starts_with(&format!("step {s}: ")))
            })
            .or(r.branches.last())
            .map(|b| format!(" [{}]", b.split_once(": ").map_or(b.as_str(), |x| x.1)))
            .unwrap_or_default();
        let line = format!(
            "{mark}[{done:>3}/{total}] {:<10} {:<14} {}{branch}",
            r.id,
            r.verdict.name(),
            r.reason
        );
        let _screen = beat_cb.screen.lock().unwrap_or_else(|p| p.into_inner());
        if std::io::stderr().is_terminal() {
            eprint!("\r\x1b[2K");
        }
        println!("{line}");
    };
    let wall = std::time::Instant::now();
    let heart = beat.start(planned.len());
    let mut results = run_all(&cases, &profile, &opts, &root(), &mut on_result);
    beat.finish(heart);
    let wall = wall.elapsed();
    for r in &mut results {
        let name = if r.run > 1 {
            format!("evidence/{}-run{}.txt", r.id, r.run)
        } else {
            format!("evidence/{}.txt", r.id)
        };
        r.evidence = Some(name);
    }
    // Interrupted (Ctrl-C, a CI cancel): every verdict reached is in the journal; the
    // reports say the run is partial; the exit code says which signal.
    if let Some(sig) = crate::interrupt::requested() {
        let now = reports::model::rfc3339(reports::model::now_unix_ms());
        let _ = journal::stop(
            &a.out,
            &now,
            &format!("the run was interrupted by {}", crate::interrupt::name(sig)),
        );
        let written = render(&a.out);
        eprintln!(
            "\ndicetest run: interrupted by {}: {} of {} case(s) reached a verdict; {}",
            crate::interrupt::name(sig),
            results.len(),
            planned.len(),
            match written {
                Ok(_) => format!("partial report: {}", a.out.join("report.json").display()),
                Err(e) => format!("cannot write the reports: {e}"),
            }
        );
        return crate::interrupt::exit_code(sig);
    }
    let summary = summarize(&results);
    // Every format is rendered from the journal, exactly as `dicetest report --from` would.
    let _ = journal::finish(
        &a.out,
        &reports::model::rfc3339(reports::model::now_unix_ms()),
    );
    let run = match render(&a.out) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot write the reports: {e}");
            return EXIT_USAGE;
        }
    };
    println!(
        "\n{} pass, {} fail, {} inconclusive, {} error, {} not applicable — report: {}",
        summary.pass,
        summary.fail,
        summary.inconclusive,
        summary.error,
        summary.not_applicable,
        a.out.join("report.json").display()
    );
    // Where the time went: the figure a benchmark prints (ci/bench-suite), next to the
    // least the cases' own waits allow.
    let required: std::time::Duration = cases
        .iter()
        .filter(|c| crate::runner::applicability(c, &profile).is_none())
        .map(|c| crate::cases::needs::required_wait(&c.case, &profile.timers))
        .sum::<std::time::Duration>()
        * a.repeat.max(1);
    if let Some(slow) = results.iter().max_by_key(|r| r.duration_ms) {
        println!(
            "time: {:.1} s on {} lane(s); slowest case {} ({:.1} s); the cases' own waits add up to {:.1} s",
            wall.as_secs_f64(),
            a.jobs,
            slow.id,
            slow.duration_ms as f64 / 1000.0,
            required.as_secs_f64()
        );
    }
    // The exit code, junit.xml and every other format read one decision
    // (reports::model::CiOutcome): what fails the run is said here, case by case.
    for (r, why) in run.failing_results() {
        match why {
            reports::model::Failure::StaleBaseline => println!(
                "  differs from the baseline (pass; --strict): {} — the baseline expects: {}",
                r.id,
                r.expected_deviation.as_deref().unwrap_or_default()
            ),
            reports::model::Failure::Flaky => println!(
                "  flaky: {} gave different verdicts across --repeat runs",
                r.id
            ),
            _ => println!("  unexpected {}: {} — {}", r.verdict, r.id, r.reason),
        }
    }
    for r in run
        .cases
        .iter()
        .filter(|r| r.ci_outcome(run.strict) == reports::model::CiOutcome::PassedAgainstBaseline)
    {
        println!(
            "  passes although the baseline expects a deviation: {} — {} (remove it from the baseline; --strict fails on this)",
            r.id,
            r.expected_deviation.as_deref().unwrap_or_default()
        );
    }
    if run.fails() {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}
