//! The fields of an observation a case can `match` or `keep`, and names as cases write them.

use super::*;

pub(super) fn show(v: &Var) -> String {
    match v {
        Var::Bytes(b) => format!("0x{}", hex::encode(b)),
        Var::Number(n) => n.to_string(),
        Var::Datagrams(d) => format!("{} datagram(s)", d.len()),
    }
}

/// Fields of an observation a case can check or keep.
pub(super) fn field_value(
    o: &Observation,
    record: Option<dicetest_wire::RecordHeader>,
    field: &str,
) -> Option<Var> {
    // The header of the record that carried it (RFC 6347 §4.1), whatever it carried.
    if let Some(h) = record {
        let n = |v: u64| Some(Var::Number(v));
        match field {
            "record.version" => return n(u64::from(h.version.get_u16())),
            "record.epoch" => return n(u64::from(h.epoch)),
            "record.sequence_number" => return n(h.sequence_number),
            "record.length" => return n(u64::from(h.length)),
            "record.content_type" => return n(u64::from(h.content_type.get_u8())),
            _ => {}
        }
    }
    if let Observation::Handshake {
        message,
        message_seq,
        epoch,
        ..
    } = o
    {
        match field {
            "message_seq" => return Some(Var::Number(u64::from(*message_seq))),
            "epoch" => return Some(Var::Number(u64::from(*epoch))),
            _ => {}
        }
        return match (message, field) {
            (HandshakeMessage::HelloVerifyRequest(h), "cookie") => {
                Some(Var::Bytes(h.cookie.clone()))
            }
            (HandshakeMessage::HelloVerifyRequest(h), "server_version") => {
                Some(Var::Number(u64::from(h.server_version.get_u16())))
            }
            (HandshakeMessage::ServerHello(s), "server_version") => {
                Some(Var::Number(u64::from(s.server_version.get_u16())))
            }
            (HandshakeMessage::ServerHello(s), "random") => Some(Var::Bytes(s.random.to_vec())),
            (HandshakeMessage::ServerHello(s), "session_id") => {
                Some(Var::Bytes(s.session_id.clone()))
            }
            (HandshakeMessage::ServerHello(s), "cipher_suite") => {
                Some(Var::Number(u64::from(s.cipher_suite.get_u16())))
            }
            (HandshakeMessage::ServerHello(s), "compression_method") => {
                Some(Var::Number(u64::from(s.compression_method.get_u8())))
            }
            (HandshakeMessage::ServerHello(s), "extended_master_secret") => Some(Var::Number(
                u64::from(s.extensions.as_ref().is_some_and(|x| {
                    x.iter()
                        .any(|e| e.ext_type() == dicetest_wire::ExtensionType::ExtendedMasterSecret)
                })),
            )),
            (HandshakeMessage::ServerHello(s), "renegotiation_info") => Some(Var::Number(
                u64::from(s.extensions.as_ref().is_some_and(|x| {
                    x.iter()
                        .any(|e| e.ext_type() == dicetest_wire::ExtensionType::RenegotiationInfo)
                })),
            )),
            (HandshakeMessage::Finished(f), "verify_data") => {
                Some(Var::Bytes(f.verify_data.clone()))
            }
            (HandshakeMessage::ClientHello(c), "random") => Some(Var::Bytes(c.random.to_vec())),
            (HandshakeMessage::ClientHello(c), "cookie") => Some(Var::Bytes(c.cookie.clone())),
            (HandshakeMessage::ClientHello(c), "session_id") => {
                Some(Var::Bytes(c.session_id.clone()))
            }
            (HandshakeMessage::ClientHello(c), "client_version") => {
                Some(Var::Number(u64::from(c.client_version.get_u16())))
            }
            (HandshakeMessage::ClientHello(c), "cipher_suites") => Some(Var::Bytes(
                c.cipher_suites
                    .iter()
                    .flat_map(|x| x.get_u16().to_be_bytes())
                    .collect(),
            )),
            (HandshakeMessage::ClientHello(c), "compression_methods") => Some(Var::Bytes(
                c.compression_methods.iter().map(|x| x.get_u8()).collect(),
            )),
            (HandshakeMessage::ClientHello(c), "extended_master_secret") => Some(Var::Number(
                u64::from(c.extensions.as_ref().is_some_and(|x| {
                    x.iter()
                        .any(|e| e.ext_type() == dicetest_wire::ExtensionType::ExtendedMasterSecret)
                })),
            )),
            (HandshakeMessage::ClientHello(c), "offers_psk_ccm8") => Some(Var::Number(u64::from(
                c.cipher_suites.iter().any(|x| x.get_u16() == 0xC0A8),
            ))),
            _ => None,
        };
    }
    if let (Observation::Alert { level, .. }, "level") = (o, field) {
        return Some(Var::Bytes(level.to_string().into_bytes()));
    }
    None
}

pub(super) fn expectation_name(e: &Expect) -> String {
    if let Some(m) = &e.message {
        m.clone()
    } else if let Some(a) = &e.alert {
        if a == "any" {
            "an alert".to_string()
        } else if a.starts_with(['a', 'e', 'i', 'o', 'u']) {
            format!("an {a} alert")
        } else {
            format!("a {a} alert")
        }
    } else if e.change_cipher_spec.is_some() {
        "ChangeCipherSpec".into()
    } else if e.coap.is_some() {
        "a CoAP response".into()
    } else if e.probe_reply.is_some() {
        "the answer to the probe".into()
    } else {
        "application data".into()
    }
}

#[cfg(test)]
mod tests {
    use crate::cases::fields::{Use, ANY_HANDSHAKE, ANY_RECORD, FIELDS};

    const SEND: &str = include_str!("send.rs");
    const CHECK: &str = concat!(include_str!("fields.rs"), include_str!("expect.rs"));

    /// The table (cases/fields.rs) and the interpreter cannot drift apart: every field the
    /// loader lets through is read here, and every field read here is in the table.
    #[test]
    fn every_declared_field_is_understood_and_every_understood_field_declared() {
        for f in FIELDS {
            let lit = format!("\"{}\"", f.name);
            if f.used != Use::Check {
                assert!(SEND.contains(&lit), "send.rs never reads with: {}", f.name);
            }
            if f.used != Use::Send {
                assert!(CHECK.contains(&lit), "match: {} is not checked", f.name);
            }
        }
        // The other way: `(HandshakeMessage::X(..), "name")` arms of field_value.
        let whole = include_str!("fields.rs");
        let src = &whole[..whole.find("#[cfg(test)]").unwrap_or(whole.len())];
        for (i, _) in src.match_indices("(HandshakeMessage::") {
            let arm = &src[i..src[i..].find("=>").map_or(src.len(), |e| i + e)];
            let Some(msg) = arm
                .strip_prefix("(HandshakeMessage::")
                .and_then(|r| r.split('(').next())
            else {
                continue;
            };
            let Some(name) = arm.split('"').nth(1) else {
                continue;
            };
            assert!(
                FIELDS
                    .iter()
                    .any(|f| f.name == name && (f.message == msg || f.message == ANY_HANDSHAKE)),
                "field_value reads {msg}.{name}, which cases/fields.rs does not declare"
            );
        }
        for (i, _) in src.match_indices("\"record.") {
            let name = src[i + 1..].split('"').next().unwrap_or_default();
            assert!(
                FIELDS
                    .iter()
                    .any(|f| f.name == name && f.message == ANY_RECORD),
                "{name} is not declared"
            );
        }
    }
}
