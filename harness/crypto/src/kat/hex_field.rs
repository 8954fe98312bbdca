//! Hex strings in vector files.

use core::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// Bytes written as a hex string; ASCII whitespace is ignored so long
/// values can be split across lines.
#[derive(Clone, PartialEq, Eq, Default)]
pub(crate) struct Hex(pub Vec<u8>);

impl fmt::Debug for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct HexVisitor;
        impl Visitor<'_> for HexVisitor {
            type Value = Hex;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a hex string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Hex, E> {
                let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                hex::decode(&compact)
                    .map(Hex)
                    .map_err(|e| E::custom(format!("bad hex string: {e}")))
            }
        }
        d.deserialize_str(HexVisitor)
    }
}

impl Hex {
    /// The bytes as a fixed-size array, or a message naming the field.
    pub fn array<const N: usize>(&self, field: &str) -> Result<[u8; N], String> {
        self.0
            .as_slice()
            .try_into()
            .map_err(|_| format!("{field} is {} bytes, expected {N}", self.0.len()))
    }
}
