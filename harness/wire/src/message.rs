//! The handshake message enum: dispatch on `msg_type`, encode with header.

use crate::codec::{Codec, CodecAs, Reader};
use crate::enums::{CertificateType, HandshakeType};
use crate::error::DecodeError;
use crate::handshake::{HandshakeFragment, HandshakeHeader};
use crate::messages::{
    Certificate, CertificateRequest, CertificateVerify, ClientHello, ClientKeyExchange, Finished,
    HelloRequest, HelloVerifyRequest, KeyExchangeKind, ServerHello, ServerHelloDone,
    ServerKeyExchange,
};

/// What the negotiation so far says about how to read context-dependent
/// bodies (key exchange: RFC 5246 §7.4.3; certificate form: RFC 7250 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseContext {
    pub kx: KeyExchangeKind,
    pub certificate_type: CertificateType,
}

impl Default for ParseContext {
    /// Key exchange not interpreted, X.509 certificates.
    fn default() -> Self {
        Self {
            kx: KeyExchangeKind::Opaque,
            certificate_type: CertificateType::X509,
        }
    }
}

/// Any DTLS 1.2 handshake message body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandshakeMessage {
    HelloRequest(HelloRequest),
    ClientHello(ClientHello),
    ServerHello(ServerHello),
    HelloVerifyRequest(HelloVerifyRequest),
    Certificate(Certificate),
    ServerKeyExchange(ServerKeyExchange),
    CertificateRequest(CertificateRequest),
    ServerHelloDone(ServerHelloDone),
    CertificateVerify(CertificateVerify),
    ClientKeyExchange(ClientKeyExchange),
    Finished(Finished),
    /// A type this crate does not parse (or one sent on purpose with a
    /// body that does not match its type).
    Unknown {
        msg_type: u8,
        body: Vec<u8>,
    },
}

impl HandshakeMessage {
    pub fn msg_type(&self) -> HandshakeType {
        match self {
            Self::HelloRequest(_) => HandshakeType::HelloRequest,
            Self::ClientHello(_) => HandshakeType::ClientHello,
            Self::ServerHello(_) => HandshakeType::ServerHello,
            Self::HelloVerifyRequest(_) => HandshakeType::HelloVerifyRequest,
            Self::Certificate(_) => HandshakeType::Certificate,
            Self::ServerKeyExchange(_) => HandshakeType::ServerKeyExchange,
            Self::CertificateRequest(_) => HandshakeType::CertificateRequest,
            Self::ServerHelloDone(_) => HandshakeType::ServerHelloDone,
            Self::CertificateVerify(_) => HandshakeType::CertificateVerify,
            Self::ClientKeyExchange(_) => HandshakeType::ClientKeyExchange,
            Self::Finished(_) => HandshakeType::Finished,
            Self::Unknown { msg_type, .. } => HandshakeType::from(*msg_type),
        }
    }

    /// The body bytes (no handshake header).
    pub fn encode_body(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Self::HelloRequest(m) => m.encode(&mut out),
            Self::ClientHello(m) => m.encode(&mut out),
            Self::ServerHello(m) => m.encode(&mut out),
            Self::HelloVerifyRequest(m) => m.encode(&mut out),
            Self::Certificate(m) => m.encode(&mut out),
            Self::ServerKeyExchange(m) => m.encode(&mut out),
            Self::CertificateRequest(m) => m.encode(&mut out),
            Self::ServerHelloDone(m) => m.encode(&mut out),
            Self::CertificateVerify(m) => m.encode(&mut out),
            Self::ClientKeyExchange(m) => m.encode(&mut out),
            Self::Finished(m) => m.encode(&mut out),
            Self::Unknown { body, .. } => out.extend_from_slice(body),
        }
        out
    }

    /// Decodes a complete (reassembled) body. Every byte must belong to the
    /// message; types not parsed here come back as `Unknown`.
    pub fn read_body(
        msg_type: HandshakeType,
        body: &[u8],
        ctx: &ParseContext,
    ) -> Result<HandshakeMessage, DecodeError> {
        let mut r = Reader::new(body);
        let r = &mut r;
        let (msg, what) = match msg_type {
            HandshakeType::HelloRequest => {
                (Self::HelloRequest(HelloRequest::read(r)?), "HelloRequest")
            }
            HandshakeType::ClientHello => (Self::ClientHello(ClientHello::read(r)?), "ClientHello"),
            HandshakeType::ServerHello => (Self::ServerHello(ServerHello::read(r)?), "ServerHello"),
            HandshakeType::HelloVerifyRequest => (
                Self::HelloVerifyRequest(HelloVerifyRequest::read(r)?),
                "HelloVerifyRequest",
            ),
            HandshakeType::Certificate => (
                Self::Certificate(Certificate::read_as(r, ctx.certificate_type)?),
                "Certificate",
            ),
            HandshakeType::ServerKeyExchange => (
                Self::ServerKeyExchange(ServerKeyExchange::read_as(r, ctx.kx)?),
                "ServerKeyExchange",
            ),
            HandshakeType::CertificateRequest => (
                Self::CertificateRequest(CertificateRequest::read(r)?),
                "CertificateRequest",
            ),
            HandshakeType::ServerHelloDone => (
                Self::ServerHelloDone(ServerHelloDone::read(r)?),
                "ServerHelloDone",
            ),
            HandshakeType::CertificateVerify => (
                Self::CertificateVerify(CertificateVerify::read(r)?),
                "CertificateVerify",
            ),
            HandshakeType::ClientKeyExchange => (
                Self::ClientKeyExchange(ClientKeyExchange::read_as(r, ctx.kx)?),
                "ClientKeyExchange",
            ),
            HandshakeType::Finished => (Self::Finished(Finished::read(r)?), "Finished"),
            other => (
                Self::Unknown {
                    msg_type: other.get_u8(),
                    body: r.rest().to_vec(),
                },
                "handshake body",
            ),
        };
        r.expect_end(what)?;
        Ok(msg)
    }

    /// Decodes the message carried whole by one fragment; a partial fragment
    /// is a [`DecodeError::LengthMismatch`] (reassemble first).
    pub fn read_unfragmented(
        frag: &HandshakeFragment,
        ctx: &ParseContext,
    ) -> Result<HandshakeMessage, DecodeError> {
        if !frag.header.is_unfragmented() || frag.body.len() != frag.header.length as usize {
            return Err(DecodeError::LengthMismatch {
                what: "Handshake.length (message is fragmented)",
                declared: frag.header.length as usize,
                actual: frag.body.len(),
            });
        }
        Self::read_body(frag.header.msg_type, &frag.body, ctx)
    }

    /// The message as one unfragmented fragment.
    pub fn to_fragment(&self, message_seq: u16) -> HandshakeFragment {
        let body = self.encode_body();
        HandshakeFragment {
            header: HandshakeHeader::unfragmented(self.msg_type(), message_seq, body.len()),
            body,
        }
    }
}

/// Header plus body, unfragmented (`fragment_offset` 0, `fragment_length`
/// = `length`, RFC 6347 §4.2.2). This is also the form that enters the
/// handshake transcript (RFC 6347 §4.2.6).
pub fn encode_handshake(msg: &HandshakeMessage, message_seq: u16) -> Vec<u8> {
    msg.to_fragment(message_seq).to_bytes()
}
