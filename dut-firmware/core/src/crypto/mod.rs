//! The cryptography the device needs, on RustCrypto primitives: the TLS 1.2 PRF and key
//! schedule (RFC 5246 §5, §8.1, §6.3; RFC 7627 §4), record protection for the supported
//! suites (RFC 6655 CCM-8, RFC 5487 CBC-SHA256) and a deterministic random bit generator.

pub mod drbg;
pub mod prf;
pub mod protect;

pub use drbg::Drbg;
pub use protect::{RecordKeys, SealError};

use crate::config::TLS_PSK_WITH_AES_128_CCM_8;

/// Whether this build implements `suite`.
pub fn suite_supported(suite: u16) -> bool {
    #[cfg(feature = "cbc")]
    if suite == crate::config::TLS_PSK_WITH_AES_128_CBC_SHA256 {
        return true;
    }
    suite == TLS_PSK_WITH_AES_128_CCM_8
}

/// Compares two byte strings in time that depends only on their lengths (verify_data,
/// cookies): an early exit would tell an attacker how many leading bytes were right.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
