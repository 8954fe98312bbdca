//! Stateless cookies (RFC 6347 §4.2.1): the server answers a ClientHello without a valid
//! cookie with a HelloVerifyRequest and keeps nothing; a client that can receive at its
//! address returns the cookie, which the server recomputes and compares.
//!
//! Cookie = HMAC-SHA256(secret, client_version | random | session_id | cipher_suites |
//! compression_methods | client address). The secret is replaced every
//! `cookie_rotation_ms`; a cookie made with the previous secret still counts, so a client
//! caught by a rotation between its two ClientHellos is not turned away (§4.2.1 suggests
//! exactly this).

use super::messages::ClientHello;
use crate::crypto::{ct_eq, prf::hmac_sha256, Drbg};
use crate::peer::PeerAddr;

pub const COOKIE_LEN: usize = 32;

/// What a cookie covers besides the secret: everything by default; less only with the
/// `cookie_not_bound_to_params` or `cookie_not_bound_to_port` faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The ClientHello's parameters (version, random, session id, suites, compression).
    pub params: bool,
    /// The client's UDP port (its IP address is always covered).
    pub port: bool,
}

impl Binding {
    pub const FULL: Binding = Binding {
        params: true,
        port: true,
    };
}

#[derive(Clone)]
pub struct CookieJar {
    current: [u8; 32],
    previous: Option<[u8; 32]>,
    rotated_at_ms: u64,
}

impl core::fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CookieJar(<secret>)")
    }
}

impl CookieJar {
    pub fn new(rng: &mut Drbg, now_ms: u64) -> Self {
        let mut current = [0u8; 32];
        rng.fill(&mut current);
        CookieJar {
            current,
            previous: None,
            rotated_at_ms: now_ms,
        }
    }

    /// Replaces the secret when it is `period_ms` old (the old one stays valid one more
    /// period). A clock jump over several periods retires both.
    pub fn rotate_if_due(&mut self, now_ms: u64, period_ms: u64, rng: &mut Drbg) {
        if period_ms == 0 || now_ms < self.rotated_at_ms.saturating_add(period_ms) {
            return;
        }
        // Exactly one period elapsed? (A comparison, not a division: 64-bit division costs
        // a Cortex-M about 1 KB of flash for the runtime routine.)
        let one_period = now_ms - self.rotated_at_ms < period_ms.saturating_mul(2);
        self.previous = if one_period { Some(self.current) } else { None };
        rng.fill(&mut self.current);
        self.rotated_at_ms = now_ms;
    }

    /// The cookie for this ClientHello from this address, covering what `bind` says.
    pub fn make(&self, ch: &ClientHello<'_>, peer: &PeerAddr, bind: Binding) -> [u8; 32] {
        Self::compute(&self.current, ch, peer, bind)
    }

    pub fn verify(
        &self,
        cookie: &[u8],
        ch: &ClientHello<'_>,
        peer: &PeerAddr,
        bind: Binding,
    ) -> bool {
        if cookie.len() != COOKIE_LEN {
            return false;
        }
        let now = ct_eq(cookie, &Self::compute(&self.current, ch, peer, bind));
        let before = self
            .previous
            .map(|p| ct_eq(cookie, &Self::compute(&p, ch, peer, bind)))
            .unwrap_or(false);
        now | before
    }

    fn compute(
        secret: &[u8; 32],
        ch: &ClientHello<'_>,
        peer: &PeerAddr,
        bind: Binding,
    ) -> [u8; 32] {
        // PeerAddr is the 16-byte address then the 2-byte port.
        let addr = if bind.port {
            peer.as_bytes()
        } else {
            &peer.as_bytes()[..16]
        };
        if !bind.params {
            return hmac_sha256(secret, &[addr]);
        }
        let version = ch.client_version.to_be_bytes();
        let sid_len = [ch.session_id.len() as u8];
        let suites_len = (ch.cipher_suites.len() as u16).to_be_bytes();
        let comp_len = [ch.compression_methods.len() as u8];
        // Lengths are included so that moving bytes from one field to the next changes the
        // cookie.
        hmac_sha256(
            secret,
            &[
                &version,
                &ch.random,
                &sid_len,
                ch.session_id,
                &suites_len,
                ch.cipher_suites,
                &comp_len,
                ch.compression_methods,
                addr,
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(random: u8) -> ClientHello<'static> {
        ClientHello {
            client_version: 0xfefd,
            random: [random; 32],
            session_id: &[],
            cookie: &[],
            cipher_suites: &[0xc0, 0xa8],
            compression_methods: &[0],
            extensions: None,
        }
    }

    #[test]
    fn a_cookie_is_bound_to_address_and_parameters() {
        let mut rng = Drbg::new(b"t");
        let jar = CookieJar::new(&mut rng, 0);
        let a = PeerAddr::from_ipv4([127, 0, 0, 1], 1000);
        let b = PeerAddr::from_ipv4([127, 0, 0, 1], 1001);
        let full = Binding::FULL;
        let c = jar.make(&hello(1), &a, full);
        assert!(jar.verify(&c, &hello(1), &a, full));
        assert!(!jar.verify(&c, &hello(1), &b, full), "other port");
        assert!(!jar.verify(&c, &hello(2), &a, full), "other random");
        assert!(!jar.verify(&c[..31], &hello(1), &a, full));
        // The faults: only the address counts; or the address without its port.
        let no_params = Binding {
            params: false,
            port: true,
        };
        let weak = jar.make(&hello(1), &a, no_params);
        assert!(jar.verify(&weak, &hello(2), &a, no_params));
        assert!(!jar.verify(&weak, &hello(1), &b, no_params));
        let no_port = Binding {
            params: true,
            port: false,
        };
        let weak = jar.make(&hello(1), &a, no_port);
        assert!(jar.verify(&weak, &hello(1), &b, no_port), "other port");
        assert!(!jar.verify(&weak, &hello(2), &b, no_port), "other random");
    }

    #[test]
    fn rotation_keeps_the_previous_secret_for_one_period() {
        let mut rng = Drbg::new(b"t");
        let mut jar = CookieJar::new(&mut rng, 0);
        let a = PeerAddr::from_ipv4([10, 0, 0, 1], 5);
        let c = jar.make(&hello(1), &a, Binding::FULL);
        jar.rotate_if_due(500, 1000, &mut rng);
        assert_eq!(jar.make(&hello(1), &a, Binding::FULL), c, "not due yet");
        jar.rotate_if_due(1000, 1000, &mut rng);
        assert_ne!(jar.make(&hello(1), &a, Binding::FULL), c);
        assert!(
            jar.verify(&c, &hello(1), &a, Binding::FULL),
            "previous secret still accepted"
        );
        jar.rotate_if_due(2000, 1000, &mut rng);
        assert!(
            !jar.verify(&c, &hello(1), &a, Binding::FULL),
            "two rotations later"
        );
        // A clock jump of two periods or more retires both secrets at once; just under
        // two periods keeps the previous one.
        let d = jar.make(&hello(1), &a, Binding::FULL);
        jar.rotate_if_due(3999, 1000, &mut rng);
        assert!(
            jar.verify(&d, &hello(1), &a, Binding::FULL),
            "1.999 periods: kept"
        );
        let e = jar.make(&hello(1), &a, Binding::FULL);
        jar.rotate_if_due(5999, 1000, &mut rng);
        assert!(
            !jar.verify(&e, &hello(1), &a, Binding::FULL),
            "2 periods: retired"
        );
    }
}
