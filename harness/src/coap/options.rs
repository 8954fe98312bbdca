//! CoAP options as case files write them: by their RFC name (`content_format`, `accept`,
//! `observe`, ...) or number, with integer values in the minimal uint encoding of RFC 7252
//! §3.2 and strings as UTF-8.

use serde_json::Value;

/// Registered option names and numbers (RFC 7252 §5.10 and §12.2, RFC 7641 §2 Observe,
/// RFC 7959 §2.1 Block1/Block2 and §4 Size2).
pub const OPTIONS: &[(&str, u16)] = &[
    ("if_match", 1),
    ("uri_host", 3),
    ("etag", 4),
    ("if_none_match", 5),
    ("observe", 6),
    ("uri_port", 7),
    ("location_path", 8),
    ("uri_path", 11),
    ("content_format", 12),
    ("max_age", 14),
    ("uri_query", 15),
    ("accept", 17),
    ("location_query", 20),
    ("block2", 23),
    ("block1", 27),
    ("size2", 28),
    ("proxy_uri", 35),
    ("proxy_scheme", 39),
    ("size1", 60),
];

/// The option number for a name (`content_format`) or a number written as text (`"12"`).
pub fn option_number(name: &str) -> Option<u16> {
    OPTIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, num)| *num)
        .or_else(|| name.parse().ok())
}

/// The name of an option number, for messages.
pub fn option_name(number: u16) -> String {
    OPTIONS
        .iter()
        .find(|(_, n)| *n == number)
        .map(|(name, _)| (*name).to_string())
        .unwrap_or_else(|| format!("option {number}"))
}

/// An unsigned integer in the shortest big-endian form (RFC 7252 §3.2: zero is empty).
pub fn uint(v: u64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes[first..].to_vec()
}

/// The values of one option as written: a number (uint), a string (UTF-8), `true` (an
/// empty value, for If-None-Match), or a list of these for a repeated option.
pub fn option_values(v: &Value) -> Result<Vec<Vec<u8>>, String> {
    match v {
        Value::Array(items) => items.iter().map(one_value).collect(),
        other => Ok(vec![one_value(other)?]),
    }
}

fn one_value(v: &Value) -> Result<Vec<u8>, String> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .map(uint)
            .ok_or(format!("{n} is not an unsigned integer")),
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Bool(true) => Ok(Vec::new()),
        other => Err(format!(
            "{other} is not an option value (a number, a string or true)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_put_in_any_order_are_encoded_in_ascending_order() {
        use super::super::{CoapMessage, Code, MessageType};
        let mut m =
            CoapMessage::request(MessageType::Confirmable, Code(1), 7, vec![1], "/a/b", b"");
        m.options.insert(0, (17, vec![40])); // Accept before Uri-Path: out of order
        let parsed = CoapMessage::parse(&m.encode()).unwrap();
        let numbers: Vec<u16> = parsed.options.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, [11, 11, 17]);
        assert_eq!(parsed.options[0].1, b"a");
        assert_eq!(parsed.options[1].1, b"b");
    }

    #[test]
    fn uints_are_minimal() {
        assert_eq!(uint(0), Vec::<u8>::new());
        assert_eq!(uint(50), vec![50]);
        assert_eq!(uint(256), vec![1, 0]);
        assert_eq!(uint(u64::MAX).len(), 8);
    }

    #[test]
    fn names_numbers_and_values() {
        assert_eq!(option_number("content_format"), Some(12));
        assert_eq!(option_number("17"), Some(17));
        assert_eq!(option_number("contentformat"), None);
        assert_eq!(option_name(6), "observe");
        assert_eq!(option_name(2048), "option 2048");
        assert_eq!(
            option_values(&serde_json::json!(["a", 1])).unwrap(),
            vec![b"a".to_vec(), vec![1]]
        );
        assert!(option_values(&serde_json::json!(-1)).is_err());
        assert!(option_values(&serde_json::json!(null)).is_err());
    }
}
