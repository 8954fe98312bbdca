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
    pub(super) fn matches(&self, e: &Expect, o: &Observation) -> Result<(), String> {
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

    pub(super) fn keep(&mut self, e: &Expect, o: &Observation) -> Result<(), String> {
        for (var, field) in &e.keep {
            let v = field_value(o, field).ok_or_else(|| {
                format!("cannot keep {field}: {} has no such field", o.describe())
            })?;
            self.vars.insert(var.clone(), v);
        }
        Ok(())
    }
}
