//! Legal-variation switches: behaviour the RFCs allow but the device does not choose by
//! default, one choice each, all off by default.
//!
//! The mirror image of [`crate::faults`]: the suite's able-to-pass self-test turns them on
//! one at a time and all together, and every case must still pass (or not apply). A case
//! that fails a device with a variation on blames it for something the RFCs allow. Like
//! the faults they take effect only with the cargo feature `faults` (the simulated board
//! turns it on); without it every [`Variations::has`] is a constant `false`, so the
//! branches vanish and the firmware images behave in the one default way.

use crate::peer::PeerAddr;

macro_rules! variations {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal, )*) => {
        /// One behaviour the RFCs allow (see each variant for the clause that allows it).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub enum Variation {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Variation {
            /// Every switch, in declaration order.
            pub const ALL: &'static [Variation] = &[$(Variation::$variant),*];

            /// The switch's name, as command lines and profiles spell it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Variation::$variant => $name,)*
                }
            }
        }

        impl Variations {
            /// Every switch's name, for command lines and reports.
            pub const NAMES: &'static [&'static str] = &[$($name),*];
        }
    };
}

variations! {
    // ---- Flight 4 and the cookie exchange ----
    /// Flight 4 is ServerHello, ServerKeyExchange carrying the PSK identity hint
    /// [`IDENTITY_HINT`], ServerHelloDone. RFC 4279 §2: the server may send a hint to help
    /// the client choose an identity, and omits the ServerKeyExchange when it sends none
    /// (the default). The message is in the transcript (RFC 5246 §7.4.9), so both Finished
    /// messages cover it. libcoap's and wolfSSL's servers send one by default.
    PskIdentityHint = "psk_identity_hint",
    /// The HelloVerifyRequest goes in a DTLS 1.2 record (0xfefd) with server_version DTLS
    /// 1.2. By default both are DTLS 1.0 (0xfeff), which RFC 6347 §4.2.1 recommends (the
    /// server SHOULD put 1.0 there whatever it will negotiate); 1.2 is the version the
    /// ServerHello will carry, which the same clause allows, and §4.1 leaves the record
    /// version of the unnegotiated flight open (a client accepts either).
    HelloVerifyRequestVersion12 = "hello_verify_request_version_1_2",
    /// Only the HelloVerifyRequest's record version is DTLS 1.2; server_version stays 1.0
    /// (RFC 6347 §4.1, §4.2.1, as above).
    HelloVerifyRequestRecordVersion12 = "hello_verify_request_record_version_1_2",
    /// Only the HelloVerifyRequest's server_version is DTLS 1.2; the record stays 1.0 (RFC
    /// 6347 §4.2.1, as above).
    HelloVerifyRequestServerVersion12 = "hello_verify_request_server_version_1_2",
    /// No cookie exchange: the first ClientHello is answered with flight 4. RFC 6347 §4.2.1
    /// says servers SHOULD do the exchange (a DoS countermeasure), so a server may skip it,
    /// and a client must be prepared for either. The code path of the fault
    /// `no_hello_verify_request` (which breaks the claim of a device that says it does the
    /// exchange), with what a device without the exchange must still do: a ClientHello from
    /// the address of an association gets the exchange all the same (the association ends
    /// only once the new client proved its address, §4.2.8), and a ClientHello numbered
    /// other than 0 starts nothing (§4.2.2: it is not the first message). A profile of this
    /// device does not claim `cookie_exchange`.
    NoCookieExchange = "no_cookie_exchange",
    // ---- How flights go on the wire ----
    /// Each handshake message of the device (and the ChangeCipherSpec of flight 6) goes in a
    /// datagram of its own. By default a whole flight shares one datagram. RFC 6347 §4.1.1
    /// allows several records per datagram and does not require it; §4.2.3 leaves packing
    /// to the sender.
    OneDatagramPerMessage = "one_datagram_per_message",
    /// All handshake messages of a flight go in one record (in one datagram). By default
    /// each message has a record of its own. RFC 6347 §4.2.3 ("multiple DTLS handshake
    /// messages MAY be placed in the same DTLS record") and RFC 5246 §6.2.1 (records carry
    /// messages of one type, coalesced or split freely). Takes precedence over
    /// `one_datagram_per_message`.
    MessagesInOneRecord = "messages_in_one_record",
    /// Every handshake message the device sends (the HelloVerifyRequest included) goes in
    /// fragments of at most [`FRAGMENT_BODY`] body bytes, each in its own record. RFC 6347
    /// §4.2.3: any handshake message may be fragmented, and receivers MUST reassemble.
    FragmentedFlights = "fragmented_flights",
    // ---- Timing and loss ----
    /// After sending a HelloVerifyRequest to an address, the device does not read the next
    /// datagram from that address (a server that briefly stops reading, as one that
    /// re-binds its socket for the new client does). It is lost, as a datagram may be on
    /// any path; RFC 6347 §4.2.4: the client's retransmission timer brings it again.
    MissesDatagramAfterHelloVerifyRequest = "misses_datagram_after_hello_verify_request",
    /// Every flight the device arms a retransmission timer for is retransmitted once
    /// [`EARLY_RETRANSMISSION_MS`] after it was sent; the timer then runs as configured.
    /// RFC 6347 §4.2.4.1: timer values are the implementation's choice (1 s is only
    /// recommended), and a retransmitted flight is harmless by design (§4.2.4).
    EarlyRetransmission = "early_retransmission",
    // ---- Alerts ----
    /// A fatal alert, and the association closed, where the device by default discards
    /// silently and RFC 6347 §4.1.2.7 lets an implementation "generate an alert instead"
    /// (fatal level, then). Exactly these places:
    /// - a protected record of the current epoch whose authentication fails: fatal
    ///   bad_record_mac (RFC 5246 §7.2.2, §6.2.3.3);
    /// - a record of an unknown content type from a peer with an association: fatal
    ///   unexpected_message (RFC 5246 §6);
    /// - during the handshake, an epoch-0 handshake record whose fragments do not parse, or a
    ///   ChangeCipherSpec whose body is not the single byte 1: fatal decode_error (RFC 5246
    ///   §7.2.2, §7.1).
    ///
    /// Where an alert is optional but the device sends one by default (unknown_psk_identity
    /// for an unknown identity, decrypt_error for a Finished that does not verify, a
    /// warning no_renegotiation), nothing changes; see `unknown_identity_as_decrypt_error`
    /// for the other choice RFC 4279 §2 offers.
    AlertsWhereOptional = "alerts_where_optional",
    /// An unknown PSK identity is not refused at once with unknown_psk_identity: the device
    /// goes on as if the identity existed with a key the client cannot have, and ends the
    /// handshake with a fatal decrypt_error when the client's Finished arrives (it cannot
    /// authenticate). RFC 4279 §2 offers both, the second to hide which identities exist.
    /// An identity too long to be known is refused with decrypt_error at once.
    UnknownIdentityAsDecryptError = "unknown_identity_as_decrypt_error",
    // ---- The application ----
    /// After answering one CoAP request on an association, the device sends close_notify
    /// and forgets the association (an echo-once demo program). Application behaviour: RFC
    /// 5246 §7.2.1 lets either side close at any time. A profile of this device says
    /// `application.closes_after_answer`.
    ClosesAfterAnswer = "closes_after_answer",
    /// Serve one peer at a time: while any association exists, ClientHellos from other
    /// addresses get no answer (a serial demo server, like s_server and gnutls-serv).
    /// Application behaviour, not a protocol rule; a profile of this device says
    /// `application.one_association_at_a_time`. (The fault one_association_at_a_time is
    /// this behaviour on a device whose profile does not say so.)
    SerialServer = "serial_server",
}

/// The PSK identity hint sent with `psk_identity_hint` (RFC 4279 §2: UTF-8, informational).
pub const IDENTITY_HINT: &[u8] = b"dicetest board";

/// Largest body a fragment carries with `fragmented_flights`.
pub const FRAGMENT_BODY: usize = 16;

/// When the retransmission of `early_retransmission` goes, after the flight.
pub const EARLY_RETRANSMISSION_MS: u64 = 50;

// One bit per switch.
const _: () = assert!(Variation::ALL.len() <= 32);

/// The set of switches that are on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Variations {
    bits: u32,
}

impl Variations {
    /// Whether `v` is on. Always false without the `faults` feature.
    #[inline(always)]
    pub fn has(&self, v: Variation) -> bool {
        cfg!(feature = "faults") && self.bits & (1 << v as u8) != 0
    }

    /// Turns `v` on.
    pub fn set(&mut self, v: Variation) {
        self.bits |= 1 << v as u8;
    }

    /// Turns on the switch called `name` (`-` and `_` alike); false when there is none.
    pub fn set_by_name(&mut self, name: &str) -> bool {
        match Variation::ALL
            .iter()
            .find(|v| crate::faults::same_name(v.name(), name))
        {
            Some(&v) => {
                self.set(v);
                true
            }
            None => false,
        }
    }

    /// Whether any switch is on.
    pub fn any(&self) -> bool {
        self.bits != 0
    }

    /// The names of the switches that are on.
    pub fn names_on(&self) -> impl Iterator<Item = &'static str> + '_ {
        Variation::ALL
            .iter()
            .filter(|v| self.bits & (1 << **v as u8) != 0)
            .map(|v| v.name())
    }
}

/// Addresses whose next datagram the device will not read
/// (`misses_datagram_after_hello_verify_request`). Without the `faults` feature it holds
/// nothing and takes no memory.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeafTo {
    #[cfg(feature = "faults")]
    slots: [Option<PeerAddr>; DEAF_SLOTS],
    #[cfg(feature = "faults")]
    next: usize,
}

#[cfg(feature = "faults")]
const DEAF_SLOTS: usize = 4;

impl DeafTo {
    /// The next datagram from `peer` will be missed.
    #[cfg_attr(not(feature = "faults"), allow(unused_variables))]
    pub fn arm(&mut self, peer: PeerAddr) {
        #[cfg(feature = "faults")]
        if !self.slots.contains(&Some(peer)) {
            self.slots[self.next % DEAF_SLOTS] = Some(peer);
            self.next = self.next.wrapping_add(1);
        }
    }

    /// Whether this datagram from `peer` is the one to miss (then forgets it).
    #[cfg_attr(not(feature = "faults"), allow(unused_variables))]
    pub fn take(&mut self, peer: &PeerAddr) -> bool {
        #[cfg(feature = "faults")]
        if let Some(s) = self.slots.iter_mut().find(|s| **s == Some(*peer)) {
            *s = None;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_variation_can_be_set_and_unknown_names_are_refused() {
        for (i, name) in Variations::NAMES.iter().enumerate() {
            let mut v = Variations::default();
            assert!(v.set_by_name(name), "{name}");
            assert!(v.any(), "{name} changed nothing");
            assert_eq!(v.names_on().collect::<Vec<_>>(), [*name]);
            assert_eq!(Variation::ALL[i].name(), *name);
            let mut w = Variations::default();
            assert!(w.set_by_name(&name.replace('_', "-")));
            assert_eq!(v, w);
        }
        assert!(!Variations::default().set_by_name("no_such_variation"));
    }

    #[test]
    fn names_are_unique_and_distinct_from_the_faults() {
        for (i, a) in Variations::NAMES.iter().enumerate() {
            assert!(!Variations::NAMES[i + 1..].contains(a), "{a} twice");
            assert!(!crate::faults::Faults::NAMES.contains(a), "{a} is a fault");
        }
    }

    #[cfg(feature = "faults")]
    #[test]
    fn a_deaf_address_misses_one_datagram() {
        let a = PeerAddr::from_ipv4([192, 0, 2, 1], 1);
        let b = PeerAddr::from_ipv4([192, 0, 2, 1], 2);
        let mut d = DeafTo::default();
        d.arm(a);
        d.arm(a);
        assert!(!d.take(&b));
        assert!(d.take(&a));
        assert!(!d.take(&a));
    }
}
