//! DTLS 1.2 wire formats for the dicetest harness.
//!
//! Pure encoding and decoding, no cryptography: record framing (RFC 6347
//! §4.1), handshake framing (RFC 6347 §4.2.2), handshake message bodies
//! (RFC 5246 §7.4, RFC 6347 §4.2.1, RFC 4279, RFC 8422, RFC 7250), hello
//! extensions (RFC 6066, RFC 7627, RFC 5746, RFC 7366, RFC 9146) and alerts.
//!
//! Two rules shape the API:
//! - decoding never panics, whatever the bytes, and every error names the
//!   field at fault ([`DecodeError`]);
//! - encoding writes exactly what the value says, including lengths that
//!   disagree with the data (headers keep their own `length` fields,
//!   `Unknown`/`Raw` variants are copied verbatim), because the harness must
//!   be able to send wrong DTLS on purpose.

pub mod codec;
mod display;
pub mod enums;
pub mod error;
pub mod extensions;
pub mod handshake;
pub mod message;
pub mod messages;
pub mod record;

#[cfg(any(test, feature = "proptest"))]
pub mod strategies;

#[cfg(test)]
mod tests;

pub use codec::{Codec, CodecAs, LengthPrefix, Reader};
pub use enums::{
    AlertDescription, AlertLevel, CertificateType, CipherSuite, ClientCertificateType,
    CompressionMethod, ContentType, ECCurveType, ECPointFormat, ExtensionType, HandshakeType,
    NamedGroup, ProtocolVersion, SignatureScheme,
};
pub use error::DecodeError;
pub use extensions::{
    duplicate_extension, find_extension, CertTypeList, Extension, ExtensionContext,
};
pub use handshake::{HandshakeFragment, HandshakeHeader, HANDSHAKE_HEADER_LEN};
pub use message::{encode_handshake, HandshakeMessage, ParseContext};
pub use messages::{
    Alert, Certificate, CertificateRequest, CertificateVerify, ChangeCipherSpec, ClientHello,
    ClientKeyExchange, DigitallySigned, Finished, HelloRequest, HelloVerifyRequest,
    KeyExchangeKind, ServerEcdhParams, ServerHello, ServerHelloDone, ServerKeyExchange,
};
pub use record::{
    encode_datagram, parse_datagram, DatagramParse, Record, RecordHeader, MAX_SEQUENCE_NUMBER,
    RECORD_HEADER_LEN,
};
