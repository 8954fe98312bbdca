//! What an engine endpoint is configured with.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use dicetest_crypto::IdentityKey;

use super::handshake::retransmit::TimerConfig;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Client,
    Server,
}

/// A pre-shared key and its identity (RFC 4279). The key never prints.
#[derive(Clone)]
pub struct PskCredentials {
    pub identity: Vec<u8>,
    pub key: Vec<u8>,
}

impl fmt::Debug for PskCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PskCredentials")
            .field("identity", &String::from_utf8_lossy(&self.identity))
            .field("key", &"<redacted>")
            .finish()
    }
}

/// Raw public key credentials (RFC 7250): our P-256 key and, if pinned, the peer's key.
#[derive(Clone)]
pub struct RpkCredentials {
    pub key: IdentityKey,
    /// The peer's SubjectPublicKeyInfo we trust. `None` accepts any key (trust on first use),
    /// which is reported in the connection's events.
    pub trusted_peer_spki: Option<Vec<u8>>,
}

impl fmt::Debug for RpkCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpkCredentials")
            .field("key", &"<redacted>")
            .field(
                "trusted_peer_spki",
                &self.trusted_peer_spki.as_ref().map(hex::encode),
            )
            .finish()
    }
}

/// What a session must keep to be resumed with an abbreviated handshake (RFC 5246 §7.3,
/// RFC 6347 Figure 2). The master secret never prints.
#[derive(Clone)]
pub struct ResumableSession {
    pub session_id: Vec<u8>,
    pub master: [u8; 48],
    pub cipher_suite: u16,
    pub extended_master_secret: bool,
}

impl fmt::Debug for ResumableSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResumableSession")
            .field("session_id", &hex::encode(&self.session_id))
            .field("master", &"<redacted>")
            .field("cipher_suite", &self.cipher_suite)
            .field("extended_master_secret", &self.extended_master_secret)
            .finish()
    }
}

/// A server's session cache, shared by the connections of one server.
pub type SessionCache = Arc<Mutex<HashMap<Vec<u8>, ResumableSession>>>;

/// Deliberate deviations from RFC 6347, all off by default. The engine is a scriptable peer:
/// the able-to-fail self-test turns these on to play a misbehaving DUT (a self-test profile
/// names them in `faults`), so that a case is shown to catch the bug. Nothing else sets them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deviations {
    /// Client: draw a fresh random for the ClientHello that answers a HelloVerifyRequest,
    /// where RFC 6347 §4.2.1 wants the first ClientHello's parameters repeated. A server
    /// whose cookie covers the random never accepts such a client.
    pub new_random_after_hello_verify_request: bool,
    /// Client: keep the first cookie received and answer every later HelloVerifyRequest
    /// with it, where RFC 6347 §4.2.1 wants the cookie of the latest one.
    pub keep_first_cookie: bool,
}

impl Deviations {
    /// Every deviation's name, as profiles spell them.
    pub const NAMES: &'static [&'static str] =
        &["new_random_after_hello_verify_request", "keep_first_cookie"];

    /// Turns on the deviation called `name` (`-` and `_` alike); false when there is none.
    pub fn set_by_name(&mut self, name: &str) -> bool {
        match name.replace('-', "_").as_str() {
            "new_random_after_hello_verify_request" => {
                self.new_random_after_hello_verify_request = true
            }
            "keep_first_cookie" => self.keep_first_cookie = true,
            _ => return false,
        }
        true
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub role: Role,
    /// Offered (client) or accepted in order of preference (server), IANA code points.
    pub cipher_suites: Vec<u16>,
    pub psk: Option<PskCredentials>,
    /// Server: the PSK identity hint sent in ServerKeyExchange (RFC 4279 §2); `None` sends no
    /// ServerKeyExchange in a PSK handshake.
    pub psk_identity_hint: Option<Vec<u8>>,
    pub rpk: Option<RpkCredentials>,
    /// Offer (client) / accept (server) extended_master_secret (RFC 7627).
    pub extended_master_secret: bool,
    /// Offer renegotiation_info / the SCSV (RFC 5746 §3.4, §3.6).
    pub renegotiation_info: bool,
    /// Server: demand a cookie exchange before any state is kept (RFC 6347 §4.2.1).
    pub cookie_exchange: bool,
    /// Server: bind cookies to this (the client's address, from the I/O edge).
    pub cookie_context: Vec<u8>,
    /// Offer max_fragment_length with this code (RFC 6066 §4): 1 = 2^9 … 4 = 2^12.
    pub max_fragment_length: Option<u8>,
    /// Server with ECDHE: request the client's raw public key.
    pub request_client_certificate: bool,
    pub timers: TimerConfig,
    /// Largest datagram we send (path MTU less IP/UDP headers, RFC 6347 §4.1.1.1).
    pub max_datagram_size: usize,
    /// Seed of the engine's random numbers: same seed, same bytes.
    pub seed: u64,
    /// Client: offer to resume this session.
    pub resume: Option<ResumableSession>,
    /// Server: issue session ids and resume sessions found here.
    pub session_cache: Option<SessionCache>,
    /// Deliberate misbehaviour for self-tests; none by default.
    pub deviations: Deviations,
}

impl Config {
    pub fn client() -> Self {
        Config::new(Role::Client)
    }

    pub fn server() -> Self {
        Config::new(Role::Server)
    }

    pub fn new(role: Role) -> Self {
        Config {
            role,
            // RFC 7925 §4.2 makes TLS_PSK_WITH_AES_128_CCM_8 mandatory for PSK.
            cipher_suites: vec![0xC0A8],
            psk: None,
            psk_identity_hint: None,
            rpk: None,
            extended_master_secret: true,
            renegotiation_info: true,
            cookie_exchange: true,
            cookie_context: Vec::new(),
            max_fragment_length: None,
            request_client_certificate: false,
            timers: TimerConfig::default(),
            max_datagram_size: 1400,
            seed: 0,
            resume: None,
            session_cache: None,
            deviations: Deviations::default(),
        }
    }

    pub fn with_psk(mut self, identity: &[u8], key: &[u8]) -> Self {
        self.psk = Some(PskCredentials {
            identity: identity.to_vec(),
            key: key.to_vec(),
        });
        self
    }

    pub fn with_suites(mut self, suites: &[u16]) -> Self {
        self.cipher_suites = suites.to_vec();
        self
    }

    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_deviation_is_off_by_default_and_can_be_set_by_name() {
        assert_eq!(Config::client().deviations, Deviations::default());
        for name in Deviations::NAMES {
            let mut d = Deviations::default();
            assert!(d.set_by_name(name), "{name}");
            assert_ne!(d, Deviations::default(), "{name} changed nothing");
            let mut e = Deviations::default();
            assert!(e.set_by_name(&name.replace('_', "-")));
            assert_eq!(d, e);
        }
        assert!(!Deviations::default().set_by_name("no_such_deviation"));
    }
}
