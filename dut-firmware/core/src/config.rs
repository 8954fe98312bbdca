//! What a device is configured with: credentials, timers, limits and fault switches.

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

/// Deliberate misbehaviour, one requirement each, all off by default. The suite's
/// able-to-fail self-test turns them on one at a time: a suite that still passes a device
/// with a switch on cannot see that bug.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Accept a Finished sent in the clear (epoch 0, before or without ChangeCipherSpec).
    /// Breaks RFC 5246 §7.4.9 with RFC 6347 §4.1: Finished is the first message protected
    /// with the new keys. Imitates the state-machine bugs that let a handshake complete
    /// without the negotiated protection (SMACK, Beurdouche et al., IEEE S&P 2015; DTLS
    /// state fuzzing, Fiterău-Broştean et al., USENIX Security 2020).
    pub accept_unencrypted_finished: bool,
    /// No replay detection: a replayed application record is processed again. Breaks RFC
    /// 6347 §4.1.2.6. Imitates stacks that never
    /// implemented the optional window.
    pub no_replay_window: bool,
    /// The cookie is an HMAC over the client's address only, not its ClientHello
    /// parameters: a cookie earned with one ClientHello opens the door to another. Breaks
    /// RFC 6347 §4.2.1 (the cookie binds the client's parameters).
    pub cookie_not_bound_to_params: bool,
    /// Keep state after a HelloVerifyRequest and retransmit it on a timer. Breaks RFC 6347
    /// §4.2.1 (the server stays stateless; HelloVerifyRequest is not retransmitted), which
    /// makes the device a cheap amplifier and lets spoofed ClientHellos fill its memory.
    pub retransmit_hello_verify_request: bool,
    /// Move the replay window for a record before its tag is checked: a forged record with
    /// a high sequence number makes the device reject the genuine ones that follow. Breaks
    /// RFC 6347 §4.1.2.6 ("updated only if the MAC verification succeeds").
    pub replay_window_before_tag_check: bool,
    /// Answer an unknown PSK identity with a fatal handshake_failure instead of
    /// unknown_psk_identity (RFC 4279 §2). Imitates stacks that map every handshake error to
    /// one generic alert, which leaves the client unable to tell a provisioning error.
    pub wrong_alert_for_unknown_identity: bool,
    /// Start a new handshake when a connected client sends a ClientHello (renegotiation)
    /// instead of a warning no_renegotiation alert. Breaks RFC 7925 §17 (no renegotiation in
    /// this profile; RFC 5746 §4.4, RFC 5246 §7.2.2), and without RFC 5746 §3.7's binding
    /// of the new handshake to the old one: the flaw behind CVE-2009-3555.
    pub accept_renegotiation: bool,
    /// Take a ClientHello that arrives in the clear in a record claiming epoch 1 as if it
    /// were epoch 0. Breaks RFC 6347 §4.1 (epoch 0 is the only unprotected epoch; a record
    /// that does not authenticate in its epoch is discarded, §4.1.2.7). Imitates the
    /// epoch-confusion bugs found by DTLS state fuzzing (Fiterău-Broştean et al. 2020).
    pub accept_client_hello_in_epoch_1: bool,
    /// Skip the cookie exchange: answer the first ClientHello with ServerHello. Breaks RFC
    /// 6347 §4.2.1 (servers SHOULD do the exchange; it is the DoS countermeasure) and RFC
    /// 7925's expectation of it.
    pub no_hello_verify_request: bool,
    /// Answer CoAP requests with an empty token. Breaks RFC 7252 §5.3.1 (the response
    /// echoes the request's token); a client cannot match the response.
    pub coap_token_not_echoed: bool,
}

impl Faults {
    /// Every switch with its name, for command lines and reports.
    pub const NAMES: [&'static str; 10] = [
        "accept_unencrypted_finished",
        "no_replay_window",
        "cookie_not_bound_to_params",
        "retransmit_hello_verify_request",
        "replay_window_before_tag_check",
        "wrong_alert_for_unknown_identity",
        "accept_renegotiation",
        "accept_client_hello_in_epoch_1",
        "no_hello_verify_request",
        "coap_token_not_echoed",
    ];

    /// Turns on the switch called `name` (`-` and `_` alike); false when there is none.
    pub fn set_by_name(&mut self, name: &str) -> bool {
        let Some(i) = Self::NAMES.iter().position(|n| same_name(n, name)) else {
            return false;
        };
        let slot = match i {
            0 => &mut self.accept_unencrypted_finished,
            1 => &mut self.no_replay_window,
            2 => &mut self.cookie_not_bound_to_params,
            3 => &mut self.retransmit_hello_verify_request,
            4 => &mut self.replay_window_before_tag_check,
            5 => &mut self.wrong_alert_for_unknown_identity,
            6 => &mut self.accept_renegotiation,
            7 => &mut self.accept_client_hello_in_epoch_1,
            8 => &mut self.no_hello_verify_request,
            _ => &mut self.coap_token_not_echoed,
        };
        *slot = true;
        true
    }

    pub fn any(&self) -> bool {
        *self != Faults::default()
    }
}

fn same_name(a: &str, b: &str) -> bool {
    let norm = |c: u8| if c == b'-' { b'_' } else { c };
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| norm(x) == norm(y))
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
    /// §4.1.1.1).
    pub max_datagram: usize,
    /// Seed of the device's deterministic random bit generator. A real board mixes in
    /// entropy from its hardware RNG; the simulation keeps it fixed to be reproducible.
    pub seed: [u8; 32],
    pub faults: Faults,
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
            max_datagram: 1152,
            seed: [0x5a; 32],
            faults: Faults::default(),
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
    fn every_named_fault_can_be_set_and_unknown_names_are_refused() {
        for name in Faults::NAMES {
            let mut f = Faults::default();
            assert!(f.set_by_name(name), "{name}");
            assert!(f.any(), "{name} changed nothing");
            let mut g = Faults::default();
            assert!(g.set_by_name(&name.replace('_', "-")));
            assert_eq!(f, g);
        }
        assert!(!Faults::default().set_by_name("no_such_fault"));
    }

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
