//! Hello extensions as a case writes them (`with: {extensions: [...]}`,
//! `add_extensions`, `remove_extensions` of a ClientHello or a ServerHello the harness
//! sends): the loader checks them here, the interpreter builds them from here, `explain`
//! describes them from here.
//!
//! An item of a list is one of
//! - a name or type number (`extended_master_secret`, `0x7a7a`): the engine's own
//!   extension of that type, as it would send it, or, when the engine sends none, that
//!   extension with an empty body (the RFCs' empty forms: RFC 7627 §5.1, RFC 7366 §2, RFC
//!   5746 §3.4; any type whose body the engine does not interpret);
//! - a named extension with its fields: `{max_fragment_length: {length: 512}}` (RFC 6066
//!   §4), and the others [`NAMED`] lists;
//! - raw bytes: `{type: 0x7a7a, data: "0001 $cookie 00"}`: any type number, and
//!   `extension_data` as hex in which `$name` stands for the bytes of a kept variable (a
//!   name ends at a space or the end; spaces between hex digits are ignored), or as a list
//!   of parts, each hex or `$name` (`data: ["0001", $cookie]`). No length is added: write
//!   the lengths the extension's syntax has.

use dicetest_wire::{
    CertTypeList, CertificateType, ECPointFormat, Extension, ExtensionType, NamedGroup,
    SignatureScheme,
};
use serde_json::Value;

/// One part of raw `extension_data`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Hex(Vec<u8>),
    /// `$name`: the bytes of a kept variable, when the case runs.
    Var(String),
}

/// One item of an extensions list, as written.
#[derive(Clone, Debug, PartialEq)]
pub enum ExtSpec {
    /// A bare name: the engine's own, else the empty form.
    Name(ExtensionType),
    /// A named extension with its fields.
    Named(ExtensionType, serde_json::Map<String, Value>),
    /// Any type, raw data.
    Raw { typ: u16, data: Vec<Part> },
}

/// Named extensions that take fields: (name, fields, how they are written).
pub const NAMED: &[(&str, &str)] = &[
    (
        "max_fragment_length",
        "length: 512|1024|2048|4096 (RFC 6066 §4 codes 1-4), or code: 0-255 (any byte, invalid ones included)",
    ),
    ("extended_master_secret", "none (RFC 7627 §5.1: empty)"),
    ("encrypt_then_mac", "none (RFC 7366 §2: empty)"),
    (
        "renegotiation_info",
        "renegotiated_connection: hex (RFC 5746 §3.2; empty by default)",
    ),
    ("heartbeat", "mode: 1 or 2 (RFC 6520 §2)"),
    ("server_name", "host_name: text (RFC 6066 §3)"),
    ("session_ticket", "ticket: hex (RFC 5077 §3.2; empty by default)"),
    ("connection_id", "cid: hex (RFC 9146 §3)"),
    ("supported_groups", "groups: [secp256r1 or numbers] (RFC 8422 §5.1.1)"),
    ("ec_point_formats", "formats: [numbers] (RFC 8422 §5.1.2)"),
    ("signature_algorithms", "schemes: [numbers] (RFC 5246 §7.4.1.4.1)"),
    (
        "client_certificate_type",
        "types: [numbers] (a ClientHello's list) or selected: number (a ServerHello's), RFC 7250 §3",
    ),
    (
        "server_certificate_type",
        "types: [numbers] or selected: number, RFC 7250 §3",
    ),
];

/// How a list is written, for the field table.
pub const DESCRIBE: &str =
    "a list of extensions: a name, {NAME: {fields}} or {type: N, data: HEX with $var parts}";

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

/// An extension type by name (`max_fragment_length`) or number (`1`, `"0x7a7a"`).
pub fn ext_type(v: &Value) -> Result<ExtensionType, String> {
    if let Some(n) = uint(v) {
        return u16::try_from(n)
            .map(ExtensionType::from)
            .map_err(|_| format!("extension type {n} does not fit 16 bits"));
    }
    let name = v
        .as_str()
        .ok_or_else(|| format!("{v} is not an extension name or number"))?;
    (0u16..64)
        .chain([0xff01])
        .map(ExtensionType::from)
        .find(|t| t.name() == Some(name))
        .ok_or_else(|| {
            format!(
                "{name:?} is not an extension name ({}), nor a number",
                super::fields::known_extension_names().join(", ")
            )
        })
}

/// Raw `extension_data`: hex with `$name` parts, or a list of parts.
pub fn parse_data(v: &Value) -> Result<Vec<Part>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => parse_data_str(s),
        Value::Array(items) => {
            let mut out = Vec::new();
            for i in items {
                match i {
                    Value::String(s) => out.extend(parse_data_str(s)?),
                    other => return Err(format!("data part {other} is neither hex nor $var")),
                }
            }
            Ok(out)
        }
        other => Err(format!(
            "data {other} is neither hex nor a list of hex and $var parts"
        )),
    }
}

fn parse_data_str(s: &str) -> Result<Vec<Part>, String> {
    let mut out = Vec::new();
    let mut hex_run = String::new();
    let flush = |run: &mut String, out: &mut Vec<Part>| -> Result<(), String> {
        if !run.is_empty() {
            let b = hex::decode(&*run).map_err(|e| format!("data {run:?} is not hex: {e}"))?;
            out.push(Part::Hex(b));
            run.clear();
        }
        Ok(())
    };
    for w in s.split(' ') {
        // `0001$cookie`: hex, then a variable to the end of the word.
        let (hex_part, var) = match w.find('$') {
            Some(i) => (&w[..i], Some(&w[i + 1..])),
            None => (w, None),
        };
        hex_run.push_str(hex_part);
        if let Some(name) = var {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(format!("data: ${name} is not a variable name"));
            }
            flush(&mut hex_run, &mut out)?;
            out.push(Part::Var(name.to_string()));
        }
    }
    flush(&mut hex_run, &mut out)?;
    Ok(out)
}

/// One item of a list, as written.
pub fn parse_item(v: &Value) -> Result<ExtSpec, String> {
    match v {
        Value::String(_) | Value::Number(_) => ext_type(v).map(ExtSpec::Name),
        Value::Object(m) if m.contains_key("type") => {
            for k in m.keys() {
                if k != "type" && k != "data" {
                    return Err(format!("a raw extension has type and data, not {k:?}"));
                }
            }
            let typ = m
                .get("type")
                .and_then(uint)
                .filter(|n| *n <= 0xffff)
                .ok_or_else(|| {
                    format!(
                        "type {} is not a 16-bit number",
                        m.get("type").cloned().unwrap_or_default()
                    )
                })? as u16;
            let data = parse_data(m.get("data").unwrap_or(&Value::Null))?;
            Ok(ExtSpec::Raw { typ, data })
        }
        Value::Object(m) if m.len() == 1 => {
            let (name, fields) = m.iter().next().expect("one entry");
            let t = ext_type(&Value::String(name.clone()))?;
            let fields = match fields {
                Value::Object(f) => f.clone(),
                Value::Null => Default::default(),
                other => {
                    return Err(format!(
                        "{name}: its fields are a mapping ({{field: value}}), not {other}"
                    ))
                }
            };
            // Checked now, with variables standing for no bytes.
            build_named(t, &fields, &|_| Ok(Vec::new()))?;
            Ok(ExtSpec::Named(t, fields))
        }
        other => Err(format!(
            "extension {other}: write a name, {{NAME: {{fields}}}} or {{type: N, data: HEX}}"
        )),
    }
}

/// A whole list.
pub fn parse_list(v: &Value) -> Result<Vec<ExtSpec>, String> {
    v.as_array()
        .ok_or_else(|| format!("{v} is not a list of extensions"))?
        .iter()
        .map(parse_item)
        .collect()
}

/// The `$var`s a list uses (for the loader's kept-before-used check).
pub fn vars_used(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for item in parse_list(v).unwrap_or_default() {
        match item {
            ExtSpec::Raw { data, .. } => out.extend(data.into_iter().filter_map(|p| match p {
                Part::Var(n) => Some(n),
                Part::Hex(_) => None,
            })),
            ExtSpec::Named(_, fields) => out.extend(
                fields
                    .values()
                    .filter_map(|f| f.as_str()?.strip_prefix('$').map(str::to_string)),
            ),
            ExtSpec::Name(_) => {}
        }
    }
    out
}

/// A named extension built from its fields; `bytes` reads a hex or `$var` value.
pub fn build_named(
    t: ExtensionType,
    fields: &serde_json::Map<String, Value>,
    bytes: &dyn Fn(&Value) -> Result<Vec<u8>, String>,
) -> Result<Extension, String> {
    let name = t.name().unwrap_or("extension");
    let allowed: &[&str] = match t {
        ExtensionType::MaxFragmentLength => &["length", "code"],
        ExtensionType::RenegotiationInfo => &["renegotiated_connection"],
        ExtensionType::Heartbeat => &["mode"],
        ExtensionType::ServerName => &["host_name"],
        ExtensionType::SessionTicket => &["ticket"],
        ExtensionType::ConnectionId => &["cid"],
        ExtensionType::SupportedGroups => &["groups"],
        ExtensionType::EcPointFormats => &["formats"],
        ExtensionType::SignatureAlgorithms => &["schemes"],
        ExtensionType::ClientCertificateType | ExtensionType::ServerCertificateType => {
            &["types", "selected"]
        }
        ExtensionType::ExtendedMasterSecret | ExtensionType::EncryptThenMac => &[],
        _ => {
            return Err(format!(
                "{name} has no named fields here: write {{type: {}, data: HEX}}",
                t.get_u16()
            ))
        }
    };
    if let Some(k) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "{name} has no field {k:?} ({})",
            NAMED
                .iter()
                .find(|(n, _)| *n == name)
                .map_or("", |(_, d)| d)
        ));
    }
    let num = |k: &str, max: u64| -> Result<Option<u64>, String> {
        fields
            .get(k)
            .map(|v| {
                uint(v)
                    .filter(|n| *n <= max)
                    .ok_or_else(|| format!("{name}.{k}: {v} is not a number of at most {max}"))
            })
            .transpose()
    };
    let list = |k: &str, max: u64| -> Result<Vec<u64>, String> {
        match fields.get(k) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    uint(i)
                        .or_else(|| {
                            // Groups by name (secp256r1).
                            let s = i.as_str()?;
                            (0u16..=512)
                                .chain(0xff01..=0xff02)
                                .find(|n| NamedGroup::from(*n).name() == Some(s))
                                .map(u64::from)
                        })
                        .filter(|n| *n <= max)
                        .ok_or_else(|| format!("{name}.{k}: {i} is not a number of at most {max}"))
                })
                .collect(),
            Some(other) => Err(format!("{name}.{k} takes a list, not {other}")),
        }
    };
    let hex_field =
        |k: &str| -> Result<Vec<u8>, String> { fields.get(k).map_or(Ok(Vec::new()), bytes) };
    Ok(match t {
        ExtensionType::MaxFragmentLength => {
            // RFC 6066 §4: 2^9(1), 2^10(2), 2^11(3), 2^12(4).
            let code = match (num("length", 1 << 16)?, num("code", 255)?) {
                (Some(_), Some(_)) => {
                    return Err("max_fragment_length: give length or code, not both".into())
                }
                (Some(l), None) => match l {
                    512 => 1,
                    1024 => 2,
                    2048 => 3,
                    4096 => 4,
                    _ => {
                        return Err(format!(
                        "max_fragment_length.length {l}: RFC 6066 §4 defines 512, 1024, 2048 and 4096 (write code: N for any other byte)"
                    ))
                    }
                },
                (None, Some(c)) => c as u8,
                (None, None) => {
                    return Err("max_fragment_length needs length (512, 1024, 2048, 4096) or code".into())
                }
            };
            Extension::MaxFragmentLength(code)
        }
        ExtensionType::ExtendedMasterSecret => Extension::ExtendedMasterSecret,
        ExtensionType::EncryptThenMac => Extension::EncryptThenMac,
        ExtensionType::RenegotiationInfo => {
            Extension::RenegotiationInfo(hex_field("renegotiated_connection")?)
        }
        ExtensionType::Heartbeat => Extension::Heartbeat(num("mode", 255)?.unwrap_or(1) as u8),
        ExtensionType::ServerName => {
            // RFC 6066 §3: ServerNameList of one host_name (type 0).
            let host = fields
                .get("host_name")
                .and_then(Value::as_str)
                .ok_or("server_name needs host_name: text")?
                .as_bytes();
            let mut raw = Vec::new();
            raw.extend_from_slice(&((host.len() + 3) as u16).to_be_bytes());
            raw.push(0);
            raw.extend_from_slice(&(host.len() as u16).to_be_bytes());
            raw.extend_from_slice(host);
            Extension::ServerName(raw)
        }
        ExtensionType::SessionTicket => Extension::SessionTicket(hex_field("ticket")?),
        ExtensionType::ConnectionId => Extension::ConnectionId(hex_field("cid")?),
        ExtensionType::SupportedGroups => Extension::SupportedGroups(
            list("groups", 0xffff)?
                .into_iter()
                .map(|n| NamedGroup::from(n as u16))
                .collect(),
        ),
        ExtensionType::EcPointFormats => Extension::EcPointFormats(
            list("formats", 255)?
                .into_iter()
                .map(|n| ECPointFormat::from(n as u8))
                .collect(),
        ),
        ExtensionType::SignatureAlgorithms => Extension::SignatureAlgorithms(
            list("schemes", 0xffff)?
                .into_iter()
                .map(|n| SignatureScheme::from(n as u16))
                .collect(),
        ),
        ExtensionType::ClientCertificateType | ExtensionType::ServerCertificateType => {
            let l = match num("selected", 255)? {
                Some(n) => CertTypeList::Selected(CertificateType::from(n as u8)),
                None => CertTypeList::Offer(
                    list("types", 255)?
                        .into_iter()
                        .map(|n| CertificateType::from(n as u8))
                        .collect(),
                ),
            };
            if t == ExtensionType::ClientCertificateType {
                Extension::ClientCertificateType(l)
            } else {
                Extension::ServerCertificateType(l)
            }
        }
        _ => unreachable!("refused above"),
    })
}

/// The empty form of an extension named bare that the engine does not send itself.
fn empty_form(t: ExtensionType) -> Result<Extension, String> {
    match t {
        ExtensionType::ExtendedMasterSecret => Ok(Extension::ExtendedMasterSecret),
        ExtensionType::EncryptThenMac => Ok(Extension::EncryptThenMac),
        ExtensionType::RenegotiationInfo => Ok(Extension::RenegotiationInfo(Vec::new())),
        ExtensionType::SessionTicket => Ok(Extension::SessionTicket(Vec::new())),
        // A type whose body the engine does not interpret: empty extension_data.
        _ if !dicetest_wire::extensions::INTERPRETED_EXTENSIONS.contains(&t) => Ok(Extension::Unknown {
            typ: t.get_u16(),
            data: Vec::new(),
        }),
        _ => Err(format!(
            "the engine sends no {} here, and it has no empty form: write {{{}: {{fields}}}} or {{type: {}, data: HEX}}",
            t.name().unwrap_or("extension"),
            t.name().unwrap_or("NAME"),
            t.get_u16()
        )),
    }
}

/// Builds the extensions a list names; `own` are the engine's, `bytes` reads a `$var`.
pub fn build(
    specs: &[ExtSpec],
    own: &[Extension],
    bytes: &dyn Fn(&Value) -> Result<Vec<u8>, String>,
) -> Result<Vec<Extension>, String> {
    specs
        .iter()
        .map(|s| match s {
            ExtSpec::Name(t) => match own.iter().find(|e| e.ext_type() == *t) {
                Some(e) => Ok(e.clone()),
                None => empty_form(*t),
            },
            ExtSpec::Named(t, fields) => build_named(*t, fields, bytes),
            ExtSpec::Raw { typ, data } => {
                let mut out = Vec::new();
                for p in data {
                    match p {
                        Part::Hex(b) => out.extend_from_slice(b),
                        Part::Var(n) => out.extend(bytes(&Value::String(format!("${n}")))?),
                    }
                }
                Ok(Extension::Unknown {
                    typ: *typ,
                    data: out,
                })
            }
        })
        .collect()
}

/// Applies `with:`'s extension keys to a hello's block, in a fixed order whatever the
/// order they are written in: `extensions` (the whole list), then `remove_extensions`,
/// then `add_extensions` (appended), then `no_extensions` (no block at all).
pub fn apply(
    block: &mut Option<Vec<Extension>>,
    with: &std::collections::BTreeMap<String, Value>,
    bytes: &dyn Fn(&Value) -> Result<Vec<u8>, String>,
) -> Result<(), String> {
    let own = block.clone().unwrap_or_default();
    if let Some(v) = with.get("extensions") {
        *block = Some(build(&parse_list(v)?, &own, bytes)?);
    }
    if let Some(v) = with.get("remove_extensions") {
        let gone: Vec<ExtensionType> = v
            .as_array()
            .ok_or("remove_extensions takes a list of names or numbers")?
            .iter()
            .map(ext_type)
            .collect::<Result<_, _>>()?;
        if let Some(b) = block.as_mut() {
            b.retain(|e| !gone.contains(&e.ext_type()));
        }
    }
    if let Some(v) = with.get("add_extensions") {
        let more = build(&parse_list(v)?, &own, bytes)?;
        block.get_or_insert_with(Vec::new).extend(more);
    }
    if with.contains_key("no_extensions") {
        *block = None;
    }
    Ok(())
}

/// The list in words, for `explain`.
pub fn describe(v: &Value) -> String {
    let Ok(items) = parse_list(v) else {
        return v.to_string();
    };
    if items.is_empty() {
        return "an empty extensions block".into();
    }
    let name = |t: &ExtensionType| {
        t.name()
            .map(str::to_string)
            .unwrap_or_else(|| format!("type {:#06x}", t.get_u16()))
    };
    items
        .iter()
        .map(|s| match s {
            ExtSpec::Name(t) => name(t),
            ExtSpec::Named(t, f) => {
                let fields: Vec<String> = f.iter().map(|(k, v)| format!("{k} {v}")).collect();
                if fields.is_empty() {
                    name(t)
                } else {
                    format!("{} ({})", name(t), fields.join(", "))
                }
            }
            ExtSpec::Raw { typ, data } => {
                let parts: Vec<String> = data
                    .iter()
                    .map(|p| match p {
                        Part::Hex(b) => hex::encode(b),
                        Part::Var(n) => format!("the bytes of ${n}"),
                    })
                    .collect();
                format!(
                    "extension type {typ:#06x} with data {}",
                    if parts.is_empty() {
                        "empty".to_string()
                    } else {
                        parts.join(" + ")
                    }
                )
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn no_vars(v: &Value) -> Result<Vec<u8>, String> {
        match v.as_str() {
            Some("$c") => Ok(vec![0xcc, 0xdd]),
            Some(s) if !s.starts_with('$') => hex::decode(s).map_err(|e| e.to_string()),
            _ => Err(format!("{v} unknown")),
        }
    }

    #[test]
    fn every_form_builds() {
        let own = vec![
            Extension::ExtendedMasterSecret,
            Extension::RenegotiationInfo(vec![]),
        ];
        let specs = parse_list(&json!([
            "renegotiation_info",
            {"max_fragment_length": {"length": 512}},
            {"type": "0x7a7a", "data": "0001$c"},
            {"type": 65000, "data": ["ff", "$c", "00"]},
            "encrypt_then_mac",
            "0x7a7a",
        ]))
        .unwrap();
        let built = build(&specs, &own, &no_vars).unwrap();
        assert_eq!(
            built,
            vec![
                Extension::RenegotiationInfo(vec![]),
                Extension::MaxFragmentLength(1),
                Extension::Unknown {
                    typ: 0x7a7a,
                    data: vec![0, 1, 0xcc, 0xdd]
                },
                Extension::Unknown {
                    typ: 65000,
                    data: vec![0xff, 0xcc, 0xdd, 0]
                },
                Extension::EncryptThenMac,
                Extension::Unknown {
                    typ: 0x7a7a,
                    data: vec![]
                },
            ]
        );
        assert_eq!(
            vars_used(&json!([{"type": 1, "data": "00 $c"}])),
            vec!["c".to_string()]
        );
    }

    #[test]
    fn mistakes_are_named() {
        for (bad, says) in [
            (json!([{"max_fragment_length": {"length": 500}}]), "512"),
            (json!([{"max_fragment_length": {}}]), "needs length"),
            (
                json!([{"max_fragment_length": {"size": 1}}]),
                "no field \"size\"",
            ),
            (json!(["max_fragment_lenght"]), "not an extension name"),
            (json!([{"type": 70000}]), "16-bit"),
            (json!([{"type": 1, "data": "0g"}]), "not hex"),
            (json!([{"type": 1, "blob": "00"}]), "type and data"),
            (json!(["heartbeat"]), "no empty form"),
        ] {
            let e = parse_list(&bad)
                .and_then(|l| build(&l, &[], &no_vars).map(|_| ()))
                .unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        // An invalid max_fragment_length code can be sent on purpose.
        let l = parse_list(&json!([{"max_fragment_length": {"code": 0}}])).unwrap();
        assert_eq!(
            build(&l, &[], &no_vars).unwrap(),
            vec![Extension::MaxFragmentLength(0)]
        );
    }

    #[test]
    fn edits_apply_in_a_fixed_order() {
        let mut block = Some(vec![
            Extension::ExtendedMasterSecret,
            Extension::RenegotiationInfo(vec![]),
        ]);
        let with: std::collections::BTreeMap<String, Value> = [
            ("add_extensions".to_string(), json!([{"type": 0x7a7a}])),
            (
                "remove_extensions".to_string(),
                json!(["extended_master_secret"]),
            ),
        ]
        .into_iter()
        .collect();
        apply(&mut block, &with, &no_vars).unwrap();
        assert_eq!(
            block,
            Some(vec![
                Extension::RenegotiationInfo(vec![]),
                Extension::Unknown {
                    typ: 0x7a7a,
                    data: vec![]
                }
            ])
        );
        // Reordering: the whole list, in the order wanted.
        let with: std::collections::BTreeMap<String, Value> = [(
            "extensions".to_string(),
            json!(["renegotiation_info", "extended_master_secret"]),
        )]
        .into_iter()
        .collect();
        let mut block = Some(vec![
            Extension::ExtendedMasterSecret,
            Extension::RenegotiationInfo(vec![]),
        ]);
        apply(&mut block, &with, &no_vars).unwrap();
        assert_eq!(
            block,
            Some(vec![
                Extension::RenegotiationInfo(vec![]),
                Extension::ExtendedMasterSecret
            ])
        );
    }
}
