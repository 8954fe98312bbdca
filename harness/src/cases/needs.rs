//! What a case needs of the application around the DTLS stack, read off its steps, so a
//! profile's `application` section (a demo that answers once and closes) makes a case not
//! applicable with the reason, instead of a verdict about the protocol that is really about
//! the program.

use std::collections::HashSet;

use super::model::Case;

/// The most requests one association of the case carries: probes, CoAP requests, and
/// replays of a datagram that carried one. An application that ends the association after
/// its first answer cannot take part in a case that needs two.
pub fn max_requests_per_association(case: &Case) -> u32 {
    let mut most = 0;
    let mut now = 0;
    let mut request_datagrams: HashSet<&str> = HashSet::new();
    for s in &case.steps {
        let s = &s.value;
        // A new association: the count starts over.
        if s.handshake.is_some()
            || s.new_client.is_some()
            || s.reconnect.is_some()
            || s.liveness.is_some()
        {
            now = 0;
        }
        let request =
            matches!(s.send.as_deref(), Some("Probe" | "ApplicationData")) || s.coap.is_some();
        if request {
            now += 1;
            if let Some(k) = &s.keep_datagram {
                request_datagrams.insert(k);
            }
        }
        if let Some(r) = &s.replay {
            if request_datagrams.contains(r.trim_start_matches('$')) {
                now += 1;
            }
        }
        most = most.max(now);
    }
    most
}

/// Whether the case must see the DUT take application data (a `send: Probe`, or an
/// expectation of its answer): a DUT whose profile offers no way to see it (`probe: none`,
/// a demo server that neither echoes nor answers) cannot take part.
pub fn needs_probe(case: &Case) -> bool {
    case.steps.iter().any(|s| {
        s.value.send.as_deref() == Some("Probe")
            || s.value.expect.as_ref().is_some_and(|e| {
                e.probe_reply.is_some()
                    || e.one_of
                        .as_ref()
                        .is_some_and(|a| a.iter().any(|x| x.probe_reply.is_some()))
            })
    })
}

/// Whether the case opens a new association (`new_client`, `handshake`) while an earlier
/// one it started by hand is still unfinished: a server that serves one association at a
/// time cannot take part. (A closing `liveness` check adapts at run time instead.)
pub fn opens_association_while_one_is_unfinished(case: &Case) -> bool {
    let mut unfinished = false;
    for s in &case.steps {
        let s = &s.value;
        if (s.new_client.is_some() || s.handshake.is_some()) && unfinished {
            return true;
        }
        if s.handshake.is_some() {
            unfinished = s.outcome.as_deref() == Some("failure");
        }
        if s.liveness.is_some() || s.expect.as_ref().is_some_and(|e| e.connected.is_some()) {
            unfinished = false;
        }
        // Once the DUT sent its ServerHello it holds the association (a cookie exchange
        // alone keeps no state, RFC 6347 §4.2.1).
        let names_server_hello = |e: &crate::cases::model::Expect| {
            e.message.as_deref() == Some("ServerHello")
                || e.flight
                    .as_ref()
                    .is_some_and(|f| f.iter().any(|m| m == "ServerHello"))
        };
        if s.expect.as_ref().is_some_and(|e| {
            names_server_hello(e)
                || e.one_of
                    .as_ref()
                    .is_some_and(|a| a.iter().any(names_server_hello))
        }) {
            unfinished = true;
        }
    }
    false
}

/// The time the case spends waiting on purpose against a DUT that behaves as the case
/// hopes: its `wait` steps, its `silence` expectations, and the silence of a `one_of` whose
/// first (preferred) outcome is silence. No run of the case can be shorter; what a run takes
/// beyond it is the DUT's answers and the harness's retransmission timers.
pub fn required_wait(case: &Case, timers: &crate::dut::profile::Timers) -> std::time::Duration {
    let d = |s: &str| {
        super::DurationSpec::parse(s)
            .map(|d| d.resolve(timers))
            .unwrap_or_default()
    };
    case.steps
        .iter()
        .map(|s| {
            let s = &s.value;
            let mut t = s.wait.as_deref().map(d).unwrap_or_default();
            if let Some(e) = &s.expect {
                if let Some(q) = &e.silence {
                    t += d(q);
                }
                if let Some(first) = e.one_of.as_ref().and_then(|a| a.first()) {
                    if let Some(q) = &first.silence {
                        t += d(q);
                    }
                }
            }
            t
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::load::load_case_str;
    use std::path::Path;

    fn case(steps: &str) -> Case {
        load_case_str(
            Path::new("t.yaml"),
            &format!(
                "id: T-01\ntitle: t\nobjective: o\nrefs: [\"RFC 6347 §4.1\"]\nlevel: MUST\n\
                 dut: {{role: server}}\nsteps:\n{steps}"
            ),
        )
        .expect("loads")
        .case
    }

    #[test]
    fn a_replayed_request_is_a_second_request_on_the_association() {
        let c = case(
            "  - handshake: default\n  - send: Probe\n    keep_datagram: first\n  - expect: { probe_reply: true }\n  - replay: $first\n  - expect: { silence: 2s }\n",
        );
        assert_eq!(max_requests_per_association(&c), 2);
    }

    #[test]
    fn required_waits_are_the_waits_and_the_hoped_for_silences() {
        let c = case(
            "  - handshake: default\n  - wait: 1s\n  - expect: { silence: 2 x initial_retransmit }\n  - expect:\n      one_of:\n        - silence: 2s\n        - alert: any\n  - expect:\n      one_of:\n        - alert: any\n        - silence: 5s\n",
        );
        let t = crate::dut::profile::Timers::default();
        assert_eq!(required_wait(&c, &t), std::time::Duration::from_secs(5));
    }

    #[test]
    fn abandoned_handshakes_then_a_new_client_need_concurrent_associations() {
        let c = case(
            "  - send: ClientHello\n  - expect: { message: HelloVerifyRequest }\n  - new_client: true\n  - handshake: default\n",
        );
        assert!(
            !opens_association_while_one_is_unfinished(&c),
            "a cookie exchange keeps no state"
        );
        let c = case(
            "  - send: ClientHello\n  - expect: { flight: [ServerHello, ServerHelloDone] }\n  - new_client: true\n  - handshake: default\n",
        );
        assert!(opens_association_while_one_is_unfinished(&c));
        let c = case(
            "  - send: ClientHello\n  - expect: { message: HelloVerifyRequest }\n  - liveness: true\n",
        );
        assert!(!opens_association_while_one_is_unfinished(&c));
    }

    #[test]
    fn a_new_association_starts_the_count_over() {
        let c = case(
            "  - handshake: default\n  - send: Probe\n  - expect: { probe_reply: true }\n  - liveness: true\n  - coap: { method: GET, uri: /a }\n  - expect: { coap: { code: \"2.05\" } }\n",
        );
        assert_eq!(max_requests_per_association(&c), 1);
    }
}
