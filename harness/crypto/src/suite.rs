//! The cipher suites the engine speaks, with the key sizes the key
//! expansion needs (RFC 5246 §6.3, Appendix C).
//!
//! * `TLS_PSK_WITH_AES_128_CCM_8` and `TLS_PSK_WITH_AES_128_CCM`: RFC 6655
//!   §4; the first is the mandatory PSK suite of RFC 7925 §4.2.
//! * `TLS_PSK_WITH_AES_128_CBC_SHA256`: RFC 5487 §3.
//! * `TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8`: RFC 7251 §2; the mandatory
//!   raw-public-key suite of RFC 7925 §4.3.
//!
//! All four use the SHA-256 PRF (RFC 5246 §5, RFC 5487 §3, RFC 6655 §4).

pub use crate::key_block::{derive_key_block, KeyBlock};

/// How the premaster secret is agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyExchange {
    /// Plain pre-shared key (RFC 4279 §2).
    Psk,
    /// Ephemeral ECDH signed with ECDSA (RFC 8422 §2.1).
    EcdheEcdsa,
}

/// How records are protected once keys are in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BulkCipher {
    /// AES-128-CCM with an 8-byte tag (RFC 6655 §3, "CCM_8").
    AesCcm8,
    /// AES-128-CCM with a 16-byte tag (RFC 6655 §3).
    AesCcm,
    /// AES-128-CBC with HMAC-SHA256, MAC-then-encrypt (RFC 5246 §6.2.3.2).
    AesCbcSha256,
}

impl BulkCipher {
    /// Length of the authentication tag or MAC carried in each record.
    pub const fn tag_len(self) -> usize {
        match self {
            BulkCipher::AesCcm8 => 8,
            BulkCipher::AesCcm => 16,
            BulkCipher::AesCbcSha256 => 32,
        }
    }

    /// Whether this is an AEAD cipher (RFC 5246 §6.2.3.3).
    pub const fn is_aead(self) -> bool {
        matches!(self, BulkCipher::AesCcm8 | BulkCipher::AesCcm)
    }
}

/// Everything the record layer and key expansion need to know about one
/// cipher suite.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SuiteParams {
    /// The two-byte code point from the IANA TLS Cipher Suites registry.
    pub id: u16,
    /// The IANA name.
    pub name: &'static str,
    /// The short name test scripts use.
    pub short_name: &'static str,
    /// Key exchange algorithm.
    pub kx: KeyExchange,
    /// Record protection algorithm.
    pub cipher: BulkCipher,
    /// `SecurityParameters.mac_key_length`: 0 for AEAD suites.
    pub mac_key_len: usize,
    /// `SecurityParameters.enc_key_length`.
    pub enc_key_len: usize,
    /// `SecurityParameters.fixed_iv_length`: the implicit part of the
    /// nonce taken from the key block (RFC 5246 §6.3). 0 for CBC, whose IV
    /// is wholly explicit in TLS 1.2.
    pub fixed_iv_len: usize,
    /// `SecurityParameters.record_iv_length`: the explicit nonce or IV
    /// carried in front of each record's ciphertext.
    pub record_iv_len: usize,
}

impl SuiteParams {
    /// Bytes of key block the suite consumes (RFC 5246 §6.3).
    pub const fn key_block_len(&self) -> usize {
        2 * (self.mac_key_len + self.enc_key_len + self.fixed_iv_len)
    }
}

/// `TLS_PSK_WITH_AES_128_CCM_8` (RFC 6655 §4).
pub const TLS_PSK_WITH_AES_128_CCM_8: SuiteParams = SuiteParams {
    id: 0xC0A8,
    name: "TLS_PSK_WITH_AES_128_CCM_8",
    short_name: "psk-ccm8",
    kx: KeyExchange::Psk,
    cipher: BulkCipher::AesCcm8,
    mac_key_len: 0,
    enc_key_len: 16,
    fixed_iv_len: 4,
    record_iv_len: 8,
};

/// `TLS_PSK_WITH_AES_128_CCM` (RFC 6655 §4).
pub const TLS_PSK_WITH_AES_128_CCM: SuiteParams = SuiteParams {
    id: 0xC0A4,
    name: "TLS_PSK_WITH_AES_128_CCM",
    short_name: "psk-ccm",
    kx: KeyExchange::Psk,
    cipher: BulkCipher::AesCcm,
    mac_key_len: 0,
    enc_key_len: 16,
    fixed_iv_len: 4,
    record_iv_len: 8,
};

/// `TLS_PSK_WITH_AES_128_CBC_SHA256` (RFC 5487 §3).
pub const TLS_PSK_WITH_AES_128_CBC_SHA256: SuiteParams = SuiteParams {
    id: 0x00AE,
    name: "TLS_PSK_WITH_AES_128_CBC_SHA256",
    short_name: "psk-cbc-sha256",
    kx: KeyExchange::Psk,
    cipher: BulkCipher::AesCbcSha256,
    mac_key_len: 32,
    enc_key_len: 16,
    fixed_iv_len: 0,
    record_iv_len: 16,
};

/// `TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8` (RFC 7251 §2).
pub const TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8: SuiteParams = SuiteParams {
    id: 0xC0AE,
    name: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
    short_name: "ecdhe-ecdsa-ccm8",
    kx: KeyExchange::EcdheEcdsa,
    cipher: BulkCipher::AesCcm8,
    mac_key_len: 0,
    enc_key_len: 16,
    fixed_iv_len: 4,
    record_iv_len: 8,
};

/// Every suite the engine speaks.
pub const SUITES: &[SuiteParams] = &[
    TLS_PSK_WITH_AES_128_CCM_8,
    TLS_PSK_WITH_AES_128_CCM,
    TLS_PSK_WITH_AES_128_CBC_SHA256,
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,
];

/// The suite with IANA code point `id`.
pub fn suite_by_id(id: u16) -> Option<&'static SuiteParams> {
    SUITES.iter().find(|s| s.id == id)
}

/// The suite called `name`: its IANA name in any letter case, or its short
/// name (`psk-ccm8`, `psk-ccm`, `psk-cbc-sha256`, `ecdhe-ecdsa-ccm8`), also
/// in any case.
pub fn suite_by_name(name: &str) -> Option<&'static SuiteParams> {
    let name = name.trim();
    SUITES
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name) || s.short_name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_agree() {
        for s in SUITES {
            assert_eq!(suite_by_id(s.id), Some(s));
            assert_eq!(suite_by_name(s.name), Some(s));
            assert_eq!(suite_by_name(&s.name.to_ascii_lowercase()), Some(s));
            assert_eq!(suite_by_name(s.short_name), Some(s));
        }
        assert_eq!(suite_by_id(0xC0A8).unwrap().short_name, "psk-ccm8");
        assert_eq!(suite_by_id(0xC0A4).unwrap().short_name, "psk-ccm");
        assert_eq!(suite_by_id(0x00AE).unwrap().short_name, "psk-cbc-sha256");
        assert_eq!(suite_by_id(0xC0AE).unwrap().short_name, "ecdhe-ecdsa-ccm8");
        assert_eq!(suite_by_id(0xC02B), None);
        assert_eq!(suite_by_name("psk-gcm"), None);
        assert_eq!(suite_by_name(""), None);
    }

    #[test]
    fn key_block_lengths() {
        // RFC 6655 §3 / RFC 5246 §6.3: CCM uses 2 x (16 + 4); the CBC suite
        // uses 2 x (32 + 16) and no IVs.
        assert_eq!(TLS_PSK_WITH_AES_128_CCM_8.key_block_len(), 40);
        assert_eq!(TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8.key_block_len(), 40);
        assert_eq!(TLS_PSK_WITH_AES_128_CBC_SHA256.key_block_len(), 96);
        assert_eq!(TLS_PSK_WITH_AES_128_CCM.cipher.tag_len(), 16);
    }
}
