//! Strict loading of case files: a wrong key, a wrong type, an unknown message or suite
//! name, a malformed duration or a variable used before it is kept fails with
//! file:line:column and a hint.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::model::{Case, Expect, Step};

/// One problem in one file.
#[derive(Clone, Debug)]
pub struct LoadError {
    pub file: PathBuf,
    pub line: u64,
    pub column: u64,
    pub message: String,
    pub hint: Option<String>,
}

impl LoadError {
    /// A file that could not be read at all.
    pub fn unreadable(path: &Path, e: &std::io::Error) -> Self {
        LoadError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
            hint: None,
        }
    }

    /// A YAML document that does not fit its type, at the place the parser names.
    pub fn yaml(path: &Path, e: &serde_saphyr::Error, hint: Option<String>) -> Self {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        LoadError {
            file: path.to_path_buf(),
            line,
            column,
            message: first_line(&e.to_string()),
            hint,
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )?;
        if let Some(h) = &self.hint {
            write!(f, "\n    hint: {h}")?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct LoadedCase {
    pub case: Case,
    pub file: PathBuf,
}

/// Message names a `send` step can build.
pub const SENDABLE: &[&str] = &[
    "ClientHello",
    "ClientKeyExchange",
    "ChangeCipherSpec",
    "Finished",
    "ApplicationData",
    "Alert",
    "HelloRequest",
    "Record",
    "Probe",
    "HelloVerifyRequest",
    "ServerHello",
    "ServerHelloDone",
    "ServerKeyExchange",
];

/// Handshake message names an `expect` step can wait for.
pub const EXPECTABLE: &[&str] = &[
    "HelloRequest",
    "ClientHello",
    "ServerHello",
    "HelloVerifyRequest",
    "Certificate",
    "ServerKeyExchange",
    "CertificateRequest",
    "ServerHelloDone",
    "CertificateVerify",
    "ClientKeyExchange",
    "Finished",
];

pub const VERDICTS: &[&str] = &["pass", "inconclusive", "fail"];

/// Parses "500ms", "2s", "1.5s", "1m" (fixed durations; case steps also take
/// [`DurationSpec`](super::DurationSpec)'s timer-relative form).
pub fn parse_duration(s: &str) -> Option<Duration> {
    super::duration::parse_fixed(s)
}

pub(crate) fn closest<'a>(word: &str, options: &[&'a str]) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    options
        .iter()
        .copied()
        .min_by_key(|o| edit_distance(&w, &o.to_ascii_lowercase()))
        .filter(|o| edit_distance(&w, &o.to_ascii_lowercase()) <= 3)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Loads and validates one case file.
pub fn load_case_file(path: &Path) -> Result<LoadedCase, Vec<LoadError>> {
    let text = std::fs::read_to_string(path).map_err(|e| vec![LoadError::unreadable(path, &e)])?;
    load_case_str(path, &text)
}

pub fn load_case_str(path: &Path, text: &str) -> Result<LoadedCase, Vec<LoadError>> {
    let case: Case = serde_saphyr::from_str(text).map_err(|e| {
        let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
        let mut message = first_line(&e.to_string());
        // The position is in file:line:column already; the parser repeats it.
        if let Some(rest) = message.strip_prefix("error: line ") {
            if let Some(i) = rest.find(": ") {
                if rest[..i].contains("column") {
                    message = rest[i + 2..].to_string();
                }
            }
        }
        if message.starts_with("invalid u") || message.starts_with("invalid i") {
            message += " (the number does not fit the field)";
        }
        // Name the key whose value did not fit (`message_id: 70000`), when the parser's
        // message does not.
        if let Some(k) = key_before(text, line, column) {
            if !message.contains(&k) {
                message = format!("{k}: {message}");
            }
        }
        let hint = if message.contains("unknown field") {
            Some("see suites/schema/case.schema.json or `dicetest explain` of a shipped case for the keys a case may use".to_string())
        } else if message.contains("missing field") {
            Some("every case needs id, title, objective, refs, level, dut and steps".to_string())
        } else {
            None
        };
        vec![LoadError {
            file: path.to_path_buf(),
            line,
            column,
            message,
            hint,
        }]
    })?;
    let errors = validate_text(path, &case, Some(text));
    if errors.is_empty() {
        Ok(LoadedCase {
            case,
            file: path.to_path_buf(),
        })
    } else {
        Err(errors)
    }
}

/// The mapping key written before `line`:`column` (1-based) on that line, if any.
fn key_before(text: &str, line: u64, column: u64) -> Option<String> {
    let l = text
        .lines()
        .nth(usize::try_from(line).ok()?.checked_sub(1)?)?;
    let upto: String = l.chars().take(usize::try_from(column).ok()?).collect();
    let colon = upto.rfind(':')?;
    let key: String = upto[..colon]
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.' || *c == '$')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!key.is_empty()).then_some(key)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

/// Every `*.yaml` case under `dir`, sorted by path; duplicate IDs are errors.
pub fn load_suite_dir(dir: &Path) -> (Vec<LoadedCase>, Vec<LoadError>) {
    let mut files = Vec::new();
    collect(dir, &mut files);
    let (texts, mut errors) = read_files(files);
    let (cases, more) = load_case_texts(texts);
    errors.extend(more);
    (cases, errors)
}

/// The `*.yaml` files directly in `dir`, sorted, each with its text; a file that cannot be
/// read is an error, not skipped.
pub fn yaml_files(dir: &Path) -> (Vec<(PathBuf, String)>, Vec<LoadError>) {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    read_files(files)
}

/// Reads `files` (sorted first): their texts, and an error for each that cannot be read.
fn read_files(mut files: Vec<PathBuf>) -> (Vec<(PathBuf, String)>, Vec<LoadError>) {
    files.sort();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match std::fs::read_to_string(&f) {
            Ok(t) => out.push((f, t)),
            Err(e) => errors.push(LoadError::unreadable(&f, &e)),
        }
    }
    (out, errors)
}

/// Cases from (path, text) pairs, on disk or built into dicetest; duplicate IDs are errors.
pub fn load_case_texts<P: AsRef<Path>, T: AsRef<str>>(
    files: impl IntoIterator<Item = (P, T)>,
) -> (Vec<LoadedCase>, Vec<LoadError>) {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    let mut ids: HashMap<String, PathBuf> = HashMap::new();
    for (f, text) in files {
        let f = f.as_ref().to_path_buf();
        match load_case_str(&f, text.as_ref()) {
            Ok(c) => {
                if let Some(prev) = ids.insert(c.case.id.clone(), f.clone()) {
                    errors.push(LoadError {
                        file: f.clone(),
                        line: 1,
                        column: 1,
                        message: format!(
                            "case id {} is also used by {}",
                            c.case.id,
                            prev.display()
                        ),
                        hint: Some("case ids must be unique across suites".into()),
                    });
                }
                cases.push(c);
            }
            Err(e) => errors.extend(e),
        }
    }
    (cases, errors)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            // Schemas, and interop descriptions (their own format, `interop/model.rs`).
            if p.file_name()
                .is_some_and(|n| n == "schema" || n == "interop")
            {
                continue;
            }
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

struct Checker<'a> {
    file: &'a Path,
    /// The file's text, to point at the key a problem is about (not only its step).
    text: Option<&'a str>,
    errors: Vec<LoadError>,
    vars: BTreeSet<String>,
}

impl Checker<'_> {
    fn err(&mut self, line: u64, column: u64, message: String, hint: Option<String>) {
        self.errors.push(LoadError {
            file: self.file.to_path_buf(),
            line,
            column,
            message,
            hint,
        });
    }

    /// An error about `key`, placed at the key's own line and column when it can be found
    /// in the step that starts at `line` (else at the step).
    fn err_at(&mut self, line: u64, col: u64, key: &str, message: String, hint: Option<String>) {
        let (l, c) = self
            .text
            .and_then(|t| locate_key(t, line, key))
            .unwrap_or((line, col));
        self.err(l, c, message, hint);
    }

    /// `with:` on a sent message: known fields only, each with a value of its kind.
    fn check_with(&mut self, message: &str, s: &Step, line: u64, col: u64) {
        use super::fields::{check_value, sendable};
        let allowed = sendable(message);
        for (k, v) in &s.with {
            match allowed.iter().find(|f| f.name == k) {
                Some(f) => {
                    if let Err(e) = check_value(f, v) {
                        self.err_at(line, col, k, e, None);
                    }
                    // `$var` parts inside raw extension data are kept before use too.
                    if f.kind == super::fields::Kind::Extensions {
                        for var in super::extensions::vars_used(v) {
                            if !self.vars.contains(&var) {
                                self.err_at(
                                    line,
                                    col,
                                    k,
                                    format!("{k}: variable ${var} is used before any step keeps it"),
                                    Some("keep it first with `keep: {name: field}` on an expect step, or `keep_datagram: name`".into()),
                                );
                            }
                        }
                    }
                }
                None => {
                    let names: Vec<&str> = allowed.iter().map(|f| f.name).collect();
                    let hint = closest(k, &names)
                        .map(|c| format!("did you mean {c}?"))
                        .unwrap_or_else(|| {
                            if names.is_empty() {
                                format!("{message} takes no fields")
                            } else {
                                format!("{message} takes {}", names.join(", "))
                            }
                        });
                    self.err_at(
                        line,
                        col,
                        k,
                        format!("with: {message} has no field {k:?}"),
                        Some(hint),
                    );
                }
            }
        }
    }

    /// `match:` and `keep:` of an expectation: fields the expected thing has.
    fn check_fields_of(&mut self, e: &Expect, line: u64, col: u64) {
        use super::fields::{check_value, checkable};
        let what = if let Some(m) = &e.message {
            Some(m.as_str())
        } else if e.alert.is_some() {
            Some("Alert")
        } else if e.flight.is_some() {
            // A flight's fields are its messages': match and keep apply to the last.
            e.flight.as_ref().and_then(|f| f.last()).map(|s| s.as_str())
        } else {
            None
        };
        let allowed = checkable(what);
        let names: Vec<&str> = allowed.iter().map(|f| f.name).collect();
        let unknown = |k: &str| {
            let on = what.unwrap_or("this expectation");
            let hint = closest(k, &names)
                .map(|c| format!("did you mean {c}?"))
                .unwrap_or_else(|| format!("{on} has {}", names.join(", ")));
            (format!("{on} has no field {k:?} to check"), hint)
        };
        for (k, v) in &e.r#match {
            match allowed.iter().find(|f| f.name == k) {
                Some(f) => {
                    if let Err(err) = check_value(f, v) {
                        self.err_at(line, col, k, err, None);
                    }
                }
                None => {
                    let (m, h) = unknown(k);
                    self.err_at(line, col, k, format!("match: {m}"), Some(h));
                }
            }
        }
        for (var, field) in &e.keep {
            if allowed
                .iter()
                .any(|f| f.name == field && f.kind == super::fields::Kind::KeptDatagrams)
            {
                self.err_at(
                    line,
                    col,
                    var,
                    format!("keep {var}: {field} is a comparison, nothing to keep"),
                    Some(format!("match: {{{field}: $NAME}}")),
                );
            } else if !names.contains(&field.as_str()) {
                let (m, h) = unknown(field);
                self.err_at(line, col, var, format!("keep {var}: {m}"), Some(h));
            }
        }
    }

    fn check_var_use(&mut self, v: &serde_json::Value, line: u64, col: u64) {
        if let Some(s) = v.as_str() {
            if let Some(name) = s.strip_prefix('$') {
                if !self.vars.contains(name) {
                    self.err(
                        line,
                        col,
                        format!("variable ${name} is used before any step keeps it"),
                        Some("keep it first with `keep: {name: field}` on an expect step, or `keep_datagram: name`".into()),
                    );
                }
            }
        }
    }

    fn check_duration(&mut self, what: &str, s: &Option<String>, line: u64, col: u64) {
        if let Some(d) = s {
            if super::DurationSpec::parse(d).is_none() {
                self.err(
                    line,
                    col,
                    format!("{what}: {d:?} is not a duration"),
                    Some("write e.g. 500ms, 2s or 1m, or a multiple of a timer the DUT profile declares: 1.5 x initial_retransmit (timers: initial_retransmit, max_retransmit, response)".into()),
                );
            }
        }
    }

    /// CoAP options: known names (or numbers) and values of the right shape; `absent_ok`
    /// allows `null` (an expected response may demand that an option is missing).
    fn check_coap_options(
        &mut self,
        options: &std::collections::BTreeMap<String, serde_json::Value>,
        absent_ok: bool,
        line: u64,
        col: u64,
    ) {
        use crate::coap::options::{option_number, option_values, OPTIONS};
        for (name, v) in options {
            if option_number(name).is_none() {
                let names: Vec<&str> = OPTIONS.iter().map(|(n, _)| *n).collect();
                let hint = closest(name, &names)
                    .map(|c| format!("did you mean {c}?"))
                    .or(Some(format!("a number, or one of {}", names.join(", "))));
                self.err(line, col, format!("unknown CoAP option {name:?}"), hint);
            }
            if v.is_null() && absent_ok {
                continue;
            }
            if let Err(e) = option_values(v) {
                self.err(line, col, format!("CoAP option {name}: {e}"), None);
            }
        }
    }

    fn check_expect(&mut self, e: &Expect, line: u64, col: u64, nested: bool) {
        if let Some(c) = &e.coap {
            self.check_coap_options(&c.options, true, line, col);
        }
        if let Some(a) = &e.alert {
            let v = serde_json::Value::String(a.clone());
            let by_number = a.parse::<u8>().is_ok();
            if a != "any" && !by_number && super::fields::alert_description(&v).is_none() {
                let names = super::fields::alert_names();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let hint = closest(a, &names)
                    .map(|c| format!("did you mean {c}?"))
                    .unwrap_or_else(|| {
                        format!("an alert name ({}), a number, or any", names.join(", "))
                    });
                self.err_at(
                    line,
                    col,
                    "alert",
                    format!("unknown alert {a:?}"),
                    Some(hint),
                );
            }
        }
        if let Some(l) = &e.alert_level {
            if l != "fatal" && l != "warning" {
                self.err_at(
                    line,
                    col,
                    "alert_level",
                    format!("alert_level {l:?} is neither fatal nor warning"),
                    Some("alert_level: fatal, or alert_level: warning (lower case)".into()),
                );
            }
        }
        if e.alert_level.is_some() && e.alert.is_none() {
            self.err_at(
                line,
                col,
                "alert_level",
                "alert_level qualifies an alert expectation".into(),
                Some("expect: {alert: any, alert_level: warning}".into()),
            );
        }
        self.check_fields_of(e, line, col);
        let forms = [
            e.message.is_some(),
            e.flight.is_some(),
            e.change_cipher_spec.is_some(),
            e.alert.is_some(),
            e.application_data.is_some(),
            e.silence.is_some(),
            e.connected.is_some(),
            e.probe_reply.is_some(),
            e.coap.is_some(),
            e.one_of.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if forms != 1 {
            self.err(
                line,
                col,
                format!("an expectation needs exactly one of message, flight, change_cipher_spec, alert, application_data, silence, connected, probe_reply, coap, one_of (found {forms})"),
                None,
            );
        }
        if !nested && (e.verdict.is_some() || e.reason.is_some()) {
            self.err(
                line,
                col,
                "verdict and reason belong to the alternatives of one_of".into(),
                None,
            );
        }
        if let Some(v) = &e.verdict {
            if !VERDICTS.contains(&v.as_str()) {
                self.err(
                    line,
                    col,
                    format!("verdict {v:?} is not one of {VERDICTS:?}"),
                    None,
                );
            }
        }
        for name in e
            .message
            .iter()
            .chain(e.flight.iter().flatten())
            .chain(e.never.iter())
        {
            if !EXPECTABLE.contains(&name.as_str()) {
                let hint = closest(name, EXPECTABLE).map(|c| format!("did you mean {c}?"));
                self.err(
                    line,
                    col,
                    format!("unknown handshake message {name:?}"),
                    hint,
                );
            }
        }
        self.check_duration("within", &e.within, line, col);
        self.check_duration("silence", &e.silence, line, col);
        for v in e.r#match.values() {
            self.check_var_use(v, line, col);
        }
        if let Some(alts) = &e.one_of {
            if alts.is_empty() {
                self.err(
                    line,
                    col,
                    "one_of needs at least one alternative".into(),
                    None,
                );
            }
            for a in alts {
                if a.one_of.is_some() {
                    self.err(line, col, "one_of cannot nest".into(), None);
                }
                if a.connected.is_some() || a.flight.is_some() {
                    self.err(line, col, "connected and flight cannot be alternatives of one_of (they span several messages)".into(), None);
                }
                self.check_expect(a, line, col, true);
            }
        }
        for var in e.keep.keys() {
            self.vars.insert(var.clone());
        }
    }

    fn check_flood(&mut self, f: &crate::cases::model::Flood, line: u64, col: u64) {
        if f.client_hellos == 0 || f.source_ports == 0 || f.source_ports > 512 {
            self.err(
                line,
                col,
                format!(
                    "flood of {} ClientHello(s) from {} port(s): both must be at least 1, ports at most 512",
                    f.client_hellos, f.source_ports
                ),
                None,
            );
        }
        self.check_duration("quiet", &f.quiet, line, col);
        if let Some(m) = &f.max_memory_growth {
            if crate::dut::flood::parse_size_kib(m).is_none() {
                self.err(
                    line,
                    col,
                    format!("max_memory_growth {m:?} is not a size"),
                    Some("512KB, 4MB".into()),
                );
            }
        }
    }

    /// Explicit fragments: each carries the message's bytes (`len`) or its own (`bytes`),
    /// and hex where hex is due.
    fn check_fragment_items(
        &mut self,
        f: &crate::cases::model::FragmentsSpec,
        line: u64,
        col: u64,
    ) {
        for (n, i) in f.list.iter().enumerate() {
            if i.len.is_some() == i.bytes.is_some() {
                self.err_at(
                    line,
                    col,
                    "list",
                    format!(
                        "fragments.list item {}: give exactly one of len (the message's bytes) and bytes (its own, as hex)",
                        n + 1
                    ),
                    Some("{ offset: 0, len: 8 } or { offset: 4, bytes: \"00ff\" }".into()),
                );
            }
            for (key, v) in [("bytes", &i.bytes), ("body_xor", &i.body_xor)] {
                if v.as_ref().is_some_and(|h| hex::decode(h).is_err()) {
                    self.err_at(
                        line,
                        col,
                        key,
                        format!(
                            "fragments.list item {}: {key} {:?} is not hex",
                            n + 1,
                            v.as_deref().unwrap_or_default()
                        ),
                        None,
                    );
                }
            }
        }
    }

    fn check_step(&mut self, s: &Step, line: u64, col: u64) {
        let actions = [
            ("handshake", s.handshake.is_some()),
            ("send", s.send.is_some()),
            ("expect", s.expect.is_some()),
            ("wait", s.wait.is_some()),
            ("drop", s.drop.is_some()),
            ("replay", s.replay.is_some()),
            ("retransmit", s.retransmit.is_some()),
            ("new_client", s.new_client.is_some()),
            ("reconnect", s.reconnect.is_some()),
            ("liveness", s.liveness.is_some()),
            ("coap", s.coap.is_some()),
            ("every_record", s.every_record.is_some()),
            ("flood", s.flood.is_some()),
        ];
        let set: Vec<&str> = actions.iter().filter(|a| a.1).map(|a| a.0).collect();
        if set.len() != 1 {
            self.err(
                line,
                col,
                format!("a step needs exactly one action, found {}", if set.is_empty() { "none".to_string() } else { set.join(", ") }),
                Some("actions: handshake, send, expect, wait, drop, replay, retransmit, new_client, reconnect, liveness, coap, every_record, flood".into()),
            );
        }
        let sending = s.send.is_some();
        // A drop may keep what it lost, for a later comparison (`same_message_as`).
        if !sending
            && (!s.with.is_empty()
                || s.record.is_some()
                || s.fragments.is_some()
                || s.raw_body.is_some()
                || s.message_seq.is_some()
                || (s.keep_datagram.is_some() && s.drop.is_none())
                || s.withhold
                || s.duplicate.is_some()
                || s.skip_transcript)
        {
            self.err(line, col, "with, record, fragments, raw_body, message_seq, keep_datagram, withhold, duplicate and skip_transcript modify a send step (keep_datagram a drop step too)".into(), None);
        }
        if s.withhold && s.keep_datagram.is_none() {
            self.err(
                line,
                col,
                "withhold keeps the datagram back, so it needs a name to send it later by".into(),
                Some("add `keep_datagram: NAME` and send it later with `replay: $NAME`".into()),
            );
        }
        if let Some(r) = &s.retransmit {
            if r != "flight" {
                self.err(
                    line,
                    col,
                    format!("retransmit: {r:?}: only `flight` can be retransmitted"),
                    Some("retransmit: flight".into()),
                );
            }
        }
        if s.handshake.is_none()
            && (s.psk_hex.is_some()
                || s.psk_identity.is_some()
                || s.outcome.is_some()
                || s.same_port)
        {
            self.err(
                line,
                col,
                "psk_hex, psk_identity, outcome and same_port modify a handshake step".into(),
                None,
            );
        }
        if let Some(name) = &s.send {
            if !SENDABLE.contains(&name.as_str()) {
                let hint = closest(name, SENDABLE)
                    .map(|c| format!("did you mean {c}?"))
                    .or(Some(format!("one of {}", SENDABLE.join(", "))));
                self.err(line, col, format!("cannot send {name:?}"), hint);
            } else {
                self.check_with(name, s, line, col);
            }
            for v in s.with.values() {
                self.check_var_use(v, line, col);
            }
            // Fragments and message_seq belong to the handshake layer (RFC 6347 §4.2.3).
            let handshake = super::fields::HANDSHAKE_MESSAGES.contains(&name.as_str());
            for (key, set) in [
                ("fragments", s.fragments.is_some()),
                ("message_seq", s.message_seq.is_some()),
                ("raw_body", s.raw_body.is_some()),
            ] {
                if set && !handshake {
                    self.err_at(
                        line,
                        col,
                        key,
                        format!("{key} applies to handshake messages; {name} is not one"),
                        Some(format!(
                            "handshake messages: {}",
                            super::fields::HANDSHAKE_MESSAGES.join(", ")
                        )),
                    );
                }
            }
            if let Some(f) = &s.fragments {
                self.check_fragment_items(f, line, col);
            }
            if let Some(r) = &s.record {
                if r.sequence_number.is_some_and(|n| n >= 1 << 48) {
                    self.err_at(
                        line,
                        col,
                        "sequence_number",
                        format!(
                            "record.sequence_number is a 48-bit number (RFC 6347 §4.1): {} does not fit (at most {})",
                            r.sequence_number.unwrap_or_default(),
                            (1u64 << 48) - 1
                        ),
                        None,
                    );
                }
                if let Some(t) = &r.tag_xor {
                    if hex::decode(t).is_err() {
                        self.err_at(
                            line,
                            col,
                            "tag_xor",
                            format!("record.tag_xor {t:?} is not hex"),
                            None,
                        );
                    }
                }
            }
        }
        if let Some(h) = &s.handshake {
            if h != "default" && dicetest_crypto::suite_by_name(h).is_none() {
                self.err(
                    line,
                    col,
                    format!("unknown cipher suite {h:?}"),
                    Some("psk-ccm8, psk-ccm, psk-cbc-sha256, ecdhe-ecdsa-ccm8 or default".into()),
                );
            }
        }
        if let Some(o) = &s.outcome {
            if o != "success" && o != "failure" {
                self.err(
                    line,
                    col,
                    format!("outcome {o:?} is neither success nor failure"),
                    None,
                );
            }
        }
        if let Some(hex) = s.raw_body.as_ref().or(s.psk_hex.as_ref()) {
            if hex::decode(hex).is_err() {
                self.err(line, col, format!("{hex:?} is not hex"), None);
            }
        }
        if let Some(r) = &s.replay {
            self.check_var_use(&serde_json::Value::String(r.clone()), line, col);
        }
        self.check_duration("wait", &s.wait, line, col);
        if let Some(c) = &s.coap {
            self.check_coap_options(&c.options, false, line, col);
        }
        if let Some(e) = &s.expect {
            self.check_expect(e, line, col, false);
        }
        if let Some(f) = &s.flood {
            self.check_flood(f, line, col);
        }
        if let Some(k) = &s.keep_datagram {
            self.vars.insert(k.clone());
        }
    }
}

/// Checks what serde cannot: one action per step, known names, variables kept before use.
pub fn validate(file: &Path, case: &Case) -> Vec<LoadError> {
    validate_text(file, case, None)
}

/// Where `key:` is written in the step that starts at `line` (1-based), if it can be found
/// before the next step.
fn locate_key(text: &str, line: u64, key: &str) -> Option<(u64, u64)> {
    let lines: Vec<&str> = text.lines().collect();
    let start = usize::try_from(line).ok()?.checked_sub(1)?;
    let first = lines.get(start)?;
    // The step's own indentation: a later line at it that starts a new item ends the step.
    let indent = first.len() - first.trim_start().len();
    let needles = [format!("{key}:"), format!("{key} :")];
    for (i, l) in lines.iter().enumerate().skip(start) {
        let lead = l.len() - l.trim_start().len();
        if i > start && lead <= indent && l.trim_start().starts_with('-') {
            break;
        }
        for n in &needles {
            let mut from = 0;
            while let Some(p) = l[from..].find(n.as_str()) {
                let at = from + p;
                // A whole key: preceded by a separator, not part of a longer name.
                let before = l[..at].chars().last();
                if before.is_none_or(|c| matches!(c, ' ' | '{' | ',' | '-' | '\t')) {
                    return Some((i as u64 + 1, at as u64 + 1));
                }
                from = at + n.len();
            }
        }
    }
    None
}

/// [`validate`], pointing at the key a problem is about where the text shows it.
pub fn validate_text(file: &Path, case: &Case, text: Option<&str>) -> Vec<LoadError> {
    let mut c = Checker {
        file,
        text,
        errors: Vec::new(),
        vars: crate::cases::model::BUILTIN_VARIABLES
            .iter()
            .map(|(n, _)| n.to_string())
            .collect(),
    };
    let id_ok = !case.id.is_empty()
        && case
            .id
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
    if !id_ok {
        c.err(
            1,
            1,
            format!("case id {:?} must be letters, digits, - and _", case.id),
            None,
        );
    }
    if case.refs.is_empty() {
        c.err(
            1,
            1,
            "a case must cite at least one reference".into(),
            Some("refs: [\"RFC 6347 §4.2.1\"]".into()),
        );
    }
    for r in &case.refs {
        let ok = r.starts_with("RFC ")
            && r[4..].chars().take_while(|ch| ch.is_ascii_digit()).count() >= 3;
        if !ok {
            c.err(
                1,
                1,
                format!("reference {r:?} does not name an RFC"),
                Some("write \"RFC 6347 §4.2.1\"".into()),
            );
        }
    }
    if let Some(a) = &case.able_to_fail {
        if a.sim_fault.is_some() == a.dut.is_some() {
            c.err(
                1,
                1,
                "able_to_fail needs exactly one of sim_fault and dut".into(),
                None,
            );
        }
        if let Some(f) = &a.sim_fault {
            if !dut_sim::Faults::NAMES.contains(&f.as_str()) {
                let hint = closest(f, dut_sim::Faults::NAMES).map(|x| format!("did you mean {x}?"));
                c.err(
                    1,
                    1,
                    format!("unknown fault switch {f:?}"),
                    hint.or(Some(format!(
                        "one of {}",
                        dut_sim::Faults::NAMES.join(", ")
                    ))),
                );
            }
        }
        if let Some(v) = &a.verdict {
            if !VERDICTS.contains(&v.as_str()) {
                c.err(
                    1,
                    1,
                    format!("able_to_fail verdict {v:?} is not one of {VERDICTS:?}"),
                    None,
                );
            }
        }
    }
    for claim in &case.dut.claims {
        if !crate::cases::claims::is_known(claim) {
            let (l, col) = text
                .and_then(|t| crate::cases::claims::locate(t, claim))
                .unwrap_or((1, 1));
            c.err(
                l,
                col,
                format!("dut.claims: {}", crate::cases::claims::unknown(claim)),
                None,
            );
        }
    }
    if case.steps.is_empty() {
        c.err(1, 1, "a case needs at least one step".into(), None);
    }
    for s in &case.steps {
        let (line, col) = (s.referenced.line(), s.referenced.column());
        c.check_step(&s.value, line, col);
    }
    c.errors
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "id: T-01\ntitle: t\nobjective: o\nrefs: [\"RFC 6347 §4.2.1\"]\nlevel: MUST\ndut: {role: server}\nsteps:\n  - send: ClientHello\n  - expect: {message: HelloVerifyRequest, keep: {c: cookie}}\n  - send: ClientHello\n    with: {cookie: $c}\n";

    #[test]
    fn a_good_case_loads() {
        let c = load_case_str(Path::new("t.yaml"), GOOD).expect("loads");
        assert_eq!(c.case.steps.len(), 3);
    }

    #[test]
    fn an_unknown_key_names_file_line_and_column() {
        let bad = GOOD.replace(
            "  - send: ClientHello\n    with",
            "  - sned: ClientHello\n    with",
        );
        let e = load_case_str(Path::new("x.yaml"), &bad).unwrap_err();
        let s = e[0].to_string();
        assert!(s.starts_with("x.yaml:10:"), "{s}");
        assert!(s.contains("sned"), "{s}");
    }

    #[test]
    fn a_dangling_variable_is_refused() {
        let bad = GOOD.replace("with: {cookie: $c}", "with: {cookie: $nope}");
        let e = load_case_str(Path::new("x.yaml"), &bad).unwrap_err();
        assert!(e[0].to_string().contains("$nope"), "{}", e[0]);
        assert_eq!(e[0].line, 10);
    }

    #[test]
    fn names_and_durations_are_checked_with_hints() {
        let bad = GOOD.replace(
            "message: HelloVerifyRequest",
            "message: HelloVerifyReqest, within: 2 parsecs",
        );
        let e = load_case_str(Path::new("x.yaml"), &bad).unwrap_err();
        let all: String = e
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(all.contains("did you mean HelloVerifyRequest"), "{all}");
        assert!(all.contains("not a duration"), "{all}");
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("2"), None);
        assert_eq!(parse_duration("-1s"), None);
    }
}
