//! The TLS 1.2 key schedule as DTLS 1.2 uses it: premaster secret to master
//! secret to key block, and the Finished message's `verify_data`.

use thiserror::Error;

use crate::prf::prf;

pub use crate::hash::{hmac_sha256, sha256};

/// The PSK is longer than a `uint16` length field can describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("PSK is {len} bytes, but RFC 4279 §2 encodes its length in 16 bits")]
pub struct PskTooLong {
    /// Length of the PSK that was given.
    pub len: usize,
}

/// The plain-PSK premaster secret (RFC 4279 §2): `uint16 N`, `N` zero
/// bytes, `uint16 N`, then the `N`-byte PSK itself.
///
/// # Panics
///
/// If the PSK is longer than 65535 bytes, which no handshake can carry.
/// Use [`try_psk_premaster_secret`] for PSKs that come from untrusted
/// configuration.
pub fn psk_premaster_secret(psk: &[u8]) -> Vec<u8> {
    match try_psk_premaster_secret(psk) {
        Ok(pms) => pms,
        Err(e) => panic!("{e}"),
    }
}

/// [`psk_premaster_secret`] that reports an over-long PSK instead of
/// panicking.
pub fn try_psk_premaster_secret(psk: &[u8]) -> Result<Vec<u8>, PskTooLong> {
    let n = u16::try_from(psk.len()).map_err(|_| PskTooLong { len: psk.len() })?;
    let mut pms = Vec::with_capacity(4 + 2 * psk.len());
    pms.extend_from_slice(&n.to_be_bytes());
    pms.resize(2 + psk.len(), 0);
    pms.extend_from_slice(&n.to_be_bytes());
    pms.extend_from_slice(psk);
    Ok(pms)
}

/// `master_secret = PRF(pre_master_secret, "master secret",
/// ClientHello.random + ServerHello.random)[0..47]` (RFC 5246 §8.1).
pub fn master_secret(pms: &[u8], client_random: &[u8; 32], server_random: &[u8; 32]) -> [u8; 48] {
    let mut seed = [0u8; 64];
    seed[..32].copy_from_slice(client_random);
    seed[32..].copy_from_slice(server_random);
    to_48(&prf(pms, b"master secret", &seed, 48))
}

/// `master_secret = PRF(pre_master_secret, "extended master secret",
/// session_hash)[0..47]` (RFC 7627 §4), where `session_hash` is the hash of
/// the handshake messages up to and including ClientKeyExchange.
pub fn extended_master_secret(pms: &[u8], session_hash: &[u8]) -> [u8; 48] {
    to_48(&prf(pms, b"extended master secret", session_hash, 48))
}

/// `key_block = PRF(SecurityParameters.master_secret, "key expansion",
/// server_random + client_random)` (RFC 5246 §6.3). Note the order of the
/// randoms: server first, unlike the master secret.
pub fn key_block(
    master: &[u8; 48],
    server_random: &[u8; 32],
    client_random: &[u8; 32],
    len: usize,
) -> Vec<u8> {
    let mut seed = [0u8; 64];
    seed[..32].copy_from_slice(server_random);
    seed[32..].copy_from_slice(client_random);
    prf(master, b"key expansion", &seed, len)
}

/// Which side's Finished message a `verify_data` is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FinishedLabel {
    /// "client finished": sent by the client.
    Client,
    /// "server finished": sent by the server.
    Server,
}

impl FinishedLabel {
    /// The label's ASCII bytes (RFC 5246 §7.4.9).
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            FinishedLabel::Client => b"client finished",
            FinishedLabel::Server => b"server finished",
        }
    }
}

/// `verify_data = PRF(master_secret, finished_label,
/// Hash(handshake_messages))[0..11]` (RFC 5246 §7.4.9). In DTLS the
/// handshake hash covers the DTLS handshake headers too (RFC 6347 §4.2.6).
pub fn verify_data(master: &[u8; 48], label: FinishedLabel, handshake_hash: &[u8; 32]) -> [u8; 12] {
    let out = prf(master, label.as_bytes(), handshake_hash, 12);
    let mut vd = [0u8; 12];
    vd.copy_from_slice(&out);
    vd
}

fn to_48(bytes: &[u8]) -> [u8; 48] {
    let mut out = [0u8; 48];
    out.copy_from_slice(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn premaster_layout_follows_rfc4279() {
        let pms = psk_premaster_secret(&[0x11, 0x22, 0x33]);
        assert_eq!(pms, [0, 3, 0, 0, 0, 0, 3, 0x11, 0x22, 0x33]);
        assert_eq!(psk_premaster_secret(&[]), [0, 0, 0, 0]);
    }

    #[test]
    fn premaster_rejects_overlong_psk() {
        let psk = vec![1u8; 65536];
        assert_eq!(
            try_psk_premaster_secret(&psk),
            Err(PskTooLong { len: 65536 })
        );
        assert_eq!(
            try_psk_premaster_secret(&psk[1..]).unwrap().len(),
            4 + 2 * 65535
        );
    }

    #[test]
    fn randoms_are_ordered_as_the_rfc_says() {
        let pms = psk_premaster_secret(b"key");
        let c = [1u8; 32];
        let s = [2u8; 32];
        let ms = master_secret(&pms, &c, &s);
        assert_eq!(
            ms.to_vec(),
            prf(&pms, b"master secret", &[c, s].concat(), 48)
        );
        assert_ne!(ms, master_secret(&pms, &s, &c));
        let kb = key_block(&ms, &s, &c, 40);
        assert_eq!(kb, prf(&ms, b"key expansion", &[s, c].concat(), 40));
    }

    #[test]
    fn finished_labels_differ() {
        let ms = [7u8; 48];
        let h = sha256(b"handshake");
        let c = verify_data(&ms, FinishedLabel::Client, &h);
        let s = verify_data(&ms, FinishedLabel::Server, &h);
        assert_ne!(c, s);
        assert_eq!(c.to_vec(), prf(&ms, b"client finished", &h, 12));
    }

    #[test]
    fn extended_master_secret_uses_its_own_label() {
        let pms = psk_premaster_secret(b"key");
        let h = sha256(b"session");
        assert_eq!(
            extended_master_secret(&pms, &h).to_vec(),
            prf(&pms, b"extended master secret", &h, 48)
        );
    }
}
