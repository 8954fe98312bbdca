//! Options and printing shared by the smoke tools.

use clap::Args;
use dicetest_crypto::suite_by_name;

use crate::engine::{Config, Direction, Event, RecordTrace};

#[derive(Args, Clone, Debug)]
pub struct PskArgs {
    /// PSK identity (RFC 4279), as text [default: the one of --psk-file, else
    /// Client_identity].
    #[arg(long, value_name = "ID")]
    pub psk_identity: Option<String>,
    /// File holding the pre-shared key: one line `IDENTITY:HEX` (as gnutls-serv's
    /// --pskpasswd; its identity is used unless --psk-identity is given) or `HEX`. Or set
    /// DICETEST_PSK=HEX in the environment. Never printed.
    #[arg(long, value_name = "FILE", conflicts_with = "psk")]
    pub psk_file: Option<std::path::PathBuf>,
    /// Pre-shared key in hex (e.g. 73656372657450534b is "secretPSK"). Kept for old
    /// scripts only: every user of the machine can read a command line (ps); prefer
    /// --psk-file or DICETEST_PSK. Never printed.
    #[arg(long, value_name = "HEX")]
    pub psk: Option<String>,
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
    /// The identity and key from --psk-file, --psk or DICETEST_PSK, the first given.
    pub fn credentials(&self) -> Result<(String, Vec<u8>), String> {
        let mut file_identity = None;
        let (from, hex) = if let Some(f) = &self.psk_file {
            let text = std::fs::read_to_string(f)
                .map_err(|e| format!("cannot read --psk-file {}: {e}", f.display()))?;
            let line = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or_default()
                .to_string();
            let hex = match line.rsplit_once(':') {
                Some((id, hex)) => {
                    file_identity = Some(id.to_string());
                    hex.trim().to_string()
                }
                None => line,
            };
            ("--psk-file", hex)
        } else if let Some(h) = &self.psk {
            ("--psk", h.clone())
        } else if let Ok(h) = std::env::var("DICETEST_PSK") {
            ("DICETEST_PSK", h)
        } else {
            return Err("no key: give --psk-file FILE or set DICETEST_PSK=HEX".into());
        };
        // The messages never quote the key.
        let key = hex::decode(hex.trim()).map_err(|e| format!("{from} must be hex: {e}"))?;
        if key.is_empty() {
            return Err(format!("{from} must not be empty"));
        }
        let identity = self
            .psk_identity
            .clone()
            .or(file_identity)
            .unwrap_or_else(|| "Client_identity".into());
        Ok((identity, key))
    }

    /// Applies the options to `cfg`, or says which one is wrong.
    pub fn apply(&self, mut cfg: Config) -> Result<Config, String> {
        let (identity, key) = self.credentials()?;
        cfg = cfg.with_psk(identity.as_bytes(), &key);
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

#[cfg(test)]
mod tests {
    use super::PskArgs;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        psk: PskArgs,
    }

    fn creds(args: &[&str]) -> Result<(String, Vec<u8>), String> {
        T::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?
            .psk
            .credentials()
    }

    #[test]
    fn the_key_comes_from_a_file_with_or_without_identity() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("k");
        let p = f.to_str().unwrap();
        std::fs::write(&f, "board-7:0102\n").unwrap();
        assert_eq!(
            creds(&["--psk-file", p]),
            Ok(("board-7".into(), vec![1, 2]))
        );
        assert_eq!(
            creds(&["--psk-file", p, "--psk-identity", "x"]),
            Ok(("x".into(), vec![1, 2]))
        );
        std::fs::write(&f, "0a0b\n").unwrap();
        assert_eq!(
            creds(&["--psk-file", p]),
            Ok(("Client_identity".into(), vec![10, 11]))
        );
        std::fs::write(&f, "id:73zz\n").unwrap();
        let e = creds(&["--psk-file", p]).unwrap_err();
        assert!(
            e.contains("--psk-file must be hex") && !e.contains("73zz"),
            "{e}"
        );
        assert!(creds(&["--psk-file", p, "--psk", "01"]).is_err());
        assert_eq!(
            creds(&["--psk", "01"]),
            Ok(("Client_identity".into(), vec![1]))
        );
    }
}
