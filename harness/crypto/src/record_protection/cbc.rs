//! AES-128-CBC with HMAC-SHA256 record protection (RFC 5246 §6.2.3.2, as
//! `TLS_PSK_WITH_AES_128_CBC_SHA256` of RFC 5487 uses it, and with the
//! DTLS `seq_num` of RFC 6347 §4.1.2.1).
//!
//! MAC-then-encrypt: `MAC = HMAC-SHA256(mac_key, seq_num + type + version +
//! length + plaintext)`; then `plaintext + MAC + padding + padding_length`
//! is CBC-encrypted under a fresh explicit 16-byte IV that
//! is sent in clear in front of the ciphertext. Every padding byte,
//! including `padding_length` itself, holds the padding length.

use core::fmt;

use aes::Aes128;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit};
use hmac::Mac;
use subtle::{ConstantTimeEq, ConstantTimeLess};

use super::{AadFields, KeyLengthError, OpenError, RecordProtection, SealError};
use crate::hash::new_hmac;
use crate::redact::Redacted;
use crate::suite::SuiteParams;

const BLOCK: usize = 16;
const MAC_LEN: usize = 32;
/// IV, then at least one block holding the MAC and the padding length
/// byte: 32 + 1 rounds up to 48.
const MIN_FRAGMENT: usize = BLOCK + 48;

/// AES-128-CBC + HMAC-SHA256 protection for one direction.
pub struct AesCbcHmacProtection {
    params: &'static SuiteParams,
    cipher: Aes128,
    mac_key: Vec<u8>,
}

impl fmt::Debug for AesCbcHmacProtection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AesCbcHmacProtection")
            .field("suite", &self.params.name)
            .field("key", &Redacted)
            .field("mac_key", &Redacted)
            .finish()
    }
}

impl AesCbcHmacProtection {
    /// Keys a CBC protection with the 16-byte write key and the 32-byte
    /// write MAC key.
    pub fn new(
        params: &'static SuiteParams,
        key: &[u8],
        mac_key: &[u8],
    ) -> Result<Self, KeyLengthError> {
        let cipher = Aes128::new_from_slice(key).map_err(|_| KeyLengthError {
            what: "key",
            suite: params.name,
            expected: 16,
            got: key.len(),
        })?;
        if mac_key.len() != MAC_LEN {
            return Err(KeyLengthError {
                what: "mac_key",
                suite: params.name,
                expected: MAC_LEN,
                got: mac_key.len(),
            });
        }
        Ok(Self {
            params,
            cipher,
            mac_key: mac_key.to_vec(),
        })
    }

    /// The smallest `padding_length` that aligns `plaintext_len` + MAC +
    /// the length byte to the block size: what [`RecordProtection::seal`]
    /// uses.
    pub fn minimal_padding_length(plaintext_len: usize) -> u8 {
        let unpadded = plaintext_len + MAC_LEN + 1;
        // Always below 16, so the cast cannot truncate.
        ((BLOCK - unpadded % BLOCK) % BLOCK) as u8
    }

    /// Seals with a chosen `padding_length` (0..=255) instead of the
    /// minimal one. RFC 5246 §6.2.3.2 lets a sender pad up to 255 bytes;
    /// test scripts use this to check that a peer accepts long padding.
    pub fn seal_with_padding(
        &self,
        aad: &AadFields,
        iv: &[u8],
        plaintext: &[u8],
        padding_length: u8,
    ) -> Result<Vec<u8>, SealError> {
        if iv.len() != BLOCK {
            return Err(SealError::ExplicitLength {
                expected: BLOCK,
                got: iv.len(),
            });
        }
        let len = u16::try_from(plaintext.len()).map_err(|_| SealError::PlaintextTooLong {
            len: plaintext.len(),
        })?;
        let content_len = plaintext.len() + MAC_LEN + usize::from(padding_length) + 1;
        if !content_len.is_multiple_of(BLOCK) {
            return Err(SealError::BadPaddingLength {
                padding_length,
                plaintext_len: plaintext.len(),
            });
        }
        let mac = self
            .mac(aad, len, plaintext)
            .ok_or(SealError::BadSequenceNumber {
                sequence_number: aad.sequence_number,
            })?;

        let mut fragment = Vec::with_capacity(BLOCK + content_len);
        fragment.extend_from_slice(iv);
        fragment.extend_from_slice(plaintext);
        fragment.extend_from_slice(&mac);
        fragment.resize(BLOCK + content_len, padding_length);

        let encryptor = self.encryptor(iv);
        let body = &mut fragment[BLOCK..];
        // The body is block aligned (checked above), so NoPadding cannot fail.
        if encryptor
            .encrypt_padded_mut::<NoPadding>(body, content_len)
            .is_err()
        {
            unreachable!("content is a whole number of blocks");
        }
        Ok(fragment)
    }

    /// HMAC-SHA256 over `seq_num + type + version + length + plaintext`
    /// (RFC 5246 §6.2.3.1 with RFC 6347 §4.1.2.1's `seq_num`).
    fn mac(&self, aad: &AadFields, len: u16, plaintext: &[u8]) -> Option<[u8; MAC_LEN]> {
        let header = aad.header_bytes(len)?;
        let mut mac = new_hmac(&self.mac_key);
        mac.update(&header);
        mac.update(plaintext);
        Some(mac.finalize().into_bytes().into())
    }

    fn encryptor(&self, iv: &[u8]) -> cbc::Encryptor<Aes128> {
        match cbc::Encryptor::inner_iv_slice_init(self.cipher.clone(), iv) {
            Ok(e) => e,
            Err(_) => unreachable!("IV length checked by the caller"),
        }
    }
}

impl RecordProtection for AesCbcHmacProtection {
    fn suite(&self) -> &'static SuiteParams {
        self.params
    }

    fn explicit_nonce_len(&self) -> usize {
        BLOCK
    }

    fn try_seal(
        &self,
        aad: &AadFields,
        explicit: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, SealError> {
        let padding_length = Self::minimal_padding_length(plaintext.len());
        self.seal_with_padding(aad, explicit, plaintext, padding_length)
    }

    fn open(&self, aad: &AadFields, fragment: &[u8]) -> Result<Vec<u8>, OpenError> {
        if fragment.len() < MIN_FRAGMENT {
            return Err(OpenError::TooShort {
                len: fragment.len(),
                min: MIN_FRAGMENT,
            });
        }
        let (iv, ciphertext) = fragment.split_at(BLOCK);
        if !ciphertext.len().is_multiple_of(BLOCK) {
            return Err(OpenError::NotBlockAligned {
                len: ciphertext.len(),
            });
        }
        // The plaintext is at most content - MAC - 1 bytes.
        if ciphertext.len() - MAC_LEN - 1 > usize::from(u16::MAX) {
            return Err(OpenError::TooLong {
                len: fragment.len(),
            });
        }
        let mut content = ciphertext.to_vec();
        let decryptor = match cbc::Decryptor::<Aes128>::inner_iv_slice_init(self.cipher.clone(), iv)
        {
            Ok(d) => d,
            Err(_) => unreachable!("split_at gave a 16-byte IV"),
        };
        if decryptor
            .decrypt_padded_mut::<NoPadding>(&mut content)
            .is_err()
        {
            unreachable!("ciphertext length checked to be block aligned");
        }

        // RFC 5246 §6.2.3.2: check the padding, but compute the MAC even if
        // it is bad (then as if there were no padding) so that both
        // failures take about the same time.
        let content_len = content.len();
        let padding_length = content[content_len - 1];
        let pad_total = usize::from(padding_length) + 1;
        // Padding may not reach into the MAC.
        let fits = (pad_total as u64).ct_lt(&((content_len - MAC_LEN + 1) as u64));
        let mut pad_ok = fits;
        for (i, &b) in content.iter().rev().enumerate().take(256) {
            let in_padding = (i as u64).ct_lt(&(pad_total as u64));
            let matches = b.ct_eq(&padding_length);
            pad_ok &= !in_padding | matches;
        }
        let pad_ok: bool = pad_ok.into();
        let strip = if pad_ok { pad_total } else { 1 };
        let plaintext_len = content_len - MAC_LEN - strip;
        let (plaintext, rest) = content.split_at(plaintext_len);
        let received_mac = &rest[..MAC_LEN];
        let len = u16::try_from(plaintext_len).map_err(|_| OpenError::TooLong {
            len: fragment.len(),
        })?;
        let expected_mac = self
            .mac(aad, len, plaintext)
            .ok_or(OpenError::BadSequenceNumber {
                sequence_number: aad.sequence_number,
            })?;
        let mac_ok: bool = expected_mac.ct_eq(received_mac).into();
        if !pad_ok {
            return Err(OpenError::BadPadding);
        }
        if !mac_ok {
            return Err(OpenError::BadMac);
        }
        Ok(plaintext.to_vec())
    }

    fn max_overhead(&self) -> usize {
        // IV + MAC + at most 16 bytes of minimal padding.
        BLOCK + MAC_LEN + BLOCK
    }
}
