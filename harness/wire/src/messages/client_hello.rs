use crate::codec::{
    encode_list, encode_opaque, read_fixed_list, read_opaque, Codec, LengthPrefix, MinItems, Reader,
};
use crate::enums::{CipherSuite, CompressionMethod, ProtocolVersion};
use crate::error::DecodeError;
use crate::extensions::{encode_extensions, read_extensions, Extension, ExtensionContext};
use crate::messages::read_session_id;

/// ClientHello (RFC 5246 §7.4.1.2 with the DTLS cookie of RFC 6347 §4.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientHello {
    pub client_version: ProtocolVersion,
    pub random: [u8; 32],
    /// `SessionID session_id<0..32>`.
    pub session_id: Vec<u8>,
    /// `opaque cookie<0..2^8-1>`.
    pub cookie: Vec<u8>,
    /// `CipherSuite cipher_suites<2..2^16-2>`.
    pub cipher_suites: Vec<CipherSuite>,
    /// `CompressionMethod compression_methods<1..2^8-1>`.
    pub compression_methods: Vec<CompressionMethod>,
    /// `None`: no extensions block at all (not even its length).
    pub extensions: Option<Vec<Extension>>,
}

impl Codec for ClientHello {
    fn encode(&self, out: &mut Vec<u8>) {
        self.client_version.encode(out);
        out.extend_from_slice(&self.random);
        encode_opaque(out, LengthPrefix::U8, &self.session_id);
        encode_opaque(out, LengthPrefix::U8, &self.cookie);
        encode_list(out, LengthPrefix::U16, &self.cipher_suites);
        encode_list(out, LengthPrefix::U8, &self.compression_methods);
        encode_extensions(out, self.extensions.as_deref());
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            client_version: ProtocolVersion::from(r.u16("ClientHello.client_version")?),
            random: r.array("ClientHello.random")?,
            session_id: read_session_id(r, "ClientHello.session_id")?,
            cookie: read_opaque(r, LengthPrefix::U8, "ClientHello.cookie")?,
            cipher_suites: read_fixed_list(
                r,
                LengthPrefix::U16,
                "ClientHello.cipher_suites",
                MinItems::One,
            )?,
            compression_methods: read_fixed_list(
                r,
                LengthPrefix::U8,
                "ClientHello.compression_methods",
                MinItems::One,
            )?,
            extensions: read_extensions(r, ExtensionContext::ClientHello)?,
        })
    }
}
