use crate::codec::{
    encode_opaque, read_opaque, read_opaque_nonempty, CodecAs, LengthPrefix, Reader,
};
use crate::error::DecodeError;
use crate::messages::KeyExchangeKind;

/// ClientKeyExchange (RFC 5246 §7.4.7), read according to the key exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientKeyExchange {
    /// RFC 4279 §2: `opaque psk_identity<0..2^16-1>`.
    Psk { identity: Vec<u8> },
    /// RFC 8422 §5.7: explicit `ClientECDiffieHellmanPublic`,
    /// `opaque point<1..2^8-1>`.
    Ecdhe { public: Vec<u8> },
    /// Uninterpreted body (read with [`KeyExchangeKind::Opaque`]).
    Raw(Vec<u8>),
}

impl CodecAs<KeyExchangeKind> for ClientKeyExchange {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Psk { identity } => encode_opaque(out, LengthPrefix::U16, identity),
            Self::Ecdhe { public } => encode_opaque(out, LengthPrefix::U8, public),
            Self::Raw(raw) => out.extend_from_slice(raw),
        }
    }

    fn read_as(r: &mut Reader<'_>, kind: KeyExchangeKind) -> Result<Self, DecodeError> {
        Ok(match kind {
            KeyExchangeKind::Psk => Self::Psk {
                identity: read_opaque(r, LengthPrefix::U16, "ClientKeyExchange.psk_identity")?,
            },
            KeyExchangeKind::EcdheEcdsa => Self::Ecdhe {
                public: read_opaque_nonempty(r, LengthPrefix::U8, "ClientKeyExchange.ecdh_Yc")?,
            },
            KeyExchangeKind::Opaque => Self::Raw(r.rest().to_vec()),
        })
    }
}
