use crate::codec::LengthPrefix;
use crate::codec::{encode_opaque, Codec, Reader};
use crate::enums::{CipherSuite, CompressionMethod, ProtocolVersion};
use crate::error::DecodeError;
use crate::extensions::{encode_extensions, read_extensions, Extension, ExtensionContext};
use crate::messages::read_session_id;

/// ServerHello (RFC 5246 §7.4.1.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerHello {
    pub server_version: ProtocolVersion,
    pub random: [u8; 32],
    /// `SessionID session_id<0..32>`.
    pub session_id: Vec<u8>,
    pub cipher_suite: CipherSuite,
    pub compression_method: CompressionMethod,
    /// `None`: no extensions block at all (not even its length).
    pub extensions: Option<Vec<Extension>>,
}

impl Codec for ServerHello {
    fn encode(&self, out: &mut Vec<u8>) {
        self.server_version.encode(out);
        out.extend_from_slice(&self.random);
        encode_opaque(out, LengthPrefix::U8, &self.session_id);
        self.cipher_suite.encode(out);
        self.compression_method.encode(out);
        encode_extensions(out, self.extensions.as_deref());
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            server_version: ProtocolVersion::from(r.u16("ServerHello.server_version")?),
            random: r.array("ServerHello.random")?,
            session_id: read_session_id(r, "ServerHello.session_id")?,
            cipher_suite: CipherSuite::from(r.u16("ServerHello.cipher_suite")?),
            compression_method: CompressionMethod::from(r.u8("ServerHello.compression_method")?),
            extensions: read_extensions(r, ExtensionContext::ServerHello)?,
        })
    }
}
