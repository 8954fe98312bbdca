//! What a device is configured with: credentials, timers, limits, fault and legal-variation
//! switches.

use crate::faults::Faults;
use crate::variations::Variations;

/// Longest PSK identity the device stores (RFC 4279 §5.3 allows up to 2^16-1 bytes; RFC
/// 7925 §4.2 identities are short, so a constrained device bounds them).
pub const MAX_IDENTITY_LEN: usize = 64;
/// Longest PSK the device stores.
pub const MAX_PSK_LEN: usize = 64;

/// IANA code point of TLS_PSK_WITH_AES_128_CCM_8 (RFC 6655 §3), mandatory in RFC 7925 §4.2.
pub const TLS_PSK_WITH_AES_128_CCM_8: u16 = 0xC0A8;
/// IANA code point of TLS_PSK_WITH_AES_128_CBC_SHA256 (RFC 5487 §3.1), feature `cbc`.
pub const TLS_PSK_WITH_AES_128_CBC_SHA256: u16 = 0x00AE;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    IdentityTooLong,
    PskTooLong,
    EmptyPsk,
}

/// The retransmission timer of RFC 6347 §4.2.4.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timers {
    /// First timeout after a flight is sent. RFC 6347 §4.2.4.1 recommends 1 s; RFC 7925 §11
    /// suggests a larger one (9 s) for constrained networks.
    pub initial_ms: u64,
    /// Each expiry multiplies the timeout by this (RFC 6347: doubling).
    pub backoff: u32,
    /// The timeout never exceeds this (RFC 6347: 60 s).
    pub max_ms: u64,
    /// After this many retransmissions of one flight the handshake is abandoned.
    pub max_retransmissions: u8,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            initial_ms: 1_000,
            backoff: 2,
            max_ms: 60_000,
            max_retransmissions: 7,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    identity: [u8; MAX_IDENTITY_LEN],
    identity_len: usize,
    psk: [u8; MAX_PSK_LEN],
    psk_len: usize,
    /// Accepted cipher suites in order of preference (code points; 0 = unused slot).
    pub cipher_suites: [u16; 2],
    /// Refuse clients that do not offer extended_master_secret (RFC 7627 §5.2 lets a server
    /// abort; RFC 7925 §16 recommends EMS).
    pub require_extended_master_secret: bool,
    pub timers: Timers,
    /// The cookie secret is replaced this often; cookies made with the previous secret are
    /// still accepted (RFC 6347 §4.2.1 suggests rotating it).
    pub cookie_rotation_ms: u64,
    /// Largest datagram the device sends (the path MTU less IP and UDP headers, RFC 6347
    /// §4.1.1.1); at most [`crate::device::TX_BUF`], to which a larger value is clamped.
    pub max_datagram: usize,
    /// Seed of the device's deterministic random bit generator. A real board mixes in
    /// entropy from its hardware RNG; the simulation keeps it fixed to be reproducible.
    pub seed: [u8; 32],
    pub faults: Faults,
    /// Legal-variation switches (the RFCs' other allowed choices); none by default.
    pub variations: Variations,
}

impl Config {
    pub fn new(identity: &[u8], psk: &[u8]) -> Result<Self, ConfigError> {
        if identity.len() > MAX_IDENTITY_LEN {
            return Err(ConfigError::IdentityTooLong);
        }
        if psk.len() > MAX_PSK_LEN {
            return Err(ConfigError::PskTooLong);
        }
        if psk.is_empty() {
            return Err(ConfigError::EmptyPsk);
        }
        let mut c = Config {
            identity: [0; MAX_IDENTITY_LEN],
            identity_len: identity.len(),
            psk: [0; MAX_PSK_LEN],
            psk_len: psk.len(),
            cipher_suites: [TLS_PSK_WITH_AES_128_CCM_8, 0],
            require_extended_master_secret: false,
            timers: Timers::default(),
            cookie_rotation_ms: 300_000,
            max_datagram: crate::device::TX_BUF,
            seed: [0x5a; 32],
            faults: Faults::default(),
            variations: Variations::default(),
        };
        #[cfg(feature = "cbc")]
        {
            c.cipher_suites[1] = TLS_PSK_WITH_AES_128_CBC_SHA256;
        }
        c.identity[..identity.len()].copy_from_slice(identity);
        c.psk[..psk.len()].copy_from_slice(psk);
        Ok(c)
    }

    pub fn identity(&self) -> &[u8] {
        &self.identity[..self.identity_len]
    }

    pub fn psk(&self) -> &[u8] {
        &self.psk[..self.psk_len]
    }

    /// Whether the device can and will use `suite`.
    pub fn accepts_suite(&self, suite: u16) -> bool {
        suite != 0 && self.cipher_suites.contains(&suite) && crate::crypto::suite_supported(suite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_bounded() {
        assert_eq!(
            Config::new(&[b'a'; 65], b"k").unwrap_err(),
            ConfigError::IdentityTooLong
        );
        assert_eq!(Config::new(b"id", b"").unwrap_err(), ConfigError::EmptyPsk);
        let c = Config::new(b"Client_identity", b"secretPSK").unwrap();
        assert_eq!(c.identity(), b"Client_identity");
        assert_eq!(c.psk(), b"secretPSK");
    }
}
