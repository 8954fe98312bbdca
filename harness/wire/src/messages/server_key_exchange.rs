use crate::codec::{
    encode_opaque, read_opaque, read_opaque_nonempty, Codec, CodecAs, LengthPrefix, Reader,
};
use crate::enums::{ECCurveType, NamedGroup};
use crate::error::DecodeError;
use crate::messages::{DigitallySigned, KeyExchangeKind};

/// `ServerECDHParams` with a named curve (RFC 8422 §5.4). Its encoding is
/// what the server signs, after `client_random || server_random`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerEcdhParams {
    /// Always `named_curve` when read (RFC 8422 §5.4 deprecates the explicit
    /// forms); kept as a field so a script can send something else.
    pub curve_type: ECCurveType,
    pub named_group: NamedGroup,
    /// `ECPoint point`: `opaque point<1..2^8-1>`.
    pub public: Vec<u8>,
}

impl Codec for ServerEcdhParams {
    fn encode(&self, out: &mut Vec<u8>) {
        self.curve_type.encode(out);
        self.named_group.encode(out);
        encode_opaque(out, LengthPrefix::U8, &self.public);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let curve_type = ECCurveType::from(r.u8("ServerECDHParams.curve_params.curve_type")?);
        if curve_type != ECCurveType::NamedCurve {
            return Err(DecodeError::Invalid {
                what: "ServerECDHParams.curve_params.curve_type",
                detail: format!("{curve_type} (only named_curve is supported, RFC 8422 §5.4)"),
            });
        }
        Ok(Self {
            curve_type,
            named_group: NamedGroup::from(r.u16("ServerECDHParams.curve_params.namedcurve")?),
            public: read_opaque_nonempty(r, LengthPrefix::U8, "ServerECDHParams.public")?,
        })
    }
}

/// ServerKeyExchange (RFC 5246 §7.4.3), read according to the key exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerKeyExchange {
    /// RFC 4279 §2: `opaque psk_identity_hint<0..2^16-1>`.
    Psk { identity_hint: Vec<u8> },
    /// RFC 8422 §5.4: parameters and their signature.
    Ecdhe {
        params: ServerEcdhParams,
        signature: DigitallySigned,
    },
    /// Uninterpreted body (read with [`KeyExchangeKind::Opaque`]).
    Raw(Vec<u8>),
}

impl CodecAs<KeyExchangeKind> for ServerKeyExchange {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Psk { identity_hint } => encode_opaque(out, LengthPrefix::U16, identity_hint),
            Self::Ecdhe { params, signature } => {
                params.encode(out);
                signature.encode(out);
            }
            Self::Raw(raw) => out.extend_from_slice(raw),
        }
    }

    fn read_as(r: &mut Reader<'_>, kind: KeyExchangeKind) -> Result<Self, DecodeError> {
        Ok(match kind {
            KeyExchangeKind::Psk => Self::Psk {
                identity_hint: read_opaque(
                    r,
                    LengthPrefix::U16,
                    "ServerKeyExchange.psk_identity_hint",
                )?,
            },
            KeyExchangeKind::EcdheEcdsa => Self::Ecdhe {
                params: ServerEcdhParams::read(r)?,
                signature: DigitallySigned::read(r)?,
            },
            KeyExchangeKind::Opaque => Self::Raw(r.rest().to_vec()),
        })
    }
}
