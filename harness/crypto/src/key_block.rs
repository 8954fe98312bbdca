//! Partitioning the key block into the six write secrets (RFC 5246 §6.3).

use core::fmt;

use crate::key_schedule::key_block;
use crate::redact::Redacted;
use crate::suite::SuiteParams;

/// The write secrets of both sides, in the order RFC 5246 §6.3 cuts them
/// from the key block. Fields a suite does not use are empty.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyBlock {
    /// `client_write_MAC_key`.
    pub client_write_mac_key: Vec<u8>,
    /// `server_write_MAC_key`.
    pub server_write_mac_key: Vec<u8>,
    /// `client_write_key`.
    pub client_write_key: Vec<u8>,
    /// `server_write_key`.
    pub server_write_key: Vec<u8>,
    /// `client_write_IV`: the implicit nonce salt of AEAD suites.
    pub client_write_iv: Vec<u8>,
    /// `server_write_IV`.
    pub server_write_iv: Vec<u8>,
}

impl fmt::Debug for KeyBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyBlock")
            .field("client_write_mac_key", &Redacted)
            .field("server_write_mac_key", &Redacted)
            .field("client_write_key", &Redacted)
            .field("server_write_key", &Redacted)
            .field("client_write_iv", &Redacted)
            .field("server_write_iv", &Redacted)
            .finish()
    }
}

impl KeyBlock {
    /// Cuts a key block produced by the PRF into its six parts.
    /// Returns `None` if `bytes` is shorter than the suite needs.
    pub fn split(params: &SuiteParams, bytes: &[u8]) -> Option<KeyBlock> {
        let mut rest = bytes;
        let mut take = |n: usize| -> Option<Vec<u8>> {
            let (head, tail) = rest.split_at_checked(n)?;
            rest = tail;
            Some(head.to_vec())
        };
        Some(KeyBlock {
            client_write_mac_key: take(params.mac_key_len)?,
            server_write_mac_key: take(params.mac_key_len)?,
            client_write_key: take(params.enc_key_len)?,
            server_write_key: take(params.enc_key_len)?,
            client_write_iv: take(params.fixed_iv_len)?,
            server_write_iv: take(params.fixed_iv_len)?,
        })
    }
}

/// Runs the key expansion for `params` and splits the result
/// (RFC 5246 §6.3).
pub fn derive_key_block(
    params: &SuiteParams,
    master: &[u8; 48],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> KeyBlock {
    let bytes = key_block(master, server_random, client_random, params.key_block_len());
    match KeyBlock::split(params, &bytes) {
        Some(kb) => kb,
        // `key_block_len` is exactly what `split` consumes.
        None => unreachable!("key block has the length the suite asks for"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::{TLS_PSK_WITH_AES_128_CBC_SHA256, TLS_PSK_WITH_AES_128_CCM_8};

    #[test]
    fn ccm8_partition() {
        let ms = [3u8; 48];
        let c = [1u8; 32];
        let s = [2u8; 32];
        let raw = key_block(&ms, &s, &c, 40);
        let kb = derive_key_block(&TLS_PSK_WITH_AES_128_CCM_8, &ms, &c, &s);
        assert!(kb.client_write_mac_key.is_empty() && kb.server_write_mac_key.is_empty());
        assert_eq!(kb.client_write_key, raw[0..16]);
        assert_eq!(kb.server_write_key, raw[16..32]);
        assert_eq!(kb.client_write_iv, raw[32..36]);
        assert_eq!(kb.server_write_iv, raw[36..40]);
    }

    #[test]
    fn cbc_partition() {
        let ms = [3u8; 48];
        let c = [1u8; 32];
        let s = [2u8; 32];
        let raw = key_block(&ms, &s, &c, 96);
        let kb = derive_key_block(&TLS_PSK_WITH_AES_128_CBC_SHA256, &ms, &c, &s);
        assert_eq!(kb.client_write_mac_key, raw[0..32]);
        assert_eq!(kb.server_write_mac_key, raw[32..64]);
        assert_eq!(kb.client_write_key, raw[64..80]);
        assert_eq!(kb.server_write_key, raw[80..96]);
        assert!(kb.client_write_iv.is_empty() && kb.server_write_iv.is_empty());
    }

    #[test]
    fn split_rejects_short_input() {
        assert!(KeyBlock::split(&TLS_PSK_WITH_AES_128_CCM_8, &[0u8; 39]).is_none());
        assert!(KeyBlock::split(&TLS_PSK_WITH_AES_128_CCM_8, &[0u8; 40]).is_some());
    }

    #[test]
    fn debug_hides_keys() {
        let kb = derive_key_block(&TLS_PSK_WITH_AES_128_CCM_8, &[9u8; 48], &[1; 32], &[2; 32]);
        let text = format!("{kb:?}");
        assert!(text.contains("<redacted>"));
        assert!(!text.contains('['), "no byte arrays in {text}");
        assert!(!text.contains(&hex::encode(&kb.client_write_key)));
    }
}
