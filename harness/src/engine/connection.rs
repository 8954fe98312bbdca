//! One DTLS 1.2 association as a sans-IO state machine.
//!
//! Datagrams and the current time go in ([`Connection::handle_datagram`],
//! [`Connection::handle_timeout`]); datagrams, a timer deadline and events come out
//! ([`Connection::poll_transmit`], [`Connection::poll_timeout`], [`Connection::poll_event`]).
//!
//! With the autopilot on (the default) the connection answers like a correct client or server
//! (see `client.rs` and `server.rs`). A test script may turn it off and drive the exchange by
//! hand with [`Connection::send_handshake`], [`Connection::send_change_cipher_spec`],
//! [`Connection::send_record`] and friends, each of which can deviate from the RFC on request.
//! Either way, what the peer sends is absorbed into the security parameters, so keys follow
//! the conversation.

use std::collections::VecDeque;

use dicetest_crypto::{verify_data, FinishedLabel, KeyExchange};
use dicetest_wire::{
    Alert, AlertDescription, AlertLevel, CertificateType, Codec, ContentType, HandshakeFragment,
    HandshakeMessage, HandshakeType, KeyExchangeKind, ParseContext, ProtocolVersion,
};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::config::{Config, Role};
use super::error::HandshakeFailure;
use super::event::{Direction, Event, RecordTrace};
use super::handshake::fragmenter::{fragment, FragmentLayout};
use super::handshake::reassembly::{FragmentIn, FragmentOutcome, Reassembler, ReassemblyLimits};
use super::handshake::retransmit::{RetransmitTimer, TimerAction};
use super::handshake::transcript::Transcript;
use super::keys::SecurityParams;
use super::record::{ReceivedRecord, RecordLayer, RecordOverrides};
use crate::time::Instant;

/// Where the handshake stands: one state per step of RFC 6347 §4.2.4's flights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    ClientStart,
    /// Flight 1 or 3 sent; waiting for HelloVerifyRequest or ServerHello.
    ClientWaitServerHello,
    /// ServerHello received; waiting for the rest of flight 4 up to ServerHelloDone.
    ClientWaitServerHelloDone,
    /// Flight 5 sent; waiting for the server's ChangeCipherSpec.
    ClientWaitChangeCipherSpec,
    ClientWaitFinished,
    /// Waiting for a ClientHello (with a valid cookie if we demand one).
    ServerWaitClientHello,
    /// Flight 4 sent; waiting for (Certificate,) ClientKeyExchange.
    ServerWaitClientKeyExchange,
    ServerWaitCertificateVerify,
    ServerWaitChangeCipherSpec,
    ServerWaitFinished,
    Connected,
    Failed,
    Closed,
}

/// One message or ChangeCipherSpec of a flight we may have to send again (§4.2.4).
#[derive(Clone, Debug)]
enum FlightEntry {
    Handshake {
        msg_type: u8,
        message_seq: u16,
        body: Vec<u8>,
        epoch: u16,
        /// A retransmission repeats the message as it was first sent: the same fragments
        /// and the same deliberate deviations, only the record sequence numbers are new
        /// (§4.2.4). A fragmented ClientHello sent whole the second time would let a DUT
        /// that cannot reassemble pass.
        layout: FragmentLayout,
        record: RecordOverrides,
    },
    ChangeCipherSpec {
        epoch: u16,
        record: RecordOverrides,
    },
}

/// How a script wants one handshake message sent.
#[derive(Clone, Debug, Default)]
pub struct SendOptions {
    pub layout: FragmentLayout,
    /// message_seq instead of the next one (the counter does not move).
    pub message_seq: Option<u16>,
    pub record: RecordOverrides,
    /// Keep the message out of the transcript (it then does not count for Finished).
    pub skip_transcript: bool,
    /// Do not keep the message for retransmission.
    pub no_retransmit: bool,
    /// Send this body instead of the message's encoding (malformed messages).
    pub raw_body: Option<Vec<u8>>,
}

pub struct Connection {
    pub(super) config: Config,
    pub(super) rng: ChaCha20Rng,
    pub(super) records: RecordLayer,
    pub(super) reassembler: Reassembler,
    pub(super) transcript: Transcript,
    pub params: SecurityParams,
    pub(super) next_send_seq: u16,
    pub(super) state: State,
    pub(super) autopilot: bool,
    flight: Vec<FlightEntry>,
    flight_number: u8,
    pub(super) timer: RetransmitTimer,
    datagram: Vec<u8>,
    transmits: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    pub(super) auth_failures: u32,
    pub(super) cookie_secret: [u8; 32],
    /// Record sequence number of the record that carried the last handshake fragment.
    pub(super) last_handshake_record_seq: u64,
    retransmitted_this_datagram: bool,
    /// When our current flight was last sent.
    flight_sent_at: Instant,
    /// Whether the peer's Finished verified, once one arrived (whoever drives).
    pub peer_finished_ok: Option<bool>,
    /// Server: the ClientHello being answered.
    pub last_client_hello: Option<dicetest_wire::ClientHello>,
    /// This handshake is an abbreviated one (session resumption).
    pub resumed: bool,
    /// Per message_seq, the header of the record that carried the message's first
    /// fragment (bounded).
    first_fragment_records: std::collections::BTreeMap<u16, dicetest_wire::RecordHeader>,
}

impl Connection {
    pub fn new(config: Config) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(config.seed);
        let mut cookie_secret = [0u8; 32];
        rng.fill_bytes(&mut cookie_secret);
        let mut reassembler = Reassembler::new(ReassemblyLimits::default());
        let state = match config.role {
            Role::Client => State::ClientStart,
            Role::Server => {
                reassembler.expect_any_first();
                State::ServerWaitClientHello
            }
        };
        Connection {
            timer: RetransmitTimer::new(config.timers),
            config,
            rng,
            records: RecordLayer::new(ProtocolVersion::DTLS1_2),
            reassembler,
            transcript: Transcript::new(),
            params: SecurityParams::default(),
            next_send_seq: 0,
            state,
            autopilot: true,
            flight: Vec::new(),
            flight_number: 0,
            datagram: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            auth_failures: 0,
            cookie_secret,
            last_handshake_record_seq: 0,
            retransmitted_this_datagram: false,
            flight_sent_at: Instant::ZERO,
            peer_finished_ok: None,
            last_client_hello: None,
            resumed: false,
            first_fragment_records: Default::default(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn role(&self) -> Role {
        self.config.role
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Failed | State::Closed)
    }

    /// Let the connection answer by itself (on) or only report and absorb (off).
    pub fn set_autopilot(&mut self, on: bool) {
        self.autopilot = on;
        // A script judges the peer: a record the anti-replay window would discard (a
        // retransmitted HelloVerifyRequest carries the ClientHello's sequence number again,
        // §4.2.1) still reaches it, marked as a repeat.
        self.records.set_deliver_replays(!on);
    }

    /// The client's first flight. Servers wait for the peer.
    pub fn start(&mut self, now: Instant) {
        if self.config.role == Role::Client && self.state == State::ClientStart && self.autopilot {
            self.client_start(now);
        }
    }

    /// The negotiated cipher suite, once chosen.
    pub fn cipher_suite(&self) -> Option<u16> {
        self.params.suite.map(|s| s.id)
    }

    /// NSS key log line (SSLKEYLOGFILE format) once the master secret is known.
    pub fn keylog_line(&self) -> Option<String> {
        self.params.keylog_line()
    }

    pub fn record_layer(&self) -> &RecordLayer {
        &self.records
    }

    pub fn next_message_seq(&self) -> u16 {
        self.next_send_seq
    }

    // ---- output ----------------------------------------------------------------------

    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.flush();
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Connection::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timer.deadline()
    }

    pub(super) fn emit(&mut self, e: Event) {
        self.events.push_back(e);
    }

    /// Appends a record to the datagram being packed; several records share a datagram up to
    /// the configured size (RFC 6347 §4.1.1).
    fn queue_record(&mut self, bytes: Vec<u8>) {
        if !self.datagram.is_empty()
            && self.datagram.len() + bytes.len() > self.config.max_datagram_size
        {
            self.flush();
        }
        self.datagram.extend_from_slice(&bytes);
    }

    /// Closes the datagram being packed.
    pub fn flush(&mut self) {
        if !self.datagram.is_empty() {
            self.transmits.push_back(std::mem::take(&mut self.datagram));
        }
    }

    fn trace_sent(&mut self, header: dicetest_wire::RecordHeader, summary: String) {
        let decrypted = header.epoch > 0;
        self.emit(Event::Record(RecordTrace {
            direction: Direction::Sent,
            header,
            decrypted,
            summary,
            dropped: None,
            plaintext_len: None,
        }));
    }

    // ---- sending ---------------------------------------------------------------------

    /// Sends one record of any content type, with any deviations.
    pub fn send_record(&mut self, content_type: ContentType, payload: &[u8], o: &RecordOverrides) {
        let (bytes, header) = self.records.seal(content_type, None, payload, o);
        let summary = format!("{} ({} bytes)", content_type, payload.len());
        self.trace_sent(header, summary);
        self.queue_record(bytes);
    }

    /// Starts a new flight: the previous one is forgotten, the timer restarts.
    pub fn begin_flight(&mut self, number: u8) {
        self.flight.clear();
        self.flight_number = number;
    }

    /// Sends a handshake message (built by the caller, or by one of the `default_*`
    /// builders), adds it to the transcript, keeps it for retransmission and lets the
    /// security parameters follow (a ClientKeyExchange derives the keys).
    pub fn send_handshake(&mut self, msg: &HandshakeMessage, opts: &SendOptions) {
        let msg_type = msg.msg_type().get_u8();
        let body = opts.raw_body.clone().unwrap_or_else(|| msg.encode_body());
        let message_seq = match opts.message_seq {
            Some(s) => s,
            None => {
                let s = self.next_send_seq;
                self.next_send_seq = self.next_send_seq.wrapping_add(1);
                s
            }
        };
        if !opts.skip_transcript {
            self.transcript.add(msg_type, message_seq, &body);
        }
        let epoch = self.records.write_epoch();
        self.emit_handshake(
            msg_type,
            message_seq,
            &body,
            epoch,
            &opts.layout,
            &opts.record,
            &msg.summary(),
        );
        if !opts.no_retransmit {
            self.flight.push(FlightEntry::Handshake {
                msg_type,
                message_seq,
                body,
                epoch,
                layout: opts.layout.clone(),
                record: RecordOverrides {
                    sequence_number: None,
                    ..opts.record.clone()
                },
            });
        }
        self.after_sent(msg);
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_handshake(
        &mut self,
        msg_type: u8,
        message_seq: u16,
        body: &[u8],
        epoch: u16,
        layout: &FragmentLayout,
        o: &RecordOverrides,
        summary: &str,
    ) {
        // A message that does not fit a datagram is fragmented (§4.2.3).
        let room = self
            .config
            .max_datagram_size
            .saturating_sub(self.records.overhead() + 12)
            .max(16) as u32;
        let layout = match layout {
            FragmentLayout::Whole if body.len() as u32 > room => FragmentLayout::MaxBody(room),
            other => other.clone(),
        };
        let frags = fragment(msg_type, message_seq, body, &layout);
        let n = frags.len();
        for (i, f) in frags.into_iter().enumerate() {
            let mut payload = Vec::with_capacity(f.encoded_len());
            f.encode(&mut payload);
            let (bytes, header) =
                self.records
                    .seal(ContentType::Handshake, Some(epoch), &payload, o);
            let s = if n == 1 {
                format!("{summary} seq={message_seq}")
            } else {
                format!(
                    "{summary} seq={message_seq} fragment {}/{n} [{}+{}]",
                    i + 1,
                    f.fragment_offset,
                    f.fragment_length
                )
            };
            self.trace_sent(header, s);
            self.queue_record(bytes);
        }
    }

    /// Sends ChangeCipherSpec and switches our writes to the next epoch when its keys are
    /// known (RFC 6347 §4.1, RFC 5246 §7.1).
    pub fn send_change_cipher_spec(&mut self, o: &RecordOverrides) {
        let epoch = self.records.write_epoch();
        let (bytes, header) =
            self.records
                .seal(ContentType::ChangeCipherSpec, Some(epoch), &[1], o);
        self.trace_sent(header, "ChangeCipherSpec".into());
        self.queue_record(bytes);
        self.flight.push(FlightEntry::ChangeCipherSpec {
            epoch,
            record: RecordOverrides {
                sequence_number: None,
                ..o.clone()
            },
        });
        if let Some((write, _)) = self.params.protections(self.config.role) {
            self.records.advance_write_epoch(write);
        }
    }

    pub fn send_alert(
        &mut self,
        level: AlertLevel,
        description: AlertDescription,
        o: &RecordOverrides,
    ) {
        let alert = Alert { level, description };
        let (bytes, header) = self
            .records
            .seal(ContentType::Alert, None, &alert.to_bytes(), o);
        self.trace_sent(header, alert.summary());
        self.queue_record(bytes);
        self.flush();
    }

    /// Application data in the current epoch.
    pub fn send_application_data(&mut self, data: &[u8]) {
        self.send_application_data_with(data, &RecordOverrides::default());
    }

    pub fn send_application_data_with(&mut self, data: &[u8], o: &RecordOverrides) {
        let (bytes, header) = self
            .records
            .seal(ContentType::ApplicationData, None, data, o);
        self.trace_sent(header, format!("ApplicationData ({} bytes)", data.len()));
        self.queue_record(bytes);
        self.flush();
    }

    /// close_notify (RFC 5246 §7.2.1); the association ends.
    pub fn close(&mut self) {
        if !self.is_finished() {
            let fresh = RecordOverrides {
                sequence_number: Some(self.records.fresh_write_seq()),
                ..Default::default()
            };
            self.send_alert(AlertLevel::Warning, AlertDescription::CloseNotify, &fresh);
            self.timer.stop();
            self.state = State::Closed;
            self.emit(Event::Closed);
        }
    }

    /// The header of the record that carried the first fragment of the peer's message
    /// `message_seq`, once seen.
    pub fn first_fragment_record(&self, message_seq: u16) -> Option<dicetest_wire::RecordHeader> {
        self.first_fragment_records.get(&message_seq).copied()
    }

    /// How many messages (and ChangeCipherSpecs) the current flight holds for
    /// retransmission.
    pub fn flight_len(&self) -> usize {
        self.flight.len()
    }

    /// Sends the current flight again, each record with a new sequence number (§4.2.4).
    pub fn retransmit_flight(&mut self) {
        let entries = self.flight.clone();
        for e in entries {
            match e {
                FlightEntry::Handshake {
                    msg_type,
                    message_seq,
                    body,
                    epoch,
                    layout,
                    record,
                } => {
                    let summary = format!("{} (retransmission)", HandshakeType::from(msg_type));
                    self.emit_handshake(
                        msg_type,
                        message_seq,
                        &body,
                        epoch,
                        &layout,
                        &record,
                        &summary,
                    );
                }
                FlightEntry::ChangeCipherSpec { epoch, record } => {
                    let (bytes, header) = self.records.seal(
                        ContentType::ChangeCipherSpec,
                        Some(epoch),
                        &[1],
                        &record,
                    );
                    self.trace_sent(header, "ChangeCipherSpec (retransmission)".into());
                    self.queue_record(bytes);
                }
            }
        }
        self.flush();
    }

    /// Ends a flight: pack it out and arm the timer.
    pub(super) fn finish_flight(&mut self, now: Instant, arm_timer: bool) {
        self.flush();
        self.flight_sent_at = now;
        if arm_timer {
            self.timer.start(now);
        } else {
            self.timer.stop();
        }
    }

    pub(super) fn fail(&mut self, f: HandshakeFailure, alert: Option<AlertDescription>) {
        if self.is_finished() {
            return;
        }
        if let Some(a) = alert {
            self.send_alert(AlertLevel::Fatal, a, &RecordOverrides::default());
        }
        self.timer.stop();
        self.state = State::Failed;
        self.emit(Event::Failed(f));
    }

    // ---- input -----------------------------------------------------------------------

    pub fn handle_timeout(&mut self, now: Instant) {
        match self.timer.on_timeout(now) {
            TimerAction::Nothing => {}
            TimerAction::Retransmit => {
                self.retransmit_flight();
                self.flight_sent_at = now;
                let count = self.timer.retransmissions();
                self.emit(Event::Retransmitted {
                    flight: self.flight_number,
                    count,
                });
            }
            TimerAction::GiveUp => {
                let f = if self.auth_failures > 0 {
                    HandshakeFailure::AuthenticationFailures {
                        count: self.auth_failures,
                    }
                } else {
                    HandshakeFailure::Timeout {
                        flight: self.flight_number,
                        retransmissions: self.timer.retransmissions(),
                    }
                };
                self.fail(f, None);
            }
        }
    }

    /// One datagram from the peer. Never panics, whatever the bytes.
    pub fn handle_datagram(&mut self, now: Instant, datagram: &[u8]) {
        // A script keeps observing after close_notify: what the DUT sends then (a
        // HelloVerifyRequest for a new ClientHello from the same port, RFC 6347 §4.2.8) is
        // evidence, not noise.
        if matches!(self.state, State::Closed) && self.autopilot {
            return;
        }
        self.retransmitted_this_datagram = false;
        // Records are authenticated one at a time, in order: a ChangeCipherSpec earlier in
        // the datagram changes how the next record is read.
        let parsed = dicetest_wire::parse_datagram(datagram);
        for rec in parsed.records {
            let r = self.records.read_record(rec);
            self.handle_record(now, r);
        }
        if let Some((offset, error)) = parsed.trailing_error {
            self.emit(Event::Record(RecordTrace {
                direction: Direction::Received,
                header: dicetest_wire::RecordHeader {
                    content_type: ContentType::from(datagram.get(offset).copied().unwrap_or(0)),
                    version: ProtocolVersion::from(0u16),
                    epoch: 0,
                    sequence_number: 0,
                    length: 0,
                },
                decrypted: false,
                summary: "malformed record".into(),
                dropped: Some(super::record::DropReason::Malformed { offset, error }),
                plaintext_len: None,
            }));
        }
        self.flush();
    }

    fn handle_record(&mut self, now: Instant, mut r: ReceivedRecord) {
        let epoch = r.header.epoch;
        // Once the association is established, records of an earlier epoch are discarded
        // (RFC 6347 §4.1): otherwise anyone on the path could inject plaintext alerts or
        // handshake messages. A lost flight 6 is still noticed through the epoch-1 Finished
        // of the peer's repeated flight 5.
        let mut stale_plaintext = r.unread_plaintext.take();
        if self.autopilot
            && self.state == State::Connected
            && epoch < self.records.read_epoch()
            && r.plaintext.is_some()
        {
            stale_plaintext = r.plaintext.take().filter(|_| !r.decrypted);
            r.dropped = Some(super::record::DropReason::EarlierEpoch {
                epoch,
                current: self.records.read_epoch(),
            });
        }
        let Some(plaintext) = r.plaintext else {
            if matches!(
                r.dropped,
                Some(super::record::DropReason::AuthenticationFailed(_))
            ) {
                self.auth_failures += 1;
            }
            self.emit(Event::Record(RecordTrace {
                direction: Direction::Received,
                summary: format!("{} record dropped", r.header.content_type),
                header: r.header,
                decrypted: false,
                dropped: r.dropped,
                plaintext_len: None,
            }));
            if let Some(p) = stale_plaintext {
                self.report_without_acting(epoch, r.header.content_type, &p);
            }
            return;
        };
        let mut summary = summarize_payload(r.header.content_type, &plaintext);
        if r.replayed {
            summary.push_str(" [repeated sequence number: a replay window would discard it]");
        }
        self.emit(Event::Record(RecordTrace {
            direction: Direction::Received,
            header: r.header,
            decrypted: r.decrypted,
            summary,
            dropped: None,
            plaintext_len: Some(plaintext.len()),
        }));
        match r.header.content_type {
            ContentType::Handshake => {
                self.last_handshake_record_seq = r.header.sequence_number;
                self.handle_handshake_payload(now, r.header, &plaintext)
            }
            ContentType::ChangeCipherSpec => self.handle_change_cipher_spec(now, epoch),
            ContentType::Alert => {
                let Ok(alert) = Alert::from_bytes(&plaintext) else {
                    return;
                };
                self.emit(Event::Alert {
                    epoch,
                    level: alert.level,
                    description: alert.description,
                });
                if alert.description == AlertDescription::CloseNotify {
                    // The other side answers close_notify with its own (RFC 5246 §7.2.1).
                    if self.autopilot && self.state == State::Connected {
                        self.send_alert(
                            AlertLevel::Warning,
                            AlertDescription::CloseNotify,
                            &RecordOverrides::default(),
                        );
                    }
                    self.timer.stop();
                    if self.state != State::Failed {
                        self.state = State::Closed;
                    }
                    self.emit(Event::Closed);
                } else if alert.level == AlertLevel::Fatal {
                    self.fail(HandshakeFailure::PeerAlert(alert.description), None);
                }
            }
            // Only data protected under the negotiated keys, after the handshake, is
            // delivered (RFC 6347 §4.1: epoch 0 application data is never accepted).
            // A script driving by hand sees any authenticated data.
            ContentType::ApplicationData
                if (self.state == State::Connected || !self.autopilot) && epoch > 0 =>
            {
                self.emit(Event::ApplicationData(plaintext));
            }
            _ => {}
        }
    }

    fn handle_change_cipher_spec(&mut self, now: Instant, epoch: u16) {
        self.emit(Event::ChangeCipherSpec { epoch });
        if !self.records.has_next_read() {
            // A CCS before keys exist is ignored (the shape of tinydtls CVE-2017-7243).
            return;
        }
        let waiting = matches!(
            self.state,
            State::ClientWaitChangeCipherSpec | State::ServerWaitChangeCipherSpec
        );
        if !waiting && self.autopilot {
            return;
        }
        if let Some(buffered) = self.records.advance_read_epoch() {
            self.state = match self.state {
                State::ClientWaitChangeCipherSpec => State::ClientWaitFinished,
                State::ServerWaitChangeCipherSpec => State::ServerWaitFinished,
                s => s,
            };
            for rec in buffered {
                let r = self.records.read_record(rec);
                self.handle_record(now, r);
            }
        }
    }

    fn handle_handshake_payload(
        &mut self,
        now: Instant,
        header: dicetest_wire::RecordHeader,
        payload: &[u8],
    ) {
        let epoch = header.epoch;
        let frags = match HandshakeFragment::read_all(payload) {
            Ok(f) => f,
            Err(_) => return, // malformed: dropped (§4.1.2.7); the trace shows it
        };
        for f in frags {
            // The record that carried a message's first bytes is the one RFC 6347 §4.2.1
            // numbers ("the initial ServerHello"), whichever record completed it.
            if f.header.fragment_offset == 0 {
                if self.first_fragment_records.len() >= 64 {
                    self.first_fragment_records.clear();
                }
                self.first_fragment_records
                    .insert(f.header.message_seq, header);
            }
            // Once the peer's ChangeCipherSpec moved us to a new epoch, a message we have not
            // seen yet must come protected in it (RFC 6347 §4.1; an unencrypted Finished is
            // the "Early Finished" bug). Older-epoch copies only tell us the peer repeats
            // itself; they are never delivered.
            let stale_epoch = self.autopilot && epoch < self.records.read_epoch();
            if stale_epoch
                && self
                    .reassembler
                    .next_seq()
                    .is_some_and(|n| f.header.message_seq >= n)
            {
                continue;
            }
            let outcome = self.reassembler.insert(FragmentIn {
                msg_type: f.header.msg_type.get_u8(),
                length: f.header.length,
                message_seq: f.header.message_seq,
                fragment_offset: f.header.fragment_offset,
                fragment_length: f.header.fragment_length,
                body: &f.body,
            });
            if let FragmentOutcome::AlreadyDelivered { .. } = outcome {
                // A script sees the repeated message itself (a retransmitted flight, or a
                // new message under an old message_seq): only the automaton's state stays
                // as it was.
                if !self.autopilot
                    && f.header.fragment_offset == 0
                    && f.header.fragment_length == f.header.length
                {
                    if let Ok(msg) = HandshakeMessage::read_body(
                        f.header.msg_type,
                        &f.body,
                        &self.parse_context(),
                    ) {
                        self.emit(Event::HandshakeMessage {
                            epoch,
                            message_seq: f.header.message_seq,
                            message: msg,
                        });
                    }
                }
                // The peer repeats a flight we already have: ours was lost (§4.2.4).
                // At most once per datagram, and not right after we sent it: two peers that
                // each answer the other's repeat would otherwise loop without end.
                let quiet_for = now - self.flight_sent_at;
                if self.autopilot
                    && !self.retransmitted_this_datagram
                    && !self.flight.is_empty()
                    && self.state != State::Failed
                    && quiet_for >= self.config.timers.initial / 4
                {
                    self.retransmitted_this_datagram = true;
                    self.retransmit_flight();
                    self.flight_sent_at = now;
                    self.timer.on_peer_retransmission(now);
                    let count = self.timer.retransmissions();
                    self.emit(Event::Retransmitted {
                        flight: self.flight_number,
                        count,
                    });
                }
            }
            while let Some(m) = self.reassembler.pop_complete() {
                self.handle_handshake_message(now, epoch, m.msg_type, m.message_seq, &m.body);
            }
        }
    }

    /// What a plaintext record the association must not act on said (an epoch-0 record
    /// once connected, §4.1): reported to the caller, who judges the peer, and nothing
    /// more. Whole handshake messages, alerts and ChangeCipherSpec only.
    fn report_without_acting(&mut self, epoch: u16, ct: ContentType, plaintext: &[u8]) {
        match ct {
            ContentType::Handshake => {
                // Fragments are put together within the record (a message spread over
                // several such records is seen in the trace only).
                let mut parts = Reassembler::new(ReassemblyLimits::default());
                parts.expect_any_first();
                for f in HandshakeFragment::read_all(plaintext).unwrap_or_default() {
                    let _ = parts.insert(FragmentIn {
                        msg_type: f.header.msg_type.get_u8(),
                        length: f.header.length,
                        message_seq: f.header.message_seq,
                        fragment_offset: f.header.fragment_offset,
                        fragment_length: f.header.fragment_length,
                        body: &f.body,
                    });
                }
                while let Some(m) = parts.pop_complete() {
                    if let Ok(message) = HandshakeMessage::read_body(
                        HandshakeType::from(m.msg_type),
                        &m.body,
                        &self.parse_context(),
                    ) {
                        self.emit(Event::HandshakeMessage {
                            epoch,
                            message_seq: m.message_seq,
                            message,
                        });
                    }
                }
            }
            ContentType::Alert => {
                if let Ok(a) = Alert::from_bytes(plaintext) {
                    self.emit(Event::Alert {
                        epoch,
                        level: a.level,
                        description: a.description,
                    });
                }
            }
            ContentType::ChangeCipherSpec => self.emit(Event::ChangeCipherSpec { epoch }),
            _ => {}
        }
    }

    pub(super) fn parse_context(&self) -> ParseContext {
        let ecdhe = self
            .params
            .suite
            .map(|s| matches!(s.kx, KeyExchange::EcdheEcdsa))
            .unwrap_or(false);
        ParseContext {
            kx: if ecdhe {
                KeyExchangeKind::EcdheEcdsa
            } else {
                KeyExchangeKind::Psk
            },
            certificate_type: if self.config.rpk.is_some() || ecdhe {
                CertificateType::RawPublicKey
            } else {
                CertificateType::X509
            },
        }
    }

    fn handle_handshake_message(
        &mut self,
        now: Instant,
        epoch: u16,
        msg_type: u8,
        message_seq: u16,
        body: &[u8],
    ) {
        let msg = match HandshakeMessage::read_body(
            HandshakeType::from(msg_type),
            body,
            &self.parse_context(),
        ) {
            Ok(m) => m,
            Err(error) => {
                let what = "handshake message";
                if self.autopilot {
                    self.fail(
                        HandshakeFailure::Malformed { what, error },
                        Some(AlertDescription::DecodeError),
                    );
                }
                return;
            }
        };
        self.emit(Event::HandshakeMessage {
            epoch,
            message_seq,
            message: msg.clone(),
        });
        if self.autopilot && !self.expected_now(&msg) {
            // A message that has no place in the current state is ignored rather than
            // allowed to rewrite the negotiated parameters (a forged ServerHello or
            // ClientKeyExchange must not move an established association).
            return;
        }
        match self.config.role {
            Role::Client => self.client_on_message(now, epoch, message_seq, body, msg),
            Role::Server => self.server_on_message(now, epoch, message_seq, body, msg),
        }
    }

    /// Whether the automaton can take `msg` in its current state (RFC 6347 §4.2.4 flights).
    fn expected_now(&self, msg: &HandshakeMessage) -> bool {
        use HandshakeMessage as M;
        match (self.state, msg) {
            (State::ClientWaitServerHello, M::HelloVerifyRequest(_) | M::ServerHello(_)) => true,
            (
                State::ClientWaitServerHelloDone,
                M::Certificate(_)
                | M::ServerKeyExchange(_)
                | M::CertificateRequest(_)
                | M::ServerHelloDone(_),
            ) => true,
            (State::ClientWaitFinished, M::Finished(_)) => true,
            (State::ServerWaitClientHello, M::ClientHello(_)) => true,
            (State::ServerWaitClientKeyExchange, M::Certificate(_) | M::ClientKeyExchange(_)) => {
                true
            }
            (State::ServerWaitCertificateVerify, M::CertificateVerify(_)) => true,
            (State::ServerWaitFinished, M::Finished(_)) => true,
            // Renegotiation attempts are answered (refused) by the server automaton.
            (State::Connected, M::ClientHello(_)) if self.config.role == Role::Server => true,
            (_, M::HelloRequest(_)) => true,
            _ => false,
        }
    }

    /// The peer's raw public key (RFC 7250): kept for the signature checks, and refused
    /// when we pinned another one.
    pub(super) fn absorb_peer_certificate(&mut self, cert: dicetest_wire::Certificate) {
        let dicetest_wire::Certificate::RawPublicKey(spki) = cert else {
            return;
        };
        let pinned = self
            .config
            .rpk
            .as_ref()
            .and_then(|r| r.trusted_peer_spki.as_ref());
        if pinned.is_some_and(|t| *t != spki) && self.autopilot {
            return self.fail(
                HandshakeFailure::UntrustedPeerKey,
                Some(AlertDescription::BadCertificate),
            );
        }
        self.params.peer_spki = Some(spki);
    }

    /// Verifies the peer's Finished against the transcript so far.
    pub(super) fn check_peer_finished(&self, verify: &[u8]) -> bool {
        let Some(master) = &self.params.master else {
            return false;
        };
        let label = match self.config.role {
            Role::Client => FinishedLabel::Server,
            Role::Server => FinishedLabel::Client,
        };
        let expected = verify_data(master, label, &self.transcript.hash());
        verify.len() == expected.len() && subtle_eq(verify, &expected)
    }

    /// ChangeCipherSpec, then our Finished in the new epoch: the end of every flight that
    /// switches keys (RFC 5246 §7.4.9, RFC 6347 Figures 1 and 2).
    pub(super) fn send_change_cipher_spec_and_finished(&mut self) {
        self.send_change_cipher_spec(&RecordOverrides::default());
        let verify_data = self.our_finished();
        self.send_handshake(
            &HandshakeMessage::Finished(dicetest_wire::Finished { verify_data }),
            &SendOptions::default(),
        );
    }

    /// Our Finished verify_data for the transcript so far.
    pub fn our_finished(&self) -> Vec<u8> {
        let label = match self.config.role {
            Role::Client => FinishedLabel::Client,
            Role::Server => FinishedLabel::Server,
        };
        match &self.params.master {
            Some(m) => verify_data(m, label, &self.transcript.hash()).to_vec(),
            None => vec![0; 12],
        }
    }

    pub(super) fn random32(&mut self) -> [u8; 32] {
        let mut r = [0u8; 32];
        self.rng.fill_bytes(&mut r);
        r
    }

    /// Keys are known: the peer's next epoch can be read once its CCS arrives.
    pub(super) fn install_read_keys(&mut self) {
        if let Some((_, read)) = self.params.protections(self.config.role) {
            self.records.install_next_read(read);
        }
    }

    pub(super) fn connected(&mut self) {
        self.state = State::Connected;
        let suite = self.cipher_suite().unwrap_or(0);
        if let (Some(cache), Some(s)) =
            (self.config.session_cache.clone(), self.resumable_session())
        {
            if let Ok(mut c) = cache.lock() {
                c.insert(s.session_id.clone(), s);
            }
        }
        self.emit(Event::Connected {
            cipher_suite: suite,
            extended_master_secret: self.params.extended_master_secret,
            resumed: self.resumed,
        });
    }

    /// The session, once established with a session id, for a later abbreviated handshake.
    pub fn resumable_session(&self) -> Option<super::config::ResumableSession> {
        if self.state != State::Connected || self.params.session_id.is_empty() {
            return None;
        }
        Some(super::config::ResumableSession {
            session_id: self.params.session_id.clone(),
            master: self.params.master?,
            cipher_suite: self.cipher_suite()?,
            extended_master_secret: self.params.extended_master_secret,
        })
    }

    /// What sending `msg` means for our security parameters, whoever drove it.
    fn after_sent(&mut self, msg: &HandshakeMessage) {
        match msg {
            HandshakeMessage::ClientHello(ch) => {
                self.params.client_random = ch.random;
                self.params.cookie = ch.cookie.clone();
            }
            HandshakeMessage::ServerHello(sh) => {
                self.params.server_random = sh.random;
                self.params.session_id = sh.session_id.clone();
                self.params.suite = dicetest_crypto::suite_by_id(sh.cipher_suite.get_u16());
            }
            HandshakeMessage::ClientKeyExchange(_) if self.config.role == Role::Client => {
                // The master secret follows ClientKeyExchange; with EMS it hashes the
                // transcript through this very message (RFC 7627 §3).
                let hash = self.transcript.hash();
                if self.params.derive_master(&hash) {
                    self.install_read_keys();
                }
            }
            _ => {}
        }
    }
}

fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One-line decoding of a record's plaintext for traces.
pub fn summarize_payload(ct: ContentType, plaintext: &[u8]) -> String {
    match ct {
        ContentType::Handshake => match HandshakeFragment::read_all(plaintext) {
            Ok(frags) => frags
                .iter()
                .map(|f| {
                    let h = &f.header;
                    if h.fragment_offset == 0 && h.fragment_length == h.length {
                        format!("{} seq={} len={}", h.msg_type, h.message_seq, h.length)
                    } else {
                        format!(
                            "{} seq={} fragment [{}+{}] of {}",
                            h.msg_type,
                            h.message_seq,
                            h.fragment_offset,
                            h.fragment_length,
                            h.length
                        )
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
            Err(e) => format!("malformed handshake: {e}"),
        },
        ContentType::Alert => match Alert::from_bytes(plaintext) {
            Ok(a) => a.summary(),
            Err(e) => format!("malformed alert: {e}"),
        },
        ContentType::ChangeCipherSpec => "ChangeCipherSpec".into(),
        ContentType::ApplicationData => format!("ApplicationData ({} bytes)", plaintext.len()),
        other => format!("{other} ({} bytes)", plaintext.len()),
    }
}
