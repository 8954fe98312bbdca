//! Why a handshake failed: what the peer did wrong, or what we gave up on.

use dicetest_wire::{AlertDescription, DecodeError};
use thiserror::Error;

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum HandshakeFailure {
    #[error("the peer sent a fatal alert: {0}")]
    PeerAlert(AlertDescription),
    #[error("no answer from the peer after {retransmissions} retransmissions of flight {flight}")]
    Timeout { flight: u8, retransmissions: u32 },
    #[error("the peer sent {got} where {expected} was expected")]
    UnexpectedMessage { expected: &'static str, got: String },
    #[error("the peer sent a malformed {what}: {error}")]
    Malformed {
        what: &'static str,
        error: DecodeError,
    },
    #[error("the peer chose cipher suite {0:#06x}, which we did not offer")]
    UnofferedCipherSuite(u16),
    #[error("no cipher suite in common (peer offered {offered:04x?})")]
    NoCommonCipherSuite { offered: Vec<u16> },
    #[error("the peer chose compression method {0}; only null is allowed (RFC 7925 §6.1)")]
    NonNullCompression(u8),
    #[error("the peer's Finished verify_data is wrong: the keys differ (wrong PSK?) or the transcript was altered")]
    BadFinished,
    #[error("unknown PSK identity {0:?}")]
    UnknownPskIdentity(String),
    #[error("the {0} signature does not verify")]
    BadSignature(&'static str),
    #[error("the peer's raw public key is not the one we trust")]
    UntrustedPeerKey,
    #[error("the peer's key share is invalid: {0}")]
    BadKeyShare(String),
    #[error("we lack credentials for {0}")]
    MissingCredentials(&'static str),
    #[error("the peer refused extended_master_secret, which we require")]
    MissingExtendedMasterSecret,
    #[error("records from the peer failed authentication ({count}); the keys differ, most likely a wrong PSK")]
    AuthenticationFailures { count: u32 },
}
