//! Every field a case may set on a message it sends (`with:`) or check on one it receives
//! (`match:`, `keep:`), declared once. The loader refuses what is not here, the JSON Schema
//! and `dicetest explain` describe it from here, and suites/README.md carries the table
//! generated from it (a test keeps the copy exact). The interpreter reads the same names
//! (runner/interpret/send.rs, fields.rs); a test there checks each entry is understood.

use serde_json::Value;

/// What a field's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Bytes as hex (`"0a0b"`), `null` for none; `Some(n)`: exactly n bytes.
    Bytes(Option<usize>),
    /// An unsigned number of at most this many bits: decimal, `"0x..."` hex.
    Uint(u32),
    /// A list of cipher suites: short names (`psk-ccm8`) or numbers.
    Suites,
    /// A list of one-byte numbers.
    ByteList,
    /// A list of extensions, each a name, a named one with fields, or a type number with
    /// raw data (`cases::extensions`); `[]` for an empty block.
    Extensions,
    /// A list of extension types, by name or number.
    ExtensionTypes,
    /// `$name` of datagrams kept by `keep_datagram` (a `send`'s, or those a `drop` lost).
    KeptDatagrams,
    /// `true`.
    Flag,
    /// `1` present, `0` absent.
    Presence,
    /// UTF-8 text.
    Text,
    /// `fatal` or `warning` (or their numbers, 2 and 1).
    AlertLevel,
    /// An alert description by name (`bad_record_mac`) or number (`20`).
    AlertDescription,
}

impl Kind {
    /// How a case writes it, for errors, the schema and the docs.
    pub fn describe(self) -> String {
        match self {
            Kind::Bytes(None) => "hex bytes, or null".into(),
            Kind::Bytes(Some(n)) => format!("{n} bytes as hex"),
            Kind::Uint(bits) => format!("a number of at most {bits} bits (decimal or \"0x..\")"),
            Kind::Suites => "a list of cipher suites (psk-ccm8, ... or numbers)".into(),
            Kind::ByteList => "a list of numbers 0-255".into(),
            Kind::Extensions => super::extensions::DESCRIBE.into(),
            Kind::ExtensionTypes => "a list of extension names or type numbers".into(),
            Kind::KeptDatagrams => "$name of datagrams kept with keep_datagram".into(),
            Kind::Flag => "true".into(),
            Kind::Presence => "1 (present) or 0 (absent)".into(),
            Kind::Text => "text".into(),
            Kind::AlertLevel => "fatal or warning".into(),
            Kind::AlertDescription => "an alert name (bad_record_mac) or number".into(),
        }
    }
}

/// Where a field may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// Only on a message the harness sends (`with:`).
    Send,
    /// Only on one it receives (`match:`, `keep:`).
    Check,
    Both,
}

/// One field of one message.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// The message (`ClientHello`), or [`ANY_HANDSHAKE`] / [`ANY_RECORD`] for fields every
    /// handshake message or every record has.
    pub message: &'static str,
    pub name: &'static str,
    pub kind: Kind,
    pub used: Use,
    pub doc: &'static str,
}

/// Fields of every handshake message (RFC 6347 §4.2.2 header).
pub const ANY_HANDSHAKE: &str = "any handshake message";
/// Fields of the record that carried what was received (RFC 6347 §4.1).
pub const ANY_RECORD: &str = "any record";

const fn f(
    message: &'static str,
    name: &'static str,
    kind: Kind,
    used: Use,
    doc: &'static str,
) -> Field {
    Field {
        message,
        name,
        kind,
        used,
        doc,
    }
}

use Kind::*;
use Use::*;

pub const FIELDS: &[Field] = &[
    f(
        "ClientHello",
        "client_version",
        Uint(16),
        Both,
        "client_version (0xfefd is DTLS 1.2)",
    ),
    f(
        "ClientHello",
        "random",
        Bytes(Some(32)),
        Both,
        "the 32-byte random",
    ),
    f(
        "ClientHello",
        "session_id",
        Bytes(None),
        Both,
        "the session id offered",
    ),
    f(
        "ClientHello",
        "cookie",
        Bytes(None),
        Both,
        "the cookie (RFC 6347 §4.2.1)",
    ),
    f(
        "ClientHello",
        "cipher_suites",
        Suites,
        Both,
        "the suites offered, in order (checked as their bytes)",
    ),
    f(
        "ClientHello",
        "compression_methods",
        ByteList,
        Both,
        "the compression methods offered (checked as their bytes)",
    ),
    f(
        "ClientHello",
        "extensions",
        Extensions,
        Send,
        "the whole extensions block, in this order (reorder, or send any; RFC 5246 §7.4.1.4): a name is the engine's own (else its empty form), {max_fragment_length: {length: 512}} a named one with fields, {type: 0x7a7a, data: \"0001 $var\"} any type with raw bytes",
    ),
    f(
        "ClientHello",
        "add_extensions",
        Extensions,
        Send,
        "extensions appended to the engine's own (forms as in extensions)",
    ),
    f(
        "ClientHello",
        "remove_extensions",
        ExtensionTypes,
        Send,
        "extension types taken out of the engine's own",
    ),
    f(
        "ClientHello",
        "no_extensions",
        Flag,
        Send,
        "send no extensions block at all",
    ),
    f(
        "ClientHello",
        "extended_master_secret",
        Presence,
        Check,
        "whether the extended_master_secret extension is offered (RFC 7627)",
    ),
    f(
        "ClientHello",
        "offers_psk_ccm8",
        Presence,
        Check,
        "whether TLS_PSK_WITH_AES_128_CCM_8 is offered (RFC 7925 §4.2)",
    ),
    f(
        "HelloVerifyRequest",
        "cookie",
        Bytes(None),
        Both,
        "the cookie",
    ),
    f(
        "HelloVerifyRequest",
        "server_version",
        Uint(16),
        Both,
        "server_version (RFC 6347 §4.2.1: 0xfeff is DTLS 1.0)",
    ),
    f(
        "ServerHello",
        "server_version",
        Uint(16),
        Both,
        "server_version",
    ),
    f(
        "ServerHello",
        "cipher_suite",
        Uint(16),
        Both,
        "the suite chosen",
    ),
    f(
        "ServerHello",
        "extensions",
        Extensions,
        Send,
        "the whole extensions block (as ClientHello's extensions; a name is the engine's answer to the DUT's offer)",
    ),
    f(
        "ServerHello",
        "add_extensions",
        Extensions,
        Send,
        "extensions appended to the engine's answer",
    ),
    f(
        "ServerHello",
        "remove_extensions",
        ExtensionTypes,
        Send,
        "extension types taken out of the engine's answer",
    ),
    f(
        "ServerHello",
        "no_extensions",
        Flag,
        Send,
        "send no extensions block at all",
    ),
    f(
        "ServerHello",
        "random",
        Bytes(Some(32)),
        Check,
        "the 32-byte random",
    ),
    f(
        "ServerHello",
        "session_id",
        Bytes(None),
        Check,
        "the session id",
    ),
    f(
        "ServerHello",
        "compression_method",
        Uint(8),
        Check,
        "the compression method chosen",
    ),
    f(
        "ServerHello",
        "extended_master_secret",
        Presence,
        Check,
        "whether extended_master_secret is in the ServerHello (RFC 7627)",
    ),
    f(
        "ServerHello",
        "renegotiation_info",
        Presence,
        Check,
        "whether renegotiation_info is in the ServerHello (RFC 5746)",
    ),
    f(
        "ServerKeyExchange",
        "identity_hint",
        Text,
        Send,
        "the PSK identity hint (RFC 4279 §2)",
    ),
    f(
        "ClientKeyExchange",
        "identity",
        Text,
        Send,
        "the PSK identity (RFC 4279 §2)",
    ),
    f(
        "Finished",
        "verify_data",
        Bytes(None),
        Both,
        "verify_data (RFC 5246 §7.4.9)",
    ),
    f(
        "ApplicationData",
        "text",
        Text,
        Send,
        "the application data, as text",
    ),
    f(
        "Alert",
        "level",
        AlertLevel,
        Both,
        "the alert level (RFC 5246 §7.2)",
    ),
    f(
        "Alert",
        "description",
        AlertDescription,
        Send,
        "the alert description",
    ),
    f(
        "Record",
        "payload",
        Bytes(None),
        Send,
        "the record's payload, protected under the current keys unless record.plaintext",
    ),
    f(
        ANY_HANDSHAKE,
        "message_seq",
        Uint(16),
        Check,
        "message_seq (RFC 6347 §4.2.2)",
    ),
    f(
        ANY_HANDSHAKE,
        "message_seq_step",
        Uint(16),
        Check,
        "how far message_seq is from the DUT's previous message's (1: the next number)",
    ),
    f(
        ANY_HANDSHAKE,
        "same_message_as",
        KeptDatagrams,
        Check,
        "the same message as the one of its type in the datagrams kept as $name (a drop's, say): message_seq and body byte for byte; the record around it is not compared (a retransmission has new sequence numbers, RFC 6347 §4.2.4); only plaintext (epoch 0) records of the kept datagrams can be read",
    ),
    f(
        ANY_HANDSHAKE,
        "epoch",
        Uint(16),
        Check,
        "the epoch it came in",
    ),
    f(
        ANY_RECORD,
        "record.version",
        Uint(16),
        Check,
        "the record header's version",
    ),
    f(
        ANY_RECORD,
        "record.epoch",
        Uint(16),
        Check,
        "the record header's epoch",
    ),
    f(
        ANY_RECORD,
        "record.sequence_number",
        Uint(48),
        Check,
        "the record header's sequence number",
    ),
    f(
        ANY_RECORD,
        "record.length",
        Uint(16),
        Check,
        "the record header's length",
    ),
    f(
        ANY_RECORD,
        "record.content_type",
        Uint(8),
        Check,
        "the record header's content type",
    ),
];

/// Messages the harness can send that are handshake messages (they take `fragments:` and
/// `message_seq:`).
pub const HANDSHAKE_MESSAGES: &[&str] = &[
    "HelloRequest",
    "ClientHello",
    "ServerHello",
    "HelloVerifyRequest",
    "ServerKeyExchange",
    "ServerHelloDone",
    "ClientKeyExchange",
    "Finished",
];

/// The fields a `send: message` may set.
pub fn sendable(message: &str) -> Vec<&'static Field> {
    FIELDS
        .iter()
        .filter(|x| x.message == message && x.used != Check)
        .collect()
}

/// The fields an expectation of `what` may check or keep: `Some(message)` for a handshake
/// message, `Some("Alert")` for an alert, `None` for anything else that came in a record.
pub fn checkable(what: Option<&str>) -> Vec<&'static Field> {
    let handshake = what.is_some_and(|m| m != "Alert");
    FIELDS
        .iter()
        .filter(|x| x.used != Send)
        .filter(|x| {
            x.message == ANY_RECORD
                || (handshake && x.message == ANY_HANDSHAKE)
                || Some(x.message) == what
        })
        .collect()
}

/// A `$var` reference: checked against the kept variables, not here.
fn is_var(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.starts_with('$'))
}

fn uint(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => match s.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).ok(),
            None => s.parse().ok(),
        },
        _ => None,
    }
}

/// An alert description by name or number.
pub fn alert_description(v: &Value) -> Option<dicetest_wire::AlertDescription> {
    if let Some(n) = uint(v) {
        return u8::try_from(n)
            .ok()
            .map(dicetest_wire::AlertDescription::from);
    }
    let name = v.as_str()?;
    (0u8..=255)
        .map(dicetest_wire::AlertDescription::from)
        .find(|d| d.to_string() == name)
}

/// The names of the alert descriptions RFC 5246 §7.2 and later RFCs define.
pub fn alert_names() -> Vec<String> {
    (0u8..=255)
        .map(dicetest_wire::AlertDescription::from)
        .filter_map(|d| d.name().map(str::to_string))
        .collect()
}

/// An alert level by name or number.
pub fn alert_level(v: &Value) -> Option<dicetest_wire::AlertLevel> {
    match (v.as_str(), uint(v)) {
        (Some("fatal"), _) | (_, Some(2)) => Some(dicetest_wire::AlertLevel::Fatal),
        (Some("warning"), _) | (_, Some(1)) => Some(dicetest_wire::AlertLevel::Warning),
        _ => None,
    }
}

/// Why `v` is not a value of `field`, if it is not. `$var` references pass (their kind is
/// known only when the case runs).
pub fn check_value(field: &Field, v: &Value) -> Result<(), String> {
    if is_var(v) {
        return Ok(());
    }
    let bad = || {
        Err(format!(
            "{} of {} takes {}, not {v}",
            field.name,
            field.message,
            field.kind.describe()
        ))
    };
    match field.kind {
        Bytes(len) => {
            let b = match v {
                Value::Null => Vec::new(),
                Value::String(s) => match hex::decode(s) {
                    Ok(b) => b,
                    Err(_) => return bad(),
                },
                _ => return bad(),
            };
            if let Some(n) = len {
                if b.len() != n {
                    return Err(format!(
                        "{} of {} takes exactly {n} bytes, not {}",
                        field.name,
                        field.message,
                        b.len()
                    ));
                }
            }
            Ok(())
        }
        Uint(bits) => match uint(v) {
            Some(n) if bits >= 64 || n < (1u64 << bits) => Ok(()),
            Some(n) => Err(format!(
                "{} of {} is a {bits}-bit number: {n} does not fit (at most {})",
                field.name,
                field.message,
                (1u64 << bits) - 1
            )),
            None => bad(),
        },
        Suites => match v.as_array() {
            Some(items)
                if items.iter().all(|i| {
                    is_var(i)
                        || i.as_str()
                            .is_some_and(|s| dicetest_crypto::suite_by_name(s).is_some())
                        || uint(i).is_some_and(|n| n <= 0xffff)
                }) =>
            {
                Ok(())
            }
            // A check compares the offered list's bytes.
            _ if field.used != Send && v.is_string() => Ok(()),
            _ => bad(),
        },
        ByteList => match v.as_array() {
            Some(items) if items.iter().all(|i| uint(i).is_some_and(|n| n <= 0xff)) => Ok(()),
            _ if field.used != Send && v.is_string() => Ok(()),
            _ => bad(),
        },
        Extensions => super::extensions::parse_list(v)
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", field.name)),
        ExtensionTypes => match v.as_array() {
            Some(items) => items
                .iter()
                .try_for_each(|i| super::extensions::ext_type(i).map(|_| ()))
                .map_err(|e| format!("{}: {e}", field.name)),
            None => bad(),
        },
        // A `$name` passed above; anything else is not a kept datagram.
        KeptDatagrams => bad(),
        Flag => match v {
            Value::Bool(true) => Ok(()),
            _ => bad(),
        },
        Presence => match uint(v) {
            Some(0 | 1) => Ok(()),
            _ => bad(),
        },
        Text => match v {
            Value::String(_) => Ok(()),
            _ => bad(),
        },
        AlertLevel => match alert_level(v) {
            Some(_) => Ok(()),
            None => bad(),
        },
        AlertDescription => match alert_description(v) {
            Some(_) => Ok(()),
            None => bad(),
        },
    }
}

/// Extension names the engine knows (the names `extensions:` lists).
pub fn known_extension_names() -> Vec<String> {
    (0u16..64)
        .chain([0xff01])
        .map(dicetest_wire::ExtensionType::from)
        .filter_map(|e| e.name().filter(|n| !n.contains('(')).map(str::to_string))
        .collect()
}

/// A `with:` entry in words, for `explain`.
pub fn describe_with(name: &str, v: &Value) -> String {
    match FIELDS.iter().find(|f| f.name == name).map(|f| f.kind) {
        Some(Extensions) if name == "add_extensions" => {
            format!("{} added", super::extensions::describe(v))
        }
        Some(Extensions) => format!(
            "the extensions {} (in this order)",
            super::extensions::describe(v)
        ),
        Some(ExtensionTypes) => format!(
            "without {}",
            v.as_array()
                .map(|a| a
                    .iter()
                    .map(|x| x.as_str().map_or(x.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        ),
        _ => format!("{name} = {v}"),
    }
}

/// A `match:` entry in words, for `explain`.
pub fn describe_match(name: &str, v: &Value) -> String {
    match FIELDS.iter().find(|f| f.name == name).map(|f| f.kind) {
        Some(KeptDatagrams) => format!(
            "it is the same message (message_seq and body) as in {}",
            v.as_str().unwrap_or_default()
        ),
        _ => format!("{name} = {v}"),
    }
}

/// The table as Markdown, for suites/README.md (kept exact by a test) and `explain`.
pub fn markdown_table() -> String {
    let mut s = String::from("| message | field | value | in | meaning |\n|---|---|---|---|---|\n");
    for x in FIELDS {
        s += &format!(
            "| {} | `{}` | {} | {} | {} |\n",
            x.message,
            x.name,
            x.kind.describe(),
            match x.used {
                Send => "with",
                // A comparison: nothing to keep.
                Check if x.kind == KeptDatagrams => "match",
                Check => "match, keep",
                Both => "with, match, keep",
            },
            x.doc
        );
    }
    s
}

/// The JSON Schema of `with:`: an object whose keys are fields some message takes; which
/// message takes which is in the description (the loader checks the pairing).
pub fn with_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    object_schema(
        "Field overrides of the sent message",
        FIELDS.iter().filter(|x| x.used != Check),
    )
}

/// The JSON Schema of `match:`.
pub fn match_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    object_schema(
        "Fields of the received message to check",
        FIELDS.iter().filter(|x| x.used != Send),
    )
}

fn object_schema<'a>(title: &str, fields: impl Iterator<Item = &'a Field>) -> schemars::Schema {
    let fields: Vec<&Field> = fields.collect();
    let mut names: Vec<&str> = fields.iter().map(|x| x.name).collect();
    names.sort_unstable();
    names.dedup();
    let lines: Vec<String> = fields
        .iter()
        .map(|x| {
            format!(
                "{}.{}: {} ({})",
                x.message,
                x.name,
                x.doc,
                x.kind.describe()
            )
        })
        .collect();
    schemars::json_schema!({
        "type": "object",
        "description": format!("{title}. {}", lines.join("; ")),
        "propertyNames": { "enum": names },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(m: &str, n: &str) -> &'static Field {
        FIELDS
            .iter()
            .find(|x| x.message == m && x.name == n)
            .expect("in the table")
    }

    #[test]
    fn values_are_checked_by_kind() {
        let seq = field(ANY_RECORD, "record.sequence_number");
        assert!(check_value(seq, &serde_json::json!(281474976710655u64)).is_ok());
        let e = check_value(seq, &serde_json::json!(281474976710656u64)).unwrap_err();
        assert!(e.contains("48-bit") && e.contains("does not fit"), "{e}");
        let lvl = field("Alert", "level");
        assert!(check_value(lvl, &serde_json::json!("warning")).is_ok());
        assert!(check_value(lvl, &serde_json::json!("Warning")).is_err());
        let d = field("Alert", "description");
        assert!(check_value(d, &serde_json::json!("bad_record_mac")).is_ok());
        assert!(check_value(d, &serde_json::json!(200)).is_ok());
        assert!(check_value(d, &serde_json::json!("bad_recod_mac")).is_err());
        let r = field("ClientHello", "random");
        assert!(check_value(r, &serde_json::json!("00")).is_err());
        assert!(check_value(r, &serde_json::json!("$kept")).is_ok());
    }

    #[test]
    fn the_table_has_no_duplicates_and_every_message_is_known() {
        let mut seen = std::collections::BTreeSet::new();
        for x in FIELDS {
            assert!(
                seen.insert((x.message, x.name)),
                "{} {} twice",
                x.message,
                x.name
            );
            assert!(
                [
                    ANY_HANDSHAKE,
                    ANY_RECORD,
                    "ApplicationData",
                    "Alert",
                    "Record"
                ]
                .contains(&x.message)
                    || HANDSHAKE_MESSAGES.contains(&x.message),
                "{}",
                x.message
            );
        }
    }

    #[test]
    fn alert_names_and_extension_names_are_the_wire_crates() {
        assert!(alert_names().contains(&"bad_record_mac".to_string()));
        assert!(known_extension_names().contains(&"extended_master_secret".to_string()));
        assert_eq!(
            alert_description(&serde_json::json!(20)),
            Some(dicetest_wire::AlertDescription::BadRecordMac)
        );
    }
}

#[cfg(test)]
mod docs {
    /// suites/README.md carries the table between its `fields:` markers, as generated.
    #[test]
    fn the_readme_table_is_the_declared_one() {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let readme = std::fs::read_to_string(root.join("suites/README.md")).unwrap_or_default();
        let begin = "<!-- fields:begin -->\n";
        let end = "<!-- fields:end -->";
        let inside = readme
            .split_once(begin)
            .and_then(|(_, rest)| rest.split_once(end))
            .map(|(t, _)| t)
            .unwrap_or_default();
        if inside != super::markdown_table() {
            eprintln!("<<<TABLE\n{}TABLE>>>", super::markdown_table());
        }
        assert_eq!(
            inside,
            super::markdown_table(),
            "suites/README.md's field table differs from harness/src/cases/fields.rs: paste `markdown_table()` (printed above) between the markers"
        );
    }
}
