//! The campaign loop: calibrate the templates on the DUT, then run batches drawn from the
//! seed until the budget is spent; shrink and write every new finding; report.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::exchange::{compile, targets, Batch, Env, Exchange, Role, Template};
use super::mutate::generate;
use super::oracle::{self, Oracle};
use super::reproducer::{self, Files, Header};
use super::rng::Rng;
use super::shrink::shrink;
use crate::cases::model::Level;
use crate::cases::DutRole;
use crate::dut::profile::Profile;
use crate::reports::Redactor;
use crate::runner::{run_case, CaseResult, Verdict};

/// How long the campaign runs.
#[derive(Clone, Copy, Debug)]
pub enum Budget {
    /// This many batches (deterministic).
    Iterations(u64),
    /// Batches until this much wall time has passed.
    Time(Duration),
}

#[derive(Clone, Debug)]
pub struct CampaignOptions {
    pub seed: u64,
    pub budget: Budget,
    /// Mutated exchanges per batch (before each liveness probe).
    pub batch_size: usize,
    /// Where findings, findings.json and summary.md go (nothing is written without it).
    pub out: Option<PathBuf>,
    /// The workspace root (for `{bin:NAME}` in process profiles).
    pub root: PathBuf,
}

/// One requirement the DUT broke, with its smallest reproducer.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// `FUZZ-<seed>-<n>`: the reproducer's case id.
    pub id: String,
    pub oracle: Oracle,
    /// The batch that first showed it (`calibration` for the unmutated exchanges).
    pub batch: String,
    /// Batches that failed by the same requirement.
    pub occurrences: u64,
    /// The reproducer's verdict reason and deciding step.
    pub reason: String,
    pub step: Option<usize>,
    /// The shrunk exchanges, and their mutations in words.
    pub exchanges: Vec<Exchange>,
    pub mutations: Vec<String>,
    pub steps_before_shrinking: usize,
    pub steps: usize,
    pub shrink_runs: usize,
    pub files: Files,
    /// The reproducer's text.
    #[serde(skip)]
    pub yaml: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct CampaignReport {
    pub seed: u64,
    pub dut: String,
    pub budget: String,
    pub batch_size: usize,
    pub batches: u64,
    pub exchanges: u64,
    /// Templates the DUT completed unmutated, and so could be mutated.
    pub templates: Vec<String>,
    /// Batches that ended inconclusive (an outcome that hides the rest).
    pub inconclusive: u64,
    /// Batches the harness could not judge (verdict error), with the first reason.
    pub errors: u64,
    pub first_error: Option<String>,
    pub findings: Vec<Finding>,
    /// What the campaign can judge: rule id → the requirement it protects.
    pub rules: BTreeMap<&'static str, &'static str>,
    pub duration_ms: u64,
}

/// Why a campaign could not start.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("the profile {0} does not claim the server role; fuzzing drives a DUT server")]
    NotAServer(String),
    #[error("cannot write into {0}: {1}")]
    Output(String, std::io::Error),
}

struct Ctx<'a> {
    profile: &'a Profile,
    opts: &'a CampaignOptions,
    redactor: Redactor,
    env: Env,
}

/// The outcome of one batch.
struct Ran {
    result: CaseResult,
    roles: Vec<Role>,
    yaml: String,
    oracle: Option<Oracle>,
}

fn run_seed(seed: u64, batch: u64) -> u64 {
    seed ^ batch.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl Ctx<'_> {
    fn header(&self, id: &str, batch: &Batch, o: Option<&Oracle>) -> Header {
        let mut claims = Vec::new();
        if self.env.cookie
            && batch
                .exchanges
                .iter()
                .any(|x| x.template == Template::Handshake)
        {
            claims.push("cookie_exchange".to_string());
        }
        if self.env.coap {
            claims.push("coap".to_string());
        }
        let mutations: Vec<String> = batch
            .exchanges
            .iter()
            .flat_map(|x| x.ops.iter().map(|o| o.describe()))
            .collect();
        let objective = if mutations.is_empty() {
            "A correct exchange, as the RFC describes it.".to_string()
        } else {
            format!(
                "Found by dicetest fuzz (seed {}). Mutations: {}.",
                self.opts.seed,
                mutations.join("; ")
            )
        };
        match o {
            Some(o) => Header {
                id: id.into(),
                title: o.title.clone(),
                objective,
                refs: o.refs.clone(),
                level: o.level,
                claims,
            },
            None => Header {
                id: id.into(),
                title: "fuzz batch".into(),
                objective,
                refs: vec!["RFC 6347 §4.1.2.7".into()],
                level: Level::MUST,
                claims,
            },
        }
    }

    /// Compiles, writes, reloads and runs one batch.
    fn run(&self, id: &str, batch: &Batch, seed: u64, o: Option<&Oracle>) -> Result<Ran, String> {
        let compiled = compile(batch, &self.env);
        let case = reproducer::case_of(&compiled, &self.header(id, batch, o));
        let comment = format!(
            "{id}: generated by `dicetest fuzz --dut {} --seed {}`.\nRun it: dicetest run --dut PROFILE --suite DIR --case {id}",
            self.profile.name, self.opts.seed
        );
        let yaml = reproducer::to_yaml(&case, &comment)?;
        let loaded = reproducer::load(&yaml, Path::new(&format!("{id}.yaml")))?;
        let result = match catch_unwind(AssertUnwindSafe(|| {
            run_case(&loaded, self.profile, seed, &self.opts.root)
        })) {
            Ok(r) => r,
            Err(p) => {
                let why = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic".into());
                return Ok(Ran {
                    result: panicked(&loaded, why),
                    roles: compiled.roles,
                    yaml,
                    oracle: Some(Oracle::crash()),
                });
            }
        };
        let oracle = oracle::read(
            result.verdict,
            result.step,
            &result.reason,
            &compiled.roles,
            batch,
            &self.env,
        );
        Ok(Ran {
            result,
            roles: compiled.roles,
            yaml,
            oracle,
        })
    }
}

fn panicked(case: &crate::cases::LoadedCase, why: String) -> CaseResult {
    CaseResult {
        id: case.case.id.clone(),
        title: case.case.title.clone(),
        verdict: Verdict::Fail,
        reason: format!("the run panicked: {why}"),
        step: None,
        line: None,
        refs: case.case.refs.clone(),
        level: format!("{:?}", case.case.level),
        file: case.file.display().to_string(),
        duration_ms: 0,
        as_expected: false,
        expected_deviation: None,
        evidence: None,
        run: 1,
        branches: Vec::new(),
        trace: Vec::new(),
        dut_log: String::new(),
        captures: Vec::new(),
        keylog: Vec::new(),
    }
}

/// Draws batch `n`: exchanges from the usable templates, each with its mutations.
pub fn draw_batch(seed: u64, n: u64, templates: &[Template], env: &Env, size: usize) -> Batch {
    let mut rng = Rng::for_batch(seed, n);
    let mut exchanges = Vec::new();
    for _ in 0..size.max(1) {
        let template = *rng.pick(templates);
        let t = targets(template, env);
        if t.is_empty() {
            continue;
        }
        let target = *rng.pick(&t);
        let ops = generate(&mut rng, template, target, env);
        exchanges.push(Exchange {
            template,
            target: Some(target),
            ops,
        });
    }
    Batch {
        exchanges,
        liveness: true,
    }
}

/// Runs a campaign; `progress` hears one line now and then.
pub fn run_campaign(
    profile: &Profile,
    opts: &CampaignOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<CampaignReport, CampaignError> {
    let started = Instant::now();
    if !profile.roles.contains(&DutRole::Server) {
        return Err(CampaignError::NotAServer(profile.name.clone()));
    }
    if let Some(out) = &opts.out {
        std::fs::create_dir_all(out)
            .map_err(|e| CampaignError::Output(out.display().to_string(), e))?;
    }
    let mut ctx = Ctx {
        profile,
        opts,
        redactor: Redactor::default().with_psk(&profile.psk()),
        env: Env::of(profile),
    };
    let mut report = CampaignReport {
        seed: opts.seed,
        dut: profile.name.clone(),
        budget: match opts.budget {
            Budget::Iterations(n) => format!("{n} batches"),
            Budget::Time(d) => format!("{} s", d.as_secs_f64()),
        },
        batch_size: opts.batch_size,
        batches: 0,
        exchanges: 0,
        templates: Vec::new(),
        inconclusive: 0,
        errors: 0,
        first_error: None,
        findings: Vec::new(),
        rules: oracle::catalogue(),
        duration_ms: 0,
    };
    let templates = calibrate(&mut ctx, &mut report, progress);
    report.templates = templates.iter().map(|t| t.name().to_string()).collect();
    let mut n: u64 = 0;
    while !templates.is_empty() {
        let more = match opts.budget {
            Budget::Iterations(max) => n < max,
            Budget::Time(d) => started.elapsed() < d,
        };
        if !more {
            break;
        }
        let batch = draw_batch(opts.seed, n, &templates, &ctx.env, opts.batch_size);
        let seed = run_seed(opts.seed, n);
        let id = format!("FUZZ-{}-b{n}", opts.seed);
        report.batches += 1;
        report.exchanges += batch.exchanges.len() as u64;
        match ctx.run(&id, &batch, seed, None) {
            Ok(ran) => {
                note(&mut report, &ran.result);
                if let Some(o) = ran.oracle.clone() {
                    record_finding(
                        &ctx,
                        &mut report,
                        &format!("{n}"),
                        &batch,
                        seed,
                        o,
                        ran,
                        progress,
                    );
                }
            }
            Err(e) => {
                report.errors += 1;
                report.first_error.get_or_insert(e);
            }
        }
        n += 1;
        if n.is_multiple_of(50) {
            progress(&format!(
                "{n} batches, {} finding(s), {:.1} s",
                report.findings.len(),
                started.elapsed().as_secs_f64()
            ));
        }
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    if let Some(out) = &opts.out {
        write_report(out, &report, &ctx.redactor)
            .map_err(|e| CampaignError::Output(out.display().to_string(), e))?;
    }
    Ok(report)
}

fn note(report: &mut CampaignReport, r: &CaseResult) {
    match r.verdict {
        Verdict::Inconclusive => report.inconclusive += 1,
        Verdict::Error => {
            report.errors += 1;
            report
                .first_error
                .get_or_insert_with(|| format!("{}: {}", r.id, r.reason));
        }
        _ => {}
    }
}

/// Runs each template unmutated. A template the DUT does not complete is a finding; the
/// campaign then drops the part that failed (the cookie exchange, the CoAP request, the
/// probes) and tries again, or leaves the template out.
fn calibrate(
    ctx: &mut Ctx<'_>,
    report: &mut CampaignReport,
    progress: &mut dyn FnMut(&str),
) -> Vec<Template> {
    let mut usable = Vec::new();
    for t in Template::ALL {
        for attempt in 0..4u64 {
            let batch = Batch {
                exchanges: vec![Exchange {
                    template: t,
                    target: None,
                    ops: Vec::new(),
                }],
                liveness: true,
            };
            if super::exchange::flights(t, &ctx.env).is_empty() {
                break;
            }
            let seed = run_seed(ctx.opts.seed, u64::MAX - attempt);
            let id = format!("FUZZ-{}-calibration", ctx.opts.seed);
            let ran = match ctx.run(&id, &batch, seed, None) {
                Ok(r) => r,
                Err(e) => {
                    report.errors += 1;
                    report.first_error.get_or_insert(e);
                    break;
                }
            };
            let Some(o) = ran.oracle.clone() else {
                if ran.result.verdict == Verdict::Pass {
                    usable.push(t);
                } else {
                    note(report, &ran.result);
                }
                break;
            };
            let role = ran
                .result
                .step
                .and_then(|s| ran.roles.get(s.wrapping_sub(1)))
                .cloned();
            record_finding(ctx, report, "calibration", &batch, seed, o, ran, progress);
            // Leave out what failed, and try the rest.
            let env = &mut ctx.env;
            let coap_flight = super::exchange::flights(Template::Session, env)
                .len()
                .checked_sub(1);
            match (t, role) {
                (
                    Template::Handshake,
                    Some(Role::Prefix {
                        flight: Some(0), ..
                    }),
                ) if env.cookie => env.cookie = false,
                (_, Some(Role::LivenessData)) if env.coap => env.coap = false,
                (_, Some(Role::LivenessData)) if env.probe => env.probe = false,
                (
                    Template::Session,
                    Some(Role::Prefix {
                        flight: Some(f), ..
                    }),
                ) if env.coap && Some(f) == coap_flight => env.coap = false,
                (
                    Template::Session,
                    Some(Role::Prefix {
                        flight: Some(_), ..
                    }),
                ) if env.probe => env.probe = false,
                _ => break,
            }
        }
    }
    usable
}

#[allow(clippy::too_many_arguments)]
fn record_finding(
    ctx: &Ctx<'_>,
    report: &mut CampaignReport,
    batch_name: &str,
    batch: &Batch,
    seed: u64,
    o: Oracle,
    ran: Ran,
    progress: &mut dyn FnMut(&str),
) {
    if let Some(f) = report.findings.iter_mut().find(|f| f.oracle.id == o.id) {
        f.occurrences += 1;
        return;
    }
    let id = format!("FUZZ-{}-{}", ctx.opts.seed, report.findings.len() + 1);
    let before = ran.roles.len();
    let mut still = |b: &Batch| {
        ctx.run(&id, b, seed, None)
            .ok()
            .and_then(|r| r.oracle)
            .is_some_and(|x| x.id == o.id)
    };
    let budget = if ctx.profile.kind.in_process() {
        super::shrink::MAX_RUNS
    } else {
        super::shrink::MAX_RUNS_REAL
    };
    let (small, shrink_runs) = shrink(batch, budget, &mut still);
    // The reproducer: the shrunk batch, titled after what it shows.
    let ran = match ctx.run(&id, &small, seed, Some(&o)) {
        Ok(r) if r.oracle.as_ref().is_some_and(|x| x.id == o.id) => r,
        _ => ran,
    };
    let files = match &ctx.opts.out {
        Some(out) => {
            reproducer::write(out, &id, &ran.yaml, &ran.result, &ctx.redactor).unwrap_or_default()
        }
        None => Files::default(),
    };
    progress(&format!("finding {id}: {} ({})", o.title, o.id));
    report.findings.push(Finding {
        id,
        oracle: o,
        batch: batch_name.to_string(),
        occurrences: 1,
        reason: ran.result.reason.clone(),
        step: ran.result.step,
        mutations: small
            .exchanges
            .iter()
            .flat_map(|x| x.ops.iter().map(|o| o.describe()))
            .collect(),
        exchanges: small.exchanges.clone(),
        steps_before_shrinking: before,
        steps: ran.roles.len(),
        shrink_runs,
        files,
        yaml: ran.yaml,
    });
}

fn write_report(out: &Path, r: &CampaignReport, redactor: &Redactor) -> std::io::Result<()> {
    let json = serde_json::to_string_pretty(r).unwrap_or_default();
    std::fs::write(out.join("findings.json"), redactor.apply(&json))?;
    std::fs::write(out.join("summary.md"), redactor.apply(&summary(r)))?;
    Ok(())
}

/// The campaign in Markdown.
pub fn summary(r: &CampaignReport) -> String {
    let mut s = format!(
        "# dicetest fuzz: {}\n\nSeed {} · budget {} · {} batch(es) of up to {} exchange(s) · {} exchanges · {:.1} s\n\n",
        r.dut,
        r.seed,
        r.budget,
        r.batches,
        r.batch_size,
        r.exchanges,
        r.duration_ms as f64 / 1000.0
    );
    s.push_str(&format!(
        "Templates mutated: {}. Inconclusive batches: {}. Batches the harness could not judge: {}{}.\n\n",
        if r.templates.is_empty() { "none".into() } else { r.templates.join(", ") },
        r.inconclusive,
        r.errors,
        r.first_error
            .as_ref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    ));
    if r.findings.is_empty() {
        s.push_str("No findings.\n");
        return s;
    }
    s.push_str(&format!("## {} finding(s)\n\n", r.findings.len()));
    s.push_str("| id | level | requirement | refs | seen | reproducer | capture |\n|---|---|---|---|---|---|---|\n");
    for f in &r.findings {
        s.push_str(&format!(
            "| {} | {:?} | {} (`{}`) | {} | {}× | [{}]({}) | {} |\n",
            f.id,
            f.oracle.level,
            f.oracle.title,
            f.oracle.id,
            f.oracle.refs.join(", "),
            f.occurrences,
            f.files.reproducer,
            f.files.reproducer,
            f.files
                .capture
                .as_ref()
                .map(|c| format!("[pcapng]({c})"))
                .unwrap_or("-".into()),
        ));
    }
    for f in &r.findings {
        s.push_str(&format!(
            "\n### {}: {}\n\nFirst seen in batch {}; shrunk from {} to {} steps. Verdict at step {}: {}\n\nMutations: {}\n\nRun: `dicetest run --dut {} --suite <folder with {}> --case {}`\n",
            f.id,
            f.oracle.title,
            f.batch,
            f.steps_before_shrinking,
            f.steps,
            f.step.map(|x| x.to_string()).unwrap_or("-".into()),
            f.reason,
            if f.mutations.is_empty() { "none (the correct exchange)".into() } else { f.mutations.join("; ") },
            r.dut,
            f.files.reproducer,
            f.id
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::exchange::mutated_flights;
    use crate::fuzz::oracle::{judge, Judge};

    fn sim_env() -> Env {
        Env {
            cookie: true,
            probe: true,
            coap: true,
            probe_uri: "/.well-known/core".into(),
        }
    }

    /// How often each judgement is drawn over `n` batches of seed `seed`.
    fn drawn(seed: u64, n: u64) -> BTreeMap<String, usize> {
        let env = sim_env();
        let mut counts = BTreeMap::new();
        for b in 0..n {
            let batch = draw_batch(seed, b, &Template::ALL, &env, 4);
            for x in &batch.exchanges {
                let fl = mutated_flights(x, &env);
                let original = super::super::exchange::flights(x.template, &env);
                let key = match judge(x.template, &original, &fl, x.target.unwrap_or(0), &env) {
                    Judge::Accept { rule, .. } => rule.id().to_string(),
                    Judge::Equivalent(k) => format!("{k:?}"),
                    Judge::Robust => "robust".into(),
                };
                *counts.entry(key).or_insert(0) += 1;
            }
        }
        counts
    }

    #[test]
    fn every_rule_is_drawn_within_a_short_campaign() {
        let counts = drawn(7, 300);
        for id in oracle::catalogue().keys() {
            assert!(
                counts.get(*id).copied().unwrap_or(0) > 0,
                "{id} never drawn: {counts:#?}"
            );
        }
        assert!(counts.contains_key("Fragmented") && counts.contains_key("Retransmission"));
        // A good share of mutated exchanges (about a third with this seed) is judged by a
        // rule or an equivalence, not only by the liveness probe.
        let robust = counts["robust"];
        let total: usize = counts.values().sum();
        assert!((total - robust) * 4 > total, "{counts:#?}");
    }
}
