//! The TLS 1.2 pseudo-random function and the PSK key schedule.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::MAX_PSK_LEN;

type HmacSha256 = Hmac<Sha256>;

/// PRF(secret, label, seed) = P_SHA256(secret, label + seed) (RFC 5246 §5). `seed` is
/// given in pieces so callers need not concatenate into a buffer.
pub fn prf(secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let Ok(keyed) = HmacSha256::new_from_slice(secret) else {
        return; // HMAC takes keys of any length; unreachable.
    };
    // A(1) = HMAC(secret, label + seed); A(i) = HMAC(secret, A(i-1)).
    let mut a = {
        let mut m = keyed.clone();
        m.update(label);
        for s in seed {
            m.update(s);
        }
        m.finalize().into_bytes()
    };
    for chunk in out.chunks_mut(32) {
        let mut m = keyed.clone();
        m.update(&a);
        m.update(label);
        for s in seed {
            m.update(s);
        }
        let block = m.finalize().into_bytes();
        chunk.copy_from_slice(&block[..chunk.len()]);
        let mut m = keyed.clone();
        m.update(&a);
        a = m.finalize().into_bytes();
    }
}

/// Largest PSK premaster secret: two length fields, N zeros, the PSK (RFC 4279 §2).
pub const MAX_PREMASTER_LEN: usize = 4 + 2 * MAX_PSK_LEN;

/// The plain-PSK premaster secret (RFC 4279 §2): uint16 N, N zero bytes, uint16 N, psk.
/// Returns its length.
pub fn psk_premaster(psk: &[u8], out: &mut [u8; MAX_PREMASTER_LEN]) -> usize {
    let n = psk.len().min(MAX_PSK_LEN);
    out.fill(0);
    out[..2].copy_from_slice(&(n as u16).to_be_bytes());
    out[2 + n..4 + n].copy_from_slice(&(n as u16).to_be_bytes());
    out[4 + n..4 + 2 * n].copy_from_slice(&psk[..n]);
    4 + 2 * n
}

/// master_secret: with RFC 7627 §4 from the session hash, else RFC 5246 §8.1 from the two
/// randoms.
pub fn master_secret(
    premaster: &[u8],
    extended: bool,
    session_hash: &[u8; 32],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> [u8; 48] {
    let mut ms = [0u8; 48];
    if extended {
        prf(
            premaster,
            b"extended master secret",
            &[session_hash],
            &mut ms,
        );
    } else {
        prf(
            premaster,
            b"master secret",
            &[client_random, server_random],
            &mut ms,
        );
    }
    ms
}

/// key_block = PRF(master, "key expansion", server_random + client_random) (RFC 5246 §6.3).
pub fn key_block(
    master: &[u8; 48],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    out: &mut [u8],
) {
    prf(
        master,
        b"key expansion",
        &[server_random, client_random],
        out,
    );
}

/// verify_data = PRF(master, label, Hash(handshake_messages))[0..12] (RFC 5246 §7.4.9).
pub fn verify_data(master: &[u8; 48], client: bool, transcript_hash: &[u8; 32]) -> [u8; 12] {
    let label: &[u8] = if client {
        b"client finished"
    } else {
        b"server finished"
    };
    let mut v = [0u8; 12];
    prf(master, label, &[transcript_hash], &mut v);
    v
}

/// HMAC-SHA256 over pieces (cookies).
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut out = [0u8; 32];
    if let Ok(mut m) = HmacSha256::new_from_slice(key) {
        for p in parts {
            m.update(p);
        }
        out.copy_from_slice(&m.finalize().into_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> std::vec::Vec<u8> {
        let s: std::string::String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    // Source: IETF TLS WG mailing list, "Test vectors for TLS 1.2 PRF" (tls mail archive
    // msg03416), P_SHA256 case, 100 bytes of output; the same vector as
    // vectors/crypto/tls12-prf-sha256.toml.
    #[test]
    fn prf_sha256_known_answer() {
        let secret = unhex("9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35");
        let seed = unhex("a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c");
        let expected = unhex(
            "e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53 c2 aa b2 1d 07 c3 d4 95 32 9b 52 d4 e6 1e db 5a
             6b 30 17 91 e9 0d 35 c9 c9 a4 6b 4e 14 ba f9 af 0f a0 22 f7 07 7d ef 17 ab fd 37 97 c0 56 4b ab
             4f bc 91 66 6e 9d ef 9b 97 fc e3 4f 79 67 89 ba a4 80 82 d1 22 ee 42 c5 a7 2e 5a 51 10 ff f7 01
             87 34 7b 66",
        );
        let mut out = [0u8; 100];
        prf(&secret, b"test label", &[&seed], &mut out);
        assert_eq!(&out[..], &expected[..]);
    }

    #[test]
    fn psk_premaster_layout() {
        let mut buf = [0u8; MAX_PREMASTER_LEN];
        let n = psk_premaster(b"abc", &mut buf);
        assert_eq!(&buf[..n], &[0, 3, 0, 0, 0, 0, 3, b'a', b'b', b'c']);
    }
}
