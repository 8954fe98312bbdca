//! Handshake message bodies (the bytes after the 12-byte handshake header)
//! and the two non-handshake protocols that share the record layer.

mod alert;
mod certificate;
mod certificate_request;
mod certificate_verify;
mod change_cipher_spec;
mod client_hello;
mod client_key_exchange;
mod digitally_signed;
mod empty;
mod finished;
mod hello_verify_request;
mod key_exchange_kind;
mod server_hello;
mod server_key_exchange;

pub use alert::Alert;
pub use certificate::Certificate;
pub use certificate_request::CertificateRequest;
pub use certificate_verify::CertificateVerify;
pub use change_cipher_spec::ChangeCipherSpec;
pub use client_hello::ClientHello;
pub use client_key_exchange::ClientKeyExchange;
pub use digitally_signed::DigitallySigned;
pub use empty::{HelloRequest, ServerHelloDone};
pub use finished::Finished;
pub use hello_verify_request::HelloVerifyRequest;
pub use key_exchange_kind::KeyExchangeKind;
pub use server_hello::ServerHello;
pub use server_key_exchange::{ServerEcdhParams, ServerKeyExchange};

/// `SessionID session_id<0..32>` (RFC 5246 §7.4.1.2).
pub(crate) const MAX_SESSION_ID_LEN: usize = 32;

pub(crate) fn read_session_id(
    r: &mut crate::codec::Reader<'_>,
    what: &'static str,
) -> Result<Vec<u8>, crate::error::DecodeError> {
    let id = crate::codec::read_opaque(r, crate::codec::LengthPrefix::U8, what)?;
    if id.len() > MAX_SESSION_ID_LEN {
        return Err(crate::error::DecodeError::TooLong {
            what,
            max: MAX_SESSION_ID_LEN,
            actual: id.len(),
        });
    }
    Ok(id)
}
