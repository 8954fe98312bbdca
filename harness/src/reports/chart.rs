//! A case's captured datagrams, decoded record by record for the message sequence chart.
//!
//! Epoch 0 records are read as they are. Records of later epochs are opened with the
//! session keys derived from the case's key log (RFC 5246 §6.3: the key block comes from
//! the master secret and both randoms, which the hellos in the capture carry); without a
//! matching key log line they are shown as "protected". Only the decoded summaries leave
//! this module: no key material.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use dicetest_crypto::{
    derive_key_block, parse_keylog, record_protection, suite_by_id, AadFields, RecordProtection,
};
use dicetest_wire::{
    parse_datagram, AlertDescription, AlertLevel, ContentType, HandshakeFragment, HandshakeMessage,
    HandshakeType, KeyExchangeKind, ParseContext, Record,
};

use crate::coap::CoapMessage;
use crate::runner::interpret::Captured;

/// Charts of pathological cases stop here (a DUT may flood; the capture keeps 4096).
pub const MAX_CHART_DATAGRAMS: usize = 400;

/// One datagram of the exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChartDatagram {
    /// Microseconds since the case started (virtual time for simulated DUTs).
    pub micros: u64,
    pub from_dut: bool,
    /// Lost on purpose by a `drop` step.
    #[serde(default)]
    pub dropped: bool,
    /// UDP payload length.
    pub len: usize,
    pub records: Vec<ChartRecord>,
    /// Bytes after the last record that do not form one (RFC 6347 §4.1.2.7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malformed: Option<String>,
}

/// How much of a record could be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Protection {
    /// Epoch 0: in the clear.
    Plain,
    /// Opened with the session keys from the case's key log.
    Decrypted,
    /// Encrypted and not opened (no key log line, or it did not verify).
    Protected,
}

/// One record of a datagram.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChartRecord {
    /// `handshake`, `alert`, `change_cipher_spec`, `application_data`, ...
    pub content_type: String,
    pub epoch: u16,
    pub seq: u64,
    /// Decoded content, e.g. `ClientHello v=DTLS1.2 cookie=32B ...`.
    pub summary: String,
    pub protection: Protection,
}

/// The keys of one session, found from its hellos and a key log line.
struct Session {
    client_random: [u8; 32],
    client_write: Box<dyn RecordProtection>,
    server_write: Box<dyn RecordProtection>,
}

/// Decodes a case's datagrams; `keylog` holds NSS key log lines.
pub fn decode(captures: &[Captured], keylog: &[String]) -> Vec<ChartDatagram> {
    let secrets = parse_keylog(&keylog.join("\n"));
    let dut_is_client = dut_is_client(captures);
    let mut st = Decoder {
        secrets,
        sessions: Vec::new(),
        client_random: None,
        server_random: None,
        suite: None,
    };
    captures
        .iter()
        .take(MAX_CHART_DATAGRAMS)
        .map(|c| st.datagram(c, c.from_dut == dut_is_client))
        .collect()
}

/// Whether the DUT is the DTLS client: it sent the first ClientHello (by default the
/// harness is the client).
pub fn dut_is_client(captures: &[Captured]) -> bool {
    captures
        .iter()
        .find(|c| has_client_hello(&c.bytes))
        .is_some_and(|c| c.from_dut)
}

fn has_client_hello(datagram: &[u8]) -> bool {
    parse_datagram(datagram).records.iter().any(|r| {
        r.header.epoch == 0
            && r.header.content_type == ContentType::Handshake
            && r.fragment.first() == Some(&HandshakeType::ClientHello.get_u8())
    })
}

struct Decoder {
    secrets: Vec<([u8; 32], [u8; 48])>,
    /// Newest last.
    sessions: Vec<Session>,
    client_random: Option<[u8; 32]>,
    server_random: Option<[u8; 32]>,
    suite: Option<u16>,
}

impl Decoder {
    fn datagram(&mut self, c: &Captured, from_client: bool) -> ChartDatagram {
        let parsed = parse_datagram(&c.bytes);
        let records = parsed
            .records
            .iter()
            .map(|r| self.record(r, from_client))
            .collect();
        ChartDatagram {
            micros: c.micros,
            from_dut: c.from_dut,
            dropped: c.dropped,
            len: c.bytes.len(),
            records,
            malformed: parsed.trailing_error.map(|(off, e)| {
                format!(
                    "{} bytes at offset {off} are no record: {e}",
                    c.bytes.len() - off
                )
            }),
        }
    }

    fn record(&mut self, r: &Record, from_client: bool) -> ChartRecord {
        let content_type = r.header.content_type.to_string();
        let (plaintext, protection) = if r.header.epoch == 0 {
            (Some(r.fragment.clone()), Protection::Plain)
        } else {
            match self.open(r, from_client) {
                Some(p) => (Some(p), Protection::Decrypted),
                None => (None, Protection::Protected),
            }
        };
        let summary = match plaintext {
            None => format!("protected {content_type} ({} bytes)", r.fragment.len()),
            Some(p) => self.describe(r.header.content_type, &p),
        };
        ChartRecord {
            content_type,
            epoch: r.header.epoch,
            seq: r.header.sequence_number,
            summary,
            protection,
        }
    }

    /// Tries the newest session first: a record from an older association still opens
    /// with that association's keys.
    fn open(&mut self, r: &Record, from_client: bool) -> Option<Vec<u8>> {
        self.session_from_hellos();
        let aad = AadFields {
            epoch: r.header.epoch,
            sequence_number: r.header.sequence_number,
            content_type: r.header.content_type.get_u8(),
            version: r.header.version.get_u16().to_be_bytes(),
        };
        self.sessions.iter().rev().find_map(|s| {
            let p = if from_client {
                &s.client_write
            } else {
                &s.server_write
            };
            p.open(&aad, &r.fragment).ok()
        })
    }

    /// Once both hellos of a handshake were seen and the key log knows its client
    /// random, derives that session's record keys (RFC 5246 §6.3).
    fn session_from_hellos(&mut self) {
        let (Some(cr), Some(sr), Some(id)) = (self.client_random, self.server_random, self.suite)
        else {
            return;
        };
        if self.sessions.last().is_some_and(|s| s.client_random == cr) {
            return;
        }
        let Some(params) = suite_by_id(id) else {
            return;
        };
        let Some((_, master)) = self.secrets.iter().rev().find(|(r, _)| *r == cr) else {
            return;
        };
        let kb = derive_key_block(params, master, &cr, &sr);
        let client_write = record_protection(
            params,
            &kb.client_write_key,
            &kb.client_write_iv,
            &kb.client_write_mac_key,
        );
        let server_write = record_protection(
            params,
            &kb.server_write_key,
            &kb.server_write_iv,
            &kb.server_write_mac_key,
        );
        self.sessions.push(Session {
            client_random: cr,
            client_write,
            server_write,
        });
    }

    fn describe(&mut self, ct: ContentType, p: &[u8]) -> String {
        match ct {
            ContentType::Handshake => match HandshakeFragment::read_all(p) {
                Ok(frags) if !frags.is_empty() => frags
                    .iter()
                    .map(|f| self.fragment(f))
                    .collect::<Vec<_>>()
                    .join(", "),
                Ok(_) => "empty handshake record".into(),
                Err(e) => format!("malformed handshake: {e}"),
            },
            ContentType::ChangeCipherSpec => {
                if p == [1] {
                    "ChangeCipherSpec".into()
                } else {
                    format!("ChangeCipherSpec {}", hex::encode(p))
                }
            }
            ContentType::Alert => match p {
                [level, desc] => format!(
                    "{} alert {}",
                    AlertLevel::from(*level),
                    AlertDescription::from(*desc)
                ),
                _ => format!("malformed alert {}", hex::encode(p)),
            },
            ContentType::ApplicationData => application_data(p),
            _ => format!("{} bytes", p.len()),
        }
    }

    /// One handshake fragment; remembers the randoms and suite the keys depend on.
    fn fragment(&mut self, f: &HandshakeFragment) -> String {
        let ctx = ParseContext {
            kx: self
                .suite
                .and_then(|s| KeyExchangeKind::from_suite(s.into()))
                .unwrap_or_default(),
            ..ParseContext::default()
        };
        match HandshakeMessage::read_unfragmented(f, &ctx) {
            Ok(m) => {
                match &m {
                    HandshakeMessage::ClientHello(ch) => {
                        self.client_random = Some(ch.random);
                        self.server_random = None;
                        self.suite = None;
                    }
                    HandshakeMessage::ServerHello(sh) => {
                        self.server_random = Some(sh.random);
                        self.suite = Some(sh.cipher_suite.get_u16());
                    }
                    _ => {}
                }
                format!("{} (seq {})", m.summary(), f.header.message_seq)
            }
            Err(_) if !f.header.is_unfragmented() => format!(
                "{} fragment {}..{} of {} (seq {})",
                f.header.msg_type,
                f.header.fragment_offset,
                f.header.fragment_offset as u64 + f.header.fragment_length as u64,
                f.header.length,
                f.header.message_seq
            ),
            Err(e) => format!("{} (malformed: {e})", f.header.msg_type),
        }
    }
}

/// CoAP if it parses as CoAP (RFC 7252 §3), else text if it is text, else a length.
fn application_data(p: &[u8]) -> String {
    if let Ok(m) = CoapMessage::parse(p) {
        return coap(&m);
    }
    match std::str::from_utf8(p) {
        Ok(t) if !t.is_empty() && t.chars().all(|c| !c.is_control() || c == '\n') => {
            let short: String = t.chars().take(40).collect();
            let more = if t.chars().count() > 40 { "…" } else { "" };
            format!("application data {:?}{more}", short)
        }
        _ => format!("application data ({} bytes)", p.len()),
    }
}

/// `CoAP CON GET /.well-known/core mid=4097 token=1001`, `CoAP ACK 2.05 Content ...`.
fn coap(m: &CoapMessage) -> String {
    let code = match (m.code.class(), m.code.detail()) {
        (0, 0) => "Empty".to_string(),
        // Method codes, RFC 7252 §12.1.1 and RFC 8132 §4.
        (0, d) => match d {
            1 => "GET",
            2 => "POST",
            3 => "PUT",
            4 => "DELETE",
            5 => "FETCH",
            6 => "PATCH",
            7 => "iPATCH",
            _ => "",
        }
        .to_string(),
        _ => String::new(),
    };
    let code = if code.is_empty() {
        let name = response_name(m.code.0);
        format!("{}{}{name}", m.code, if name.is_empty() { "" } else { " " })
    } else {
        code
    };
    let mut s = format!("CoAP {} {code}", m.mtype.name());
    let path: Vec<String> = m
        .options
        .iter()
        .filter(|(n, _)| *n == crate::coap::URI_PATH)
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .collect();
    if !path.is_empty() {
        s.push_str(&format!(" /{}", path.join("/")));
    }
    s.push_str(&format!(
        " mid={} token={}",
        m.message_id,
        hex::encode(&m.token)
    ));
    if !m.payload.is_empty() {
        s.push_str(&format!(" {}B", m.payload.len()));
    }
    s
}

/// Names of the common response codes (RFC 7252 §12.1.2).
fn response_name(code: u8) -> &'static str {
    match (code >> 5, code & 0x1f) {
        (2, 1) => "Created",
        (2, 2) => "Deleted",
        (2, 3) => "Valid",
        (2, 4) => "Changed",
        (2, 5) => "Content",
        (4, 0) => "Bad Request",
        (4, 1) => "Unauthorized",
        (4, 2) => "Bad Option",
        (4, 4) => "Not Found",
        (4, 5) => "Method Not Allowed",
        (4, 15) => "Unsupported Content-Format",
        (5, 0) => "Internal Server Error",
        (5, 1) => "Not Implemented",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_never_panics_and_is_reported() {
        let caps = vec![
            Captured {
                micros: 0,
                from_dut: false,
                bytes: vec![22, 0xfe, 0xfd, 0, 0],
                dropped: false,
            },
            Captured {
                micros: 5,
                from_dut: true,
                bytes: vec![23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 3, 1, 2, 3],
                dropped: true,
            },
        ];
        let chart = decode(&caps, &["CLIENT_RANDOM zz".into()]);
        assert_eq!(chart.len(), 2);
        assert!(chart[0].records.is_empty());
        assert!(chart[0].malformed.as_deref().unwrap().contains("offset 0"));
        assert_eq!(chart[1].records[0].protection, Protection::Protected);
        assert_eq!(
            chart[1].records[0].summary,
            "protected application_data (3 bytes)"
        );
        assert!(chart[1].dropped);
    }

    #[test]
    fn coap_is_named_in_words() {
        let get = [
            0x40, 0x01, 0x10, 0x01, 0xb5, b'.', b'w', b'e', b'l', b'l', 0x04, b'c', b'o', b'r',
            b'e',
        ];
        assert_eq!(
            application_data(&get),
            "CoAP CON GET /.well/core mid=4097 token="
        );
        let ack = [0x61, 0x45, 0x10, 0x01, 0x7f, 0xff, b'h', b'i'];
        assert_eq!(
            application_data(&ack),
            "CoAP ACK 2.05 Content mid=4097 token=7f 2B"
        );
        assert_eq!(application_data(b"hello"), "application data \"hello\"");
        assert_eq!(application_data(&[0xff, 0]), "application data (2 bytes)");
    }
}
