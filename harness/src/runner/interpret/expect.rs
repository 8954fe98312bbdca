//! The `expect` step: what must (or may) come back from the DUT, and how it is judged.

use super::fields::{expectation_name, field_value, show};
use super::*;

impl Interpreter<'_> {
    /// A duration of the case, resolved against the timers the DUT profile declares (the
    /// loader has checked its syntax).
    pub(super) fn duration(&self, s: &str) -> std::time::Duration {
        DurationSpec::parse(s)
            .map(|d| d.resolve(&self.profile.timers))
            .unwrap_or_default()
    }

    pub(super) fn expect(&mut self, e: &Expect) -> StepOutcome {
        let mut notes = Notes::default();
        let out = self.expect_noting(e, &mut notes);
        notes.attach(out)
    }

    fn expect_noting(&mut self, e: &Expect, notes: &mut Notes) -> StepOutcome {
        let within = e
            .within
            .as_deref()
            .map(|w| self.duration(w))
            .unwrap_or(self.response_time());
        if let Some(d) = &e.silence {
            return self.expect_silence(d, notes);
        }
        if let Some(flight) = &e.flight {
            for name in flight {
                let one = Expect {
                    message: Some(name.clone()),
                    within: e.within.clone(),
                    never: e.never.clone(),
                    ..Default::default()
                };
                let out = self.expect_noting(&one, notes);
                if out.verdict != Verdict::Pass {
                    return out;
                }
            }
            return StepOutcome::pass(format!("got the flight {}", flight.join(", ")));
        }
        if let Some(alts) = &e.one_of {
            return self.expect_one_of(e, alts, notes);
        }
        let deadline = self.link.now() + within;
        if e.connected.is_some() {
            return self.expect_connected(deadline, within, notes);
        }
        let started = self.link.now();
        loop {
            // A loss the case made on purpose during this wait: the DUT's retransmission
            // is due within `within` of the loss, not of the step's start.
            let deadline = match self.dropped_at {
                Some(t) if t >= started => deadline.max(t + within),
                _ => deadline,
            };
            let Some(o) = self.next_observation(deadline) else {
                if self
                    .dropped_at
                    .is_some_and(|t| t >= started && t + within > deadline)
                {
                    continue;
                }
                return StepOutcome::fail(format!(
                    "expected {}, got nothing within {within:?}{}",
                    expectation_name(e),
                    notes.retransmissions(self)
                ));
            };
            if let Some(out) = self.never_seen(e, &o) {
                return out;
            }
            match self.matches(e, &o) {
                Ok(()) => {
                    return match self.keep(e, &o) {
                        Ok(()) => StepOutcome::pass(format!("got {}", o.describe())),
                        Err(m) => StepOutcome::error(m),
                    }
                }
                Err(why) => match self.allowed_before(&[e], &o) {
                    Some(Allowed::Note(n)) => notes.push(n),
                    Some(Allowed::AnswerCookie) => notes.push(self.answer_cookie(&o)),
                    None => return StepOutcome::fail(why),
                },
            }
        }
    }

    /// `silence`: nothing new may come. Repeats of what the DUT already sent (its own timer
    /// retransmitting a flight the case left unanswered, §4.2.4) are not an answer.
    fn expect_silence(&mut self, d: &str, notes: &mut Notes) -> StepOutcome {
        let deadline = self.link.now() + self.duration(d);
        loop {
            match self.next_observation(deadline) {
                None => return StepOutcome::pass(format!("no answer for {d}, as required")),
                Some(o) if o.repeat => notes.push(format!(
                    "{} passed over: a retransmission, RFC 6347 §4.2.4",
                    o.describe()
                )),
                Some(o) => {
                    return StepOutcome::fail(format!(
                        "expected silence for {d}, the DUT sent {}",
                        o.describe()
                    ))
                }
            }
        }
    }

    /// `one_of`: the first alternative the DUT's behaviour matches decides, with its
    /// verdict. The window is `within`, or the longest `silence` an alternative allows.
    fn expect_one_of(&mut self, e: &Expect, alts: &[Expect], notes: &mut Notes) -> StepOutcome {
        let window = match e.within.as_deref() {
            Some(w) => self.duration(w),
            None => alts
                .iter()
                .filter_map(|a| a.silence.as_deref())
                .map(|d| self.duration(d))
                .max()
                .unwrap_or(self.response_time()),
        };
        let deadline = self.link.now() + window;
        let alt_refs: Vec<&Expect> = alts.iter().collect();
        loop {
            let obs = self.next_observation(deadline);
            if let Some(o) = &obs {
                if let Some(out) = self.never_seen(e, o) {
                    return out;
                }
            }
            let chosen = alts.iter().find(|a| match (&obs, &a.silence) {
                (None, Some(_)) => true,
                (None, None) | (Some(_), Some(_)) => false,
                (Some(o), None) => self.matches(a, o).is_ok(),
            });
            if let Some(a) = chosen {
                let k = alts
                    .iter()
                    .position(|x| std::ptr::eq(x, a))
                    .map_or(0, |p| p + 1);
                let shown = match &a.silence {
                    Some(d) => format!("silence for {d}"),
                    None => expectation_name(a),
                };
                self.branches.push(format!(
                    "step {}: alternative {k} of {} ({shown})",
                    self.current_step,
                    alts.len()
                ));
                let verdict = a
                    .verdict
                    .as_deref()
                    .and_then(Verdict::parse)
                    .unwrap_or(Verdict::Pass);
                let what = obs
                    .as_ref()
                    .map(|o| o.describe())
                    .unwrap_or_else(|| format!("silence for {window:?}"));
                if let Some(o) = &obs {
                    if let Err(m) = self.keep(a, o) {
                        return StepOutcome::error(m);
                    }
                }
                let reason = a
                    .reason
                    .clone()
                    .map(|r| format!("{what}: {r}"))
                    .unwrap_or_else(|| format!("{what}, one of the allowed outcomes"));
                if a.end_case {
                    self.ended = true;
                }
                return StepOutcome { verdict, reason };
            }
            let Some(o) = obs else {
                return StepOutcome::fail(format!(
                    "got nothing within {window:?}, and silence is not among the allowed outcomes ({}){}",
                    alternatives(alts),
                    notes.retransmissions(self)
                ));
            };
            match self.allowed_before(&alt_refs, &o) {
                Some(Allowed::Note(n)) => notes.push(n),
                Some(Allowed::AnswerCookie) => notes.push(self.answer_cookie(&o)),
                None => {
                    return StepOutcome::fail(format!(
                        "got {}, which is none of the allowed outcomes ({})",
                        o.describe(),
                        alternatives(alts)
                    ))
                }
            }
        }
    }

    /// `connected`: our flight was sent by hand; the DUT must answer with ChangeCipherSpec
    /// and a Finished that verifies against our transcript.
    fn expect_connected(
        &mut self,
        deadline: Instant,
        within: Duration,
        notes: &mut Notes,
    ) -> StepOutcome {
        loop {
            let Some(o) = self.next_observation(deadline) else {
                return StepOutcome::fail(format!(
                    "the handshake did not complete within {within:?}: no ChangeCipherSpec and Finished from the DUT{}",
                    notes.retransmissions(self)
                ));
            };
            match &o.what {
                Observation::ChangeCipherSpec { .. } => continue,
                Observation::Handshake { name, .. } if name == "Finished" && !o.repeat => {
                    return match self.conn.peer_finished_ok {
                        Some(true) => {
                            self.handshake_done = true;
                            StepOutcome::pass("the DUT's Finished verifies: handshake complete")
                        }
                        _ => StepOutcome::fail(
                            "the DUT's Finished does not verify against the transcript (RFC 5246 §7.4.9)",
                        ),
                    };
                }
                Observation::Alert { level, description } => {
                    return StepOutcome::fail(format!(
                        "the DUT answered our flight with a {level} {description} alert instead of ChangeCipherSpec and Finished"
                    ))
                }
                _ if o.repeat => notes.push(format!(
                    "{} passed over: a retransmission, RFC 6347 §4.2.4",
                    o.describe()
                )),
                Observation::Unreadable { .. } => notes.push(format!("{} passed over", o.describe())),
                _ => {
                    return StepOutcome::fail(format!(
                        "expected ChangeCipherSpec and Finished, got {}",
                        o.describe()
                    ))
                }
            }
        }
    }

    /// A fresh message the case names under `never`.
    fn never_seen(&self, e: &Expect, o: &Observed) -> Option<StepOutcome> {
        let name = o.message_name()?;
        (!o.repeat && e.never.iter().any(|n| n == name))
            .then(|| StepOutcome::fail(format!("the DUT sent {}, which it must not", o.describe())))
    }

    /// What the RFCs allow the DUT to send before what the expectations ask for: the
    /// harness passes over it, as a conforming peer would, and says so.
    fn allowed_before(&self, wanted: &[&Expect], o: &Observed) -> Option<Allowed> {
        if o.repeat {
            return Some(Allowed::Note(format!(
                "{} passed over: a retransmission, RFC 6347 §4.2.4",
                o.describe()
            )));
        }
        if let Observation::Unreadable { .. } = o.what {
            return Some(Allowed::Note(format!("{} passed over", o.describe())));
        }
        let wants = |m: &str| wanted.iter().any(|e| e.message.as_deref() == Some(m));
        let name = o.message_name()?;
        // The server's flight 4 may carry Certificate, ServerKeyExchange (a PSK identity
        // hint, RFC 4279 §2) and CertificateRequest before ServerHelloDone (RFC 5246 §7.3).
        let optional_in_flight_4 = matches!(
            name,
            "Certificate" | "ServerKeyExchange" | "CertificateRequest"
        );
        if optional_in_flight_4 && wants("ServerHelloDone") && !wants(name) {
            let detail = match &o.what {
                Observation::Handshake {
                    message:
                        HandshakeMessage::ServerKeyExchange(dicetest_wire::ServerKeyExchange::Psk {
                            identity_hint,
                        }),
                    ..
                } => format!(
                    " with PSK identity hint {:?}",
                    String::from_utf8_lossy(identity_hint)
                ),
                _ => String::new(),
            };
            return Some(Allowed::Note(format!(
                "{name}{detail}: optional before ServerHelloDone (RFC 5246 §7.3, RFC 4279 §2)"
            )));
        }
        // The answer to a ClientHello the case sent beside the data it waits for (a new
        // handshake from the address of an association, §4.2.8): the cookie exchange may
        // begin while the old association carries data.
        let wants_data = wanted
            .iter()
            .any(|e| e.probe_reply.is_some() || e.coap.is_some() || e.application_data.is_some());
        if name == "HelloVerifyRequest"
            && wants_data
            && self.dut_role == DutRole::Server
            && self.last_client_hello.is_some()
        {
            return Some(Allowed::Note(
                "HelloVerifyRequest answering our ClientHello (RFC 6347 §4.2.1)".into(),
            ));
        }
        // A server may ask for a cookie (RFC 6347 §4.2.1): a conforming client answers it.
        if name == "HelloVerifyRequest"
            && wants("ServerHello")
            && !wants("HelloVerifyRequest")
            && self.dut_role == DutRole::Server
            && self.last_client_hello.is_some()
        {
            return Some(Allowed::AnswerCookie);
        }
        None
    }

    /// Answers a HelloVerifyRequest the case did not script with the last ClientHello and
    /// the cookie, as a new flight (RFC 6347 §4.2.1).
    fn answer_cookie(&mut self, o: &Observed) -> String {
        let Observation::Handshake {
            message: HandshakeMessage::HelloVerifyRequest(hvr),
            ..
        } = &o.what
        else {
            return String::new();
        };
        let Some((mut ch, opts)) = self.last_client_hello.clone() else {
            return String::new();
        };
        ch.cookie = hvr.cookie.clone();
        self.conn.begin_flight(0);
        self.conn.send_handshake(
            &HandshakeMessage::ClientHello(ch.clone()),
            &SendOptions {
                message_seq: None,
                ..opts.clone()
            },
        );
        self.conn.flush();
        self.flush();
        self.last_client_hello = Some((ch, opts));
        self.arm_harness_timer();
        format!(
            "the DUT asked for a cookie ({} bytes); the harness answered with it (RFC 6347 §4.2.1)",
            hvr.cookie.len()
        )
    }

    /// Whether `o` satisfies `e` (and its `match` fields).
    pub(super) fn matches(&self, e: &Expect, o: &Observed) -> Result<(), String> {
        let record = o.record;
        let prev = o.prev_message_seq;
        let o = &o.what;
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
            // By name or by number (`alert: 200`).
            let named =
                crate::cases::fields::alert_description(&serde_json::Value::String(want.clone()));
            if want != "any" && named != Some(*description) {
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
            // A comparison with a kept datagram's message (kept.rs), not a value.
            if field == "same_message_as" {
                self.same_message_as(o, want)?;
                continue;
            }
            // How far this message's message_seq is from the DUT's previous message
            // (1: the next number, §4.2.2), whatever optional messages came between.
            let step = match (field.as_str(), o, prev) {
                ("message_seq_step", Observation::Handshake { message_seq, .. }, Some(p)) => {
                    Some(Var::Number(u64::from(message_seq.wrapping_sub(p))))
                }
                _ => None,
            };
            let got = step
                .or_else(|| field_value(o, record, field))
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

    pub(super) fn check_coap(
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

    pub(super) fn resolve(&self, v: &Value) -> Result<Var, String> {
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

    pub(super) fn keep(&mut self, e: &Expect, o: &Observed) -> Result<(), String> {
        for (var, field) in &e.keep {
            let v = field_value(&o.what, o.record, field).ok_or_else(|| {
                format!("cannot keep {field}: {} has no such field", o.describe())
            })?;
            self.vars.insert(var.clone(), v);
        }
        Ok(())
    }
}

/// What the DUT may send before what a step waits for.
enum Allowed {
    /// Passed over, with a note for the step's reason.
    Note(String),
    /// A HelloVerifyRequest the case did not script: answer it with the cookie.
    AnswerCookie,
}

/// What a step passed over on its way, for its reason and the evidence.
#[derive(Default)]
struct Notes(Vec<String>);

impl Notes {
    fn push(&mut self, n: String) {
        if !n.is_empty() && self.0.len() < 16 {
            self.0.push(n);
        }
    }

    fn retransmissions(&self, i: &Interpreter<'_>) -> String {
        match i.rtx_sent {
            0 => String::new(),
            n => format!(" (the harness sent its flight {n} more time(s) on its timer)"),
        }
    }

    fn attach(self, mut out: StepOutcome) -> StepOutcome {
        if !self.0.is_empty() {
            out.reason = format!("{} [on the way: {}]", out.reason, self.0.join("; "));
        }
        out
    }
}

/// The allowed outcomes of a `one_of`, for a reason.
fn alternatives(alts: &[Expect]) -> String {
    alts.iter()
        .map(|a| match &a.silence {
            Some(d) => format!("silence for {d}"),
            None => expectation_name(a),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
