//! The one result model every report format renders: a run (or a merge of runs) of cases
//! against one or more DUTs. It is read back from `journal.jsonl` (or `report.json`), so
//! `dicetest report --from` renders exactly what `dicetest run` rendered.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::chart::ChartDatagram;
use crate::dut::Profile;
use crate::runner::{CaseResult, Verdict};

/// Version of the `report.json` layout (and of its published schema).
/// 2: `dut` may be null with several DUTs; `duts`, run timing, per-case `dut`,
/// `category`, `started_at` and `capture` were added.
/// 3: `not_run`, `strict` and `run_fails` were added.
pub const SCHEMA_VERSION: u32 = 3;

/// What `report.json` and the journal say about a DUT. The PSK itself is never written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DutInfo {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub claims: Vec<String>,
    #[serde(default)]
    pub psk_identity: String,
    /// Always `<redacted>`.
    #[serde(default = "redacted")]
    pub psk: String,
}

pub const REDACTED: &str = "<redacted>";

fn redacted() -> String {
    REDACTED.into()
}

impl DutInfo {
    pub fn from_profile(p: &Profile) -> Self {
        DutInfo {
            name: p.name.clone(),
            description: p.description.clone(),
            kind: p.kind.name().to_string(),
            claims: p.claims.clone(),
            psk_identity: p.credentials.psk_identity.clone(),
            psk: redacted(),
        }
    }

    /// A DUT known only by name (a journal line without its header).
    pub fn named(name: &str) -> Self {
        DutInfo {
            name: name.into(),
            description: String::new(),
            kind: String::new(),
            claims: Vec::new(),
            psk_identity: String::new(),
            psk: redacted(),
        }
    }
}

/// One case's result against one DUT.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseRecord {
    /// Name of the DUT profile the case ran against.
    #[serde(default)]
    pub dut: String,
    pub id: String,
    pub title: String,
    #[serde(with = "verdict_serde")]
    #[schemars(with = "VerdictName")]
    pub verdict: Verdict,
    pub reason: String,
    /// The step that decided (1-based) and its line in the case file.
    #[serde(default)]
    pub step: Option<usize>,
    #[serde(default)]
    pub line: Option<u64>,
    #[serde(default)]
    pub refs: Vec<String>,
    /// Requirement level: MUST, SHOULD or MAY.
    #[serde(default)]
    pub level: String,
    /// The case file, relative to where dicetest ran.
    #[serde(default)]
    pub file: String,
    /// The case file's folder under suites/ (handshake, cookie, ...).
    #[serde(default)]
    pub category: String,
    /// When the case started (RFC 3339, UTC).
    #[serde(default)]
    pub started_at: Option<String>,
    pub duration_ms: u64,
    /// Whether the verdict is what the profile's baseline expects.
    #[serde(default = "yes")]
    pub as_expected: bool,
    /// Why the profile expects a deviation, if it does.
    #[serde(default)]
    pub expected_deviation: Option<String>,
    /// Which `one_of` alternative the DUT's behaviour matched, at each step that has one
    /// ("step 4: alternative 2 of 3 (silence for 2s)").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub branches: Vec<String>,
    /// Readable trace, relative to the output folder.
    #[serde(default)]
    pub evidence: Option<String>,
    /// pcapng capture of the exchange, relative to the output folder.
    #[serde(default)]
    pub capture: Option<String>,
    /// Run number when `--repeat` > 1.
    #[serde(default = "one")]
    pub run: u32,
    /// The exchange, decoded (journal only; `report.json` leaves it out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chart: Vec<ChartDatagram>,
}

fn yes() -> bool {
    true
}

fn one() -> u32 {
    1
}

impl CaseRecord {
    /// The record of a runner result; `chart` and `capture` are the caller's business.
    pub fn from_result(r: &CaseResult, dut: &str) -> Self {
        CaseRecord {
            dut: dut.into(),
            id: r.id.clone(),
            title: r.title.clone(),
            verdict: r.verdict,
            reason: r.reason.clone(),
            step: r.step,
            line: r.line,
            refs: r.refs.clone(),
            level: r.level.clone(),
            file: r.file.clone(),
            category: category_of(&r.file),
            started_at: None,
            duration_ms: r.duration_ms,
            as_expected: r.as_expected,
            expected_deviation: r.expected_deviation.clone(),
            evidence: r.evidence.clone(),
            capture: None,
            run: r.run,
            chart: Vec::new(),
            branches: r.branches.clone(),
        }
    }

    /// `HS-01`, or `HS-01-run2` for later runs: the stem of evidence and capture files.
    pub fn file_stem(&self) -> String {
        if self.run > 1 {
            format!("{}-run{}", self.id, self.run)
        } else {
            self.id.clone()
        }
    }

    /// The identity a merge keeps one record per.
    pub fn key(&self) -> (String, String, u32) {
        (self.dut.clone(), self.id.clone(), self.run)
    }

    /// What this result means for CI, on its own (a flaky case is a matter of several
    /// results: see [`Run::ci_outcomes`]).
    ///
    /// - error always fails the run: it says nothing about the DUT, and no baseline
    ///   entry excuses it;
    /// - fail and inconclusive fail it unless the baseline expects a deviation;
    /// - a pass where the baseline expects a deviation fails it only with `--strict`;
    /// - not applicable never does.
    pub fn ci_outcome(&self, strict: bool) -> CiOutcome {
        match self.verdict {
            Verdict::NotApplicable => CiOutcome::NotApplicable,
            Verdict::Error => CiOutcome::Failed(Failure::Error),
            Verdict::Pass if self.as_expected || self.expected_deviation.is_none() => {
                CiOutcome::Passed
            }
            Verdict::Pass if strict => CiOutcome::Failed(Failure::StaleBaseline),
            Verdict::Pass => CiOutcome::PassedAgainstBaseline,
            Verdict::Fail | Verdict::Inconclusive
                if self.as_expected && self.expected_deviation.is_some() =>
            {
                CiOutcome::ExpectedDeviation
            }
            Verdict::Fail => CiOutcome::Failed(Failure::Fail),
            Verdict::Inconclusive => CiOutcome::Failed(Failure::Inconclusive),
        }
    }
}

/// The folder a case file sits in, which the suite uses as its category
/// (`suites/handshake/HS-01.yaml` → `handshake`).
pub fn category_of(file: &str) -> String {
    std::path::Path::new(file)
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "uncategorized".into())
}

/// Verdict counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Counts {
    pub total: usize,
    pub pass: usize,
    pub fail: usize,
    pub inconclusive: usize,
    pub error: usize,
    pub not_applicable: usize,
    /// Results that differ from the DUT profile's baseline.
    pub unexpected: usize,
}

impl Counts {
    pub fn add(&mut self, r: &CaseRecord) {
        self.total += 1;
        match r.verdict {
            Verdict::Pass => self.pass += 1,
            Verdict::Fail => self.fail += 1,
            Verdict::Inconclusive => self.inconclusive += 1,
            Verdict::Error => self.error += 1,
            Verdict::NotApplicable => self.not_applicable += 1,
        }
        if !r.as_expected {
            self.unexpected += 1;
        }
    }

    pub fn of<'a>(records: impl IntoIterator<Item = &'a CaseRecord>) -> Self {
        let mut c = Counts::default();
        records.into_iter().for_each(|r| c.add(r));
        c
    }

    pub fn get(&self, v: Verdict) -> usize {
        match v {
            Verdict::Pass => self.pass,
            Verdict::Fail => self.fail,
            Verdict::Inconclusive => self.inconclusive,
            Verdict::Error => self.error,
            Verdict::NotApplicable => self.not_applicable,
        }
    }
}

/// Every verdict, worst first (the order reports list them in).
pub const VERDICTS: [Verdict; 5] = [
    Verdict::Fail,
    Verdict::Error,
    Verdict::Inconclusive,
    Verdict::Pass,
    Verdict::NotApplicable,
];

/// A run, or several merged.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Run {
    pub tool_version: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duts: Vec<DutInfo>,
    pub cases: Vec<CaseRecord>,
    /// Cases the run meant to play (from the journal's header), if known.
    pub planned: Option<usize>,
    /// False when the journal has no end line: the run was interrupted.
    pub complete: bool,
    /// Every play the run meant to make, in plan order (from the journal's header; empty
    /// when unknown, as in journals of older versions). The k-th entry of a (DUT, id) is
    /// its run k (`--repeat`).
    pub planned_cases: Vec<PlannedCase>,
    /// The run was made with `--strict`: a pass where the baseline expects a deviation
    /// fails it too.
    pub strict: bool,
    /// Why a partial run stopped, when it said so (a signal, a failed pre-flight); None
    /// when it just ended without a word (kill -9, a crash).
    pub stopped: Option<String>,
}

/// One play a run meant to make: a case against a DUT, its run number under `--repeat`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct PlannedCase {
    pub dut: String,
    pub id: String,
    #[serde(default = "one")]
    pub run: u32,
}

impl PlannedCase {
    pub fn key(&self) -> (String, String, u32) {
        (self.dut.clone(), self.id.clone(), self.run)
    }
}

/// What one result means for CI: the single decision both the report formats and the
/// exit code of `dicetest run` use (see [`CaseRecord::ci_outcome`], [`Run::ci_outcomes`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CiOutcome {
    /// A pass the baseline expects.
    Passed,
    /// A pass where the baseline lists a deviation that did not show (the DUT was fixed,
    /// or the baseline is stale). Not a CI failure without `--strict`.
    PassedAgainstBaseline,
    /// A fail or inconclusive the profile's baseline expects: known, not a CI failure.
    ExpectedDeviation,
    /// The case does not apply to what the DUT claims.
    NotApplicable,
    /// The result fails the run.
    Failed(Failure),
}

/// Why a result fails the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// An unexpected fail: the DUT did something the RFC forbids.
    Fail,
    /// The harness or the DUT's setup failed; no baseline excuses it.
    Error,
    /// An unexpected inconclusive: the case could not reach what it tests.
    Inconclusive,
    /// With `--strict`: a pass where the baseline expects a deviation.
    StaleBaseline,
    /// The case gave different verdicts across `--repeat` runs.
    Flaky,
}

impl Failure {
    /// The name reports give it (junit.xml's `type`).
    pub fn name(self) -> &'static str {
        match self {
            Failure::Fail => "fail",
            Failure::Error => "error",
            Failure::Inconclusive => "inconclusive",
            Failure::StaleBaseline => "stale_baseline",
            Failure::Flaky => "flaky",
        }
    }
}

impl CiOutcome {
    pub fn fails_run(self) -> bool {
        matches!(self, CiOutcome::Failed(_))
    }

    /// The name reports give it (junit.xml's `dicetest.outcome` property).
    pub fn name(self) -> &'static str {
        match self {
            CiOutcome::Passed => "passed",
            CiOutcome::PassedAgainstBaseline => "passed_against_baseline",
            CiOutcome::ExpectedDeviation => "expected_deviation",
            CiOutcome::NotApplicable => "not_applicable",
            CiOutcome::Failed(f) => f.name(),
        }
    }
}

/// A baseline entry whose reason starts with `flaky:` declares a race of the DUT's own
/// (see `runner::as_expected`): any verdict but error is as expected, so differing
/// verdicts across repeats are too.
fn baseline_says_flaky(c: &CaseRecord) -> bool {
    c.expected_deviation
        .as_deref()
        .is_some_and(|r| r.trim_start().starts_with("flaky:"))
}

impl Run {
    /// A run's results as the runner returns them.
    pub fn from_results(profile: &Profile, results: &[CaseResult]) -> Self {
        let dut = DutInfo::from_profile(profile);
        let mut run = Run {
            tool_version: env!("CARGO_PKG_VERSION").into(),
            cases: results
                .iter()
                .map(|r| CaseRecord::from_result(r, &dut.name))
                .collect(),
            duts: vec![dut],
            planned: Some(results.len()),
            complete: true,
            ..Default::default()
        };
        run.normalize();
        run
    }

    /// Fills what older journal lines lack and puts cases in report order: by DUT, then
    /// case file (so categories stay together), id and run.
    pub fn normalize(&mut self) {
        let only_dut = (self.duts.len() == 1).then(|| self.duts[0].name.clone());
        for c in &mut self.cases {
            if c.dut.is_empty() {
                c.dut = only_dut.clone().unwrap_or_else(|| "unknown".into());
            }
            if c.category.is_empty() {
                c.category = category_of(&c.file);
            }
        }
        for c in &self.cases {
            if !self.duts.iter().any(|d| d.name == c.dut) {
                let d = DutInfo::named(&c.dut);
                self.duts.push(d);
            }
        }
        self.cases
            .sort_by(|a, b| (&a.dut, &a.file, &a.id, a.run).cmp(&(&b.dut, &b.file, &b.id, b.run)));
    }

    pub fn counts(&self) -> Counts {
        Counts::of(&self.cases)
    }

    pub fn cases_of<'a>(&'a self, dut: &'a str) -> impl Iterator<Item = &'a CaseRecord> + 'a {
        self.cases.iter().filter(move |c| c.dut == dut)
    }

    /// Ids that gave different verdicts across `--repeat` runs, per DUT.
    pub fn flaky(&self) -> Vec<String> {
        let mut seen: BTreeMap<(&str, &str), Vec<Verdict>> = BTreeMap::new();
        for c in &self.cases {
            let v = seen.entry((&c.dut, &c.id)).or_default();
            if !v.contains(&c.verdict) {
                v.push(c.verdict);
            }
        }
        seen.into_iter()
            .filter(|(_, v)| v.len() > 1)
            .map(|((d, id), _)| {
                if self.duts.len() > 1 {
                    format!("{d}/{id}")
                } else {
                    id.to_string()
                }
            })
            .collect()
    }

    /// (DUT, id) of the cases whose verdicts differ across `--repeat` runs and whose
    /// baseline does not declare them flaky: these fail the run.
    fn failing_flaky(&self) -> std::collections::BTreeSet<(&str, &str)> {
        let mut seen: BTreeMap<(&str, &str), (Vec<Verdict>, bool)> = BTreeMap::new();
        for c in &self.cases {
            let (v, declared) = seen.entry((&c.dut, &c.id)).or_default();
            if !v.contains(&c.verdict) {
                v.push(c.verdict);
            }
            *declared |= baseline_says_flaky(c);
        }
        seen.into_iter()
            .filter(|(_, (v, declared))| v.len() > 1 && !declared)
            .map(|(k, _)| k)
            .collect()
    }

    /// What each result (`self.cases[i]`) means for CI, with the run's `strict` and its
    /// flaky cases: every run of a flaky case that would not fail on its own fails as
    /// [`Failure::Flaky`].
    pub fn ci_outcomes(&self) -> Vec<CiOutcome> {
        let flaky = self.failing_flaky();
        self.cases
            .iter()
            .map(|c| match c.ci_outcome(self.strict) {
                o @ CiOutcome::Failed(_) => o,
                _ if flaky.contains(&(c.dut.as_str(), c.id.as_str())) => {
                    CiOutcome::Failed(Failure::Flaky)
                }
                o => o,
            })
            .collect()
    }

    /// The results that fail the run, and why: what `dicetest run`'s exit code is
    /// decided by, and what junit.xml writes as `<failure>` or `<error>`.
    pub fn failing_results(&self) -> Vec<(&CaseRecord, Failure)> {
        self.cases
            .iter()
            .zip(self.ci_outcomes())
            .filter_map(|(c, o)| match o {
                CiOutcome::Failed(f) => Some((c, f)),
                _ => None,
            })
            .collect()
    }

    /// Why the run is partial, in words for every report: what it said when it stopped,
    /// or that it was interrupted.
    pub fn stop_reason(&self) -> String {
        self.stopped
            .clone()
            .unwrap_or_else(|| "the run was interrupted".into())
    }

    /// Whether the run fails: a result fails it, or it was interrupted (a partial run
    /// never passes).
    pub fn fails(&self) -> bool {
        !self.complete || !self.failing_results().is_empty()
    }

    /// Planned plays that have no result: the cases an interrupted run did not reach.
    /// Empty when the plan is unknown.
    pub fn not_run(&self) -> Vec<&PlannedCase> {
        let reached: std::collections::BTreeSet<(String, String, u32)> =
            self.cases.iter().map(|c| c.key()).collect();
        self.planned_cases
            .iter()
            .filter(|p| !reached.contains(&p.key()))
            .collect()
    }

    /// How many planned plays have no result: from the plan when known, else from the
    /// planned count.
    pub fn not_run_count(&self) -> usize {
        if !self.planned_cases.is_empty() {
            self.not_run().len()
        } else {
            self.planned
                .map(|p| p.saturating_sub(self.cases.len()))
                .unwrap_or(0)
        }
    }

    /// A title for the whole report: the DUT's name, or the DUTs' names (for several
    /// interop pairs, the size of their matrix).
    pub fn title(&self) -> String {
        if let Some(t) = super::interop::matrix_title(self) {
            return t;
        }
        let names: Vec<&str> = self.duts.iter().map(|d| d.name.as_str()).collect();
        if names.is_empty() {
            "no DUT".into()
        } else {
            names.join(", ")
        }
    }
}

/// The verdict names of `report.json`, for the schema.
#[allow(non_camel_case_types, dead_code)]
#[derive(JsonSchema)]
enum VerdictName {
    not_applicable,
    pass,
    inconclusive,
    fail,
    error,
}

mod verdict_serde {
    use super::Verdict;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Verdict, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Verdict, D::Error> {
        let s = String::deserialize(d)?;
        Verdict::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown verdict {s:?}")))
    }
}

/// Milliseconds since the Unix epoch as RFC 3339 UTC (`2024-05-01T12:00:00.000Z`).
pub fn rfc3339(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        unix_ms % 1000
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date, counting in 400-year eras
/// (each era has exactly 146097 days) from a year that starts in March, so the leap
/// day falls at the end of the counted year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day of a year divisible by 400) 12:34:56.789
        assert_eq!(rfc3339(951_827_696_789), "2000-02-29T12:34:56.789Z");
        assert_eq!(rfc3339(1_709_251_199_000), "2024-02-29T23:59:59.000Z");
        assert_eq!(rfc3339(4_102_444_800_000), "2100-01-01T00:00:00.000Z");
    }

    pub(crate) fn record(id: &str, v: Verdict, baseline: Option<&str>, run: u32) -> CaseRecord {
        CaseRecord {
            branches: Vec::new(),
            dut: "d".into(),
            id: id.into(),
            title: format!("{id} title"),
            verdict: v,
            reason: format!("{v} reason"),
            step: None,
            line: None,
            refs: Vec::new(),
            level: "MUST".into(),
            file: format!("suites/handshake/{id}.yaml"),
            category: "handshake".into(),
            started_at: None,
            duration_ms: 5,
            as_expected: crate::runner::as_expected(baseline, v),
            expected_deviation: baseline.map(String::from),
            evidence: None,
            capture: None,
            run,
            chart: Vec::new(),
        }
    }

    #[test]
    fn what_fails_the_run() {
        use CiOutcome::*;
        let dev = Some("a known bug");
        let racy = Some("flaky: a serial server");
        let table = [
            (Verdict::Pass, None, false, Passed),
            (Verdict::Pass, racy, false, Passed),
            (Verdict::Pass, dev, false, PassedAgainstBaseline),
            (Verdict::Pass, dev, true, Failed(Failure::StaleBaseline)),
            (Verdict::Fail, None, false, Failed(Failure::Fail)),
            (Verdict::Fail, dev, true, ExpectedDeviation),
            (Verdict::Fail, racy, false, ExpectedDeviation),
            (
                Verdict::Inconclusive,
                None,
                false,
                Failed(Failure::Inconclusive),
            ),
            (Verdict::Inconclusive, dev, false, ExpectedDeviation),
            (Verdict::Error, None, false, Failed(Failure::Error)),
            // No baseline entry excuses an error (runner::as_expected agrees).
            (Verdict::Error, dev, false, Failed(Failure::Error)),
            (Verdict::NotApplicable, None, true, NotApplicable),
            (Verdict::NotApplicable, dev, true, NotApplicable),
        ];
        for (v, baseline, strict, want) in table {
            let r = record("X", v, baseline, 1);
            assert_eq!(
                r.ci_outcome(strict),
                want,
                "{v} {baseline:?} strict={strict}"
            );
            // Every verdict the baseline accepts and that is not a stale entry passes.
            if want != PassedAgainstBaseline && !strict {
                assert_eq!(!want.fails_run(), r.as_expected, "{v} {baseline:?}");
            }
        }
    }

    #[test]
    fn flaky_cases_fail_every_run_unless_the_baseline_says_flaky() {
        let mut run = Run {
            cases: vec![
                record("A", Verdict::Pass, None, 1),
                record("A", Verdict::Fail, None, 2),
                record("B", Verdict::Pass, Some("flaky: serial"), 1),
                record("B", Verdict::Fail, Some("flaky: serial"), 2),
                record("C", Verdict::Fail, Some("known"), 1),
                record("C", Verdict::Fail, Some("known"), 2),
            ],
            complete: true,
            ..Default::default()
        };
        let failing: Vec<(String, u32, Failure)> = run
            .failing_results()
            .into_iter()
            .map(|(c, f)| (c.id.clone(), c.run, f))
            .collect();
        assert_eq!(
            failing,
            [
                ("A".to_string(), 1, Failure::Flaky),
                ("A".to_string(), 2, Failure::Fail)
            ]
        );
        assert!(run.fails());
        run.cases.truncate(0);
        run.cases.push(record("C", Verdict::Fail, Some("known"), 1));
        assert!(!run.fails());
        run.complete = false;
        assert!(run.fails(), "a partial run never passes");
    }

    #[test]
    fn not_run_is_the_plan_minus_what_was_reached() {
        let p = |id: &str, run: u32| PlannedCase {
            dut: "d".into(),
            id: id.into(),
            run,
        };
        let mut run = Run {
            cases: vec![record("A", Verdict::Pass, None, 1)],
            planned: Some(3),
            planned_cases: vec![p("A", 1), p("B", 1), p("A", 2)],
            ..Default::default()
        };
        let not_run: Vec<&PlannedCase> = run.not_run();
        assert_eq!(not_run, [&p("B", 1), &p("A", 2)]);
        assert_eq!(run.not_run_count(), 2);
        run.planned_cases.clear();
        assert_eq!(run.not_run_count(), 2, "from the planned count");
    }

    #[test]
    fn categories() {
        assert_eq!(category_of("suites/handshake/HS-01.yaml"), "handshake");
        assert_eq!(category_of("HS-01.yaml"), "uncategorized");
        assert_eq!(category_of(""), "uncategorized");
    }
}
