//! Replays a handshake recorded between two third-party implementations through the
//! passive [`Monitor`] and checks that this crate derives the same master secret (PSK
//! suites), decrypts every protected record, and computes both Finished messages exactly as
//! the two peers did.

use std::path::Path;

use dicetest_crypto::{parse_keylog, suite_by_name, KeyExchange};
use serde::Deserialize;

use super::VectorResult;
use crate::monitor::{Monitor, MonitorEvent, Side};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TranscriptFile {
    #[allow(dead_code)]
    kind: String,
    name: String,
    source: String,
    cipher_suite: String,
    #[allow(dead_code)]
    psk_identity: Option<String>,
    psk_hex: Option<String>,
    extended_master_secret: bool,
    keylog: String,
    #[serde(default)]
    datagram: Vec<Datagram>,
    #[serde(default)]
    application_data: Vec<AppData>,
    #[serde(default)]
    #[allow(dead_code)]
    notes: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Datagram {
    from: String,
    hex: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppData {
    from: String,
    text: String,
}

pub fn check_file(path: &Path, text: &str) -> Result<VectorResult, String> {
    let f: TranscriptFile = toml::from_str(text).map_err(|e| format!("{}: {e}", path.display()))?;
    let result = replay(&f);
    Ok(VectorResult {
        file: path.to_path_buf(),
        name: f.name.clone(),
        source: f.source.clone(),
        result,
    })
}

fn replay(f: &TranscriptFile) -> Result<String, String> {
    let suite = suite_by_name(&f.cipher_suite)
        .ok_or_else(|| format!("unknown cipher suite {}", f.cipher_suite))?;
    let keylog = parse_keylog(&f.keylog);
    let (kl_random, kl_master) = *keylog.first().ok_or("keylog has no CLIENT_RANDOM line")?;
    let psk = match &f.psk_hex {
        Some(h) => Some(hex::decode(h).map_err(|e| format!("psk_hex: {e}"))?),
        None => None,
    };
    if matches!(suite.kx, KeyExchange::Psk) && psk.is_none() {
        return Err("PSK suite without psk_hex".into());
    }
    // For PSK suites the key log is withheld from the monitor: it must derive the master
    // secret itself, and only then is it compared with the third party's.
    let given_log = if matches!(suite.kx, KeyExchange::Psk) {
        Vec::new()
    } else {
        keylog.clone()
    };
    let mut m = Monitor::new(psk, given_log);
    let mut app: [Vec<Vec<u8>>; 2] = [Vec::new(), Vec::new()];
    let mut protected = [0usize; 2];
    let mut finished = [false; 2];
    let mut derived = None;
    for (i, d) in f.datagram.iter().enumerate() {
        let side = match d.from.as_str() {
            "client" => Side::Client,
            "server" => Side::Server,
            other => {
                return Err(format!(
                    "datagram {i}: from = {other:?}, expected client or server"
                ))
            }
        };
        let bytes = hex::decode(&d.hex).map_err(|e| format!("datagram {i}: {e}"))?;
        protected[usize::from(side == Side::Server)] += count_protected(&bytes);
        for e in m.on_datagram(side, &bytes) {
            match e {
                MonitorEvent::Undecryptable { from, epoch, sequence_number, why } => {
                    return Err(format!("datagram {i}: {} record epoch {epoch} seq {sequence_number} does not decrypt: {why}", from.name()))
                }
                MonitorEvent::Malformed { from, why } => return Err(format!("datagram {i}: malformed {} datagram: {why}", from.name())),
                MonitorEvent::Finished { from, verified } => {
                    if !verified {
                        return Err(format!("{} Finished does not match the transcript and keys we derive", from.name()));
                    }
                    finished[usize::from(from == Side::Server)] = true;
                }
                MonitorEvent::Alert { from, level: 2, description } => {
                    return Err(format!("datagram {i}: {} sent fatal alert {description}", from.name()))
                }
                MonitorEvent::ApplicationData { from, data } => app[usize::from(from == Side::Server)].push(data),
                MonitorEvent::MasterSecret { derived_from_psk, extended } => {
                    // Judge the derivation at once: with a wrong master secret every later
                    // record would fail, and that would hide the root cause.
                    if let (true, Some(ms)) = (derived_from_psk, m.master_secret()) {
                        if *ms != kl_master {
                            return Err(format!("master secret: key log has {}, we derive {}", hex::encode(kl_master), hex::encode(ms)));
                        }
                    }
                    derived = Some((derived_from_psk, extended))
                }
                _ => {}
            }
        }
    }
    if *m.client_random() != kl_random {
        return Err("the key log's client_random is not the ClientHello's".into());
    }
    if m.extended_master_secret() != f.extended_master_secret {
        return Err(format!(
            "file says extended_master_secret = {}, the ServerHello says {}",
            f.extended_master_secret,
            m.extended_master_secret()
        ));
    }
    let mut findings = Vec::new();
    match (derived, m.master_secret()) {
        (Some((true, ems)), Some(ms)) => {
            if *ms != kl_master {
                return Err(format!(
                    "master secret: key log has {}, we derive {}",
                    hex::encode(kl_master),
                    hex::encode(ms)
                ));
            }
            findings.push(format!(
                "master secret derived from the PSK{} matches the key log",
                if ems { " with EMS" } else { "" }
            ));
        }
        (Some((false, _)), Some(_)) => findings.push(
            "master secret taken from the key log (ECDHE), proven by Finished and decryption"
                .to_string(),
        ),
        _ => return Err("no master secret: the transcript lacks a ClientKeyExchange".into()),
    }
    if finished != [true, true] {
        return Err("the transcript lacks a Finished message".into());
    }
    for (i, side) in ["client", "server"].iter().enumerate() {
        let want: Vec<&[u8]> = f
            .application_data
            .iter()
            .filter(|a| a.from == *side)
            .map(|a| a.text.as_bytes())
            .collect();
        let got: Vec<&[u8]> = app[i].iter().map(|v| v.as_slice()).collect();
        if want != got {
            return Err(format!(
                "{side} application data: recorded {:?}, decrypted {:?}",
                want.iter()
                    .map(|w| String::from_utf8_lossy(w))
                    .collect::<Vec<_>>(),
                got.iter()
                    .map(|w| String::from_utf8_lossy(w))
                    .collect::<Vec<_>>()
            ));
        }
    }
    findings.push(format!(
        "both Finished match; {} + {} protected records decrypted; {} application data records",
        protected[0],
        protected[1],
        f.application_data.len()
    ));
    Ok(findings.join("; "))
}

fn count_protected(datagram: &[u8]) -> usize {
    dicetest_wire::parse_datagram(datagram)
        .records
        .iter()
        .filter(|r| r.header.epoch > 0)
        .count()
}
