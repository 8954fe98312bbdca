//! One interop session: start the server, put the relay in front of it, start the client
//! towards the relay, and judge from what the monitor saw.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use super::coap_seen::CoapSeen;
use super::judge::{judge, Check, Impaired, Seen};
use super::model::InteropCase;
use super::plan::plan;
use super::relay::Relay;
use crate::dut::process::DutProcess;
use crate::dut::Profile;
use crate::monitor::{Monitor, MonitorEvent, Side};
use crate::runner::{CaseResult, Verdict};

pub fn run_session(
    case: &InteropCase,
    file: &Path,
    client: &Profile,
    server: &Profile,
    root: &Path,
) -> CaseResult {
    run_session_judged(case, file, client, server, root).0
}

/// Like [`run_session`], with the judge's check that decided the verdict (none when the
/// pair does not apply or could not be set up).
pub fn run_session_judged(
    case: &InteropCase,
    file: &Path,
    client: &Profile,
    server: &Profile,
    root: &Path,
) -> (CaseResult, Option<Check>) {
    let started = Instant::now();
    let mut r = CaseResult {
        id: case.id.clone(),
        title: case.title.clone(),
        verdict: Verdict::Pass,
        reason: String::new(),
        step: None,
        line: None,
        refs: case.refs.clone(),
        level: format!("{:?}", case.level),
        file: file.display().to_string(),
        duration_ms: 0,
        as_expected: true,
        expected_deviation: client
            .expected_deviations
            .get(&case.id)
            .or_else(|| server.expected_deviations.get(&case.id))
            .cloned(),
        evidence: None,
        run: 1,
        branches: Vec::new(),
        trace: Vec::new(),
        dut_log: String::new(),
        captures: Vec::new(),
        keylog: Vec::new(),
    };
    let judged = |mut r: CaseResult, v: Verdict, reason: String| {
        r.verdict = v;
        r.reason = reason;
        r.duration_ms = started.elapsed().as_millis() as u64;
        r.as_expected = crate::runner::as_expected(r.expected_deviation.as_deref(), v);
        r
    };
    let plan = match plan(case, client, server) {
        Ok(p) => p,
        Err(why) => return (judged(r, Verdict::NotApplicable, why), None),
    };
    if client.credentials.psk_hex != server.credentials.psk_hex
        || client.credentials.psk_identity != server.credentials.psk_identity
    {
        return (
            judged(
                r,
                Verdict::Error,
                "the two profiles do not share credentials".into(),
            ),
            None,
        );
    }
    let srv = match DutProcess::start(server, root) {
        Ok(p) => p,
        Err(e) => {
            return (
                judged(r, Verdict::Error, format!("server setup failed: {e}")),
                None,
            )
        }
    };
    let mut relay = match Relay::new(
        SocketAddr::from(([127, 0, 0, 1], srv.port)),
        case.impair.clone(),
    ) {
        Ok(x) => x,
        Err(e) => return (judged(r, Verdict::Error, format!("relay: {e}")), None),
    };
    let mut client_profile = client.clone();
    if let Some(h) = &case.client_psk_hex {
        client_profile.credentials.psk_hex = h.clone();
    }
    // The command the plan chose runs as the client's command.
    client_profile.client_start = Some(plan.command.clone());
    let extra: Vec<(&str, String)> = plan.extra.iter().map(|(k, v)| (*k, v.clone())).collect();
    let mut cli = match DutProcess::start_client_with(&client_profile, root, relay.port(), &extra) {
        Ok(p) => p,
        Err(e) => {
            return (
                judged(r, Verdict::Error, format!("client setup failed: {e}")),
                None,
            )
        }
    };
    // One monitor per association of the client; a later one inherits the sessions the
    // earlier ones saw established, to follow a resumption.
    let mut monitors = vec![Monitor::new(Some(server.psk()), Vec::new())];
    let limit = case
        .within
        .as_deref()
        .and_then(crate::cases::parse_duration)
        .unwrap_or(Duration::from_secs(30));
    let mut sent_text = !plan.text_on_stdin;
    let mut seen = Seen {
        server_echoes: server.probe == "echo" && case.coap.is_none() && !case.resume,
        ..Default::default()
    };
    let mut coap = CoapSeen::default();
    // Per association: the ServerHello repeated the offered session id (a resumption).
    let mut resuming: Vec<bool> = Vec::new();
    // Bounded like a suite case's evidence: an implementation that never stops sending
    // cannot make the trace or capture grow without limit (the monitor still sees all).
    let mut captured_bytes = 0usize;
    let mut not_traced = 0u64;
    while started.elapsed() < limit {
        for d in relay.step() {
            let keep = r.trace.len() < crate::runner::interpret::MAX_TRACE_LINES;
            not_traced += u64::from(!keep);
            if keep {
                r.trace.push(format!(
                    "{:>8.3}s #{:<3} {} -> {} {} bytes, {}{}",
                    started.elapsed().as_secs_f64(),
                    d.number,
                    d.from.name(),
                    if d.from == Side::Client {
                        "server"
                    } else {
                        "client"
                    },
                    d.bytes.len(),
                    d.action,
                    // A client's second socket (a reconnection to resume) is a new association.
                    if d.association > 0 {
                        format!(" (association {})", d.association + 1)
                    } else {
                        String::new()
                    }
                ));
            }
            if captured_bytes + d.bytes.len() <= crate::runner::interpret::MAX_CAPTURED_BYTES {
                captured_bytes += d.bytes.len();
                r.captures.push(crate::runner::interpret::Captured {
                    micros: started.elapsed().as_micros() as u64,
                    from_dut: d.from == Side::Server,
                    bytes: d.bytes.clone(),
                    dropped: d.action.starts_with("dropped"),
                });
            }
            // What the relay did to the path: the last datagram it dropped or held back,
            // and what each end sent after it (a held one goes out after the next
            // datagram it forwards).
            if d.action.starts_with("dropped") || d.action == "held back" {
                seen.last_impaired = Some(Impaired {
                    number: d.number,
                    from_client: d.from == Side::Client,
                    action: d.action.to_string(),
                    still_held: d.action == "held back",
                    ..Default::default()
                });
            } else if let Some(i) = seen.last_impaired.as_mut() {
                match d.from {
                    Side::Client => i.client_after += 1,
                    Side::Server => i.server_after += 1,
                }
                i.still_held = false;
            }
            if d.action.starts_with("dropped") {
                continue;
            }
            if d.from == Side::Server {
                seen.chosen = super::suite_seen::server_hello_suite(&d.bytes).or(seen.chosen);
            }
            while monitors.len() <= d.association {
                let next = monitors[monitors.len() - 1].next_association();
                monitors.push(next);
            }
            for e in monitors[d.association].on_datagram(d.from, &d.bytes) {
                match &e {
                    MonitorEvent::ApplicationData { from, data } => {
                        // The text may come wrapped (a CoAP client sends it as a request's
                        // payload, an echo server returns that request), so it is looked
                        // for anywhere in the record.
                        let has_text = carries(data, &case.send);
                        match from {
                            Side::Client => seen.client_data |= has_text,
                            Side::Server => seen.echoed |= has_text,
                        }
                        if let (Some(x), Some(path)) = (&case.coap, &plan.coap_path) {
                            match from {
                                Side::Client => coap.from_client(x, path, data),
                                Side::Server => coap.from_server(data),
                            }
                        }
                    }
                    MonitorEvent::Resumption { known } => {
                        seen.resumptions_offered += 1;
                        seen.resumption_unknown |= !known;
                        if resuming.len() <= d.association {
                            resuming.resize(d.association + 1, false);
                        }
                        resuming[d.association] = true;
                    }
                    // A resuming ServerHello goes straight to ChangeCipherSpec and Finished
                    // (RFC 5246 §7.3); these belong to a full handshake only.
                    MonitorEvent::Handshake {
                        from: Side::Server,
                        msg_type:
                            dicetest_wire::HandshakeType::ServerKeyExchange
                            | dicetest_wire::HandshakeType::ServerHelloDone,
                        ..
                    } if resuming.get(d.association) == Some(&true) => {
                        seen.resumed_then_full = true;
                    }
                    MonitorEvent::Alert {
                        from,
                        level,
                        description,
                    } if seen.alerts.len() < 64 => seen.alerts.push(format!(
                        "{} sent {} alert {}",
                        from.name(),
                        if *level == 2 { "fatal" } else { "warning" },
                        dicetest_wire::AlertDescription::from(*description)
                    )),
                    _ => {}
                }
                if r.trace.len() < crate::runner::interpret::MAX_TRACE_LINES {
                    r.trace.push(format!("           {e:?}"));
                }
            }
        }
        seen.observe(&monitors);
        if seen.handshakes > 0 && !sent_text {
            sent_text = cli.write_line(&case.send);
        }
        if case.outcome == "success" && seen.complete(case, &coap) {
            break;
        }
    }
    seen.observe(&monitors);
    if not_traced > 0 {
        r.trace.push(format!(
            "           ({not_traced} more datagrams not shown: the trace keeps {} lines)",
            crate::runner::interpret::MAX_TRACE_LINES
        ));
    }
    seen.associations = relay.associations();
    for m in &monitors {
        if let Some(l) = m
            .master_secret()
            .map(|k| dicetest_crypto::keylog_line(m.client_random(), k))
        {
            r.keylog.push(l);
        }
    }
    r.dut_log = format!(
        "--- client {} ---\n{}\n--- server {} ---\n{}",
        client.name,
        cli.log(),
        server.name,
        srv.log()
    );
    let mut j = judge(case, &seen, &coap, limit);
    r.trace
        .push(format!("           decided by the {} check", j.check));
    if relay.server_unreachable > 0 {
        r.trace.push(format!(
            "           ICMP port unreachable from the server {} time(s)",
            relay.server_unreachable
        ));
        if j.verdict != Verdict::Pass {
            j.reason += &format!(
                " (ICMP port unreachable came back from the server {} time(s): it was not listening; did it exit?)",
                relay.server_unreachable
            );
        }
    }
    (judged(r, j.verdict, j.reason), Some(j.check))
}

/// Whether `text` occurs in `data`.
fn carries(data: &[u8], text: &str) -> bool {
    let t = text.as_bytes();
    !t.is_empty() && data.windows(t.len()).any(|w| w == t)
}
