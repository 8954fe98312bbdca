//! Known-answer vectors: the proof that the engine computes what independent
//! implementations compute.
//!
//! `vectors/crypto/*.toml` are checked by `dicetest-crypto`'s KAT reader; every
//! `vectors/transcripts/*.toml` is a whole handshake recorded between two third-party
//! implementations, replayed through this crate's record and handshake layers.

pub mod transcript;

use std::path::{Path, PathBuf};

/// The outcome of one vector.
#[derive(Debug)]
pub struct VectorResult {
    pub file: PathBuf,
    pub name: String,
    pub source: String,
    /// `Ok(details)` or `Err(what differed)`.
    pub result: Result<String, String>,
}

/// A vector file that could not be read at all.
#[derive(Debug)]
pub struct VectorFileError {
    pub file: PathBuf,
    pub error: String,
}

/// Checks every vector file under `root`.
pub fn check_all(root: &Path) -> (Vec<VectorResult>, Vec<VectorFileError>) {
    let mut results = Vec::new();
    let mut errors = Vec::new();
    let mut files = Vec::new();
    collect_toml(root, &mut files);
    files.sort();
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                errors.push(VectorFileError {
                    file,
                    error: e.to_string(),
                });
                continue;
            }
        };
        if text
            .lines()
            .any(|l| l.trim_start().starts_with("kind") && l.contains("dtls12-transcript"))
        {
            match transcript::check_file(&file, &text) {
                Ok(r) => results.push(r),
                Err(error) => errors.push(VectorFileError { file, error }),
            }
        } else {
            match dicetest_crypto::kat::check_kat_file(&file) {
                Ok(outcomes) => results.extend(outcomes.into_iter().map(|o| VectorResult {
                    file: o.file,
                    name: o.name,
                    source: o.source,
                    result: o.result.map(|_| String::new()),
                })),
                Err(e) => errors.push(VectorFileError {
                    file,
                    error: e.to_string(),
                }),
            }
        }
    }
    (results, errors)
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in rd.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect_toml(&p, out);
        } else if p.extension().is_some_and(|e| e == "toml") {
            out.push(p);
        }
    }
}
