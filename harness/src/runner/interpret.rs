//! Plays one case against a DUT: sends what the steps say, watches what comes back, and
//! judges each step. The DUT is reached through a [`Link`], so the same interpreter runs on
//! a virtual clock against the simulated board and on the wall clock against real devices.

use crate::coap::options::{option_name, option_number, option_values};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use dicetest_wire::{
    Alert, AlertDescription, AlertLevel, CipherSuite, ClientHello, ClientKeyExchange,
    CompressionMethod, ContentType, Finished, HandshakeMessage, HelloRequest, ProtocolVersion,
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

/// The `flood` step (denial-of-service resilience, RFC 6347 §4.2.1).
mod dos;
#[cfg(test)]
mod limits_tests;

/// Something the DUT did, as the judge sees it.
#[derive(Clone, Debug)]
pub enum Observation {
    Handshake {
        name: String,
        message: HandshakeMessage,
        message_seq: u16,
        epoch: u16,
        record_seq: u64,
    },
    ChangeCipherSpec {
        epoch: u16,
    },
    Alert {
        level: AlertLevel,
        description: AlertDescription,
    },
    ApplicationData(Vec<u8>),
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
        }
    }
}

/// A remembered value.
#[derive(Clone, Debug, PartialEq)]
enum Var {
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
}

pub struct Interpreter<'a> {
    link: &'a mut dyn Link,
    profile: &'a Profile,
    conn: Connection,
    observations: VecDeque<Observation>,
    captures: Vec<Captured>,
    vars: HashMap<String, Var>,
    trace: Vec<String>,
    /// Record lines not kept once the trace reached [`MAX_TRACE_LINES`].
    trace_dropped: u64,
    /// Bytes held in `captures` (bounded by [`MAX_CAPTURED_BYTES`]).
    captured_bytes: usize,
    keylog: Vec<String>,
    drop_next: u32,
    last_record_seq: u64,
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
fn psk_config(profile: &Profile, seed: u64, dut_role: DutRole) -> Config {
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
            captures: Vec::new(),
            vars: HashMap::new(),
            trace: Vec::new(),
            trace_dropped: 0,
            captured_bytes: 0,
            keylog: Vec::new(),
            drop_next: 0,
            last_record_seq: 0,
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
        for (i, s) in case.steps.iter().enumerate() {
            let line = s.referenced.line();
            if self.link.now() >= self.case_deadline {
                worst = StepOutcome::error(format!(
                    "the case ran out of its {} s time limit before step {}",
                    CASE_TIME_LIMIT.as_secs(),
                    i + 1
                ));
                decided_by = Some((i + 1, line));
                break;
            }
            let out = self.step(&s.value);
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
        CaseOutcome {
            verdict: worst.verdict,
            reason: worst.reason,
            step: decided_by,
            trace: self.trace,
            keylog: self.keylog,
            captures: self.captures,
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
            match e {
                Event::Record(r) => {
                    let arrow = match r.direction {
                        crate::engine::Direction::Sent => "->",
                        crate::engine::Direction::Received => "<-",
                    };
                    if r.direction == crate::engine::Direction::Received {
                        self.last_record_seq = r.header.sequence_number;
                    }
                    let dropped = r
                        .dropped
                        .map(|d| format!(" [dropped: {d}]"))
                        .unwrap_or_default();
                    // Bounded: a DUT that never stops sending cannot grow the evidence.
                    if self.trace.len() >= MAX_TRACE_LINES {
                        self.trace_dropped += 1;
                        continue;
                    }
                    self.trace.push(format!(
                        "{:>10} {arrow} {} epoch={} seq={} {}{dropped}",
                        format!("{:?}", self.link.now()),
                        r.header.content_type,
                        r.header.epoch,
                        r.header.sequence_number,
                        r.summary
                    ));
                }
                Event::HandshakeMessage {
                    epoch,
                    message_seq,
                    message,
                } => self.observations.push_back(Observation::Handshake {
                    name: message_name(&message),
                    message,
                    message_seq,
                    epoch,
                    record_seq: self.last_record_seq,
                }),
                Event::ChangeCipherSpec { epoch } => self
                    .observations
                    .push_back(Observation::ChangeCipherSpec { epoch }),
                Event::Alert {
                    level, description, ..
                } => self
                    .observations
                    .push_back(Observation::Alert { level, description }),
                Event::ApplicationData(d) => {
                    self.observations.push_back(Observation::ApplicationData(d))
                }
                _ => {}
            }
        }
    }

    /// Receives until an observation is queued or `deadline` passes.
    fn next_observation(&mut self, deadline: Instant) -> Option<Observation> {
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
            let wake = self
                .conn
                .poll_timeout()
                .map(|t| t.min(deadline))
                .unwrap_or(deadline);
            match self.link.recv(wake) {
                Some(d) => {
                    self.capture(true, &d, self.drop_next > 0);
                    if self.drop_next > 0 {
                        self.drop_next -= 1;
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

    fn new_connection(&mut self, autopilot: bool) {
        // End an established association politely first: serial servers (gnutls-serv,
        // s_server) serve the next client only once the previous one has closed.
        if self.conn.is_connected() {
            self.conn.close();
            self.flush();
        }
        // A harness client starts over from a new port; a harness server keeps its port and
        // waits for the DUT client's next ClientHello.
        if self.used && self.dut_role == DutRole::Server {
            self.link.new_source();
        }
        if let Some(l) = self.conn.keylog_line() {
            self.keylog.push(l);
        }
        self.seed = self.seed.wrapping_add(1);
        self.conn = Connection::new(psk_config(self.profile, self.seed, self.dut_role));
        self.conn.set_autopilot(autopilot);
        self.observations.clear();
    }

    fn handshake(&mut self, s: &Step, suite: &str) -> StepOutcome {
        self.new_connection(true);
        let mut cfg = psk_config(self.profile, self.seed, self.dut_role);
        if suite != "default" {
            match dicetest_crypto::suite_by_name(suite) {
                Some(p) => cfg.cipher_suites = vec![p.id],
                None => return StepOutcome::error(format!("unknown suite {suite}")),
            }
        }
        if let Some(h) = &s.psk_hex {
            let id = cfg
                .psk
                .as_ref()
                .map(|p| p.identity.clone())
                .unwrap_or_default();
            cfg = cfg.with_psk(&id, &hex::decode(h).unwrap_or_default());
        }
        if let Some(id) = &s.psk_identity {
            let key = cfg.psk.as_ref().map(|p| p.key.clone()).unwrap_or_default();
            cfg = cfg.with_psk(id.as_bytes(), &key);
        }
        if self.liveness_mode {
            cfg.timers.max_retransmissions = 3;
        }
        let resuming = s.resume == Some(true);
        if resuming {
            match self.last_session.clone() {
                Some(sess) => cfg.resume = Some(sess),
                None => {
                    return StepOutcome::inconclusive(
                        "no earlier handshake gave a session id to resume",
                    )
                }
            }
        }
        if self.dut_role == DutRole::Client {
            cfg.session_cache = Some(self.session_cache.clone());
        }
        self.conn = Connection::new(cfg);
        let now = self.link.now();
        // A harness client speaks first; a harness server waits for the DUT client.
        self.conn.start(now);
        self.flush();
        // Long enough for the whole retransmission schedule to play out.
        let deadline = now
            + Duration::from_millis(
                self.profile
                    .timers
                    .max_retransmit_ms
                    .max(self.profile.timers.response_ms)
                    * 2,
            );
        let mut alerts = Vec::new();
        while !self.conn.is_connected() && !self.conn.is_finished() && self.link.now() < deadline {
            if let Some(Observation::Alert { description, .. }) = self.next_observation(deadline) {
                alerts.push(description.to_string());
            }
        }
        // Handshake messages seen while the autopilot drove are not for later steps.
        self.observations.retain(|o| {
            !matches!(
                o,
                Observation::Handshake { .. } | Observation::ChangeCipherSpec { .. }
            )
        });
        let want_failure = s.outcome.as_deref() == Some("failure");
        let connected = self.conn.is_connected();
        let alert_note = if alerts.is_empty() {
            "no alert".to_string()
        } else {
            format!("alert(s): {}", alerts.join(", "))
        };
        if connected {
            if let Some(sess) = self.conn.resumable_session() {
                self.last_session = Some(sess);
            }
        }
        match (connected, want_failure) {
            (true, false) if resuming && !self.conn.resumed => StepOutcome::fail(
                "the DUT answered the offered session id with a full handshake instead of resuming",
            ),
            (true, false) if resuming => StepOutcome::pass(format!(
                "session resumed with an abbreviated handshake ({})",
                suite_name(self.conn.cipher_suite())
            )),
            (true, false) => StepOutcome::pass(format!(
                "handshake completed with {}",
                suite_name(self.conn.cipher_suite())
            )),
            (false, true) => {
                StepOutcome::pass(format!("handshake refused as required ({alert_note})"))
            }
            (true, true) => StepOutcome::fail("the handshake completed although it had to fail"),
            (false, false) => StepOutcome::fail(format!(
                "the handshake did not complete ({alert_note}; state {:?})",
                self.conn.state()
            )),
        }
    }

    fn liveness(&mut self) -> StepOutcome {
        if self.dut_role == DutRole::Client {
            return StepOutcome::inconclusive("liveness of a DUT client needs it to start a new handshake, which the runner cannot ask yet");
        }
        // A live DUT answers within a few retransmissions; a dead one is not waited for
        // through the whole 60 s schedule.
        self.liveness_mode = true;
        let step = Step::default();
        match self.handshake(&step, "default") {
            o if o.verdict == Verdict::Pass => {
                self.liveness_mode = false;
                StepOutcome::pass("the DUT still completes a fresh handshake")
            }
            o => StepOutcome::fail(format!("liveness lost: {}", o.reason)),
        }
    }

    fn value_bytes(&self, v: &Value) -> Result<Vec<u8>, String> {
        match v {
            Value::String(s) if s.starts_with('$') => match self.vars.get(&s[1..]) {
                Some(Var::Bytes(b)) => Ok(b.clone()),
                Some(Var::Number(n)) => Ok(n.to_be_bytes().to_vec()),
                _ => Err(format!("{s} holds no bytes")),
            },
            Value::String(s) => hex::decode(s).map_err(|e| format!("{s:?}: {e}")),
            Value::Null => Ok(Vec::new()),
            other => Err(format!("{other} is not hex")),
        }
    }

    fn value_u64(&self, v: &Value) -> Result<u64, String> {
        match v {
            Value::Number(n) => n
                .as_u64()
                .ok_or(format!("{n} is not a non-negative integer")),
            Value::String(s) if s.starts_with('$') => match self.vars.get(&s[1..]) {
                Some(Var::Number(n)) => Ok(*n),
                _ => Err(format!("{s} holds no number")),
            },
            Value::String(s) if s.starts_with("0x") => {
                u64::from_str_radix(&s[2..], 16).map_err(|e| e.to_string())
            }
            Value::String(s) => s.parse().map_err(|_| format!("{s:?} is not a number")),
            other => Err(format!("{other} is not a number")),
        }
    }

    fn suites(&self, v: &Value) -> Result<Vec<CipherSuite>, String> {
        let items = v.as_array().ok_or("cipher_suites takes a list")?;
        items
            .iter()
            .map(|i| match i {
                Value::String(s) if dicetest_crypto::suite_by_name(s).is_some() => Ok(
                    CipherSuite::from(dicetest_crypto::suite_by_name(s).map(|p| p.id).unwrap_or(0)),
                ),
                other => self.value_u64(other).map(|n| CipherSuite::from(n as u16)),
            })
            .collect()
    }

    fn build_client_hello(
        &mut self,
        with: &std::collections::BTreeMap<String, Value>,
    ) -> Result<ClientHello, String> {
        let mut ch = self.conn.default_client_hello();
        for (k, v) in with {
            match k.as_str() {
                "cookie" => ch.cookie = self.value_bytes(v)?,
                "random" => {
                    let b = self.value_bytes(v)?;
                    ch.random = b
                        .try_into()
                        .map_err(|_| "random needs 32 bytes".to_string())?;
                }
                "session_id" => ch.session_id = self.value_bytes(v)?,
                "client_version" => {
                    ch.client_version = ProtocolVersion::from(self.value_u64(v)? as u16)
                }
                "cipher_suites" => ch.cipher_suites = self.suites(v)?,
                "compression_methods" => {
                    let items = v.as_array().ok_or("compression_methods takes a list")?;
                    ch.compression_methods = items
                        .iter()
                        .map(|i| self.value_u64(i).map(|n| CompressionMethod::from(n as u8)))
                        .collect::<Result<_, _>>()?;
                }
                "extensions" => {
                    // A list of extension names to keep, in order; `[]` sends an empty list.
                    let names: Vec<String> = v
                        .as_array()
                        .ok_or("extensions takes a list of names")?
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect();
                    let all = ch.extensions.take().unwrap_or_default();
                    ch.extensions = Some(
                        all.into_iter()
                            .filter(|e| names.contains(&e.ext_type().to_string()))
                            .collect(),
                    );
                }
                "no_extensions" => ch.extensions = None,
                other => return Err(format!("ClientHello has no field {other:?}")),
            }
        }
        Ok(ch)
    }

    fn send(&mut self, s: &Step, name: &str) -> StepOutcome {
        let record = record_overrides(s.record.as_ref());
        let record = match record {
            Ok(r) => r,
            Err(e) => return StepOutcome::error(e),
        };
        let opts = SendOptions {
            layout: layout(s.fragments.as_ref()),
            message_seq: s.message_seq,
            record: record.clone(),
            skip_transcript: s.skip_transcript,
            no_retransmit: true,
            raw_body: s.raw_body.as_ref().and_then(|h| hex::decode(h).ok()),
        };
        let msg = match name {
            "ClientHello" => match self.build_client_hello(&s.with) {
                Ok(ch) => Some(HandshakeMessage::ClientHello(ch)),
                Err(e) => return StepOutcome::error(e),
            },
            "ClientKeyExchange" => match self.conn.default_client_key_exchange() {
                Ok(mut cke) => {
                    if let (Some(v), ClientKeyExchange::Psk { identity }) =
                        (s.with.get("identity"), &mut cke)
                    {
                        *identity = v.as_str().unwrap_or_default().as_bytes().to_vec();
                    }
                    Some(HandshakeMessage::ClientKeyExchange(cke))
                }
                Err(e) => {
                    return StepOutcome::inconclusive(format!(
                        "cannot build ClientKeyExchange yet: {e}"
                    ))
                }
            },
            "Finished" => {
                let verify_data = match s.with.get("verify_data") {
                    Some(v) => match self.value_bytes(v) {
                        Ok(b) => b,
                        Err(e) => return StepOutcome::error(e),
                    },
                    None => self.conn.our_finished(),
                };
                Some(HandshakeMessage::Finished(Finished { verify_data }))
            }
            "HelloRequest" => Some(HandshakeMessage::HelloRequest(HelloRequest)),
            "HelloVerifyRequest" => {
                let mut hvr = self.conn.default_hello_verify_request();
                if let Some(v) = s.with.get("cookie") {
                    match self.value_bytes(v) {
                        Ok(c) => hvr.cookie = c,
                        Err(e) => return StepOutcome::error(e),
                    }
                }
                if let Some(v) = s.with.get("server_version") {
                    match self.value_u64(v) {
                        Ok(n) => hvr.server_version = ProtocolVersion::from(n as u16),
                        Err(e) => return StepOutcome::error(e),
                    }
                }
                // Neither the HelloVerifyRequest nor the ClientHello it answers count for
                // the transcript (§4.2.1).
                self.conn.send_handshake(
                    &HandshakeMessage::HelloVerifyRequest(hvr),
                    &SendOptions {
                        skip_transcript: true,
                        ..opts.clone()
                    },
                );
                None
            }
            "ServerHello" => match self.conn.default_server_hello() {
                Ok(mut sh) => {
                    if let Some(v) = s.with.get("cipher_suite") {
                        match self.value_u64(v) {
                            Ok(n) => sh.cipher_suite = CipherSuite::from(n as u16),
                            Err(e) => return StepOutcome::error(e),
                        }
                    }
                    if let Some(v) = s.with.get("server_version") {
                        match self.value_u64(v) {
                            Ok(n) => sh.server_version = ProtocolVersion::from(n as u16),
                            Err(e) => return StepOutcome::error(e),
                        }
                    }
                    Some(HandshakeMessage::ServerHello(sh))
                }
                Err((f, _)) => {
                    return StepOutcome::fail(format!("cannot answer the DUT's ClientHello: {f}"))
                }
            },
            "ServerHelloDone" => Some(HandshakeMessage::ServerHelloDone(
                dicetest_wire::ServerHelloDone,
            )),
            "ServerKeyExchange" => {
                let hint = s
                    .with
                    .get("identity_hint")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .as_bytes()
                    .to_vec();
                Some(HandshakeMessage::ServerKeyExchange(
                    dicetest_wire::ServerKeyExchange::Psk {
                        identity_hint: hint,
                    },
                ))
            }
            "ChangeCipherSpec" => {
                self.conn.send_change_cipher_spec(&record);
                None
            }
            "Probe" => {
                let data = match self.profile.probe.as_str() {
                    "coap" => {
                        self.coap_mid = self.coap_mid.wrapping_add(1);
                        let m = CoapMessage::request(
                            MessageType::Confirmable,
                            Code(1),
                            self.coap_mid,
                            self.coap_mid.to_be_bytes().to_vec(),
                            &self.profile.probe_uri,
                            b"",
                        );
                        let b = m.encode();
                        self.last_coap = Some(m);
                        b
                    }
                    "echo" => format!("dicetest probe {}", self.coap_mid).into_bytes(),
                    _ => {
                        return StepOutcome::inconclusive(
                            "the DUT offers no way to see that it took application data (profile probe: none)",
                        )
                    }
                };
                self.last_probe = Some(data.clone());
                self.conn.send_application_data_with(&data, &record);
                None
            }
            "ApplicationData" => {
                let text = s
                    .with
                    .get("text")
                    .and_then(|v| v.as_str())
                    .unwrap_or("dicetest");
                self.conn
                    .send_application_data_with(text.as_bytes(), &record);
                None
            }
            "Alert" => {
                let level = if s.with.get("level").and_then(|v| v.as_str()) == Some("warning") {
                    AlertLevel::Warning
                } else {
                    AlertLevel::Fatal
                };
                let desc = s
                    .with
                    .get("description")
                    .and_then(|v| v.as_str())
                    .unwrap_or("close_notify");
                let Some(d) = alert_by_name(desc) else {
                    return StepOutcome::error(format!("unknown alert {desc:?}"));
                };
                self.conn.send_alert(level, d, &record);
                None
            }
            "Record" => {
                let ct = s.record.as_ref().and_then(|r| r.content_type).unwrap_or(23);
                let payload = match s
                    .with
                    .get("payload")
                    .map(|v| self.value_bytes(v))
                    .transpose()
                {
                    Ok(p) => p.unwrap_or_default(),
                    Err(e) => return StepOutcome::error(e),
                };
                self.conn
                    .send_record(ContentType::from(ct), &payload, &record);
                None
            }
            other => return StepOutcome::error(format!("cannot send {other}")),
        };
        if let Some(m) = &msg {
            self.conn.send_handshake(m, &opts);
        }
        self.conn.flush();
        let sent = self.flush_path(s.withhold, s.duplicate.unwrap_or(0));
        if let Some(k) = &s.keep_datagram {
            self.vars.insert(k.clone(), Var::Datagrams(sent.clone()));
        }
        StepOutcome::pass(format!("sent {name} in {} datagram(s)", sent.len()))
    }

    fn coap(&mut self, c: &CoapRequest) -> StepOutcome {
        let Some(method) = Code::method(&c.method) else {
            return StepOutcome::error(format!("unknown CoAP method {}", c.method));
        };
        let Some(mtype) = MessageType::from_name(&c.r#type) else {
            return StepOutcome::error(format!("unknown CoAP type {}", c.r#type));
        };
        self.coap_mid = self.coap_mid.wrapping_add(1);
        let mid = c.message_id.unwrap_or(self.coap_mid);
        let token = match &c.token {
            Some(t) => hex::decode(t).unwrap_or_default(),
            None => self.coap_mid.to_be_bytes().to_vec(),
        };
        let mut m = CoapMessage::request(
            mtype,
            method,
            mid,
            token,
            &c.uri,
            c.payload.as_deref().unwrap_or_default().as_bytes(),
        );
        for (name, v) in &c.options {
            let (Some(num), Ok(values)) = (option_number(name), option_values(v)) else {
                return StepOutcome::error(format!("CoAP option {name}: not usable"));
            };
            m.options.extend(values.into_iter().map(|v| (num, v)));
        }
        // Options go out in ascending number (RFC 7252 §3.1); a stable sort keeps the
        // order of repeated ones (Uri-Path segments).
        m.options.sort_by_key(|(num, _)| *num);
        self.conn.send_application_data(&m.encode());
        self.flush();
        let s = m.summary();
        self.last_coap = Some(m);
        StepOutcome::pass(format!("sent {s} {}", c.uri))
    }

    // ---- expectations -----------------------------------------------------------------

    /// A duration of the case, resolved against the timers the DUT profile declares (the
    /// loader has checked its syntax).
    fn duration(&self, s: &str) -> std::time::Duration {
        DurationSpec::parse(s)
            .map(|d| d.resolve(&self.profile.timers))
            .unwrap_or_default()
    }

    fn expect(&mut self, e: &Expect) -> StepOutcome {
        let within = e
            .within
            .as_deref()
            .map(|w| self.duration(w))
            .unwrap_or(self.response_time());
        let deadline = self.link.now() + within;
        if let Some(d) = &e.silence {
            let deadline = self.link.now() + self.duration(d);
            return match self.next_observation(deadline) {
                None => StepOutcome::pass(format!("no answer for {d}, as required")),
                Some(o) => StepOutcome::fail(format!(
                    "expected silence for {d}, the DUT sent {}",
                    o.describe()
                )),
            };
        }
        if let Some(flight) = &e.flight {
            for name in flight {
                let one = Expect {
                    message: Some(name.clone()),
                    within: e.within.clone(),
                    never: e.never.clone(),
                    ..Default::default()
                };
                let out = self.expect(&one);
                if out.verdict != Verdict::Pass {
                    return out;
                }
            }
            return StepOutcome::pass(format!("got the flight {}", flight.join(", ")));
        }
        if let Some(alts) = &e.one_of {
            let obs = self.next_observation(deadline);
            if let Some(Observation::Handshake { name, .. }) = &obs {
                if e.never.contains(name) {
                    return StepOutcome::fail(format!("the DUT sent {name}, which it must not"));
                }
            }
            for a in alts {
                let matched = match (&obs, &a.silence) {
                    (None, Some(_)) => true,
                    (None, None) | (Some(_), Some(_)) => false,
                    (Some(o), None) => self.matches(a, o).is_ok(),
                };
                if matched {
                    let verdict = a
                        .verdict
                        .as_deref()
                        .and_then(Verdict::parse)
                        .unwrap_or(Verdict::Pass);
                    let what = obs
                        .as_ref()
                        .map(|o| o.describe())
                        .unwrap_or_else(|| "silence".into());
                    let reason = a
                        .reason
                        .clone()
                        .map(|r| format!("{what}: {r}"))
                        .unwrap_or_else(|| format!("{what}, one of the allowed outcomes"));
                    return StepOutcome { verdict, reason };
                }
            }
            let what = obs
                .as_ref()
                .map(|o| o.describe())
                .unwrap_or_else(|| format!("nothing within {within:?}"));
            return StepOutcome::fail(format!("got {what}, which is none of the allowed outcomes"));
        }
        if e.connected.is_some() {
            // Our flight was sent by hand: the DUT must answer with CCS and a Finished that
            // verifies against our transcript.
            loop {
                match self.next_observation(deadline) {
                    Some(Observation::ChangeCipherSpec { .. }) => continue,
                    Some(Observation::Handshake { name, .. }) if name == "Finished" => {
                        return match self.conn.peer_finished_ok {
                            Some(true) => {
                                StepOutcome::pass("the DUT's Finished verifies: handshake complete")
                            }
                            _ => StepOutcome::fail(
                                "the DUT's Finished does not verify against the transcript",
                            ),
                        };
                    }
                    Some(o) => {
                        return StepOutcome::fail(format!(
                            "expected ChangeCipherSpec and Finished, got {}",
                            o.describe()
                        ))
                    }
                    None => {
                        return StepOutcome::fail(format!(
                            "the handshake did not complete within {within:?}"
                        ))
                    }
                }
            }
        }
        let Some(o) = self.next_observation(deadline) else {
            return StepOutcome::fail(format!(
                "expected {}, got nothing within {within:?}",
                expectation_name(e)
            ));
        };
        if let Observation::Handshake { name, .. } = &o {
            if e.never.contains(name) {
                return StepOutcome::fail(format!("the DUT sent {name}, which it must not"));
            }
        }
        match self.matches(e, &o) {
            Ok(()) => match self.keep(e, &o) {
                Ok(()) => StepOutcome::pass(format!("got {}", o.describe())),
                Err(m) => StepOutcome::error(m),
            },
            Err(why) => StepOutcome::fail(why),
        }
    }

    /// Whether `o` satisfies `e` (and its `match` fields).
    fn matches(&self, e: &Expect, o: &Observation) -> Result<(), String> {
        if let Some(want) = &e.message {
            let Observation::Handshake { name, .. } = o else {
                return Err(format!("expected {want}, got {}", o.describe()));
            };
            if name != want {
                return Err(format!("expected {want}, got {}", o.describe()));
            }
        } else if e.change_cipher_spec.is_some() {
            if !matches!(o, Observation::ChangeCipherSpec { .. }) {
                return Err(format!("expected ChangeCipherSpec, got {}", o.describe()));
            }
        } else if let Some(want) = &e.alert {
            let Observation::Alert { level, description } = o else {
                return Err(format!("expected a {want} alert, got {}", o.describe()));
            };
            if want != "any" && description.to_string() != *want {
                return Err(format!("expected a {want} alert, got {}", o.describe()));
            }
            if let Some(l) = &e.alert_level {
                if level.to_string() != *l {
                    return Err(format!("expected a {l} alert, got {}", o.describe()));
                }
            }
        } else if let Some(text) = &e.application_data {
            let Observation::ApplicationData(d) = o else {
                return Err(format!("expected application data, got {}", o.describe()));
            };
            if d.as_slice() != text.as_bytes() {
                return Err(format!(
                    "expected application data {text:?}, got {:?}",
                    String::from_utf8_lossy(d)
                ));
            }
        } else if e.probe_reply.is_some() {
            let Observation::ApplicationData(d) = o else {
                return Err(format!(
                    "expected the answer to the probe, got {}",
                    o.describe()
                ));
            };
            if self.profile.probe == "coap" {
                let m = CoapMessage::parse(d)
                    .map_err(|err| format!("the DUT's CoAP message is malformed: {err}"))?;
                self.check_coap(&Default::default(), &m)?;
            } else if self.last_probe.as_deref() != Some(d.as_slice()) {
                return Err(format!(
                    "expected the probe echoed, got {:?}",
                    String::from_utf8_lossy(d)
                ));
            }
        } else if let Some(c) = &e.coap {
            let Observation::ApplicationData(d) = o else {
                return Err(format!("expected a CoAP response, got {}", o.describe()));
            };
            let m = CoapMessage::parse(d)
                .map_err(|err| format!("the DUT's CoAP message is malformed: {err}"))?;
            self.check_coap(c, &m)?;
        }
        for (field, want) in &e.r#match {
            let got = field_value(o, field)
                .ok_or_else(|| format!("{} has no field {field}", o.describe()))?;
            let want = self.resolve(want)?;
            if got != want {
                return Err(format!(
                    "{field} is {}, expected {}",
                    show(&got),
                    show(&want)
                ));
            }
        }
        Ok(())
    }

    fn check_coap(
        &self,
        c: &crate::cases::model::CoapResponse,
        m: &CoapMessage,
    ) -> Result<(), String> {
        if let Some(req) = &self.last_coap {
            // RFC 7252 §5.3.2: the response carries the request's token.
            if m.token != req.token {
                return Err(format!(
                    "token {} does not echo the request's {}",
                    hex::encode(&m.token),
                    hex::encode(&req.token)
                ));
            }
            // §5.2.1: a piggybacked response is an ACK with the request's Message ID.
            if req.mtype == MessageType::Confirmable
                && m.mtype == MessageType::Acknowledgement
                && m.message_id != req.message_id
            {
                return Err(format!(
                    "ACK Message ID {} does not match the CON's {}",
                    m.message_id, req.message_id
                ));
            }
        }
        if let Some(code) = &c.code {
            if m.code.to_string() != *code {
                return Err(format!("expected CoAP {code}, got {}", m.code));
            }
        }
        if let Some(t) = &c.r#type {
            if m.mtype.name() != t {
                return Err(format!("expected a {t}, got a {}", m.mtype.name()));
            }
        }
        if let Some(p) = &c.payload {
            if m.payload != p.as_bytes() {
                return Err(format!(
                    "expected payload {p:?}, got {:?}",
                    String::from_utf8_lossy(&m.payload)
                ));
            }
        }
        for (name, want) in &c.options {
            let Some(num) = option_number(name) else {
                return Err(format!("unknown CoAP option {name}"));
            };
            let got: Vec<&Vec<u8>> = m
                .options
                .iter()
                .filter(|(n, _)| *n == num)
                .map(|(_, v)| v)
                .collect();
            let label = option_name(num);
            if want.is_null() {
                if !got.is_empty() {
                    return Err(format!("the response carries {label}, which it must not"));
                }
                continue;
            }
            let want = option_values(want).map_err(|e| format!("{label}: {e}"))?;
            if got.len() != want.len() || got.iter().zip(&want).any(|(g, w)| *g != w) {
                return Err(format!(
                    "expected {label} {}, got {}",
                    want.iter().map(hex::encode).collect::<Vec<_>>().join(","),
                    if got.is_empty() {
                        "none".to_string()
                    } else {
                        got.iter().map(hex::encode).collect::<Vec<_>>().join(",")
                    }
                ));
            }
        }
        if let Some(p) = &c.payload_contains {
            if !String::from_utf8_lossy(&m.payload).contains(p.as_str()) {
                return Err(format!(
                    "payload {:?} does not contain {p:?}",
                    String::from_utf8_lossy(&m.payload)
                ));
            }
        }
        Ok(())
    }

    fn resolve(&self, v: &Value) -> Result<Var, String> {
        match v {
            Value::String(s) if s.starts_with('$') => self
                .vars
                .get(&s[1..])
                .cloned()
                .ok_or(format!("{s} was never kept")),
            Value::Number(n) => n
                .as_u64()
                .map(Var::Number)
                .ok_or(format!("{n} is not a non-negative integer")),
            Value::String(s) => match s.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16)
                    .map(Var::Number)
                    .map_err(|e| e.to_string()),
                None => hex::decode(s)
                    .map(Var::Bytes)
                    .or_else(|_| Ok(Var::Bytes(s.as_bytes().to_vec()))),
            },
            other => Err(format!("cannot compare with {other}")),
        }
    }

    fn keep(&mut self, e: &Expect, o: &Observation) -> Result<(), String> {
        for (var, field) in &e.keep {
            let v = field_value(o, field).ok_or_else(|| {
                format!("cannot keep {field}: {} has no such field", o.describe())
            })?;
            self.vars.insert(var.clone(), v);
        }
        Ok(())
    }
}

fn show(v: &Var) -> String {
    match v {
        Var::Bytes(b) => format!("0x{}", hex::encode(b)),
        Var::Number(n) => n.to_string(),
        Var::Datagrams(d) => format!("{} datagram(s)", d.len()),
    }
}

/// Fields of an observation a case can check or keep.
fn field_value(o: &Observation, field: &str) -> Option<Var> {
    if let Observation::Handshake {
        message,
        message_seq,
        epoch,
        record_seq,
        ..
    } = o
    {
        match field {
            "message_seq" => return Some(Var::Number(u64::from(*message_seq))),
            "record.epoch" | "epoch" => return Some(Var::Number(u64::from(*epoch))),
            "record.sequence_number" => return Some(Var::Number(*record_seq)),
            _ => {}
        }
        return match (message, field) {
            (HandshakeMessage::HelloVerifyRequest(h), "cookie") => {
                Some(Var::Bytes(h.cookie.clone()))
            }
            (HandshakeMessage::HelloVerifyRequest(h), "server_version") => {
                Some(Var::Number(u64::from(h.server_version.get_u16())))
            }
            (HandshakeMessage::ServerHello(s), "server_version") => {
                Some(Var::Number(u64::from(s.server_version.get_u16())))
            }
            (HandshakeMessage::ServerHello(s), "random") => Some(Var::Bytes(s.random.to_vec())),
            (HandshakeMessage::ServerHello(s), "session_id") => {
                Some(Var::Bytes(s.session_id.clone()))
            }
            (HandshakeMessage::ServerHello(s), "cipher_suite") => {
                Some(Var::Number(u64::from(s.cipher_suite.get_u16())))
            }
            (HandshakeMessage::ServerHello(s), "compression_method") => {
                Some(Var::Number(u64::from(s.compression_method.get_u8())))
            }
            (HandshakeMessage::ServerHello(s), "extended_master_secret") => Some(Var::Number(
                u64::from(s.extensions.as_ref().is_some_and(|x| {
                    x.iter()
                        .any(|e| e.ext_type() == dicetest_wire::ExtensionType::ExtendedMasterSecret)
                })),
            )),
            (HandshakeMessage::ServerHello(s), "renegotiation_info") => Some(Var::Number(
                u64::from(s.extensions.as_ref().is_some_and(|x| {
                    x.iter()
                        .any(|e| e.ext_type() == dicetest_wire::ExtensionType::RenegotiationInfo)
                })),
            )),
            (HandshakeMessage::Finished(f), "verify_data") => {
                Some(Var::Bytes(f.verify_data.clone()))
            }
            (HandshakeMessage::ClientHello(c), "random") => Some(Var::Bytes(c.random.to_vec())),
            (HandshakeMessage::ClientHello(c), "cookie") => Some(Var::Bytes(c.cookie.clone())),
            (HandshakeMessage::ClientHello(c), "session_id") => {
                Some(Var::Bytes(c.session_id.clone()))
            }
            (HandshakeMessage::ClientHello(c), "client_version") => {
                Some(Var::Number(u64::from(c.client_version.get_u16())))
            }
            (HandshakeMessage::ClientHello(c), "cipher_suites") => Some(Var::Bytes(
                c.cipher_suites
                    .iter()
                    .flat_map(|x| x.get_u16().to_be_bytes())
                    .collect(),
            )),
            (HandshakeMessage::ClientHello(c), "compression_methods") => Some(Var::Bytes(
                c.compression_methods.iter().map(|x| x.get_u8()).collect(),
            )),
            (HandshakeMessage::ClientHello(c), "extended_master_secret") => Some(Var::Number(
                u64::from(c.extensions.as_ref().is_some_and(|x| {
                    x.iter()
                        .any(|e| e.ext_type() == dicetest_wire::ExtensionType::ExtendedMasterSecret)
                })),
            )),
            (HandshakeMessage::ClientHello(c), "offers_psk_ccm8") => Some(Var::Number(u64::from(
                c.cipher_suites.iter().any(|x| x.get_u16() == 0xC0A8),
            ))),
            _ => None,
        };
    }
    if let (Observation::Alert { level, .. }, "level") = (o, field) {
        return Some(Var::Bytes(level.to_string().into_bytes()));
    }
    None
}

fn expectation_name(e: &Expect) -> String {
    if let Some(m) = &e.message {
        m.clone()
    } else if let Some(a) = &e.alert {
        format!("a {a} alert")
    } else if e.change_cipher_spec.is_some() {
        "ChangeCipherSpec".into()
    } else if e.coap.is_some() {
        "a CoAP response".into()
    } else if e.probe_reply.is_some() {
        "the answer to the probe".into()
    } else {
        "application data".into()
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

fn alert_by_name(name: &str) -> Option<AlertDescription> {
    (0u8..=255)
        .map(AlertDescription::from)
        .find(|d| d.to_string() == name)
}

fn suite_name(id: Option<u16>) -> String {
    id.and_then(dicetest_crypto::suite_by_id)
        .map(|s| s.name.to_string())
        .unwrap_or_else(|| "no suite".into())
}

fn record_overrides(r: Option<&RecordSpec>) -> Result<RecordOverrides, String> {
    let Some(r) = r else {
        return Ok(RecordOverrides::default());
    };
    Ok(RecordOverrides {
        content_type: r.content_type,
        version: r.version,
        epoch: r.epoch,
        sequence_number: r.sequence_number,
        length: r.length,
        plaintext: r.plaintext,
        tag_xor: r
            .tag_xor
            .as_ref()
            .map(|h| hex::decode(h).map_err(|e| format!("tag_xor: {e}")))
            .transpose()?,
        ..Default::default()
    })
}

fn layout(f: Option<&FragmentsSpec>) -> FragmentLayout {
    match f {
        None => FragmentLayout::Whole,
        Some(f) if !f.list.is_empty() => FragmentLayout::Explicit(
            f.list
                .iter()
                .map(|i| FragmentSpec {
                    offset: i.offset,
                    len: i.len,
                    header: HeaderOverrides {
                        msg_type: None,
                        length: i.length,
                        message_seq: i.message_seq,
                        fragment_offset: i.fragment_offset,
                        fragment_length: i.fragment_length,
                    },
                })
                .collect(),
        ),
        Some(f) => FragmentLayout::MaxBody(f.max_body.unwrap_or(u32::MAX)),
    }
}

#[allow(dead_code)]
fn _alert_codec_is_used(a: &Alert) -> Vec<u8> {
    use dicetest_wire::Codec;
    a.to_bytes()
}
