//! SHA-256 and HMAC-SHA256, the only hash the engine's suites use
//! (RFC 5246 §5: every TLS 1.2 suite defined so far uses the SHA-256 PRF,
//! and RFC 5487 uses HMAC-SHA256 as the record MAC).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// HMAC keyed with SHA-256 (RFC 2104).
pub(crate) type HmacSha256 = Hmac<Sha256>;

/// SHA-256 of `data` (FIPS 180-4).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// HMAC-SHA256 of `data` under `key` (RFC 2104; known answers in RFC 4231).
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = new_hmac(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// A keyed HMAC-SHA256 state. HMAC takes keys of any length (RFC 2104 §2:
/// longer keys are hashed first), so construction cannot fail.
pub(crate) fn new_hmac(key: &[u8]) -> HmacSha256 {
    match <HmacSha256 as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        // `Hmac::new_from_slice` only rejects lengths for MACs with a fixed
        // key size, which HMAC is not.
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc() {
        // FIPS 180-2 Appendix B.1, one-block message "abc".
        assert_eq!(
            hex::encode(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hmac_accepts_empty_and_long_keys() {
        let empty = hmac_sha256(b"", b"x");
        let long = hmac_sha256(&[0xaa; 200], b"x");
        assert_ne!(empty, long);
        // A key longer than the block is replaced by its hash (RFC 2104 §2).
        assert_eq!(long, hmac_sha256(&sha256(&[0xaa; 200]), b"x"));
    }
}
