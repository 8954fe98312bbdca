//! Options and printing shared by the smoke tools.

use clap::Args;
use dicetest_crypto::suite_by_name;

use crate::engine::{Config, Direction, Event, RecordTrace};

#[derive(Args, Clone, Debug)]
pub struct PskArgs {
    /// PSK identity (RFC 4279), as text.
    #[arg(long, value_name = "ID", default_value = "Client_identity")]
    pub psk_identity: String,
    /// Pre-shared key in hex (e.g. 73656372657450534b is "secretPSK"). Never printed.
    #[arg(long, value_name = "HEX")]
    pub psk: String,
    /// Cipher suite to offer or accept; repeat for several. Names: psk-ccm8 (default,
    /// RFC 7925's mandatory suite), psk-ccm, psk-cbc-sha256, or IANA names.
    #[arg(long = "suite", value_name = "NAME")]
    pub suites: Vec<String>,
    /// Do not offer/accept extended_master_secret (RFC 7627).
    #[arg(long)]
    pub no_ems: bool,
    /// Initial retransmission timeout in milliseconds (RFC 6347 §4.2.4.1 suggests 1000).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub rto_ms: u64,
    /// Append the session keys to FILE in NSS key log format (SSLKEYLOGFILE), so Wireshark
    /// can decrypt a capture. Off unless asked: key logs are secrets.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<std::path::PathBuf>,
    /// Print each record in and out.
    #[arg(long, short)]
    pub verbose: bool,
}

impl PskArgs {
    /// Applies the options to `cfg`, or says which one is wrong.
    pub fn apply(&self, mut cfg: Config) -> Result<Config, String> {
        let key = hex::decode(self.psk.trim()).map_err(|e| format!("--psk must be hex: {e}"))?;
        if key.is_empty() {
            return Err("--psk must not be empty".into());
        }
        cfg = cfg.with_psk(self.psk_identity.as_bytes(), &key);
        if !self.suites.is_empty() {
            let mut ids = Vec::new();
            for s in &self.suites {
                let p = suite_by_name(s).ok_or_else(|| {
                    format!("unknown cipher suite {s:?} (try psk-ccm8, psk-ccm, psk-cbc-sha256)")
                })?;
                ids.push(p.id);
            }
            cfg.cipher_suites = ids;
        }
        cfg.extended_master_secret = !self.no_ems;
        cfg.timers.initial = std::time::Duration::from_millis(self.rto_ms.max(1));
        cfg.seed = seed_from_clock();
        Ok(cfg)
    }
}

/// A seed for real-world runs; tests pass their own.
pub fn seed_from_clock() -> u64 {
    let mut b = [0u8; 8];
    if getrandom_fill(&mut b) {
        u64::from_le_bytes(b)
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7)
    }
}

fn getrandom_fill(b: &mut [u8]) -> bool {
    use rand_core::RngCore;
    rand_core::OsRng.try_fill_bytes(b).is_ok()
}

pub fn suite_name(id: u16) -> String {
    dicetest_crypto::suite_by_id(id)
        .map(|s| s.name.to_string())
        .unwrap_or_else(|| format!("{id:#06x}"))
}

/// A readable line for the flight trace.
pub fn trace_line(e: &Event) -> Option<String> {
    match e {
        Event::Record(RecordTrace {
            direction,
            header,
            summary,
            dropped,
            ..
        }) => {
            let arrow = match direction {
                Direction::Sent => "->",
                Direction::Received => "<-",
            };
            let tail = dropped
                .as_ref()
                .map(|d| format!("  [dropped: {d}]"))
                .unwrap_or_default();
            Some(format!(
                "  {arrow} epoch {} seq {:>3}  {summary}{tail}",
                header.epoch, header.sequence_number
            ))
        }
        Event::Retransmitted { flight, count } => {
            Some(format!("  .. flight {flight} retransmitted ({count})"))
        }
        _ => None,
    }
}

/// Appends a key log line to `path` (NSS key log format).
pub fn append_keylog(path: &std::path::Path, line: &str) {
    use std::io::Write;
    let r = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| writeln!(f, "{line}"));
    if let Err(e) = r {
        eprintln!("dicetest: cannot write key log {}: {e}", path.display());
    }
}
