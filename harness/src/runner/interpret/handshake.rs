//! The `handshake`, `liveness` and `new_client` steps: whole associations driven by the
//! engine's autopilot, as a correct peer would drive them.

use super::*;

/// Where a new association comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Source {
    /// A new source port: a new client.
    NewPort,
    /// The same address and port as the association before (RFC 6347 §4.2.8).
    SamePort,
}

impl Interpreter<'_> {
    pub(super) fn new_connection(&mut self, autopilot: bool) {
        self.start_association(autopilot, Source::NewPort);
    }

    /// Starts a new association. From a new port, the old one is first ended politely
    /// (serial servers such as gnutls-serv or s_server serve the next client only once the
    /// previous one has closed); from the same port, as a client that rebooted would: no
    /// close_notify, the DUT still holds the old association (RFC 6347 §4.2.8).
    pub(super) fn start_association(&mut self, autopilot: bool, source: Source) {
        if source == Source::NewPort
            && (self.conn.is_connected() || self.handshake_done)
            && !self.harness_ended
            && !self.dut_ended
        {
            self.conn.close();
            self.flush();
        }
        // A harness client starts over from a new port unless told otherwise; a harness
        // server keeps its port and waits for the DUT client's next ClientHello.
        if source == Source::NewPort && self.used && self.dut_role == DutRole::Server {
            self.link.new_source();
        }
        if let Some(l) = self.conn.keylog_line() {
            self.keylog.push(l);
        }
        self.seed = self.seed.wrapping_add(1);
        self.conn = Connection::new(psk_config(self.profile, self.seed, self.dut_role));
        self.conn.set_autopilot(autopilot);
        self.observations.clear();
        self.seen_records.clear();
        self.seen_messages.clear();
        self.last_message_seq = None;
        self.seen_ccs_epochs.clear();
        self.current_record = None;
        self.rtx.stop();
        self.coap_timer.stop();
        self.last_client_hello = None;
        self.dut_ended = false;
        self.harness_ended = false;
        self.handshake_begun = false;
        self.handshake_done = false;
    }

    pub(super) fn handshake(&mut self, s: &Step, suite: &str) -> StepOutcome {
        self.start_association(
            true,
            if s.same_port {
                Source::SamePort
            } else {
                Source::NewPort
            },
        );
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
        let want_failure = s.outcome.as_deref() == Some("failure");
        let mut alerts = Vec::new();
        // What the DUT sent, by kind, for a reason that says what happened.
        let mut seen: std::collections::BTreeMap<String, u32> = Default::default();
        // When the handshake must fail, the outcome is known once our last flight has had
        // time to be answered: a DUT that accepts it sends ChangeCipherSpec and Finished at
        // once, or after our timer's first repeat. No need to wait out the whole schedule.
        let settle = Duration::from_millis(
            self.profile
                .timers
                .response_ms
                .max(3 * self.profile.timers.initial_retransmit_ms),
        );
        let mut last_flight_at: Option<Instant> = None;
        self.engine_driving = true;
        while !self.conn.is_connected() && !self.conn.is_finished() && self.link.now() < deadline {
            let mut until = deadline;
            if want_failure {
                let waiting_for_finish = matches!(
                    self.conn.state(),
                    crate::engine::State::ClientWaitChangeCipherSpec
                        | crate::engine::State::ClientWaitFinished
                        | crate::engine::State::ServerWaitChangeCipherSpec
                        | crate::engine::State::ServerWaitFinished
                );
                if waiting_for_finish {
                    let t = *last_flight_at.get_or_insert(self.link.now());
                    until = until.min(t + settle);
                    if self.link.now() >= until {
                        break;
                    }
                }
            }
            match self.next_observation(until) {
                Some(Observed {
                    what: Observation::Alert { description, .. },
                    ..
                }) => alerts.push(description.to_string()),
                Some(o) => {
                    let k = match &o.what {
                        Observation::Handshake { name, .. } => name.clone(),
                        Observation::ChangeCipherSpec { .. } => "ChangeCipherSpec".into(),
                        Observation::ApplicationData(_) => "application data".into(),
                        Observation::Unreadable { .. } => "unreadable record".into(),
                        Observation::Alert { .. } => unreachable!(),
                    };
                    *seen.entry(k).or_default() += 1;
                }
                None => {}
            }
        }
        self.engine_driving = false;
        // Handshake messages seen while the autopilot drove are not for later steps.
        self.observations.retain(|o| {
            !matches!(
                o.what,
                Observation::Handshake { .. }
                    | Observation::ChangeCipherSpec { .. }
                    | Observation::Unreadable { .. }
            )
        });
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
            (false, true) => StepOutcome::pass(format!(
                "handshake refused as required ({alert_note}; no ChangeCipherSpec and Finished within {settle:?} of our last flight)"
            )),
            (true, true) => StepOutcome::fail("the handshake completed although it had to fail"),
            (false, false) => StepOutcome::fail(format!(
                "the handshake did not complete within {:?} ({alert_note}; the DUT sent {}; the harness was in state {:?})",
                self.link.now() - now,
                if seen.is_empty() {
                    "nothing the harness could read".to_string()
                } else {
                    seen.iter()
                        .map(|(k, n)| format!("{n} × {k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                self.conn.state()
            )),
        }
    }

    pub(super) fn liveness(&mut self) -> StepOutcome {
        if self.dut_role == DutRole::Client {
            return StepOutcome::inconclusive("liveness of a DUT client needs it to start a new handshake, which the runner cannot ask yet");
        }
        // A server that serves one association at a time (its profile says so) is still
        // busy with one this case left unfinished and the DUT did not end: a second client
        // waits until the DUT's own handshake timeout, which says nothing about the DUT's
        // health. Not checked, and said so.
        let unfinished = self.handshake_begun
            && !self.handshake_done
            && !self.conn.is_connected()
            && !self.dut_ended;
        if self.profile.application.one_association_at_a_time && unfinished {
            return StepOutcome::pass(
                "liveness not checked: the case left an association unfinished and the server serves one association at a time (profile: application.one_association_at_a_time)",
            );
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
}
