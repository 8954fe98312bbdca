//! Interop test descriptions (`suites/interop/*.yaml`): two real implementations, dicetest
//! on the path between them as a relay that impairs and watches.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::cases::Level;

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InteropCase {
    pub id: String,
    pub title: String,
    pub objective: String,
    pub refs: Vec<String>,
    pub level: Level,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Features both implementations must claim.
    #[serde(default)]
    pub claims: Vec<String>,
    /// The client uses this PSK (hex) instead of the shared one (a wrong-key session).
    pub client_psk_hex: Option<String>,
    #[serde(default)]
    pub impair: Impairments,
    /// What the client sends once the handshake completes.
    #[serde(default = "default_text")]
    pub send: String,
    /// `success` (default) or `failure`.
    #[serde(default = "default_outcome")]
    pub outcome: String,
    /// How long the session may take (default 30s).
    pub within: Option<String>,
}

fn default_text() -> String {
    "hello interop".into()
}

fn default_outcome() -> String {
    "success".into()
}

/// What the relay does to the datagrams, counted from 1 across both directions.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Impairments {
    /// Datagram numbers to lose.
    #[serde(default)]
    pub drop: BTreeSet<u32>,
    /// Datagram numbers to deliver twice.
    #[serde(default)]
    pub duplicate: BTreeSet<u32>,
    /// Datagram numbers to hold back and deliver after the next one (reordering).
    #[serde(default)]
    pub reorder: BTreeSet<u32>,
    /// Datagrams larger than this are lost (a small path MTU).
    pub max_datagram: Option<usize>,
}

/// Loads every interop case under `dir`.
pub fn load_interop_dir(
    dir: &std::path::Path,
) -> (
    Vec<(InteropCase, std::path::PathBuf)>,
    Vec<crate::cases::LoadError>,
) {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for f in files {
        let text = match std::fs::read_to_string(&f) {
            Ok(t) => t,
            Err(e) => {
                errs.push(crate::cases::LoadError {
                    file: f,
                    line: 0,
                    column: 0,
                    message: e.to_string(),
                    hint: None,
                });
                continue;
            }
        };
        match serde_saphyr::from_str::<InteropCase>(&text) {
            Ok(c) => {
                if c.outcome != "success" && c.outcome != "failure" {
                    errs.push(crate::cases::LoadError {
                        file: f,
                        line: 1,
                        column: 1,
                        message: format!("outcome {:?} is neither success nor failure", c.outcome),
                        hint: None,
                    });
                } else if c
                    .within
                    .as_deref()
                    .is_some_and(|w| crate::cases::parse_duration(w).is_none())
                {
                    errs.push(crate::cases::LoadError {
                        file: f,
                        line: 1,
                        column: 1,
                        message: "within is not a duration".into(),
                        hint: Some("write e.g. 20s".into()),
                    });
                } else {
                    out.push((c, f));
                }
            }
            Err(e) => {
                let (line, column) = e
                    .location()
                    .map(|l| (l.line(), l.column()))
                    .unwrap_or((0, 0));
                errs.push(crate::cases::LoadError {
                    file: f,
                    line,
                    column,
                    message: e.to_string().lines().next().unwrap_or_default().to_string(),
                    hint: None,
                });
            }
        }
    }
    (out, errs)
}
