//! One peer's DTLS association on the server side: the handshake of RFC 6347 §4.2.4's
//! flights 3-6 (flights 1-2, the cookie exchange, are stateless: see `device.rs`), then
//! protected application data until close_notify or a fatal alert.
//!
//! ```text
//!   ClientHello (cookie) ──►                      begin(): flight 4
//!                        ◄── ServerHello, ServerHelloDone
//!   ClientKeyExchange    ──►   WaitClientKeyExchange → WaitChangeCipherSpec
//!   ChangeCipherSpec     ──►   → WaitFinished (read epoch + 1)
//!   Finished             ──►   → Connected: flight 6
//!                        ◄── ChangeCipherSpec, Finished
//! ```

use sha2::{Digest, Sha256};

use super::alert;
use super::early::EarlyRecords;
use super::epoch::{open_ignoring_tag, ReadState, WriteState};
use super::held_plaintext::HeldPlaintext;
use super::hello::{negotiate, Negotiated};
use super::messages::{
    self, parse_psk_client_key_exchange, server_hello_body, write_message, ClientHello,
    HandshakeHeader, ServerHelloParams, CLIENT_HELLO, CLIENT_KEY_EXCHANGE, FINISHED, HELLO_REQUEST,
    SERVER_HELLO, SERVER_HELLO_DONE, SERVER_KEY_EXCHANGE,
};
use super::output::Output;
use super::reassembly::{HandshakeReassembler, ReassemblyError, SESSION_REASSEMBLY_BUF};
use super::record::{
    RecordHeader, ALERT, APPLICATION_DATA, CHANGE_CIPHER_SPEC, DTLS1_0, DTLS1_2, HANDSHAKE,
};
use super::replay::ReplayWindow;
use crate::codec::Writer;
use crate::config::Config;
use crate::crypto::prf::{master_secret, psk_premaster, verify_data, MAX_PREMASTER_LEN};
use crate::crypto::protect::RecordContext;
use crate::crypto::{ct_eq, RecordKeys};
use crate::faults::{Fault, Faults};
use crate::peer::PeerAddr;
use crate::variations::{Variation, Variations, EARLY_RETRANSMISSION_MS, IDENTITY_HINT};

/// Bytes kept of our last flight for retransmission (§4.2.4): ServerHello and
/// ServerHelloDone, or Finished. The longest is flight 4 with both extensions the device
/// may send, an empty renegotiation_info (RFC 5746 §3.6) and extended_master_secret (RFC
/// 7627 §5.1), and no session id: 12 + 49 + 12 = 73 bytes; 7 bytes of margin. Only fault
/// switches make it longer (a session id, a renegotiation's verify data, a kept
/// HelloVerifyRequest), and the legal variation `psk_identity_hint` (a ServerKeyExchange,
/// 12 + 2 + 14 bytes), so a build with them has room for those.
#[cfg(not(feature = "faults"))]
pub const FLIGHT_BUF: usize = 80;
#[cfg(feature = "faults")]
pub const FLIGHT_BUF: usize = 160;

/// What carries the decrypted application data up and the response down.
pub trait Application {
    /// `request` arrived from `peer`; write a response into `response` and return its
    /// length, or `None` to send nothing.
    fn on_data(
        &mut self,
        now_ms: u64,
        peer: &PeerAddr,
        request: &[u8],
        response: &mut [u8],
    ) -> Option<usize>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Free,
    /// Only with the `retransmit_hello_verify_request` fault: state kept after the
    /// HelloVerifyRequest, which a correct server never keeps (§4.2.1).
    HelloVerifySent,
    WaitClientKeyExchange,
    WaitChangeCipherSpec,
    WaitFinished,
    Connected,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FlightKind {
    None,
    HelloVerify,
    ServerHello,
    Finished,
}

/// The retransmission timer of our current flight (§4.2.4.1).
#[derive(Clone, Copy, Debug)]
struct Timer {
    deadline_ms: u64,
    timeout_ms: u64,
    count: u8,
    /// Only with the `early_retransmission` variation: the next expiry is the early one.
    early: bool,
}

/// What the caller passes down with each event.
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'a> {
    pub config: &'a Config,
    pub now_ms: u64,
}

impl Ctx<'_> {
    fn faults(&self) -> &Faults {
        &self.config.faults
    }

    fn variations(&self) -> &Variations {
        &self.config.variations
    }
}

#[derive(Clone)]
pub struct Session {
    pub peer: PeerAddr,
    pub state: State,
    pub created_ms: u64,
    pub last_active_ms: u64,
    suite: u16,
    extended_master_secret: bool,
    secure_renegotiation: bool,
    client_random: [u8; 32],
    server_random: [u8; 32],
    master: [u8; 48],
    /// Running hash of the handshake messages in their unfragmented form (§4.2.6).
    transcript: Sha256,
    next_receive_seq: u16,
    next_send_seq: u16,
    /// Sized for what the client sends after its ClientHello (see
    /// [`SESSION_REASSEMBLY_BUF`]); ClientHellos are reassembled in front of the cookie check.
    reassembly: HandshakeReassembler,
    /// Keys derived from ClientKeyExchange, installed by ChangeCipherSpec: (client write,
    /// server write).
    pending: Option<(RecordKeys, RecordKeys)>,
    read: ReadState,
    /// Records of the peer's next epoch that came before its ChangeCipherSpec (§4.1).
    early: EarlyRecords,
    write: WriteState,
    /// The write state before our ChangeCipherSpec, to send that CCS again (flight 6).
    prev_write: WriteState,
    flight: [u8; FLIGHT_BUF],
    flight_len: usize,
    flight_kind: FlightKind,
    timer: Option<Timer>,
    client_verify_data: [u8; 12],
    server_verify_data: [u8; 12],
    /// The peer repeated its previous flight in the datagram being processed.
    pub peer_retransmitted: bool,
    /// Only with the `crash_on_unexpected_input` fault: this session's input crashed the
    /// device (the device reads and clears it).
    pub crashed: bool,
    /// Only with the `accept_plaintext_records` fault: plaintext data from the handshake.
    held: HeldPlaintext,
    /// Only with the `unknown_identity_as_decrypt_error` variation: the client named an
    /// identity the device does not know, and the handshake goes on with a key it cannot
    /// have until its Finished is refused.
    #[cfg(feature = "faults")]
    identity_unknown: bool,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("peer", &self.peer)
            .field("state", &self.state)
            .field("suite", &self.suite)
            .field("read_epoch", &self.read.epoch)
            .field("write_epoch", &self.write.epoch)
            .finish_non_exhaustive()
    }
}

impl Default for Session {
    fn default() -> Self {
        Session {
            peer: PeerAddr::default(),
            state: State::Free,
            created_ms: 0,
            last_active_ms: 0,
            suite: 0,
            extended_master_secret: false,
            secure_renegotiation: false,
            client_random: [0; 32],
            server_random: [0; 32],
            master: [0; 48],
            transcript: Sha256::new(),
            next_receive_seq: 0,
            next_send_seq: 0,
            reassembly: HandshakeReassembler::default(),
            pending: None,
            read: ReadState::default(),
            early: EarlyRecords::default(),
            write: WriteState::default(),
            prev_write: WriteState::default(),
            flight: [0; FLIGHT_BUF],
            flight_len: 0,
            flight_kind: FlightKind::None,
            timer: None,
            client_verify_data: [0; 12],
            server_verify_data: [0; 12],
            peer_retransmitted: false,
            crashed: false,
            held: HeldPlaintext::default(),
            #[cfg(feature = "faults")]
            identity_unknown: false,
        }
    }
}

impl Session {
    pub fn is_free(&self) -> bool {
        self.state == State::Free
    }

    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// A handshake is under way (the oldest such is evicted first under pressure).
    pub fn is_unfinished(&self) -> bool {
        !matches!(self.state, State::Free | State::Connected)
    }

    pub fn client_random(&self) -> &[u8; 32] {
        &self.client_random
    }

    pub fn cipher_suite(&self) -> u16 {
        self.suite
    }

    /// Forgets everything, secrets included.
    pub fn free(&mut self) {
        *self = Session::default();
    }

    pub fn deadline(&self) -> Option<u64> {
        self.timer.map(|t| t.deadline_ms)
    }

    /// The fault `retransmit_hello_verify_request`: keep the HelloVerifyRequest (already
    /// sent with record sequence number `seq`) and a timer.
    pub fn keep_hello_verify_request(
        &mut self,
        ctx: &Ctx<'_>,
        peer: PeerAddr,
        message: &[u8],
        seq: u64,
    ) {
        self.free();
        self.peer = peer;
        self.state = State::HelloVerifySent;
        self.created_ms = ctx.now_ms;
        self.last_active_ms = ctx.now_ms;
        self.write.seq = seq + 1;
        let n = message.len().min(FLIGHT_BUF);
        self.flight[..n].copy_from_slice(&message[..n]);
        self.flight_len = n;
        self.flight_kind = FlightKind::HelloVerify;
        self.start_timer(ctx);
    }

    /// Starts the handshake with a ClientHello that passed the cookie check (or, with
    /// `renegotiation`, one received in the connection's epoch) and sends flight 4.
    #[allow(clippy::too_many_arguments)]
    pub fn begin(
        &mut self,
        ctx: &Ctx<'_>,
        out: &mut Output<'_>,
        peer: PeerAddr,
        ch: &ClientHello<'_>,
        ch_message_seq: u16,
        ch_record_seq: u64,
        ch_body: &[u8],
        neg: Negotiated,
        renegotiation: bool,
    ) {
        if !renegotiation {
            self.free();
            self.peer = peer;
            self.created_ms = ctx.now_ms;
            // The server's epoch-0 numbering continues from the ClientHello's record
            // number, as the stateless HelloVerifyRequest reused the first one's (§4.2.1):
            // no sequence number is used twice.
            let seq = if ctx.faults().has(Fault::OwnRecordNumbersAfterCookie) {
                1
            } else {
                ch_record_seq
            };
            self.write = WriteState {
                epoch: 0,
                seq,
                keys: None,
            };
        }
        self.last_active_ms = ctx.now_ms;
        self.suite = neg.suite;
        self.extended_master_secret = neg.extended_master_secret;
        self.secure_renegotiation = neg.secure_renegotiation;
        self.client_random = ch.random;
        out.rng.fill(&mut self.server_random);
        self.pending = None;
        self.early = EarlyRecords::default();
        self.reassembly.reset();
        self.transcript = Sha256::new();
        self.transcript_add(CLIENT_HELLO, ch_message_seq, ch_body);
        // Our message_seq continues from the client's: the ServerHello answering the
        // second ClientHello (message_seq 1) is 1 (§4.2.2, as a stateless server must).
        self.next_receive_seq = ch_message_seq.wrapping_add(1);
        self.next_send_seq =
            if ctx.faults().has(Fault::ServerHelloNumberedFromZero) && !renegotiation {
                0 // the fault: as if no HelloVerifyRequest had been sent
            } else {
                ch_message_seq
            };

        let mut verify = [0u8; 24];
        verify[..12].copy_from_slice(&self.client_verify_data);
        verify[12..].copy_from_slice(&self.server_verify_data);
        let ri: Option<&[u8]> = match (neg.secure_renegotiation, renegotiation) {
            (false, _) => None,
            (true, false) => Some(&[]),
            // RFC 5746 §3.7: client_verify_data || server_verify_data.
            (true, true) => Some(&verify),
        };
        // No session id: the device keeps no session cache (RFC 5246 §7.4.1.3).
        let mut fresh_id = [0u8; 32];
        let session_id: &[u8] = if !ctx.faults().has(Fault::SessionIdWithoutCache) {
            &[]
        } else if !ch.session_id.is_empty() {
            ch.session_id
        } else {
            out.rng.fill(&mut fresh_id);
            &fresh_id
        };
        let mut body = [0u8; 96];
        let Ok(n) = server_hello_body(
            &ServerHelloParams {
                random: &self.server_random,
                session_id,
                cipher_suite: neg.suite,
                compression_method: neg.compression_method,
                extended_master_secret: neg.extended_master_secret,
                renegotiation_info: ri,
            },
            &mut body,
        ) else {
            self.free();
            return;
        };
        let mut w = Writer::new(&mut self.flight);
        let sh_seq = self.next_send_seq;
        let mut shd_seq = sh_seq.wrapping_add(1);
        if write_message(&mut w, SERVER_HELLO, sh_seq, &body[..n]).is_err() {
            self.free();
            return;
        }
        if ctx.variations().has(Variation::PskIdentityHint) {
            // RFC 4279 §2: ServerKeyExchange { opaque psk_identity_hint<0..2^16-1> }.
            let mut ske = [0u8; 2 + IDENTITY_HINT.len()];
            ske[..2].copy_from_slice(&(IDENTITY_HINT.len() as u16).to_be_bytes());
            ske[2..].copy_from_slice(IDENTITY_HINT);
            if write_message(&mut w, SERVER_KEY_EXCHANGE, shd_seq, &ske).is_err() {
                self.free();
                return;
            }
            shd_seq = shd_seq.wrapping_add(1);
        }
        if write_message(&mut w, SERVER_HELLO_DONE, shd_seq, &[]).is_err() {
            self.free();
            return;
        }
        self.flight_len = w.len();
        self.next_send_seq = shd_seq.wrapping_add(1);
        // The messages enter the transcript as if sent unfragmented (§4.2.6).
        self.transcript.update(&self.flight[..self.flight_len]);
        self.flight_kind = FlightKind::ServerHello;
        self.state = State::WaitClientKeyExchange;
        self.resend_flight(out, ctx.variations());
        self.start_timer(ctx);
    }

    fn transcript_add(&mut self, msg_type: u8, message_seq: u16, body: &[u8]) {
        self.transcript
            .update(HandshakeHeader::whole(msg_type, message_seq, body.len()));
        self.transcript.update(body);
    }

    fn start_timer(&mut self, ctx: &Ctx<'_>) {
        if ctx.faults().has(Fault::NoRetransmission) {
            self.timer = None; // the fault: every flight is sent once
            return;
        }
        let t = ctx.config.timers.initial_ms;
        // The `early_retransmission` variation: a first expiry soon after the flight went.
        let early = ctx.variations().has(Variation::EarlyRetransmission);
        let first = if early { EARLY_RETRANSMISSION_MS } else { t };
        self.timer = Some(Timer {
            deadline_ms: ctx.now_ms.saturating_add(first),
            timeout_ms: t,
            count: 0,
            early,
        });
    }

    /// Sends our current flight (again), every record with a new sequence number (§4.2.4).
    pub fn resend_flight(&mut self, out: &mut Output<'_>, v: &Variations) {
        out.retarget(self.peer);
        let flight = &self.flight[..self.flight_len];
        match self.flight_kind {
            FlightKind::None => {}
            FlightKind::HelloVerify => {
                out.record_with_version(&mut self.write, HANDSHAKE, DTLS1_0, flight);
            }
            FlightKind::ServerHello => {
                // By default one record per handshake message, all in one datagram. RFC
                // 6347 §4.2.3 allows several messages in one record, but tinydtls (the most
                // deployed constrained stack) rejects that, so a reference device does not
                // rely on it (only the variation `messages_in_one_record` does it).
                out.handshake_flight(&mut self.write, DTLS1_2, flight, v);
            }
            FlightKind::Finished => {
                out.record(&mut self.prev_write, CHANGE_CIPHER_SPEC, &[1]);
                if v.has(Variation::OneDatagramPerMessage) {
                    out.flush();
                }
                out.handshake_flight(&mut self.write, DTLS1_2, flight, v);
            }
        }
    }

    /// Fires the retransmission timer if due: resend with backoff, or give up after
    /// `max_retransmissions` (§4.2.4.1).
    pub fn on_timeout(&mut self, ctx: &Ctx<'_>, out: &mut Output<'_>) {
        let Some(mut t) = self.timer else { return };
        if ctx.now_ms < t.deadline_ms {
            return;
        }
        if ctx.faults().has(Fault::RetransmissionChangesContent)
            && self.flight_kind == FlightKind::ServerHello
        {
            // The fault: a byte of the ServerHello's random (after the 12-byte handshake
            // header and server_version) differs in every copy.
            if let Some(b) = self.flight.get_mut(messages::HANDSHAKE_HEADER_LEN + 2) {
                *b ^= 1;
            }
        }
        if t.early {
            // The `early_retransmission` variation: one extra copy, outside the count; the
            // timer goes on as if it had been armed when the flight was first sent.
            self.resend_flight(out, ctx.variations());
            t.early = false;
            t.deadline_ms = (t.deadline_ms.saturating_sub(EARLY_RETRANSMISSION_MS))
                .saturating_add(t.timeout_ms)
                .max(ctx.now_ms);
            self.timer = Some(t);
            return;
        }
        let timers = &ctx.config.timers;
        if t.count >= timers.max_retransmissions {
            self.free();
            return;
        }
        self.resend_flight(out, ctx.variations());
        t.count += 1;
        t.timeout_ms = t
            .timeout_ms
            .saturating_mul(timers.backoff.max(1) as u64)
            .min(timers.max_ms);
        t.deadline_ms = ctx.now_ms.saturating_add(t.timeout_ms);
        self.timer = Some(t);
    }

    /// Whether the last datagram repeated the client's previous flight and our answer to it
    /// should go again: flight 6 only for a repeated flight 5 (§4.2.4: the last flight has
    /// no timer).
    pub fn answer_peer_retransmission(
        &mut self,
        now_ms: u64,
        out: &mut Output<'_>,
        v: &Variations,
    ) {
        if core::mem::take(&mut self.peer_retransmitted)
            && matches!(
                (self.state, self.flight_kind),
                (State::Connected, FlightKind::Finished)
                    | (State::WaitClientKeyExchange, FlightKind::ServerHello)
            )
        {
            self.resend_flight(out, v);
            // Back to WAITING with a fresh timer (§4.2.4, Figure 3): the timer does not
            // fire right after an answer already went out.
            if let Some(t) = &mut self.timer {
                t.deadline_ms = now_ms.saturating_add(t.timeout_ms);
                t.early = false;
            }
        }
    }

    fn send_alert(&mut self, out: &mut Output<'_>, level: u8, description: u8) {
        out.retarget(self.peer);
        out.record(&mut self.write, ALERT, &[level, description]);
    }

    /// A fatal alert ends the association (RFC 5246 §7.2.2).
    fn fatal(&mut self, out: &mut Output<'_>, description: u8) {
        self.send_alert(out, alert::FATAL, description);
        self.free();
    }

    /// The `alerts_where_optional` variation, for the device: a record of this peer that
    /// cannot be used ends the association with a fatal alert (RFC 6347 §4.1.2.7).
    pub fn abort(&mut self, out: &mut Output<'_>, description: u8) {
        self.fatal(out, description);
    }

    /// Whether the client named an identity the device does not know and the handshake
    /// went on to hide it (`unknown_identity_as_decrypt_error`).
    fn identity_unknown(&self) -> bool {
        #[cfg(feature = "faults")]
        return self.identity_unknown;
        #[cfg(not(feature = "faults"))]
        false
    }

    /// One record from this session's peer.
    #[allow(clippy::too_many_arguments)]
    pub fn on_record(
        &mut self,
        ctx: &Ctx<'_>,
        out: &mut Output<'_>,
        app: &mut dyn Application,
        app_buf: &mut [u8],
        h: &RecordHeader,
        fragment: &mut [u8],
    ) {
        if self.state == State::HelloVerifySent {
            return; // only a new ClientHello (handled by the device) moves this state
        }
        if h.epoch == self.read.epoch {
            let payload: &[u8] = match &self.read.keys {
                None => fragment,
                Some(keys) => {
                    if h.version != DTLS1_2 {
                        self.end_on_unreadable_record(ctx);
                        return;
                    }
                    let faults = ctx.faults();
                    let use_window = !faults.has(Fault::NoReplayWindow);
                    if use_window && !self.read.window.check(h.seq) {
                        return; // a replay (§4.1.2.6): silently discarded
                    }
                    if use_window && faults.has(Fault::ReplayWindowBeforeTagCheck) {
                        self.read.window.mark(h.seq); // the fault: before authentication
                    }
                    let rc = RecordContext {
                        epoch: h.epoch,
                        seq: h.seq,
                        content_type: h.content_type,
                        version: h.version,
                    };
                    // Decrypted in place, in the caller's datagram (or, for a record kept
                    // early, in its own slot): the device needs no record buffer of its own.
                    // A record that fails is lost either way (§4.1.2.7: dropped silently),
                    // so nothing needs the ciphertext afterwards.
                    let opened = if faults.has(Fault::RecordTagNotChecked) {
                        // The fault: the tag is never looked at (CBC has no such path).
                        open_ignoring_tag(keys, &rc, fragment).or_else(|| keys.open(&rc, fragment))
                    } else {
                        keys.open(&rc, fragment)
                    };
                    let Some(range) = opened else {
                        if self.identity_unknown() {
                            // RFC 4279 §2: the unknown identity is refused as a wrong key.
                            self.fatal(out, alert::DECRYPT_ERROR);
                            return;
                        }
                        if ctx.variations().has(Variation::AlertsWhereOptional) {
                            self.fatal(out, alert::BAD_RECORD_MAC);
                            return;
                        }
                        self.end_on_unreadable_record(ctx);
                        return;
                    };
                    if use_window {
                        self.read.window.mark(h.seq);
                    }
                    let Some(plaintext) = fragment.get(range) else {
                        return;
                    };
                    plaintext
                }
            };
            self.last_active_ms = ctx.now_ms;
            let epoch_before = self.read.epoch;
            self.on_plaintext(ctx, out, app, app_buf, h.epoch, h.content_type, payload);
            if self.read.epoch != epoch_before {
                self.replay_early_records(ctx, out, app, app_buf);
            }
            if self.is_connected() {
                // Only with the `accept_plaintext_records` fault is anything held.
                if let Some(held) = self.held.take() {
                    self.deliver(ctx, out, app, app_buf, held.data());
                }
            }
        } else if h.epoch.wrapping_add(1) == self.read.epoch && self.read.epoch == 1 {
            self.on_previous_epoch(ctx, out, app, app_buf, h, fragment);
        } else if h.epoch == self.read.epoch.wrapping_add(1) && self.awaits_change_cipher_spec() {
            // §4.1: a record of the next epoch before the ChangeCipherSpec (typically the
            // Finished, reordered) may be kept until the epoch changes. Kept unread: it is
            // authenticated only then. When there is no room it is dropped and the client's
            // retransmission brings it again.
            if ctx.faults().has(Fault::UnreadableRecordEndsAssociation) {
                self.free(); // the fault: not readable yet, so held against the peer
                return;
            }
            let _ = self.early.keep(h, fragment);
        } else {
            // Any other epoch: discarded (§4.1).
            self.end_on_unreadable_record(ctx);
        }
    }

    /// A record that cannot be used was discarded; with the
    /// `unreadable_record_ends_association` fault the association goes with it.
    fn end_on_unreadable_record(&mut self, ctx: &Ctx<'_>) {
        if ctx.faults().has(Fault::UnreadableRecordEndsAssociation) {
            self.free();
        }
    }

    /// The handshake is at the point where the client's ChangeCipherSpec comes next or
    /// soon: its next-epoch records may arrive early.
    fn awaits_change_cipher_spec(&self) -> bool {
        matches!(
            self.state,
            State::WaitClientKeyExchange | State::WaitChangeCipherSpec
        )
    }

    /// The read epoch changed: the records kept for it are read now, in arrival order.
    fn replay_early_records(
        &mut self,
        ctx: &Ctx<'_>,
        out: &mut Output<'_>,
        app: &mut dyn Application,
        app_buf: &mut [u8],
    ) {
        let mut early = self.early.take();
        for r in early.iter_mut() {
            if self.is_free() {
                return;
            }
            if r.header.epoch == self.read.epoch {
                let header = r.header;
                self.on_record(ctx, out, app, app_buf, &header, r.fragment_mut());
            }
        }
    }

    /// A plaintext epoch-0 record after our read side moved to epoch 1: a retransmission
    /// of the client's flight 5, or (with a fault) an unencrypted Finished, a second
    /// ChangeCipherSpec, or plaintext data or alerts.
    fn on_previous_epoch(
        &mut self,
        ctx: &Ctx<'_>,
        out: &mut Output<'_>,
        app: &mut dyn Application,
        app_buf: &mut [u8],
        h: &RecordHeader,
        fragment: &[u8],
    ) {
        let faults = ctx.faults();
        match h.content_type {
            CHANGE_CIPHER_SPEC if self.state == State::Connected => {
                self.peer_retransmitted = true;
            }
            CHANGE_CIPHER_SPEC if faults.has(Fault::EveryChangeCipherSpecMovesEpoch) => {
                self.on_plaintext(ctx, out, app, app_buf, h.epoch, h.content_type, fragment);
            }
            ALERT | APPLICATION_DATA if faults.has(Fault::AcceptPlaintextRecords) => {
                self.on_plaintext(ctx, out, app, app_buf, h.epoch, h.content_type, fragment);
            }
            HANDSHAKE => {
                let mut rest = fragment;
                while let Ok((hh, body, r)) = messages::next_fragment(rest) {
                    rest = r;
                    if hh.msg_type == HELLO_REQUEST {
                        continue; // see on_handshake
                    }
                    if hh.message_seq < self.next_receive_seq {
                        if self.state == State::Connected {
                            self.peer_retransmitted = true;
                        }
                    } else if ctx.faults().has(Fault::AcceptUnencryptedFinished)
                        && self.state == State::WaitFinished
                        && hh.msg_type == FINISHED
                        && hh.message_seq == self.next_receive_seq
                        && hh.is_whole()
                    {
                        self.next_receive_seq = self.next_receive_seq.wrapping_add(1);
                        self.on_finished(ctx, out, hh.message_seq, body);
                        return;
                    }
                }
            }
            _ => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_plaintext(
        &mut self,
        ctx: &Ctx<'_>,
        out: &mut Output<'_>,
        app: &mut dyn Application,
        app_buf: &mut [u8],
        epoch: u16,
        content_type: u8,
        payload: &[u8],
    ) {
        match content_type {
            CHANGE_CIPHER_SPEC => {
                // RFC 5246 §7.1: a single byte of value 1.
                if payload != [1] {
                    if epoch > 0 || ctx.variations().has(Variation::AlertsWhereOptional) {
                        self.fatal(out, alert::DECODE_ERROR);
                    }
                    return;
                }
                // The fault: a repeated one moves the epoch again (the pending keys stay
                // until Finished, so the next epoch gets the same ones).
                let again = self.state == State::WaitFinished
                    && ctx.faults().has(Fault::EveryChangeCipherSpecMovesEpoch);
                if self.state == State::WaitChangeCipherSpec || again {
                    if let Some((client, _)) = &self.pending {
                        self.read = ReadState {
                            epoch: self.read.epoch.wrapping_add(1),
                            keys: Some(client.clone()),
                            window: ReplayWindow::new(),
                        };
                        self.state = State::WaitFinished;
                    }
                }
                // Elsewhere a CCS is a reordered or repeated one: ignored (an early CCS
                // before the keys exist, the CVE-2014-0224 pattern, changes nothing).
            }
            ALERT => self.on_alert(ctx, out, epoch, payload),
            HANDSHAKE => self.on_handshake(ctx, out, epoch, payload),
            APPLICATION_DATA => {
                if self.state == State::WaitFinished
                    && epoch > 0
                    && ctx.faults().has(Fault::ApplicationDataBeforeFinished)
                {
                    self.on_early_application_data(ctx, out, app, app_buf, payload);
                    return;
                }
                // Only protected, after the handshake (RFC 6347 §4.1, RFC 5246 §7.4.9:
                // no application data before Finished).
                if self.state != State::Connected || epoch == 0 {
                    if !ctx.faults().has(Fault::AcceptPlaintextRecords) {
                        return;
                    }
                    if self.state != State::Connected {
                        // The fault: handed to the application once the handshake is done.
                        self.held.keep(payload);
                        return;
                    }
                }
                self.deliver(ctx, out, app, app_buf, payload);
            }
            _ => {}
        }
    }

    /// Application data to the application, and its answer back under our keys.
    fn deliver(
        &mut self,
        ctx: &Ctx<'_>,
        out: &mut Output<'_>,
        app: &mut dyn Application,
        app_buf: &mut [u8],
        data: &[u8],
    ) {
        if let Some(n) = app.on_data(ctx.now_ms, &self.peer, data, app_buf) {
            if let Some(resp) = app_buf.get(..n) {
                out.retarget(self.peer);
                out.record(&mut self.write, APPLICATION_DATA, resp);
                if ctx.variations().has(Variation::ClosesAfterAnswer) {
                    // An echo-once program: one answer, then close (RFC 5246 §7.2.1).
                    self.send_alert(out, alert::WARNING, alert::CLOSE_NOTIFY);
                    self.free();
                }
            }
        }
    }

    /// The `application_data_before_finished` fault: data from a client whose Finished has
    /// not been verified is delivered, and answered at once under the keys just derived
    /// (the next epoch, from sequence number 0, which the Finished will then use again).
    fn on_early_application_data(
        &mut self,
        ctx: &Ctx<'_>,
        out: &mut Output<'_>,
        app: &mut dyn Application,
        app_buf: &mut [u8],
        payload: &[u8],
    ) {
        let Some((_, server_keys)) = &self.pending else {
            return;
        };
        let Some(n) = app.on_data(ctx.now_ms, &self.peer, payload, app_buf) else {
            return;
        };
        let Some(resp) = app_buf.get(..n) else {
            return;
        };
        let mut w = WriteState {
            epoch: self.write.epoch.wrapping_add(1),
            seq: 0,
            keys: Some(server_keys.clone()),
        };
        out.retarget(self.peer);
        out.record(&mut w, APPLICATION_DATA, resp);
    }

    fn on_alert(&mut self, ctx: &Ctx<'_>, out: &mut Output<'_>, epoch: u16, payload: &[u8]) {
        let [level, description] = payload else {
            return;
        };
        let faults = ctx.faults();
        if faults.has(Fault::IgnoreAlerts) {
            return;
        }
        // Unprotected alerts after the handshake could be forged by anyone: ignored.
        if epoch == 0
            && self.state == State::Connected
            && !faults.has(Fault::AcceptPlaintextRecords)
        {
            return;
        }
        if *description == alert::CLOSE_NOTIFY {
            // RFC 5246 §7.2.1: answer close_notify with close_notify, then forget.
            self.send_alert(out, alert::WARNING, alert::CLOSE_NOTIFY);
            self.free();
        } else if *level == alert::FATAL {
            self.free();
        }
    }

    fn on_handshake(&mut self, ctx: &Ctx<'_>, out: &mut Output<'_>, epoch: u16, payload: &[u8]) {
        let mut rest = payload;
        while !rest.is_empty() {
            let Ok((hh, body, r)) = messages::next_fragment(rest) else {
                if epoch > 0 || ctx.variations().has(Variation::AlertsWhereOptional) {
                    self.fatal(out, alert::DECODE_ERROR);
                }
                return;
            };
            rest = r;
            if hh.msg_type == HELLO_REQUEST {
                // RFC 5246 §7.4.1.1: HelloRequest is the server's, may come at any time, is
                // outside the message order and the transcript. From a client it asks for
                // nothing the device does: ignored, and not taken for a repeated flight.
                if ctx.faults().has(Fault::CrashOnUnexpectedInput) {
                    self.crashed = true;
                    return;
                }
                continue;
            }
            if hh.msg_type == CLIENT_HELLO && epoch > 0 && self.state == State::Connected {
                self.on_renegotiation(ctx, out, &hh, body);
                return;
            }
            if self.state == State::Connected
                && ctx.faults().has(Fault::NewMessageTakenForRetransmission)
            {
                self.peer_retransmitted = true; // the fault: whatever its message_seq
                continue;
            }
            if hh.message_seq < self.next_receive_seq {
                // An old message: the client repeats its flight (§4.2.4).
                self.peer_retransmitted = true;
                continue;
            }
            if hh.message_seq > self.next_receive_seq {
                if !ctx.faults().has(Fault::MessageSeqNotChecked) {
                    continue; // a later message: dropped, the flight will come again
                }
                self.next_receive_seq = hh.message_seq; // the fault: the gap is skipped
            }
            let mut msg = [0u8; SESSION_REASSEMBLY_BUF];
            let (msg_type, len) = match self.reassembly.add(&hh, body, ctx.faults()) {
                Ok(None) => continue,
                Ok(Some((t, m))) => {
                    msg[..m.len()].copy_from_slice(m);
                    (t, m.len())
                }
                Err(ReassemblyError::TooLong(_)) => {
                    // Longer than anything the client may send the device now: an
                    // identity it cannot know (RFC 4279 §2), or garbage. Refused at the
                    // first fragment that says so.
                    let d = if hh.msg_type == CLIENT_KEY_EXCHANGE {
                        self.unknown_identity_alert(ctx)
                    } else {
                        alert::UNEXPECTED_MESSAGE
                    };
                    self.fatal(out, d);
                    return;
                }
                Err(ReassemblyError::Inconsistent | ReassemblyError::Fragmented) => {
                    self.fatal(out, alert::HANDSHAKE_FAILURE);
                    return;
                }
            };
            self.next_receive_seq = self.next_receive_seq.wrapping_add(1);
            self.on_message(ctx, out, epoch, msg_type, hh.message_seq, &msg[..len]);
            if self.is_free() {
                return;
            }
        }
    }

    fn unknown_identity_alert(&self, ctx: &Ctx<'_>) -> u8 {
        if ctx.faults().has(Fault::WrongAlertForUnknownIdentity) {
            alert::HANDSHAKE_FAILURE
        } else if ctx
            .variations()
            .has(Variation::UnknownIdentityAsDecryptError)
        {
            alert::DECRYPT_ERROR // RFC 4279 §2's other choice
        } else {
            alert::UNKNOWN_PSK_IDENTITY
        }
    }

    fn on_message(
        &mut self,
        ctx: &Ctx<'_>,
        out: &mut Output<'_>,
        epoch: u16,
        msg_type: u8,
        message_seq: u16,
        body: &[u8],
    ) {
        match (self.state, msg_type) {
            (State::WaitClientKeyExchange, CLIENT_KEY_EXCHANGE) => {
                self.on_client_key_exchange(ctx, out, message_seq, body)
            }
            (State::WaitFinished, FINISHED) => self.on_finished(ctx, out, message_seq, body),
            (State::WaitChangeCipherSpec, FINISHED)
                if epoch == 0 && ctx.faults().has(Fault::AcceptUnencryptedFinished) =>
            {
                self.on_finished(ctx, out, message_seq, body)
            }
            // Anything else out of order, a Finished before ChangeCipherSpec included
            // (RFC 5246 §7.4.9: Finished comes right after CCS).
            _ => self.fatal(out, alert::UNEXPECTED_MESSAGE),
        }
    }

    fn on_client_key_exchange(
        &mut self,
        ctx: &Ctx<'_>,
        out: &mut Output<'_>,
        message_seq: u16,
        body: &[u8],
    ) {
        let Ok(identity) = parse_psk_client_key_exchange(body) else {
            self.fatal(out, alert::DECODE_ERROR);
            return;
        };
        // RFC 4279 §2: an identity the server does not know ends the handshake with
        // unknown_psk_identity (or, with a variation, goes on with a key the client cannot
        // have: its Finished will not authenticate, and gets decrypt_error).
        let mut unknown_key = [0u8; 16];
        let psk = if identity == ctx.config.identity() {
            ctx.config.psk()
        } else if ctx
            .variations()
            .has(Variation::UnknownIdentityAsDecryptError)
        {
            out.rng.fill(&mut unknown_key);
            #[cfg(feature = "faults")]
            {
                self.identity_unknown = true;
            }
            &unknown_key
        } else {
            let d = self.unknown_identity_alert(ctx);
            self.fatal(out, d);
            return;
        };
        self.transcript_add(CLIENT_KEY_EXCHANGE, message_seq, body);
        // RFC 7627 §3: the session hash covers the messages up to ClientKeyExchange.
        let session_hash: [u8; 32] = self.transcript.clone().finalize().into();
        let mut pms = [0u8; MAX_PREMASTER_LEN];
        let n = psk_premaster(psk, &mut pms);
        self.master = master_secret(
            &pms[..n],
            self.extended_master_secret,
            &session_hash,
            &self.client_random,
            &self.server_random,
        );
        pms.fill(0);
        unknown_key.fill(0);
        self.pending = RecordKeys::derive(
            self.suite,
            &self.master,
            &self.client_random,
            &self.server_random,
        );
        if self.pending.is_none() {
            self.fatal(out, alert::INTERNAL_ERROR);
            return;
        }
        self.state = State::WaitChangeCipherSpec;
    }

    fn on_finished(&mut self, ctx: &Ctx<'_>, out: &mut Output<'_>, message_seq: u16, body: &[u8]) {
        let hash: [u8; 32] = self.transcript.clone().finalize().into();
        let expected = verify_data(&self.master, true, &hash);
        // RFC 5246 §7.4.9: a wrong verify_data ends the handshake with decrypt_error.
        let wrong = !ct_eq(body, &expected) || self.identity_unknown();
        if wrong && !ctx.faults().has(Fault::SkipFinishedCheck) {
            self.fatal(out, alert::DECRYPT_ERROR);
            return;
        }
        let Some((client_keys, server_keys)) = self.pending.take() else {
            self.fatal(out, alert::INTERNAL_ERROR);
            return;
        };
        if self.read.keys.is_none() || self.state == State::WaitChangeCipherSpec {
            // Only reachable through accept_unencrypted_finished: the CCS never came, yet
            // the faulty device starts reading the new epoch anyway.
            self.read = ReadState {
                epoch: self.read.epoch.wrapping_add(1),
                keys: Some(client_keys),
                window: ReplayWindow::new(),
            };
        }
        self.client_verify_data = expected;
        self.transcript_add(FINISHED, message_seq, body);
        let hash: [u8; 32] = self.transcript.clone().finalize().into();
        self.server_verify_data = verify_data(&self.master, false, &hash);

        // Flight 6: ChangeCipherSpec in the current epoch, Finished in the next.
        let mut w = Writer::new(&mut self.flight);
        let seq = self.next_send_seq;
        if write_message(&mut w, FINISHED, seq, &self.server_verify_data).is_err() {
            self.fatal(out, alert::INTERNAL_ERROR);
            return;
        }
        self.flight_len = w.len();
        self.next_send_seq = seq.wrapping_add(1);
        self.flight_kind = FlightKind::Finished;
        self.prev_write = self.write.clone();
        self.write = WriteState {
            epoch: self.write.epoch.wrapping_add(1),
            seq: 0,
            keys: Some(server_keys),
        };
        self.timer = None;
        self.state = State::Connected;
        self.last_active_ms = ctx.now_ms;
        self.resend_flight(out, ctx.variations());
    }

    /// A ClientHello on a connected association: renegotiation. Refused with a warning
    /// no_renegotiation (RFC 5746 §4.4 allows it; RFC 7925 §17 keeps renegotiation out of
    /// the profile), unless the `accept_renegotiation` fault is on.
    fn on_renegotiation(
        &mut self,
        ctx: &Ctx<'_>,
        out: &mut Output<'_>,
        hh: &HandshakeHeader,
        body: &[u8],
    ) {
        if !ctx.faults().has(Fault::AcceptRenegotiation) {
            // One refusal per ClientHello, not one per fragment of it.
            if hh.fragment_offset == 0 {
                self.send_alert(out, alert::WARNING, alert::NO_RENEGOTIATION);
            }
            return;
        }
        if !hh.is_whole() {
            return;
        }
        let Ok(ch) = ClientHello::parse(body) else {
            self.fatal(out, alert::DECODE_ERROR);
            return;
        };
        // Like the servers CVE-2009-3555 exploited, the faulty device also skips RFC 5746
        // §3.7's check that the new handshake is bound to the old one.
        match negotiate(ctx.config, &ch, None) {
            Ok(neg) => {
                let peer = self.peer;
                self.begin(ctx, out, peer, &ch, hh.message_seq, 0, body, neg, true);
            }
            Err(d) => self.fatal(out, d),
        }
    }
}
