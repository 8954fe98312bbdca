use crate::codec::{encode_opaque, read_opaque, Codec, LengthPrefix, Reader};
use crate::enums::ProtocolVersion;
use crate::error::DecodeError;

/// HelloVerifyRequest (RFC 6347 §4.2.1): the stateless cookie exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelloVerifyRequest {
    pub server_version: ProtocolVersion,
    /// `opaque cookie<0..2^8-1>`.
    pub cookie: Vec<u8>,
}

impl Codec for HelloVerifyRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        self.server_version.encode(out);
        encode_opaque(out, LengthPrefix::U8, &self.cookie);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            server_version: ProtocolVersion::from(r.u16("HelloVerifyRequest.server_version")?),
            cookie: read_opaque(r, LengthPrefix::U8, "HelloVerifyRequest.cookie")?,
        })
    }
}
