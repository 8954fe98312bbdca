use crate::codec::{encode_opaque, read_opaque, Codec, LengthPrefix, Reader};
use crate::enums::SignatureScheme;
use crate::error::DecodeError;

/// A TLS 1.2 `digitally-signed` element (RFC 5246 §4.7): the algorithm pair
/// and `opaque signature<0..2^16-1>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigitallySigned {
    pub scheme: SignatureScheme,
    pub signature: Vec<u8>,
}

impl Codec for DigitallySigned {
    fn encode(&self, out: &mut Vec<u8>) {
        self.scheme.encode(out);
        encode_opaque(out, LengthPrefix::U16, &self.signature);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            scheme: SignatureScheme::from(r.u16("DigitallySigned.algorithm")?),
            signature: read_opaque(r, LengthPrefix::U16, "DigitallySigned.signature")?,
        })
    }
}
