//! Replays a handshake recorded between two third-party implementations and checks that
//! this crate derives the same master secret (PSK suites), decrypts every protected record,
//! and computes both Finished messages exactly as the two peers did.

use std::path::Path;

use dicetest_crypto::{
    derive_key_block, extended_master_secret, master_secret, parse_keylog, psk_premaster_secret,
    record_protection, suite_by_name, verify_data, FinishedLabel, KeyExchange, RecordProtection,
    SuiteParams,
};
use dicetest_wire::{parse_datagram, AlertLevel, ContentType, HandshakeFragment, HandshakeType};
use serde::Deserialize;

use super::VectorResult;
use crate::engine::handshake::reassembly::{FragmentIn, Reassembler, ReassemblyLimits};
use crate::engine::handshake::transcript::Transcript;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TranscriptFile {
    #[allow(dead_code)]
    kind: String,
    name: String,
    source: String,
    cipher_suite: String,
    psk_identity: Option<String>,
    psk_hex: Option<String>,
    extended_master_secret: bool,
    keylog: String,
    #[serde(default)]
    datagram: Vec<Datagram>,
    #[serde(default)]
    application_data: Vec<AppData>,
    #[serde(default)]
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

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Client,
    Server,
}

struct SideState {
    reassembler: Reassembler,
    epoch1: Option<Box<dyn RecordProtection>>,
    finished: Option<Vec<u8>>,
    app_data: Vec<Vec<u8>>,
    protected_records: usize,
}

impl SideState {
    fn new() -> Self {
        let mut reassembler = Reassembler::new(ReassemblyLimits::default());
        reassembler.expect_any_first();
        SideState {
            reassembler,
            epoch1: None,
            finished: None,
            app_data: Vec::new(),
            protected_records: 0,
        }
    }
}

pub fn check_file(path: &Path, text: &str) -> Result<VectorResult, String> {
    let f: TranscriptFile = toml::from_str(text).map_err(|e| format!("{}: {e}", path.display()))?;
    let _ = &f.notes;
    let result = replay(&f);
    Ok(VectorResult {
        file: path.to_path_buf(),
        name: f.name.clone(),
        source: f.source.clone(),
        result,
    })
}

fn replay(f: &TranscriptFile) -> Result<String, String> {
    let suite: &'static SuiteParams = suite_by_name(&f.cipher_suite)
        .ok_or_else(|| format!("unknown cipher suite {}", f.cipher_suite))?;
    let keylog = parse_keylog(&f.keylog);
    let (kl_random, kl_master) = *keylog.first().ok_or("keylog has no CLIENT_RANDOM line")?;
    let psk = match &f.psk_hex {
        Some(h) => Some(hex::decode(h).map_err(|e| format!("psk_hex: {e}"))?),
        None => None,
    };
    let _ = &f.psk_identity;

    let mut client = SideState::new();
    let mut server = SideState::new();
    let mut transcript = Transcript::new();
    let mut client_random = [0u8; 32];
    let mut server_random = [0u8; 32];
    let mut master: Option<[u8; 48]> = None;
    let mut ems_seen = false;
    let mut findings = Vec::new();

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
        let parsed = parse_datagram(&bytes);
        if let Some((off, e)) = parsed.trailing_error {
            return Err(format!("datagram {i}: malformed record at byte {off}: {e}"));
        }
        for rec in parsed.records {
            let st = if side == Side::Client {
                &mut client
            } else {
                &mut server
            };
            let plaintext = if rec.header.epoch == 0 {
                rec.fragment.clone()
            } else {
                let prot = st.epoch1.as_ref().ok_or_else(|| {
                    format!(
                        "datagram {i}: {side:?} record in epoch {} before keys are known",
                        rec.header.epoch
                    )
                })?;
                let aad = dicetest_crypto::AadFields {
                    epoch: rec.header.epoch,
                    sequence_number: rec.header.sequence_number,
                    content_type: rec.header.content_type.get_u8(),
                    version: rec.header.version.get_u16().to_be_bytes(),
                };
                st.protected_records += 1;
                prot.open(&aad, &rec.fragment).map_err(|e| {
                    format!(
                        "datagram {i}: {side:?} {} record seq {} does not decrypt: {e}",
                        rec.header.content_type, rec.header.sequence_number
                    )
                })?
            };
            match rec.header.content_type {
                ContentType::Handshake => {
                    let frags = HandshakeFragment::read_all(&plaintext)
                        .map_err(|e| format!("datagram {i}: {e}"))?;
                    for fr in frags {
                        let st = if side == Side::Client {
                            &mut client
                        } else {
                            &mut server
                        };
                        let _ = st.reassembler.insert(FragmentIn {
                            msg_type: fr.header.msg_type.get_u8(),
                            length: fr.header.length,
                            message_seq: fr.header.message_seq,
                            fragment_offset: fr.header.fragment_offset,
                            fragment_length: fr.header.fragment_length,
                            body: &fr.body,
                        });
                        let mut done = Vec::new();
                        while let Some(m) = st.reassembler.pop_complete() {
                            done.push(m);
                        }
                        for m in done {
                            let t = HandshakeType::from(m.msg_type);
                            match t {
                                HandshakeType::ClientHello => {
                                    // Only the ClientHello that the server answered counts;
                                    // a cookieless one is dropped from the transcript (§4.2.1).
                                    transcript.clear();
                                    if m.body.len() >= 34 {
                                        client_random.copy_from_slice(&m.body[2..34]);
                                    }
                                    transcript.add(m.msg_type, m.message_seq, &m.body);
                                }
                                HandshakeType::HelloVerifyRequest => transcript.clear(),
                                HandshakeType::ServerHello => {
                                    if m.body.len() >= 34 {
                                        server_random.copy_from_slice(&m.body[2..34]);
                                    }
                                    // extended_master_secret is extension type 23 (RFC 7627).
                                    ems_seen = has_extension(&m.body, 23);
                                    transcript.add(m.msg_type, m.message_seq, &m.body);
                                }
                                HandshakeType::ClientKeyExchange => {
                                    transcript.add(m.msg_type, m.message_seq, &m.body);
                                    let ms = derive_master(
                                        suite,
                                        psk.as_deref(),
                                        ems_seen,
                                        &transcript,
                                        &client_random,
                                        &server_random,
                                        &kl_master,
                                        &mut findings,
                                    )?;
                                    master = Some(ms);
                                    let kb = derive_key_block(
                                        suite,
                                        &ms,
                                        &client_random,
                                        &server_random,
                                    );
                                    client.epoch1 = Some(record_protection(
                                        suite,
                                        &kb.client_write_key,
                                        &kb.client_write_iv,
                                        &kb.client_write_mac_key,
                                    ));
                                    server.epoch1 = Some(record_protection(
                                        suite,
                                        &kb.server_write_key,
                                        &kb.server_write_iv,
                                        &kb.server_write_mac_key,
                                    ));
                                }
                                HandshakeType::Finished => {
                                    let ms = master.ok_or("Finished before ClientKeyExchange")?;
                                    let label = if side == Side::Client {
                                        FinishedLabel::Client
                                    } else {
                                        FinishedLabel::Server
                                    };
                                    let expected = verify_data(&ms, label, &transcript.hash());
                                    if m.body != expected {
                                        return Err(format!(
                                            "{side:?} Finished: peer sent {}, we compute {}",
                                            hex::encode(&m.body),
                                            hex::encode(expected)
                                        ));
                                    }
                                    transcript.add(m.msg_type, m.message_seq, &m.body);
                                    let st = if side == Side::Client {
                                        &mut client
                                    } else {
                                        &mut server
                                    };
                                    st.finished = Some(m.body);
                                }
                                _ => transcript.add(m.msg_type, m.message_seq, &m.body),
                            }
                        }
                    }
                }
                ContentType::ApplicationData => {
                    let st = if side == Side::Client {
                        &mut client
                    } else {
                        &mut server
                    };
                    st.app_data.push(plaintext)
                }
                ContentType::Alert if plaintext.first() == Some(&AlertLevel::Fatal.get_u8()) => {
                    return Err(format!(
                        "datagram {i}: {side:?} sent a fatal alert {plaintext:02x?}"
                    ));
                }
                _ => {}
            }
        }
    }
    if client_random != kl_random {
        return Err("the key log's client_random is not the ClientHello's".into());
    }
    if ems_seen != f.extended_master_secret {
        return Err(format!(
            "file says extended_master_secret = {}, the ServerHello says {ems_seen}",
            f.extended_master_secret
        ));
    }
    if client.finished.is_none() || server.finished.is_none() {
        return Err("the transcript lacks a Finished message".into());
    }
    for (side, st) in [("client", &client), ("server", &server)] {
        let want: Vec<&[u8]> = f
            .application_data
            .iter()
            .filter(|a| a.from == side)
            .map(|a| a.text.as_bytes())
            .collect();
        let got: Vec<&[u8]> = st.app_data.iter().map(|v| v.as_slice()).collect();
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
        client.protected_records,
        server.protected_records,
        f.application_data.len()
    ));
    Ok(findings.join("; "))
}

#[allow(clippy::too_many_arguments)]
fn derive_master(
    suite: &SuiteParams,
    psk: Option<&[u8]>,
    ems: bool,
    transcript: &Transcript,
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    keylog_master: &[u8; 48],
    findings: &mut Vec<String>,
) -> Result<[u8; 48], String> {
    match (suite.kx, psk) {
        (KeyExchange::Psk, Some(psk)) => {
            let pms = psk_premaster_secret(psk);
            let ms = if ems {
                extended_master_secret(&pms, &transcript.hash())
            } else {
                master_secret(&pms, client_random, server_random)
            };
            if &ms != keylog_master {
                return Err(format!(
                    "master secret: key log has {}, we derive {}",
                    hex::encode(keylog_master),
                    hex::encode(ms)
                ));
            }
            findings.push(format!(
                "master secret derived from the PSK{} matches the key log",
                if ems { " with EMS" } else { "" }
            ));
            Ok(ms)
        }
        (KeyExchange::Psk, None) => Err("PSK suite without psk_hex".into()),
        (KeyExchange::EcdheEcdsa, _) => {
            // The ephemeral private keys are gone; the master secret comes from the key log
            // and is proven by both Finished messages and every decrypted record.
            findings.push(
                "master secret taken from the key log (ECDHE), proven by Finished and decryption"
                    .into(),
            );
            Ok(*keylog_master)
        }
    }
}

/// Whether a ServerHello body carries extension `ext` (walks the fixed fields by hand so the
/// check does not depend on our own extension parser).
fn has_extension(sh: &[u8], ext: u16) -> bool {
    // version(2) random(32) session_id(1+n) suite(2) compression(1) extensions(2+...)
    let Some(&sid_len) = sh.get(34) else {
        return false;
    };
    let mut p = 35 + sid_len as usize + 3;
    if sh.len() < p + 2 {
        return false;
    }
    let total = u16::from_be_bytes([sh[p], sh[p + 1]]) as usize;
    p += 2;
    let end = (p + total).min(sh.len());
    while p + 4 <= end {
        let t = u16::from_be_bytes([sh[p], sh[p + 1]]);
        let l = u16::from_be_bytes([sh[p + 2], sh[p + 3]]) as usize;
        if t == ext {
            return true;
        }
        p += 4 + l;
    }
    false
}
