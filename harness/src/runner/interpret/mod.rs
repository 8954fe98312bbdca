//! Plays one case against a DUT: sends what the steps say, watches what comes back, and
//! judges each step. The DUT is reached through a [`Link`], so the same interpreter runs on
//! a virtual clock against the simulated board and on the wall clock against real devices.

use crate::coap::options::{option_name, option_number, option_values};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use dicetest_wire::{
    AlertDescription, AlertLevel, CipherSuite, ClientHello, ClientKeyExchange, CompressionMethod,
    ContentType, Finished, HandshakeMessage, HelloRequest, ProtocolVersion,
};
use serde_json::Value;

use super::verdict::{StepOutcome, Verdict};
use crate::cases::model::{CoapRequest, Expect, FragmentsSpec, RecordSpec, Step};
use crate::cases::{Case, DurationSpec, DutRole};
use crate::coap::{CoapMessage, Code, MessageType};
use crate::dut::link::Link;
use crate::dut::profile::Profile;
use crate::engine::{
    Config, Connection, Event, FragmentLayout, FragmentSpec, HeaderOverrides, RecordOverrides,
    SendOptions,
};
use crate::time::Instant;

// One module per kind of step; this one moves datagrams and turns what the DUT sent into
// observations.
mod coap;
/// The `flood` step (denial-of-service resilience, RFC 6347 §4.2.1).
mod dos;
mod expect;
mod fields;
mod handshake;
mod kept;
#[cfg(test)]
mod limits_tests;
mod send;

/// Something the DUT did, as the judge sees it.
#[derive(Clone, Debug)]
pub enum Observation {
    Handshake {
        name: String,
        message: HandshakeMessage,
        message_seq: u16,
        epoch: u16,
    },
    ChangeCipherSpec {
        epoch: u16,
    },
    Alert {
        level: AlertLevel,
        description: AlertDescription,
    },
    ApplicationData(Vec<u8>),
    /// A record the harness could not read (no keys for its epoch, a tag that does not
    /// verify, not DTLS at all): the DUT sent it, so it is evidence, shown as such.
    Unreadable {
        content_type: u8,
        epoch: u16,
        length: u16,
        why: String,
        /// From an epoch the association has left: a late retransmission of the
        /// handshake's last flights, or an injection; judged as a repeat.
        earlier_epoch: bool,
    },
}

/// One thing the DUT sent, with the record that carried it.
#[derive(Clone, Debug)]
pub struct Observed {
    pub what: Observation,
    /// The header of the record that carried it (type, version, epoch, sequence number,
    /// length), for `match` and for reasons.
    pub record: Option<dicetest_wire::RecordHeader>,
    /// Identical to something the DUT already sent in this association: a retransmission
    /// (RFC 6347 §4.2.4) or a datagram the path duplicated (§4.1.2.6). An expectation
    /// takes it when it asks for exactly that; otherwise it is noted and passed over.
    pub repeat: bool,
    /// The message_seq of the DUT's previous new handshake message in this association,
    /// for `message_seq_step` (§4.2.2: each message takes the next number).
    pub prev_message_seq: Option<u16>,
}

impl Observed {
    pub fn describe(&self) -> String {
        let d = self.what.describe();
        if self.repeat {
            format!("{d} (a repeat)")
        } else {
            d
        }
    }

    /// The handshake message's name, if it is one.
    pub fn message_name(&self) -> Option<&str> {
        match &self.what {
            Observation::Handshake { name, .. } => Some(name),
            _ => None,
        }
    }
}

impl Observation {
    pub fn describe(&self) -> String {
        match self {
            Observation::Handshake { message, .. } => message.summary(),
            Observation::ChangeCipherSpec { .. } => "ChangeCipherSpec".into(),
            Observation::Alert { level, description } => format!("{level} alert {description}"),
            // Printable text is shown as text (an echo of "test" also parses as CoAP).
            Observation::ApplicationData(d)
                if !d.is_empty()
                    && d.iter()
                        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace()) =>
            {
                format!("application data {:?}", String::from_utf8_lossy(d))
            }
            Observation::ApplicationData(d) => match CoapMessage::parse(d) {
                Ok(m) => m.summary(),
                Err(_) => format!("application data ({} bytes)", d.len()),
            },
            Observation::Unreadable {
                content_type,
                epoch,
                length,
                why,
                ..
            } => format!(
                "a record the harness cannot read ({}, epoch {epoch}, {length} bytes: {why})",
                ContentType::from(*content_type)
            ),
        }
    }
}

/// A remembered value.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Var {
    Bytes(Vec<u8>),
    Number(u64),
    Datagrams(Vec<Vec<u8>>),
}

/// One datagram as it crossed the path, for captures (pcapng) and sequence charts.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Captured {
    /// Microseconds on the case's clock (virtual for simulated DUTs).
    pub micros: u64,
    pub from_dut: bool,
    #[serde(with = "hex_bytes")]
    pub bytes: Vec<u8>,
    /// Lost on purpose by a `drop` step (seen on the wire, never processed).
    pub dropped: bool,
}

mod hex_bytes {
    pub fn serialize<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(b))
    }
}

/// The result of interpreting a case.
#[derive(Clone, Debug)]
pub struct CaseOutcome {
    pub verdict: Verdict,
    pub reason: String,
    /// 1-based index and line of the step that decided it.
    pub step: Option<(usize, u64)>,
    /// Readable evidence: every record in and out, decoded.
    pub trace: Vec<String>,
    pub keylog: Vec<String>,
    pub captures: Vec<Captured>,
    /// Which alternative of each `one_of` the DUT's behaviour matched, in step order
    /// ("step 4: alternative 2 of 3, silence for 2s").
    pub branches: Vec<String>,
}

pub struct Interpreter<'a> {
    link: &'a mut dyn Link,
    profile: &'a Profile,
    conn: Connection,
    observations: VecDeque<Observed>,
    /// Header of the record whose content the engine is reporting now.
    current_record: Option<dicetest_wire::RecordHeader>,
    /// What the DUT sent in this association, to tell a repeat from a new message.
    seen_records: std::collections::HashSet<(u16, u64, u8)>,
    seen_messages: std::collections::HashSet<(u8, u16, Vec<u8>)>,
    last_message_seq: Option<u16>,
    seen_ccs_epochs: std::collections::HashSet<u16>,
    current_record_repeat: bool,
    /// A confirmable CoAP request waiting for its answer: repeated on CoAP's own timer
    /// (RFC 7252 §4.2), as any CoAP client does, so a lost request never decides a verdict.
    coap_timer: CoapTimer,
    /// The DUT ended the current association (a fatal alert or close_notify).
    dut_ended: bool,
    /// The harness ended the association itself (a fatal alert or close_notify): it sends
    /// nothing more on it, as a conforming peer would not (RFC 5246 §7.2).
    harness_ended: bool,
    /// A `handshake` step's autopilot is driving the association.
    engine_driving: bool,
    /// The DUT began this association's handshake (it sent a ServerHello), and it completed
    /// (both Finished verified), whoever drove it.
    handshake_begun: bool,
    handshake_done: bool,
    /// The harness's own retransmission timer for the flight a script sent (RFC 6347
    /// §4.2.4): a conforming peer sends its flight again when no answer comes.
    rtx: HarnessTimer,
    /// Whether this case lets the harness retransmit (off where loss is what it tests).
    harness_retransmits: bool,
    /// How often the harness retransmitted on its timer in this case (for reasons).
    rtx_sent: u32,
    /// A `one_of` outcome with `end_case` settled the case: later steps but liveness are
    /// skipped.
    ended: bool,
    /// When a `drop` step last took a datagram of the DUT's: the loss the case is about
    /// happened, so waits for the DUT's own retransmission count from here and the harness
    /// stops repeating its flight (that would hide the DUT's timer).
    dropped_at: Option<Instant>,
    /// The last ClientHello a `send` step built and how, to answer a HelloVerifyRequest
    /// the case did not script (the DUT may ask for a cookie, §4.2.1).
    last_client_hello: Option<(ClientHello, SendOptions)>,
    captures: Vec<Captured>,
    vars: HashMap<String, Var>,
    trace: Vec<String>,
    /// Record lines not kept once the trace reached [`MAX_TRACE_LINES`].
    trace_dropped: u64,
    /// ICMP port-unreachable errors the path reported: nothing listened at the DUT's port.
    unreachable: u32,
    /// Datagrams from another address than the DUT's (a DUT client that changed port).
    foreign: u32,
    /// The `one_of` alternatives that matched (see [`CaseOutcome::branches`]).
    branches: Vec<String>,
    /// The step being played (1-based), for what steps record about themselves.
    current_step: usize,
    /// The `every_record` rule in force, with the step (index, line) that set it.
    record_rule: Option<(crate::cases::model::RecordRule, (usize, u64))>,
    /// The first record that broke it, described.
    rule_broken: Option<String>,
    /// Bytes held in `captures` (bounded by [`MAX_CAPTURED_BYTES`]).
    captured_bytes: usize,
    keylog: Vec<String>,
    drop_next: u32,
    /// Where the datagrams a `drop` step loses are kept (`keep_datagram`), for a later
    /// comparison with the DUT's repeat (`same_message_as`).
    drop_keep: Option<String>,
    coap_mid: u16,
    last_coap: Option<CoapMessage>,
    last_probe: Option<Vec<u8>>,
    liveness_mode: bool,
    /// The session of the last completed handshake, for `resume: true`.
    last_session: Option<crate::engine::ResumableSession>,
    session_cache: crate::engine::SessionCache,
    seed: u64,
    used: bool,
    /// The previous step sent (or retransmitted) part of the harness's current flight.
    in_flight: bool,
    dut_role: DutRole,
    /// Past this point (on the link's clock) no step waits any longer.
    case_deadline: Instant,
}

/// Most lines of records in and out one case's trace keeps; the rest are counted.
pub const MAX_TRACE_LINES: usize = 5000;
/// Most bytes of datagrams one case's capture keeps.
pub const MAX_CAPTURED_BYTES: usize = 2 << 20;
/// Most observations a `wait` step holds for the expectations after it.
const MAX_HELD_OBSERVATIONS: usize = 1024;

/// The most one case may take, on the link's clock (virtual for simulated DUTs).
pub const CASE_TIME_LIMIT: Duration = Duration::from_secs(300);

/// The harness's side: the opposite of the DUT's.
pub(super) fn psk_config(profile: &Profile, seed: u64, dut_role: DutRole) -> Config {
    let base = match dut_role {
        DutRole::Server => Config::client(),
        DutRole::Client => Config::server(),
    };
    let mut c = base
        .with_psk(profile.credentials.psk_identity.as_bytes(), &profile.psk())
        .with_seed(seed);
    if let Some(s) = profile.default_suite() {
        c.cipher_suites = vec![s];
    }
    c.timers.initial = Duration::from_millis(profile.timers.initial_retransmit_ms.max(1));
    c.timers.max = Duration::from_millis(profile.timers.max_retransmit_ms.max(1));
    c
}

impl<'a> Interpreter<'a> {
    pub fn new(link: &'a mut dyn Link, profile: &'a Profile, seed: u64, dut_role: DutRole) -> Self {
        let mut conn = Connection::new(psk_config(profile, seed, dut_role));
        conn.set_autopilot(false);
        Interpreter {
            link,
            profile,
            conn,
            observations: VecDeque::new(),
            current_record: None,
            seen_records: Default::default(),
            seen_messages: Default::default(),
            last_message_seq: None,
            seen_ccs_epochs: Default::default(),
            current_record_repeat: false,
            coap_timer: CoapTimer::default(),
            dut_ended: false,
            harness_ended: false,
            engine_driving: false,
            handshake_begun: false,
            handshake_done: false,
            rtx: HarnessTimer::default(),
            harness_retransmits: true,
            rtx_sent: 0,
            ended: false,
            dropped_at: None,
            last_client_hello: None,
            captures: Vec::new(),
            vars: HashMap::new(),
            trace: Vec::new(),
            trace_dropped: 0,
            unreachable: 0,
            foreign: 0,
            branches: Vec::new(),
            current_step: 0,
            record_rule: None,
            rule_broken: None,
            captured_bytes: 0,
            keylog: Vec::new(),
            drop_next: 0,
            drop_keep: None,
            coap_mid: 0x1000,
            last_coap: None,
            last_probe: None,
            liveness_mode: false,
            last_session: None,
            session_cache: Default::default(),
            seed,
            used: false,
            in_flight: false,
            dut_role,
            case_deadline: Instant::ZERO + CASE_TIME_LIMIT,
        }
    }

    fn response_time(&self) -> Duration {
        Duration::from_millis(self.profile.timers.response_ms)
    }

    /// Plays every step; the first step that does not pass ends the case.
    pub fn run(mut self, case: &Case) -> CaseOutcome {
        let mut worst = StepOutcome::pass("no steps");
        let mut decided_by = None;
        self.case_deadline = self.link.now() + CASE_TIME_LIMIT;
        self.harness_retransmits = case.harness_retransmits.unwrap_or(true);
        for (i, s) in case.steps.iter().enumerate() {
            let line = s.referenced.line();
            if let Some(sig) = crate::interrupt::requested() {
                // The run was stopped: this case never reached its verdict.
                worst = StepOutcome::error(format!(
                    "not judged: the run was interrupted ({}) before step {}",
                    crate::interrupt::name(sig),
                    i + 1
                ));
                decided_by = Some((i + 1, line));
                break;
            }
            if self.link.now() >= self.case_deadline {
                worst = StepOutcome::error(format!(
                    "the case ran out of its {} s time limit before step {}",
                    CASE_TIME_LIMIT.as_secs(),
                    i + 1
                ));
                decided_by = Some((i + 1, line));
                break;
            }
            if self.ended && s.value.liveness.is_none() {
                self.trace.push(format!(
                    "   step {} (line {line}): skipped — an earlier outcome settled the case",
                    i + 1
                ));
                continue;
            }
            self.current_step = i + 1;
            if let Some(r) = &s.value.every_record {
                self.record_rule = (*r != Default::default()).then(|| (r.clone(), (i + 1, line)));
            }
            let out = self.step(&s.value);
            // A record that broke the rule in force, whenever it came, fails the case as
            // decided by the step that set the rule.
            if let Some(why) = self.rule_broken.take() {
                let at = self.record_rule.as_ref().map(|(_, at)| *at);
                self.trace.push(format!("   every_record: {why}"));
                worst = StepOutcome::fail(why);
                decided_by = at.or(Some((i + 1, line)));
                break;
            }
            self.trace.push(format!(
                "   step {} (line {line}): {} — {}",
                i + 1,
                out.verdict,
                out.reason
            ));
            // While everything passes, the last step's reason tells what was shown.
            if worst.verdict == Verdict::Pass && out.verdict == Verdict::Pass {
                worst = out.clone();
            }
            if out.verdict > worst.verdict || (decided_by.is_none() && out.verdict != Verdict::Pass)
            {
                decided_by = Some((i + 1, line));
                worst = out.clone();
            }
            if out.verdict >= Verdict::Inconclusive {
                break;
            }
        }
        if self.trace_dropped > 0 {
            self.trace.push(format!(
                "   ({} more records not shown: the trace keeps {MAX_TRACE_LINES} lines)",
                self.trace_dropped
            ));
        }
        if let Some(l) = self.conn.keylog_line() {
            self.keylog.push(l);
        }
        if self.foreign > 0 && worst.verdict != Verdict::Pass {
            worst.reason += &format!(
                " ({} datagram(s) came from another address than the DUT's first one, and were not taken as part of this conversation; see the trace)",
                self.foreign
            );
        }
        if self.unreachable > 0 && worst.verdict != Verdict::Pass {
            worst.reason += &format!(
                " (ICMP port unreachable came back {} time(s): nothing listened on the DUT's UDP port; is it running?)",
                self.unreachable
            );
        }
        CaseOutcome {
            verdict: worst.verdict,
            reason: worst.reason,
            step: decided_by,
            trace: self.trace,
            keylog: self.keylog,
            captures: self.captures,
            branches: self.branches,
        }
    }

    // ---- moving datagrams -------------------------------------------------------------

    fn flush(&mut self) -> Vec<Vec<u8>> {
        self.flush_path(false, 0)
    }

    /// Sends what the engine has queued through an impaired path: `withhold` keeps every
    /// datagram back (the caller keeps it for a later `replay`), `duplicate` sends each one
    /// that many extra times. Returns the datagrams, sent or not.
    fn flush_path(&mut self, withhold: bool, duplicate: u32) -> Vec<Vec<u8>> {
        // A bound, so that a case cannot make the harness flood by mistake.
        const MAX_DUPLICATES: u32 = 1000;
        let mut sent = Vec::new();
        while let Some(d) = self.conn.poll_transmit() {
            if !withhold {
                for _ in 0..=duplicate.min(MAX_DUPLICATES) {
                    self.link.send(&d);
                    self.capture(false, &d, false);
                }
            }
            sent.push(d);
        }
        self.used = true;
        self.collect_events();
        sent
    }

    /// Keeps a copy of a datagram for the capture (bounded: a hostile DUT cannot make the
    /// evidence grow without limit).
    fn capture(&mut self, from_dut: bool, bytes: &[u8], dropped: bool) {
        const MAX_CAPTURED: usize = 4096;
        if self.captures.len() < MAX_CAPTURED
            && self.captured_bytes + bytes.len() <= MAX_CAPTURED_BYTES
        {
            self.captured_bytes += bytes.len();
            self.captures.push(Captured {
                micros: self.link.now().as_micros(),
                from_dut,
                bytes: bytes.to_vec(),
                dropped,
            });
        }
    }

    fn collect_events(&mut self) {
        while let Some(e) = self.conn.poll_event() {
            let what = match e {
                Event::Record(r) => {
                    self.record_event(r);
                    continue;
                }
                Event::HandshakeMessage {
                    epoch,
                    message_seq,
                    message,
                } => Observation::Handshake {
                    name: message_name(&message),
                    message,
                    message_seq,
                    epoch,
                },
                Event::ChangeCipherSpec { epoch } => Observation::ChangeCipherSpec { epoch },
                Event::Alert {
                    level, description, ..
                } => Observation::Alert { level, description },
                Event::ApplicationData(d) => Observation::ApplicationData(d),
                _ => continue,
            };
            self.observe(what);
        }
    }

    /// How a record from the DUT breaks the `every_record` rule in force, if it does.
    fn breaks_rule(&self, r: &crate::engine::RecordTrace) -> Option<String> {
        let (rule, _) = self.record_rule.as_ref()?;
        let h = &r.header;
        if h.epoch < rule.from_epoch.unwrap_or(0) {
            return None;
        }
        let what = format!(
            "the DUT's {} record (epoch {}, sequence number {}, length {})",
            h.content_type, h.epoch, h.sequence_number, h.length
        );
        let clause = rule
            .clause
            .as_ref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        if let Some(v) = rule.version {
            if h.version.get_u16() != v {
                return Some(format!(
                    "{what} carries version {:#06x} where every record must carry {v:#06x}{clause}",
                    h.version.get_u16()
                ));
            }
        }
        if let Some(m) = rule.max_length {
            if u32::from(h.length) > m {
                return Some(format!(
                    "{what} is longer than the {m} bytes every record may be{clause}"
                ));
            }
        }
        if let (Some(m), Some(n)) = (rule.max_plaintext, r.plaintext_len) {
            if n as u64 > u64::from(m) {
                return Some(format!(
                    "{what} carries {n} bytes of plaintext, more than the {m} every record may carry{clause}"
                ));
            }
        }
        None
    }

    /// One record in or out: into the trace; a received record the engine could not read
    /// becomes an observation of its own, so nothing the DUT sent is lost.
    fn record_event(&mut self, r: crate::engine::RecordTrace) {
        use crate::engine::{Direction, DropReason};
        if r.direction == Direction::Received && self.rule_broken.is_none() {
            self.rule_broken = self.breaks_rule(&r);
        }
        let arrow = match r.direction {
            Direction::Sent => "->",
            Direction::Received => "<-",
        };
        if r.direction == Direction::Sent && r.header.content_type == ContentType::Handshake {
            // `$sent_record_seq`: the record number of the harness's latest handshake
            // record, the one a stateless server answers with the same number (§4.2.1),
            // whichever copy of a retransmitted ClientHello it was.
            self.vars.insert(
                "sent_record_seq".into(),
                Var::Number(r.header.sequence_number),
            );
        }
        if r.direction == Direction::Received {
            self.current_record = Some(r.header);
            self.current_record_repeat = r.dropped.is_none()
                && self.seen_records.len() < 100_000
                && !self.seen_records.insert((
                    r.header.epoch,
                    r.header.sequence_number,
                    r.header.content_type.get_u8(),
                ));
            match &r.dropped {
                // Not lost: read once the DUT's ChangeCipherSpec arrives; or an earlier
                // epoch's plaintext, whose content the engine reports without acting on it.
                None | Some(DropReason::BufferedForNextEpoch) => {}
                Some(DropReason::EarlierEpoch { epoch: 0, .. })
                | Some(DropReason::Replayed { epoch: 0, .. })
                | Some(DropReason::TooOld { epoch: 0, .. }) => {}
                Some(why) => self.observe(Observation::Unreadable {
                    content_type: r.header.content_type.get_u8(),
                    epoch: r.header.epoch,
                    length: r.header.length,
                    why: why.to_string(),
                    earlier_epoch: matches!(why, DropReason::EarlierEpoch { .. }),
                }),
            }
        }
        let dropped = r
            .dropped
            .map(|d| format!(" [not read: {d}]"))
            .unwrap_or_default();
        // Bounded: a DUT that never stops sending cannot grow the evidence.
        if self.trace.len() >= MAX_TRACE_LINES {
            self.trace_dropped += 1;
            return;
        }
        // The whole record header, so the evidence shows what the DUT put in every field
        // (RFC 6347 §4.1), the version included.
        self.trace.push(format!(
            "{:>10} {arrow} {} v={:04x} epoch={} seq={} len={} {}{dropped}",
            format!("{:?}", self.link.now()),
            r.header.content_type,
            r.header.version.get_u16(),
            r.header.epoch,
            r.header.sequence_number,
            r.header.length,
            r.summary
        ));
    }

    /// Queues what the DUT sent, marked as a repeat when it is one.
    fn observe(&mut self, what: Observation) {
        let record = match &what {
            Observation::Handshake { message_seq, .. } => self
                .conn
                .first_fragment_record(*message_seq)
                .or(self.current_record),
            _ => self.current_record,
        };
        // Several messages may share a record: the record is a repeat or not as a whole.
        let record_repeat =
            self.current_record_repeat && !matches!(what, Observation::Unreadable { .. });
        let message_repeat = match &what {
            Observation::Handshake {
                message,
                message_seq,
                ..
            } => !self.seen_messages.insert((
                message.msg_type().get_u8(),
                *message_seq,
                message.encode_body(),
            )),
            // One ChangeCipherSpec per epoch change: another in the same epoch is the
            // DUT repeating its flight (§4.2.4).
            Observation::ChangeCipherSpec { epoch } => !self.seen_ccs_epochs.insert(*epoch),
            _ => false,
        };
        let earlier_epoch = matches!(
            what,
            Observation::Unreadable {
                earlier_epoch: true,
                ..
            }
        );
        let repeat = record_repeat || message_repeat || earlier_epoch;
        let prev_message_seq = self.last_message_seq;
        if let (false, Observation::Handshake { message_seq, .. }) = (repeat, &what) {
            self.last_message_seq = Some(*message_seq);
        }
        let o = Observed {
            what,
            record,
            repeat,
            prev_message_seq,
        };
        // Our flight was answered, or the DUT repeats its own: ours was lost (§4.2.4).
        if o.repeat {
            let now = self.link.now();
            if self.rtx.on_peer_repeat(now) {
                self.retransmit_ours("the DUT repeated its flight");
            }
        } else if !matches!(o.what, Observation::Unreadable { .. }) {
            self.rtx.stop();
        }
        // A server that sent its ServerHello holds state for the association (before it,
        // a cookie exchange keeps none, §4.2.1).
        if !o.repeat && o.message_name() == Some("ServerHello") {
            self.handshake_begun = true;
        }
        if let Observation::Alert { level, description } = &o.what {
            if *level == AlertLevel::Fatal || *description == AlertDescription::CloseNotify {
                self.dut_ended = true;
            }
        }
        // Any answer on the association ends the request's repeats.
        if matches!(
            o.what,
            Observation::ApplicationData(_) | Observation::Alert { .. }
        ) {
            self.coap_timer.stop();
        }
        self.observations.push_back(o);
    }

    /// Sends the script's current flight again (its timer fired, or the DUT repeated its
    /// own flight): the same messages, fragments and deviations in new records.
    fn retransmit_ours(&mut self, why: &str) {
        self.conn.retransmit_flight();
        self.rtx_sent += 1;
        let n = self.flush().len();
        let line = format!(
            "{:>10} -> the harness retransmitted its flight in {n} datagram(s) ({why}; RFC 6347 §4.2.4)",
            format!("{:?}", self.link.now()),
        );
        if self.trace.len() < MAX_TRACE_LINES {
            self.trace.push(line);
        }
    }

    /// After a `send` step: a flight with handshake messages waits for its answer on the
    /// profile's timer, unless the case tests loss itself.
    fn arm_harness_timer(&mut self) {
        if self.harness_retransmits && self.conn.flight_len() > 0 {
            let now = self.link.now();
            self.rtx.start(
                now,
                Duration::from_millis(self.profile.timers.initial_retransmit_ms.max(1)),
                Duration::from_millis(self.profile.timers.max_retransmit_ms.max(1)),
            );
        }
    }

    /// Receives until an observation is queued or `deadline` passes.
    fn next_observation(&mut self, deadline: Instant) -> Option<Observed> {
        // No step waits past the case's own time limit, whatever the DUT does.
        let deadline = deadline.min(self.case_deadline);
        loop {
            if let Some(o) = self.observations.pop_front() {
                return Some(o);
            }
            let now = self.link.now();
            if now >= deadline {
                return None;
            }
            if let Some((bytes, record, epoch)) = self.coap_timer.due(now) {
                // A request belongs to the epoch it was sent in (RFC 7252 §9.1.1: a
                // response must come in the same epoch); once keys changed it is not
                // repeated in the new one.
                if epoch != self.conn.record_layer().write_epoch() {
                    self.coap_timer.stop();
                    continue;
                }
                self.conn.send_application_data_with(&bytes, &record);
                self.flush();
                if self.trace.len() < MAX_TRACE_LINES {
                    self.trace.push(format!(
                        "{:>10} -> the harness repeated its confirmable CoAP request (no answer within its timer; RFC 7252 §4.2)",
                        format!("{now:?}")
                    ));
                }
                continue;
            }
            if self.rtx.due(now) {
                self.rtx.backoff(now);
                self.retransmit_ours("no answer within the timer");
                continue;
            }
            let wake = [
                self.conn.poll_timeout(),
                self.rtx.deadline(),
                self.coap_timer.deadline(),
            ]
            .into_iter()
            .flatten()
            .fold(deadline, Instant::min);
            let got = self.link.recv(wake);
            for note in self.link.take_foreign() {
                self.foreign += 1;
                self.trace.push(format!(
                    "{:>10} <- {note}",
                    format!("{:?}", self.link.now())
                ));
            }
            let icmp = self.link.take_unreachable();
            if icmp > 0 {
                self.unreachable += icmp;
                self.trace.push(format!(
                    "{:>10} <- ICMP port unreachable ({icmp}): nothing listened on the DUT's UDP port",
                    format!("{:?}", self.link.now())
                ));
            }
            if crate::interrupt::requested().is_some() {
                return None;
            }
            match got {
                Some(d) => {
                    self.capture(true, &d, self.drop_next > 0);
                    if self.drop_next > 0 {
                        self.drop_next -= 1;
                        self.dropped_at = Some(self.link.now());
                        self.keep_dropped(&d);
                        // The DUT answered; from here its own timer is under test.
                        self.rtx.stop();
                        self.trace.push(format!(
                            "{:>10} <- (datagram of {} bytes dropped on purpose)",
                            format!("{:?}", self.link.now()),
                            d.len()
                        ));
                        continue;
                    }
                    let now = self.link.now();
                    self.conn.handle_datagram(now, &d);
                }
                None => {
                    let now = self.link.now();
                    self.conn.handle_timeout(now);
                }
            }
            self.flush();
            // A handshake the engine drives is over once the engine gave up: no need to
            // wait out the rest of the step's window.
            if self.engine_driving && self.conn.is_finished() && self.observations.is_empty() {
                return None;
            }
        }
    }

    // ---- steps ------------------------------------------------------------------------

    fn step(&mut self, s: &Step) -> StepOutcome {
        // A flight is the run of `send` steps since a step of another kind (RFC 6347
        // §4.2.4: one side sends a flight, then waits for the other's).
        let continues_flight = std::mem::replace(
            &mut self.in_flight,
            s.send.is_some() || s.retransmit.is_some(),
        );
        if s.send.is_some() && !continues_flight {
            self.conn.begin_flight(0);
        }
        if s.retransmit.is_some() {
            self.conn.retransmit_flight();
            let sent = self.flush();
            return StepOutcome::pass(format!(
                "retransmitted the current flight in {} datagram(s)",
                sent.len()
            ));
        }
        if let Some(suite) = &s.handshake {
            return self.handshake(s, suite);
        }
        if let Some(name) = &s.send {
            return self.send(s, name);
        }
        if let Some(e) = &s.expect {
            return self.expect(e);
        }
        if let Some(w) = &s.wait {
            let d = self.duration(w);
            let deadline = self.link.now() + d;
            // What arrives meanwhile is kept, in order, for the next expectation.
            let mut held = Vec::new();
            while let Some(o) = self.next_observation(deadline) {
                // Bounded like the trace: an endless sender is judged by what came first.
                if held.len() < MAX_HELD_OBSERVATIONS {
                    held.push(o);
                }
            }
            self.observations.extend(held);
            return StepOutcome::pass(format!("waited {w}"));
        }
        if let Some(n) = s.drop {
            self.drop_next += n;
            self.drop_keep = s.keep_datagram.clone();
            if let Some(k) = &s.keep_datagram {
                self.vars.insert(k.clone(), Var::Datagrams(Vec::new()));
            }
            return StepOutcome::pass(format!(
                "the next {n} datagram(s) from the DUT will be lost"
            ));
        }
        if let Some(v) = &s.replay {
            let name = v.trim_start_matches('$');
            return match self.vars.get(name).cloned() {
                Some(Var::Datagrams(ds)) => {
                    for d in &ds {
                        self.link.send(d);
                        self.capture(false, d, false);
                    }
                    self.trace.push(format!(
                        "{:>10} -> replayed {} datagram(s) kept as ${name}",
                        format!("{:?}", self.link.now()),
                        ds.len()
                    ));
                    StepOutcome::pass(format!("replayed ${name}"))
                }
                _ => StepOutcome::error(format!("${name} holds no datagrams")),
            };
        }
        if s.new_client.is_some() {
            self.new_connection(false);
            return StepOutcome::pass("a new client from a new source port");
        }
        if let Some(r) = &s.every_record {
            return StepOutcome::pass(if *r == Default::default() {
                "no rule for every record from here on".to_string()
            } else {
                "every record from here on is judged".to_string()
            });
        }
        if s.reconnect.is_some() {
            self.start_association(false, handshake::Source::SamePort);
            return StepOutcome::pass(
                "a new association from the same address and port, the old one left as a rebooted client leaves it",
            );
        }
        if s.liveness.is_some() {
            return self.liveness();
        }
        if let Some(c) = &s.coap {
            return self.coap(c);
        }
        if let Some(f) = &s.flood {
            return self.flood(f);
        }
        StepOutcome::error("a step without an action (the loader should have refused it)")
    }
}

/// The message's name in the RFC's CamelCase, as cases write it.
pub fn message_name(m: &HandshakeMessage) -> String {
    match m {
        HandshakeMessage::HelloRequest(_) => "HelloRequest",
        HandshakeMessage::ClientHello(_) => "ClientHello",
        HandshakeMessage::ServerHello(_) => "ServerHello",
        HandshakeMessage::HelloVerifyRequest(_) => "HelloVerifyRequest",
        HandshakeMessage::Certificate(_) => "Certificate",
        HandshakeMessage::ServerKeyExchange(_) => "ServerKeyExchange",
        HandshakeMessage::CertificateRequest(_) => "CertificateRequest",
        HandshakeMessage::ServerHelloDone(_) => "ServerHelloDone",
        HandshakeMessage::CertificateVerify(_) => "CertificateVerify",
        HandshakeMessage::ClientKeyExchange(_) => "ClientKeyExchange",
        HandshakeMessage::Finished(_) => "Finished",
        _ => "Unknown",
    }
    .to_string()
}

fn suite_name(id: Option<u16>) -> String {
    id.and_then(dicetest_crypto::suite_by_id)
        .map(|s| s.name.to_string())
        .unwrap_or_else(|| "no suite".into())
}

/// The harness's retransmission timer for a scripted flight (RFC 6347 §4.2.4.1: start at
/// the initial value, double on every expiry up to the maximum).
#[derive(Clone, Copy, Debug, Default)]
struct HarnessTimer {
    next: Option<Instant>,
    interval: Duration,
    max: Duration,
    initial: Duration,
    last_sent: Option<Instant>,
}

impl HarnessTimer {
    fn start(&mut self, now: Instant, initial: Duration, max: Duration) {
        self.initial = initial;
        self.interval = initial;
        self.max = max;
        self.next = Some(now + initial);
        self.last_sent = Some(now);
    }

    fn stop(&mut self) {
        self.next = None;
    }

    fn deadline(&self) -> Option<Instant> {
        self.next
    }

    fn due(&self, now: Instant) -> bool {
        self.next.is_some_and(|t| now >= t)
    }

    fn backoff(&mut self, now: Instant) {
        self.interval = (self.interval * 2).min(self.max.max(self.initial));
        self.next = Some(now + self.interval);
        self.last_sent = Some(now);
    }

    /// The DUT repeated its flight while ours is unanswered: answer at once, but not again
    /// right after sending (two peers answering each other's repeats would loop).
    fn on_peer_repeat(&mut self, now: Instant) -> bool {
        let Some(_) = self.next else { return false };
        let quiet = self.last_sent.map(|t| now - t).unwrap_or(self.initial);
        if quiet < self.initial / 4 {
            return false;
        }
        self.backoff(now);
        true
    }
}

/// CoAP's retransmission of a confirmable request (RFC 7252 §4.2, §4.8: ACK_TIMEOUT 2 s,
/// doubled each time, MAX_RETRANSMIT 4), sent again in a new record with the same
/// deviations as the first.
#[derive(Clone, Debug, Default)]
struct CoapTimer {
    pending: Option<(Vec<u8>, RecordOverrides, u16)>,
    next: Option<Instant>,
    interval: Duration,
    sent: u32,
}

impl CoapTimer {
    const ACK_TIMEOUT: Duration = Duration::from_secs(2);
    const MAX_RETRANSMIT: u32 = 4;

    fn start(&mut self, now: Instant, bytes: Vec<u8>, record: RecordOverrides, epoch: u16) {
        self.pending = Some((bytes, record, epoch));
        self.interval = Self::ACK_TIMEOUT;
        self.next = Some(now + self.interval);
        self.sent = 0;
    }

    fn stop(&mut self) {
        self.pending = None;
        self.next = None;
    }

    fn deadline(&self) -> Option<Instant> {
        self.next
    }

    /// The request to send again, if its timer fired.
    fn due(&mut self, now: Instant) -> Option<(Vec<u8>, RecordOverrides, u16)> {
        if self.next.is_none_or(|t| now < t) {
            return None;
        }
        self.sent += 1;
        if self.sent >= Self::MAX_RETRANSMIT {
            self.next = None;
        } else {
            self.interval *= 2;
            self.next = Some(now + self.interval);
        }
        self.pending.clone()
    }
}
