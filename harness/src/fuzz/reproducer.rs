//! A batch as a test description: the in-memory [`Case`], its YAML (what `dicetest check`
//! and `dicetest run --suite` read), and the files a finding leaves (case, capture, trace).
//!
//! Every batch the campaign runs goes through this YAML and the strict loader, so what is
//! judged is exactly what a reproducer file says. Reproducers name no key: the handshake
//! steps take the credentials of whatever profile runs them.

use std::path::Path;

use serde_json::{Map, Value};
use serde_saphyr::{Location, Spanned};

use super::exchange::Compiled;
use crate::cases::load::load_case_str;
use crate::cases::model::{Case, DutRequirement, Level};
use crate::cases::{DutRole, LoadedCase};
use crate::reports::pcapng;
use crate::reports::Redactor;
use crate::runner::CaseResult;

/// What a case file says about itself.
#[derive(Clone, Debug)]
pub struct Header {
    pub id: String,
    pub title: String,
    pub objective: String,
    pub refs: Vec<String>,
    pub level: Level,
    pub claims: Vec<String>,
}

pub fn case_of(compiled: &Compiled, h: &Header) -> Case {
    Case {
        harness_retransmits: None,
        id: h.id.clone(),
        title: h.title.clone(),
        objective: h.objective.clone(),
        refs: h.refs.clone(),
        level: h.level,
        tags: vec!["fuzz".into()],
        dut: DutRequirement {
            role: DutRole::Server,
            claims: h.claims.clone(),
        },
        ambiguity: None,
        able_to_fail: None,
        steps: compiled
            .steps
            .iter()
            .map(|s| Spanned::new(s.clone(), Location::UNKNOWN, Location::UNKNOWN))
            .collect(),
    }
}

/// Keys whose values are data (field overrides, matches): kept as they are, even empty.
const DATA_KEYS: &[&str] = &["with", "match", "keep", "options"];

/// Keys whose empty map still means something (`coap: {}`: any matching response).
const KEEP_EMPTY: &[&str] = &["coap"];

/// Drops what a hand-written case would leave out: nulls, `false`, empty lists and maps.
fn tidy(v: Value) -> Option<Value> {
    match v {
        Value::Null | Value::Bool(false) => None,
        Value::Array(a) => {
            let a: Vec<Value> = a.into_iter().filter_map(tidy).collect();
            (!a.is_empty()).then_some(Value::Array(a))
        }
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                if DATA_KEYS.contains(&k.as_str()) {
                    if v.as_object().is_some_and(|o| !o.is_empty()) {
                        out.insert(k, v);
                    }
                } else if KEEP_EMPTY.contains(&k.as_str()) && v.is_object() {
                    let t = tidy(v).unwrap_or(Value::Object(Map::new()));
                    out.insert(k, t);
                } else if let Some(v) = tidy(v) {
                    out.insert(k, v);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        other => Some(other),
    }
}

/// The order keys are written in: a case's identity first, a step's action first; the
/// rest alphabetically.
const KEY_ORDER: &[&str] = &[
    "id",
    "title",
    "objective",
    "refs",
    "level",
    "tags",
    "dut",
    "role",
    "claims",
    "ambiguity",
    "steps",
    "handshake",
    "send",
    "expect",
    "wait",
    "drop",
    "replay",
    "new_client",
    "liveness",
    "coap",
    "one_of",
    "message",
    "alert",
    "alert_level",
    "change_cipher_spec",
    "silence",
    "probe_reply",
    "connected",
    "verdict",
    "reason",
    "within",
    "method",
    "uri",
    "type",
];

fn key_rank(k: &str) -> (usize, String) {
    (
        KEY_ORDER
            .iter()
            .position(|x| *x == k)
            .unwrap_or(KEY_ORDER.len()),
        k.to_string(),
    )
}

/// A string that reads back as the same string without quotes.
fn plain(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~",
    ];
    let mut chars = s.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '$' || c == '/');
    first_ok
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./$-".contains(c))
        && !WORDS.contains(&s.to_ascii_lowercase().as_str())
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) if plain(s) => s.clone(),
        // JSON's own quoting is a YAML double-quoted scalar.
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn emit(out: &mut String, v: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by_key(|k| key_rank(k));
            for k in keys {
                let key = if plain(k) {
                    k.clone()
                } else {
                    scalar(&Value::String(k.clone()))
                };
                match &m[k.as_str()] {
                    Value::Object(o) if o.is_empty() => {
                        out.push_str(&format!("{pad}{key}: {{}}\n"))
                    }
                    Value::Array(a) if a.is_empty() => out.push_str(&format!("{pad}{key}: []\n")),
                    c @ (Value::Object(_) | Value::Array(_)) => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        emit(out, c, indent + 2);
                    }
                    c => out.push_str(&format!("{pad}{key}: {}\n", scalar(c))),
                }
            }
        }
        Value::Array(a) => {
            for item in a {
                match item {
                    Value::Object(o) if !o.is_empty() => {
                        // The item's first key goes on the dash line.
                        let mut inner = String::new();
                        emit(&mut inner, item, indent + 2);
                        let body = inner.trim_start_matches(' ');
                        out.push_str(&format!("{pad}- {body}"));
                    }
                    Value::Array(x) if !x.is_empty() => {
                        out.push_str(&format!("{pad}-\n"));
                        emit(out, item, indent + 2);
                    }
                    Value::Object(_) => out.push_str(&format!("{pad}- {{}}\n")),
                    Value::Array(_) => out.push_str(&format!("{pad}- []\n")),
                    c => out.push_str(&format!("{pad}- {}\n", scalar(c))),
                }
            }
        }
        c => out.push_str(&format!("{pad}{}\n", scalar(c))),
    }
}

/// The case as YAML, with a comment on top.
pub fn to_yaml(case: &Case, comment: &str) -> Result<String, String> {
    let v = serde_json::to_value(case).map_err(|e| e.to_string())?;
    let v = tidy(v).unwrap_or(Value::Null);
    let mut out = String::new();
    for line in comment.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    emit(&mut out, &v, 0);
    Ok(out)
}

/// Reads the YAML back through the strict loader, as `dicetest run` would.
pub fn load(yaml: &str, path: &Path) -> Result<LoadedCase, String> {
    load_case_str(path, yaml).map_err(|errs| {
        errs.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// Files of one finding, relative to the campaign's output folder.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Files {
    pub reproducer: String,
    pub capture: Option<String>,
    pub trace: String,
}

/// Writes `findings/<ID>.yaml`, `findings/<ID>.pcapng` (no keys) and `findings/<ID>.txt`
/// (the decoded exchange and the verdict), every text redacted.
pub fn write(
    out: &Path,
    id: &str,
    yaml: &str,
    result: &CaseResult,
    redactor: &Redactor,
) -> std::io::Result<Files> {
    let dir = out.join("findings");
    std::fs::create_dir_all(&dir)?;
    let mut files = Files {
        reproducer: format!("findings/{id}.yaml"),
        capture: None,
        trace: format!("findings/{id}.txt"),
    };
    std::fs::write(out.join(&files.reproducer), redactor.apply(yaml))?;
    if !result.captures.is_empty() {
        let bytes = pcapng::capture(
            &result.captures,
            &[],
            pcapng::Layout {
                dut_is_client: false,
                start_unix_micros: 0,
            },
        );
        let name = format!("findings/{id}.pcapng");
        std::fs::write(out.join(&name), bytes)?;
        files.capture = Some(name);
    }
    let mut text = format!(
        "{id}: {} at step {}\n{}\n\n",
        result.verdict,
        result.step.map(|s| s.to_string()).unwrap_or("-".into()),
        result.reason
    );
    text.push_str(&result.trace.join("\n"));
    text.push('\n');
    if !result.dut_log.is_empty() {
        text.push_str("\n--- DUT output ---\n");
        text.push_str(&result.dut_log);
    }
    std::fs::write(out.join(&files.trace), redactor.apply(&text))?;
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::exchange::{compile, Batch, Env, Exchange, Template};
    use crate::fuzz::mutate::Op;

    fn env() -> Env {
        Env {
            cookie: true,
            probe: true,
            coap: true,
            probe_uri: "/.well-known/core".into(),
        }
    }

    #[test]
    fn a_batch_reads_back_as_the_same_case() {
        let tricky = "a: b # \"c\" \\ 'd' true 0x12 - [e]";
        let batch = Batch {
            exchanges: vec![
                Exchange {
                    template: Template::Session,
                    target: Some(2),
                    ops: vec![Op::Coap {
                        field: "payload".into(),
                        value: tricky.into(),
                    }],
                },
                Exchange {
                    template: Template::Handshake,
                    target: Some(1),
                    ops: vec![Op::Field {
                        slot: 0,
                        key: "cookie".into(),
                        value: "0012".into(),
                    }],
                },
            ],
            liveness: true,
        };
        let c = compile(&batch, &env());
        let h = Header {
            id: "FUZZ-1-1".into(),
            title: "t: with a colon".into(),
            objective: "o".into(),
            refs: vec!["RFC 6347 §4.1".into()],
            level: Level::MUST,
            claims: vec!["coap".into()],
        };
        let case = case_of(&c, &h);
        let yaml = to_yaml(&case, "a comment\nof two lines").unwrap();
        assert!(
            yaml.starts_with("# a comment\n# of two lines\nid: FUZZ-1-1\n"),
            "{yaml}"
        );
        let back = load(&yaml, Path::new("x.yaml")).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        let a = tidy(serde_json::to_value(&case).unwrap());
        let b = tidy(serde_json::to_value(&back.case).unwrap());
        assert_eq!(a, b, "{yaml}");
        assert!(
            yaml.contains("cookie: \"0012\""),
            "hex stays a string: {yaml}"
        );
        assert!(yaml.contains("coap: {}"), "{yaml}");
    }
}
