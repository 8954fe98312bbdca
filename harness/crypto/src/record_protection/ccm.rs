//! AES-128-CCM record protection (RFC 6655 §3, used by DTLS 1.2 through
//! RFC 6347 §4.1.2.1 and RFC 7925 §3.3).
//!
//! * nonce = `client_write_IV` or `server_write_IV` (4-byte salt) followed
//!   by the 8-byte `nonce_explicit`, which travels in front of the
//!   ciphertext (RFC 6655 §3);
//! * additional data = `seq_num + type + version + length` with the DTLS
//!   `seq_num` (RFC 5246 §6.2.3.3, RFC 6347 §4.1.2.1);
//! * the tag is 8 bytes for the `_CCM_8` suites, 16 otherwise.

use core::fmt;

use aes::Aes128;
use ccm::aead::{AeadInPlace, KeyInit};
use ccm::consts::{U12, U16, U8};
use ccm::Ccm;

use super::{AadFields, KeyLengthError, OpenError, RecordProtection, SealError};
use crate::redact::Redacted;
use crate::suite::{BulkCipher, SuiteParams};

/// Explicit nonce length of every CCM suite (RFC 6655 §3).
const EXPLICIT_LEN: usize = 8;
/// Implicit salt length (`fixed_iv_length`, RFC 6655 §3).
const SALT_LEN: usize = 4;

type Ccm8 = Ccm<Aes128, U8, U12>;
type Ccm16 = Ccm<Aes128, U16, U12>;

enum Cipher {
    Tag8(Ccm8),
    Tag16(Ccm16),
}

/// AES-128-CCM protection for one direction.
pub struct AesCcmProtection {
    params: &'static SuiteParams,
    cipher: Cipher,
    salt: [u8; SALT_LEN],
}

impl fmt::Debug for AesCcmProtection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AesCcmProtection")
            .field("suite", &self.params.name)
            .field("key", &Redacted)
            .field("salt", &Redacted)
            .finish()
    }
}

impl AesCcmProtection {
    /// Keys a CCM protection; `salt` is the 4-byte `*_write_IV`.
    pub fn new(
        params: &'static SuiteParams,
        key: &[u8],
        salt: &[u8],
    ) -> Result<Self, KeyLengthError> {
        let key_err = |what, expected, got| KeyLengthError {
            what,
            suite: params.name,
            expected,
            got,
        };
        let salt: [u8; SALT_LEN] = salt
            .try_into()
            .map_err(|_| key_err("iv", SALT_LEN, salt.len()))?;
        let cipher = match params.cipher {
            BulkCipher::AesCcm8 => {
                Cipher::Tag8(Ccm8::new_from_slice(key).map_err(|_| key_err("key", 16, key.len()))?)
            }
            BulkCipher::AesCcm => Cipher::Tag16(
                Ccm16::new_from_slice(key).map_err(|_| key_err("key", 16, key.len()))?,
            ),
            // Only CCM suites are routed here; report the mismatch as a
            // zero-length key rather than panicking.
            BulkCipher::AesCbcSha256 => return Err(key_err("mac_key", 0, params.mac_key_len)),
        };
        Ok(Self {
            params,
            cipher,
            salt,
        })
    }

    fn tag_len(&self) -> usize {
        self.params.cipher.tag_len()
    }

    fn nonce(&self, explicit: &[u8; EXPLICIT_LEN]) -> [u8; 12] {
        let mut nonce = [0u8; 12];
        nonce[..SALT_LEN].copy_from_slice(&self.salt);
        nonce[SALT_LEN..].copy_from_slice(explicit);
        nonce
    }
}

impl RecordProtection for AesCcmProtection {
    fn suite(&self) -> &'static SuiteParams {
        self.params
    }

    fn explicit_nonce_len(&self) -> usize {
        EXPLICIT_LEN
    }

    fn try_seal(
        &self,
        aad: &AadFields,
        explicit: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, SealError> {
        let explicit: &[u8; EXPLICIT_LEN] =
            explicit.try_into().map_err(|_| SealError::ExplicitLength {
                expected: EXPLICIT_LEN,
                got: explicit.len(),
            })?;
        let len = u16::try_from(plaintext.len()).map_err(|_| SealError::PlaintextTooLong {
            len: plaintext.len(),
        })?;
        let additional_data = aad.header_bytes(len).ok_or(SealError::BadSequenceNumber {
            sequence_number: aad.sequence_number,
        })?;
        let nonce = self.nonce(explicit);

        let mut fragment = Vec::with_capacity(EXPLICIT_LEN + plaintext.len() + self.tag_len());
        fragment.extend_from_slice(explicit);
        fragment.extend_from_slice(plaintext);
        let body = &mut fragment[EXPLICIT_LEN..];
        // CCM with a 12-byte nonce takes messages up to 2^24 - 1 bytes
        // (RFC 3610 §2: L = 3), far above the 16-bit length checked above.
        let tag = match &self.cipher {
            Cipher::Tag8(c) => c
                .encrypt_in_place_detached(&nonce.into(), &additional_data, body)
                .map(|t| t.to_vec()),
            Cipher::Tag16(c) => c
                .encrypt_in_place_detached(&nonce.into(), &additional_data, body)
                .map(|t| t.to_vec()),
        }
        .map_err(|_| SealError::PlaintextTooLong {
            len: plaintext.len(),
        })?;
        fragment.extend_from_slice(&tag);
        Ok(fragment)
    }

    fn open(&self, aad: &AadFields, fragment: &[u8]) -> Result<Vec<u8>, OpenError> {
        let min = EXPLICIT_LEN + self.tag_len();
        let too_short = OpenError::TooShort {
            len: fragment.len(),
            min,
        };
        let (explicit, rest) = fragment
            .split_first_chunk::<EXPLICIT_LEN>()
            .ok_or(too_short.clone())?;
        let ct_len = rest.len().checked_sub(self.tag_len()).ok_or(too_short)?;
        let (ciphertext, tag) = rest.split_at(ct_len);
        let len = u16::try_from(ct_len).map_err(|_| OpenError::TooLong {
            len: fragment.len(),
        })?;
        let additional_data = aad.header_bytes(len).ok_or(OpenError::BadSequenceNumber {
            sequence_number: aad.sequence_number,
        })?;
        let nonce = self.nonce(explicit);

        let mut plaintext = ciphertext.to_vec();
        // The ccm crate compares tags in constant time (subtle).
        let verified = match &self.cipher {
            Cipher::Tag8(c) => c.decrypt_in_place_detached(
                &nonce.into(),
                &additional_data,
                &mut plaintext,
                tag.into(),
            ),
            Cipher::Tag16(c) => c.decrypt_in_place_detached(
                &nonce.into(),
                &additional_data,
                &mut plaintext,
                tag.into(),
            ),
        };
        verified.map_err(|_| OpenError::BadTag)?;
        Ok(plaintext)
    }

    fn max_overhead(&self) -> usize {
        EXPLICIT_LEN + self.tag_len()
    }
}
