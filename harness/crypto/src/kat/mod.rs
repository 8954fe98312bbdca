//! Known-answer checking of the data files in `vectors/crypto/`.
//!
//! Each file is TOML: a top-level `source` naming the document and section
//! the values come from, a `kind` saying which primitive they exercise, an
//! optional `checked_by` saying how the values were confirmed
//! independently of this crate, and one `[[vector]]` table per known
//! answer, each with a `name` and hex-string fields. Hex may contain
//! whitespace. Unknown fields are errors, so a misspelt field cannot
//! silently skip a check.
//!
//! Kinds and their fields (`?` marks optional ones):
//!
//! | kind | fields |
//! | --- | --- |
//! | `aes128` | key, plaintext, ciphertext |
//! | `aes-ccm` | key, nonce, aad, plaintext, ciphertext (with the tag appended), tag_len |
//! | `hmac-sha256` | key, data, mac, truncated_bits? |
//! | `tls12-prf-sha256` | secret, label (text), seed, output |
//! | `psk-premaster` | psk, premaster, client_random?, server_random?, master_secret?, session_hash?, extended_master_secret?, suite?, key_block?, handshake_hash?, client_verify_data?, server_verify_data? |
//! | `dtls-ccm8-record`, `dtls-ccm-record`, `dtls-cbc-sha256-record` | suite?, key, iv?, mac_key?, epoch, sequence_number, content_type, version, explicit, plaintext, fragment |
//! | `ecdh-p256` | private, public, peer_public, shared |
//! | `ecdsa-p256-sha256` | private, public, message, r, s, rfc6979? |

mod checks;
mod hex_field;

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Deserialize;
use thiserror::Error;

use self::checks::{
    Aes128Vector, AesCcmVector, DtlsRecordVector, EcdhVector, EcdsaVector, HmacVector, PrfVector,
    PskVector,
};

/// The verdict on one known-answer vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KatOutcome {
    /// The data file the vector came from.
    pub file: PathBuf,
    /// The vector's `name`.
    pub name: String,
    /// The file's `source`: where the expected values were published.
    pub source: String,
    /// `Ok` if every expected value was reproduced, else what differed.
    pub result: Result<(), String>,
}

/// A data file that could not be checked at all.
#[derive(Debug, Error)]
pub enum KatError {
    /// The file (or directory) could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Unreadable {
        /// The path that failed.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid vector file.
    #[error("{}{}: {message}", path.display(), location(*line, *column))]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line of the offending TOML, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// What is wrong.
        message: String,
    },
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

/// The primitive a file exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum Kind {
    #[serde(rename = "aes128")]
    Aes128,
    #[serde(rename = "aes-ccm")]
    AesCcm,
    #[serde(rename = "hmac-sha256")]
    HmacSha256,
    #[serde(rename = "tls12-prf-sha256")]
    Tls12PrfSha256,
    #[serde(rename = "psk-premaster")]
    PskPremaster,
    #[serde(rename = "dtls-ccm8-record")]
    DtlsCcm8Record,
    #[serde(rename = "dtls-ccm-record")]
    DtlsCcmRecord,
    #[serde(rename = "dtls-cbc-sha256-record")]
    DtlsCbcSha256Record,
    #[serde(rename = "ecdh-p256")]
    EcdhP256,
    #[serde(rename = "ecdsa-p256-sha256")]
    EcdsaP256Sha256,
}

/// What every file has; read first to learn how to read the rest.
#[derive(Deserialize)]
struct Header {
    kind: Kind,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "V: DeserializeOwned"))]
#[allow(dead_code)] // `kind` and `checked_by` are read for their type only.
struct KatFile<V> {
    source: String,
    kind: Kind,
    #[serde(default)]
    checked_by: Option<String>,
    #[serde(default)]
    vector: Vec<V>,
}

/// One vector of some kind.
pub(crate) trait Vector: DeserializeOwned {
    fn name(&self) -> &str;
    fn check(&self, kind: Kind) -> Result<(), String>;
}

/// Checks every vector of one data file.
///
/// A file that cannot be read or parsed, has an unknown `kind`, misses a
/// field, has a malformed hex string or no vectors is a [`KatError`] (with
/// the TOML line and column where known). A vector whose values are not
/// reproduced is an outcome with `result: Err(..)`.
pub fn check_kat_file(path: &Path) -> Result<Vec<KatOutcome>, KatError> {
    let text = std::fs::read_to_string(path).map_err(|source| KatError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let header: Header = parse(path, &text)?;
    match header.kind {
        Kind::Aes128 => run::<Aes128Vector>(path, &text, header.kind),
        Kind::AesCcm => run::<AesCcmVector>(path, &text, header.kind),
        Kind::HmacSha256 => run::<HmacVector>(path, &text, header.kind),
        Kind::Tls12PrfSha256 => run::<PrfVector>(path, &text, header.kind),
        Kind::PskPremaster => run::<PskVector>(path, &text, header.kind),
        Kind::DtlsCcm8Record | Kind::DtlsCcmRecord | Kind::DtlsCbcSha256Record => {
            run::<DtlsRecordVector>(path, &text, header.kind)
        }
        Kind::EcdhP256 => run::<EcdhVector>(path, &text, header.kind),
        Kind::EcdsaP256Sha256 => run::<EcdsaVector>(path, &text, header.kind),
    }
}

/// Checks every `*.toml` file in `dir` (not recursing), in file name
/// order.
pub fn check_kat_dir(dir: &Path) -> Result<Vec<KatOutcome>, KatError> {
    let unreadable = |source| KatError::Unreadable {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    let mut outcomes = Vec::new();
    for file in files {
        outcomes.extend(check_kat_file(&file)?);
    }
    Ok(outcomes)
}

fn run<V: Vector>(path: &Path, text: &str, kind: Kind) -> Result<Vec<KatOutcome>, KatError> {
    let file: KatFile<V> = parse(path, text)?;
    let malformed = |message: &str| KatError::Malformed {
        path: path.to_path_buf(),
        line: None,
        column: None,
        message: message.to_string(),
    };
    if file.source.trim().is_empty() {
        return Err(malformed(
            "`source` is empty: say where the values come from",
        ));
    }
    if file.vector.is_empty() {
        return Err(malformed("no [[vector]] tables"));
    }
    Ok(file
        .vector
        .iter()
        .map(|v| KatOutcome {
            file: path.to_path_buf(),
            name: v.name().to_string(),
            source: file.source.clone(),
            result: v.check(kind),
        })
        .collect())
}

fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, KatError> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = match e.span() {
            Some(span) => {
                let (l, c) = line_column(text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        KatError::Malformed {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests;
