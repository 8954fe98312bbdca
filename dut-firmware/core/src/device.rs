//! The device: a table of DTLS sessions keyed by peer address, the stateless cookie
//! exchange in front of it (RFC 6347 §4.2.1), and the CoAP server behind it.

use crate::coap::{CoapServer, Sensors};
use crate::codec::Writer;
use crate::config::Config;
use crate::crypto::Drbg;
use crate::dtls::alert;
use crate::dtls::cookie::{Binding, CookieJar};
use crate::dtls::epoch::WriteState;
use crate::dtls::hello::negotiate;
use crate::dtls::hello_reassembly::{AnsweredHellos, HelloReassembly};
use crate::dtls::messages::{
    hello_verify_request_body, next_fragment, write_message, ClientHello, CLIENT_HELLO,
    HELLO_VERIFY_REQUEST,
};
use crate::dtls::output::Output;
use crate::dtls::reassembly::header_overruns;
use crate::dtls::record::{
    next_record_mut, skip_record_mut, RecordError, RecordHeader, ALERT, DTLS1_0, DTLS1_2, HANDSHAKE,
};
use crate::dtls::session::{Ctx, Session, State};
use crate::faults::Fault;
use crate::peer::PeerAddr;
use crate::variations::{DeafTo, Variation};

/// Largest datagram the device builds: [`Config::max_datagram`]'s default, which keeps a
/// datagram within the IPv6 minimum MTU of 1280 less IP, UDP and some tunnel headers (RFC
/// 6347 §4.1.1.1 asks not to exceed the PMTU; RFC 7925 §11 for constrained networks). A
/// larger `max_datagram` is clamped to it: bytes beyond it would never be filled. The
/// device's own records are all far smaller (a flight of ≤ 128 bytes, a CoAP response of
/// ≤ [`APP_BUF`]), so a smaller datagram size only means records go in more datagrams.
pub const TX_BUF: usize = 1152;
/// Largest CoAP response. The server's largest is `/.well-known/core` (RFC 6690), 4 header
/// bytes, an 8-byte token, Content-Format and 117 bytes of links: 132 bytes (a unit test of
/// `coap::server` keeps this true). A response that does not fit is not sent.
pub const APP_BUF: usize = 160;

/// The reference device with room for `N` concurrent DTLS sessions.
pub struct Device<const N: usize = 4> {
    config: Config,
    rng: Drbg,
    cookies: CookieJar,
    /// Fragmented ClientHellos being put together before the cookie check (bounded and
    /// shared by all peers, so the front door stays stateless per client).
    hellos: HelloReassembly,
    /// Only with the `no_retransmission` fault: ClientHellos already answered.
    answered_hellos: AnsweredHellos,
    /// Only with the `misses_datagram_after_hello_verify_request` variation: addresses
    /// whose next datagram goes unread.
    deaf: DeafTo,
    sessions: [Session; N],
    coap: CoapServer,
    /// Only with a crashing fault (`crash_on_unexpected_input`, `fragment_header_trusted`,
    /// `unknown_content_type_crashes`): the device has crashed and neither answers nor
    /// retransmits any more.
    crashed: bool,
    tx: [u8; TX_BUF],
    app_buf: [u8; APP_BUF],
}

/// A summary of one session, for the caller's logs and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    pub peer: PeerAddr,
    pub connected: bool,
    pub cipher_suite: u16,
}

impl<const N: usize> Device<N> {
    pub fn new(config: Config) -> Self {
        let mut rng = Drbg::new(&config.seed);
        let cookies = CookieJar::new(&mut rng, 0);
        let mut mid = [0u8; 2];
        rng.fill(&mut mid);
        let mut coap = CoapServer::new(u16::from_be_bytes(mid));
        coap.faults = config.faults;
        Device {
            config,
            rng,
            cookies,
            hellos: HelloReassembly::default(),
            answered_hellos: AnsweredHellos::default(),
            deaf: DeafTo::default(),
            sessions: core::array::from_fn(|_| Session::default()),
            coap,
            crashed: false,
            tx: [0; TX_BUF],
            app_buf: [0; APP_BUF],
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Mixes entropy from a hardware source into the random bit generator.
    pub fn add_entropy(&mut self, entropy: &[u8]) {
        self.rng.reseed(entropy);
    }

    pub fn light_on(&self) -> bool {
        self.coap.light_on
    }

    pub fn sensors_mut(&mut self) -> &mut Sensors {
        &mut self.coap.sensors
    }

    /// CoAP requests executed so far (duplicates answered from the cache do not count).
    pub fn coap_requests_executed(&self) -> u32 {
        self.coap.executed
    }

    /// The sessions in use.
    pub fn sessions(&self) -> impl Iterator<Item = SessionInfo> + '_ {
        self.sessions
            .iter()
            .filter(|s| !s.is_free())
            .map(|s| SessionInfo {
                peer: s.peer,
                connected: s.is_connected(),
                cipher_suite: s.cipher_suite(),
            })
    }

    /// One UDP datagram from `peer`, received at `now_ms`. Answers go to `out`.
    ///
    /// The datagram is the caller's receive buffer, and the device overwrites it: each
    /// protected record is decrypted where it lies (the boards own a datagram buffer
    /// anyway, so the device keeps no record buffer of its own). Its contents are
    /// unspecified afterwards.
    pub fn handle_datagram(
        &mut self,
        now_ms: u64,
        peer: PeerAddr,
        datagram: &mut [u8],
        out: &mut impl FnMut(&PeerAddr, &[u8]),
    ) {
        if self.crashed {
            return;
        }
        let Device {
            config,
            rng,
            cookies,
            hellos,
            answered_hellos,
            deaf,
            sessions,
            coap,
            crashed,
            tx,
            app_buf,
        } = self;
        if config
            .variations
            .has(Variation::MissesDatagramAfterHelloVerifyRequest)
            && deaf.take(&peer)
        {
            return; // the variation: not read, as if lost on the way (RFC 6347 §4.2.4)
        }
        cookies.rotate_if_due(now_ms, config.cookie_rotation_ms, rng);
        let mut o = Output::new(tx, config.max_datagram, peer, out, rng);
        o.faults = config.faults;
        let ctx = Ctx { config, now_ms };
        // Each record is split off the datagram (split_at_mut), so that it can be
        // decrypted in place while the rest waits.
        let mut rest: &mut [u8] = datagram;
        // Records one by one (§4.1.1). A record of unknown type or version is stepped over
        // (§4.1.2.7: invalid records are discarded one by one); one whose header or length
        // does not fit the datagram ends it.
        loop {
            let (h, fragment) = match next_record_mut(core::mem::take(&mut rest)) {
                Ok((h, fragment, r)) => {
                    rest = r;
                    (h, fragment)
                }
                Err((RecordError::UnknownContentType(_), _))
                    if config.faults.has(Fault::UnknownContentTypeCrashes) =>
                {
                    *crashed = true; // the fault: a handler read past its table
                    return;
                }
                Err((RecordError::UnknownContentType(_), d))
                    if config.variations.has(Variation::AlertsWhereOptional)
                        && find(sessions, &peer).is_some() =>
                {
                    // The variation: RFC 5246 §6's unexpected_message, fatal as RFC 6347
                    // §4.1.2.7 requires of an alert for an invalid record.
                    if let Some(s) = find(sessions, &peer) {
                        s.abort(&mut o, alert::UNEXPECTED_MESSAGE);
                    }
                    let Some(r) = skip_record_mut(d) else { break };
                    rest = r;
                    continue;
                }
                Err((RecordError::UnknownContentType(_) | RecordError::UnknownVersion(_), d)) => {
                    end_on_unreadable_record(&ctx, sessions, &peer);
                    let Some(r) = skip_record_mut(d) else { break };
                    rest = r;
                    continue;
                }
                Err((RecordError::ShortHeader | RecordError::LengthBeyondDatagram, d)) => {
                    if !d.is_empty() {
                        end_on_unreadable_record(&ctx, sessions, &peer);
                    }
                    break;
                }
            };
            if config.faults.has(Fault::FragmentHeaderTrusted)
                && h.content_type == HANDSHAKE
                && h.epoch == 0
                && header_overruns(fragment)
            {
                *crashed = true; // the fault: the lying header is written as it claims
                return;
            }
            if carries_plaintext_client_hello(&ctx, &h, fragment) {
                let front = FrontDoor {
                    ctx: &ctx,
                    sessions,
                    cookies,
                    answered: answered_hellos,
                    deaf,
                    peer,
                    record: &h,
                };
                *crashed |= front.on_record(&mut o, hellos, fragment);
            } else if let Some(s) = find(sessions, &peer) {
                s.on_record(&ctx, &mut o, coap, app_buf, &h, fragment);
                *crashed |= core::mem::take(&mut s.crashed);
            } else {
                // No session and no ClientHello: dropped (nothing to answer to).
                *crashed |= config.faults.has(Fault::CrashOnUnexpectedInput);
            }
            if *crashed {
                return; // what was being built goes down with the device
            }
            if config.faults.has(Fault::FirstRecordOnly) {
                break; // the fault: the rest of the datagram goes unread
            }
        }
        if let Some(s) = find(sessions, &peer) {
            if config.faults.has(Fault::NoRetransmission) {
                s.peer_retransmitted = false; // the fault: a repeated flight goes unanswered
            } else {
                s.answer_peer_retransmission(now_ms, &mut o, &config.variations);
            }
        }
        o.flush();
    }

    /// When the device next needs [`Device::handle_timeout`] (a retransmission timer).
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.crashed {
            return None;
        }
        self.sessions.iter().filter_map(|s| s.deadline()).min()
    }

    /// Fires the timers that are due at `now_ms`.
    pub fn handle_timeout(&mut self, now_ms: u64, out: &mut impl FnMut(&PeerAddr, &[u8])) {
        if self.crashed {
            return;
        }
        let Device {
            config,
            rng,
            sessions,
            tx,
            ..
        } = self;
        let mut o = Output::new(tx, config.max_datagram, PeerAddr::default(), out, rng);
        o.faults = config.faults;
        let ctx = Ctx { config, now_ms };
        for s in sessions.iter_mut() {
            if s.deadline().is_some_and(|d| d <= now_ms) {
                s.on_timeout(&ctx, &mut o);
            }
        }
        o.flush();
    }
}

fn find<'s>(sessions: &'s mut [Session], peer: &PeerAddr) -> Option<&'s mut Session> {
    sessions
        .iter_mut()
        .find(|s| !s.is_free() && s.peer == *peer)
}

/// A record of `peer` that cannot be used was discarded; with the
/// `unreadable_record_ends_association` fault its association goes with it.
fn end_on_unreadable_record(ctx: &Ctx<'_>, sessions: &mut [Session], peer: &PeerAddr) {
    if ctx
        .config
        .faults
        .has(Fault::UnreadableRecordEndsAssociation)
    {
        if let Some(s) = find(sessions, peer) {
            s.free();
        }
    }
}

/// A record that carries a ClientHello in the clear: in epoch 0, or (the
/// `accept_client_hello_in_epoch_1` fault) in a record claiming epoch 1. The first
/// fragment decides; a fragment that reaches past its message (§4.2.3) is no ClientHello.
fn carries_plaintext_client_hello(ctx: &Ctx<'_>, h: &RecordHeader, fragment: &[u8]) -> bool {
    if h.content_type != HANDSHAKE {
        return false;
    }
    let epoch_ok =
        h.epoch == 0 || (h.epoch == 1 && ctx.config.faults.has(Fault::AcceptClientHelloInEpoch1));
    epoch_ok && next_fragment(fragment).is_ok_and(|(hh, _, _)| hh.msg_type == CLIENT_HELLO)
}

/// Picks a slot for a new handshake: a free one, else the oldest unfinished handshake,
/// else the least recently active connection (under pressure the device prefers to keep
/// associations that completed).
fn allocate(sessions: &[Session]) -> Option<usize> {
    if let Some(i) = sessions.iter().position(|s| s.is_free()) {
        return Some(i);
    }
    let oldest_unfinished = (0..sessions.len())
        .filter(|&i| sessions[i].is_unfinished())
        .min_by_key(|&i| sessions[i].created_ms);
    oldest_unfinished.or_else(|| (0..sessions.len()).min_by_key(|&i| sessions[i].last_active_ms))
}

/// The TLS 1.2 version number (RFC 5246 §6.2.1), which DTLS never uses on the wire; only
/// the `hello_verify_request_tls_version` fault sends it.
const TLS1_2: u16 = 0x0303;

/// An unprotected fatal alert answering a ClientHello that cannot go on, numbered like
/// the HelloVerifyRequest would be (§4.2.1).
fn plain_alert(o: &mut Output<'_>, peer: PeerAddr, seq: u64, description: u8) {
    let mut w = WriteState {
        epoch: 0,
        seq,
        keys: None,
    };
    o.retarget(peer);
    o.record(&mut w, ALERT, &[alert::FATAL, description]);
}

/// The stateless front door (RFC 6347 §4.2.1) for one record carrying ClientHello
/// fragments from `peer`.
struct FrontDoor<'c, 's> {
    ctx: &'c Ctx<'c>,
    sessions: &'s mut [Session],
    cookies: &'s CookieJar,
    answered: &'s mut AnsweredHellos,
    deaf: &'s mut DeafTo,
    peer: PeerAddr,
    record: &'c RecordHeader,
}

impl FrontDoor<'_, '_> {
    /// Every ClientHello fragment of the record: a whole message goes straight to the
    /// cookie check; pieces are put together first (§4.2.3), in the shared area. True when
    /// the device crashed on it (the `crash_on_unexpected_input` fault).
    fn on_record(
        mut self,
        o: &mut Output<'_>,
        hellos: &mut HelloReassembly,
        fragment: &[u8],
    ) -> bool {
        let mut rest = fragment;
        while let Ok((hh, body, r)) = next_fragment(rest) {
            rest = r;
            if hh.msg_type != CLIENT_HELLO {
                continue; // nothing else belongs in a record that opens with a ClientHello
            }
            let crashed = if hh.is_whole() {
                hellos.forget(&self.peer);
                self.on_client_hello(o, hh.message_seq, body)
            } else if let Ok(Some((message_seq, message))) =
                hellos.add(self.peer, &hh, body, &self.ctx.config.faults)
            {
                // Fragments whose length disagrees, or that would not fit, are dropped.
                self.on_client_hello(o, message_seq, message)
            } else {
                false
            };
            if crashed {
                return true;
            }
        }
        false
    }

    /// A whole ClientHello: without a valid cookie it gets a HelloVerifyRequest and leaves
    /// no state; with one it starts a session. `self.record` is the record that carried
    /// it (or its last fragment). True when the device crashed on it (a fault).
    fn on_client_hello(&mut self, o: &mut Output<'_>, message_seq: u16, body: &[u8]) -> bool {
        let (ctx, peer, record_seq) = (self.ctx, self.peer, self.record.seq);
        let sessions = &mut *self.sessions;
        let faults = &ctx.config.faults;
        let variations = &ctx.config.variations;
        let ch = match ClientHello::parse(body) {
            Ok(ch) => ch,
            Err(_) if faults.has(Fault::CrashOnUnexpectedInput) => return true,
            Err(_) => {
                plain_alert(o, peer, record_seq, alert::DECODE_ERROR);
                return false;
            }
        };
        if (faults.has(Fault::OneAssociationAtATime) || variations.has(Variation::SerialServer))
            && sessions.iter().any(|s| !s.is_free() && s.peer != peer)
        {
            return false; // busy with another peer: no answer at all
        }
        let existing = sessions.iter().position(|s| !s.is_free() && s.peer == peer);
        if let Some(i) = existing {
            let s = &mut sessions[i];
            if s.is_unfinished()
                && s.state != State::HelloVerifySent
                && *s.client_random() == ch.random
            {
                // The client repeats flight 3: flight 4 went missing (§4.2.4).
                s.peer_retransmitted = true;
                return false;
            }
            if s.is_connected() && *s.client_random() == ch.random {
                return false; // a late copy of the hello that began this connection
            }
            if faults.has(Fault::ClientHelloEndsAssociation) {
                s.free(); // the fault: before the new client has proved its address
            }
            if faults.has(Fault::ClientHelloIgnoredOnAssociation) && s.is_connected() {
                return false; // the fault: the rebooted client is locked out
            }
        }
        let bind = Binding {
            params: !faults.has(Fault::CookieNotBoundToParams),
            port: !faults.has(Fault::CookieNotBoundToPort),
        };
        // The variation `no_cookie_exchange`: a device that does not do the exchange
        // (§4.2.1: servers SHOULD do it). It still does it for an address that has an
        // association, whose end needs the new client's reachability proved first (§4.2.8),
        // and it takes only a first message (message_seq 0, §4.2.2) for the start of a
        // handshake: a later one is discarded, as nothing came before it.
        let no_exchange = variations.has(Variation::NoCookieExchange)
            && existing.is_none_or(|i| !sessions[i].is_connected());
        if no_exchange && message_seq != 0 {
            return false;
        }
        // The fault `no_hello_verify_request` takes the same path everywhere: it breaks the
        // claim of a device that says it does the exchange.
        let cookie_ok = faults.has(Fault::NoHelloVerifyRequest)
            || no_exchange
            || self.cookies.verify(ch.cookie, &ch, &peer, bind);
        if !cookie_ok {
            if faults.has(Fault::NoRetransmission) && self.answered.seen_before(peer, &ch.random) {
                return false; // the fault: a repeated ClientHello gets no second answer
            }
            let cookie = self.cookies.make(&ch, &peer, bind);
            let mut hvr = [0u8; 40];
            // DTLS 1.0 in both by default (§4.2.1's recommendation); the variations choose
            // 1.2, which the clause also allows.
            let version_1_2 = variations.has(Variation::HelloVerifyRequestVersion12);
            let record_version =
                if version_1_2 || variations.has(Variation::HelloVerifyRequestRecordVersion12) {
                    DTLS1_2
                } else {
                    DTLS1_0
                };
            let version = if faults.has(Fault::HelloVerifyRequestTlsVersion) {
                TLS1_2
            } else if version_1_2 || variations.has(Variation::HelloVerifyRequestServerVersion12) {
                DTLS1_2
            } else {
                DTLS1_0
            };
            let Ok(n) = hello_verify_request_body(version, &cookie, &mut hvr) else {
                return false;
            };
            let mut msg = [0u8; 52];
            let mut w = Writer::new(&mut msg);
            // The HelloVerifyRequest echoes the ClientHello's message_seq and record
            // sequence number (§4.2.1, §4.2.2): a stateless server has no counters of its
            // own. For a fragmented ClientHello, the record that completed it.
            if write_message(&mut w, HELLO_VERIFY_REQUEST, message_seq, &hvr[..n]).is_err() {
                return false;
            }
            let len = w.len();
            let mut ws = WriteState {
                epoch: 0,
                seq: record_seq,
                keys: None,
            };
            o.retarget(peer);
            o.hello_verify_request(&mut ws, record_version, &msg[..len], variations);
            if variations.has(Variation::MissesDatagramAfterHelloVerifyRequest) {
                self.deaf.arm(peer);
            }
            if faults.has(Fault::RetransmitHelloVerifyRequest) {
                if let Some(i) = existing.or_else(|| allocate(sessions)) {
                    sessions[i].keep_hello_verify_request(ctx, peer, &msg[..len], record_seq);
                }
            }
            return false;
        }
        match negotiate(ctx.config, &ch, None) {
            Err(d) => plain_alert(o, peer, record_seq, d),
            Ok(neg) => {
                // A valid cookie proves the address (§4.2.8): an older association with the
                // same address gives way to the new handshake.
                if let Some(i) = existing.or_else(|| allocate(sessions)) {
                    sessions[i].begin(ctx, o, peer, &ch, message_seq, record_seq, body, neg, false);
                }
            }
        }
        false
    }
}
