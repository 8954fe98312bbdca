//! DTLS 1.2 record payload protection.
//!
//! A [`RecordProtection`] turns a record's plaintext into the
//! `DTLSCiphertext.fragment` and back, for one direction of one epoch. The
//! record header itself (type, version, epoch, sequence number, length) is
//! the caller's business; its fields enter here only as the MAC input or
//! AEAD additional data, where RFC 6347 §4.1.2.1 replaces TLS's implicit
//! 64-bit sequence number with `epoch || sequence_number` as carried on
//! the wire.

mod cbc;
mod ccm;

use core::fmt;

use thiserror::Error;

use crate::key_block::KeyBlock;
use crate::suite::{BulkCipher, SuiteParams};

pub use self::cbc::AesCbcHmacProtection;
pub use self::ccm::AesCcmProtection;

/// Largest sequence number a DTLS 1.2 record header can carry (48 bits,
/// RFC 6347 §4.1).
pub const MAX_SEQUENCE_NUMBER: u64 = (1 << 48) - 1;

/// The record header fields that are authenticated with the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AadFields {
    /// `DTLSCiphertext.epoch`.
    pub epoch: u16,
    /// `DTLSCiphertext.sequence_number`: 48 bits; larger values are
    /// refused by seal and open.
    pub sequence_number: u64,
    /// `ContentType` of the record.
    pub content_type: u8,
    /// `ProtocolVersion` on the wire, `{254, 253}` for DTLS 1.2.
    pub version: [u8; 2],
}

impl AadFields {
    /// The 64-bit `seq_num` of the MAC and AEAD input: the epoch followed by
    /// the 48-bit sequence number (RFC 6347 §4.1.2.1). Also the explicit
    /// nonce RFC 6655 §3 recommends for CCM. `None` if the sequence number
    /// does not fit in 48 bits.
    pub fn seq_num(&self) -> Option<[u8; 8]> {
        if self.sequence_number > MAX_SEQUENCE_NUMBER {
            return None;
        }
        let mut out = self.sequence_number.to_be_bytes();
        out[..2].copy_from_slice(&self.epoch.to_be_bytes());
        Some(out)
    }

    /// `seq_num + type + version + length` (RFC 5246 §6.2.3.1 MAC input
    /// prefix and §6.2.3.3 `additional_data`), where `length` is the
    /// plaintext length.
    pub(crate) fn header_bytes(&self, plaintext_len: u16) -> Option<[u8; 13]> {
        let mut out = [0u8; 13];
        out[..8].copy_from_slice(&self.seq_num()?);
        out[8] = self.content_type;
        out[9..11].copy_from_slice(&self.version);
        out[11..].copy_from_slice(&plaintext_len.to_be_bytes());
        Some(out)
    }
}

/// Why a record fragment could not be opened. Each variant names one way
/// a peer's record can be wrong, so a test verdict can say which.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OpenError {
    /// The fragment cannot even hold the explicit nonce/IV and the tag/MAC.
    #[error("fragment is {len} bytes, shorter than the {min} this suite needs")]
    TooShort {
        /// Fragment length.
        len: usize,
        /// Smallest length that could be valid.
        min: usize,
    },
    /// A CBC ciphertext that is not a whole number of AES blocks.
    #[error("CBC ciphertext of {len} bytes is not a multiple of the 16-byte block")]
    NotBlockAligned {
        /// Length of the ciphertext after the explicit IV.
        len: usize,
    },
    /// The plaintext would be longer than a record length field can say.
    #[error("fragment of {len} bytes would carry more than 65535 bytes of plaintext")]
    TooLong {
        /// Fragment length.
        len: usize,
    },
    /// The sequence number given does not fit the 48-bit field.
    #[error("sequence number {sequence_number} does not fit in 48 bits")]
    BadSequenceNumber {
        /// The sequence number given.
        sequence_number: u64,
    },
    /// AEAD authentication failed: wrong key, nonce salt, explicit nonce,
    /// epoch, sequence number, type, version or length, or altered bytes.
    #[error("AEAD tag does not verify (bad_record_mac)")]
    BadTag,
    /// CBC padding bytes are not all equal to the padding length, or the
    /// padding length runs past the MAC (RFC 5246 §6.2.3.2).
    #[error("CBC padding is malformed (bad_record_mac)")]
    BadPadding,
    /// The HMAC of a CBC record does not match.
    #[error("record MAC does not verify (bad_record_mac)")]
    BadMac,
}

/// Why a record could not be sealed. These are mistakes of the caller,
/// never of the peer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SealError {
    /// The explicit nonce or IV does not have the suite's record IV length.
    #[error("explicit nonce/IV is {got} bytes, the suite carries {expected}")]
    ExplicitLength {
        /// `record_iv_length` of the suite.
        expected: usize,
        /// Length given.
        got: usize,
    },
    /// The plaintext cannot be described by a 16-bit record length.
    #[error("plaintext of {len} bytes does not fit a 16-bit length")]
    PlaintextTooLong {
        /// Plaintext length.
        len: usize,
    },
    /// The sequence number given does not fit the 48-bit field.
    #[error("sequence number {sequence_number} does not fit in 48 bits")]
    BadSequenceNumber {
        /// The sequence number given.
        sequence_number: u64,
    },
    /// A requested CBC padding length does not make the content a whole
    /// number of blocks.
    #[error(
        "padding length {padding_length} leaves plaintext {plaintext_len} + MAC unaligned to 16 bytes"
    )]
    BadPaddingLength {
        /// Requested `padding_length`.
        padding_length: u8,
        /// Plaintext length.
        plaintext_len: usize,
    },
}

/// A key of the wrong length was given for a suite.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{what} is {got} bytes, {suite} needs {expected}")]
pub struct KeyLengthError {
    /// Which key: `"key"`, `"iv"` or `"mac_key"`.
    pub what: &'static str,
    /// The suite's IANA name.
    pub suite: &'static str,
    /// Length the suite needs.
    pub expected: usize,
    /// Length given.
    pub got: usize,
}

/// Protection of record payloads for one direction of one epoch.
pub trait RecordProtection: Send + Sync + fmt::Debug {
    /// The suite this protection implements.
    fn suite(&self) -> &'static SuiteParams;

    /// Length of the explicit nonce (CCM, 8) or IV (CBC, 16) at the front
    /// of every fragment.
    fn explicit_nonce_len(&self) -> usize;

    /// Seals `plaintext` into a `DTLSCiphertext.fragment`.
    ///
    /// `explicit` is the explicit nonce (CCM; normally
    /// [`AadFields::seq_num`]) or the IV (CBC). The caller chooses it so a
    /// test script may reuse or forge it.
    fn try_seal(
        &self,
        aad: &AadFields,
        explicit: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, SealError>;

    /// [`try_seal`](Self::try_seal) for callers that pass sane arguments.
    ///
    /// # Panics
    ///
    /// On any [`SealError`]: an explicit nonce of the wrong length, a
    /// plaintext over 65535 bytes or a sequence number over 48 bits.
    fn seal(&self, aad: &AadFields, explicit: &[u8], plaintext: &[u8]) -> Vec<u8> {
        match self.try_seal(aad, explicit, plaintext) {
            Ok(fragment) => fragment,
            Err(e) => panic!("cannot seal record: {e}"),
        }
    }

    /// Checks and decrypts a `DTLSCiphertext.fragment`, returning the
    /// plaintext. Never panics, whatever the bytes.
    fn open(&self, aad: &AadFields, fragment: &[u8]) -> Result<Vec<u8>, OpenError>;

    /// Most bytes [`seal`](Self::seal) adds to a plaintext.
    fn max_overhead(&self) -> usize;
}

/// Which end of the connection the engine plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The DTLS client.
    Client,
    /// The DTLS server.
    Server,
}

impl Side {
    /// The other end.
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// Builds the protection for `params` from raw keys.
///
/// `key` is the write key, `iv` the implicit nonce salt (4 bytes for CCM,
/// empty for CBC) and `mac_key` the MAC key (empty for CCM).
///
/// # Panics
///
/// If a key has the wrong length for the suite; see
/// [`try_record_protection`].
pub fn record_protection(
    params: &'static SuiteParams,
    key: &[u8],
    iv: &[u8],
    mac_key: &[u8],
) -> Box<dyn RecordProtection> {
    match try_record_protection(params, key, iv, mac_key) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

/// [`record_protection`] that reports wrong key lengths.
pub fn try_record_protection(
    params: &'static SuiteParams,
    key: &[u8],
    iv: &[u8],
    mac_key: &[u8],
) -> Result<Box<dyn RecordProtection>, KeyLengthError> {
    let check = |what, expected: usize, got: usize| {
        if expected == got {
            Ok(())
        } else {
            Err(KeyLengthError {
                what,
                suite: params.name,
                expected,
                got,
            })
        }
    };
    check("key", params.enc_key_len, key.len())?;
    check("iv", params.fixed_iv_len, iv.len())?;
    check("mac_key", params.mac_key_len, mac_key.len())?;
    Ok(match params.cipher {
        BulkCipher::AesCcm8 | BulkCipher::AesCcm => {
            Box::new(AesCcmProtection::new(params, key, iv)?)
        }
        BulkCipher::AesCbcSha256 => Box::new(AesCbcHmacProtection::new(params, key, mac_key)?),
    })
}

/// The protection `side` uses to write (`write == true`) or read records.
///
/// The client writes with the `client_write_*` secrets and reads with the
/// `server_write_*` ones; the server the other way round (RFC 5246 §6.3).
///
/// # Panics
///
/// If `key_block` was not derived for `params` (wrong key lengths).
pub fn protection_for(
    params: &'static SuiteParams,
    key_block: &KeyBlock,
    side: Side,
    write: bool,
) -> Box<dyn RecordProtection> {
    let client_keys = matches!((side, write), (Side::Client, true) | (Side::Server, false));
    if client_keys {
        record_protection(
            params,
            &key_block.client_write_key,
            &key_block.client_write_iv,
            &key_block.client_write_mac_key,
        )
    } else {
        record_protection(
            params,
            &key_block.server_write_key,
            &key_block.server_write_iv,
            &key_block.server_write_mac_key,
        )
    }
}

#[cfg(test)]
mod tests;
