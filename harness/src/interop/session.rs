//! One interop session: start the server, put the relay in front of it, start the client
//! towards the relay, and judge from what the monitor saw.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use super::model::InteropCase;
use super::relay::Relay;
use crate::dut::process::DutProcess;
use crate::dut::Profile;
use crate::monitor::{Monitor, MonitorEvent, Side};
use crate::runner::{CaseResult, Verdict};

/// Why the pair cannot run this case, if it cannot.
pub fn applicability(case: &InteropCase, client: &Profile, server: &Profile) -> Option<String> {
    if client.client_start.is_none() {
        return Some(format!("{} has no client_start", client.name));
    }
    if server.start.is_none() {
        return Some(format!("{} cannot be started as a server", server.name));
    }
    for p in [client, server] {
        let missing: Vec<&String> = case.claims.iter().filter(|c| !p.claims(c)).collect();
        if !missing.is_empty() {
            return Some(format!(
                "{} does not claim {}",
                p.name,
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    None
}

pub fn run_session(
    case: &InteropCase,
    file: &Path,
    client: &Profile,
    server: &Profile,
    root: &Path,
) -> CaseResult {
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
        trace: Vec::new(),
        dut_log: String::new(),
        captures: Vec::new(),
        keylog: Vec::new(),
    };
    let judged = |mut r: CaseResult, v: Verdict, reason: String| {
        r.verdict = v;
        r.reason = reason;
        r.duration_ms = started.elapsed().as_millis() as u64;
        r.as_expected = crate::runner::as_expected(r.expected_deviation.is_some(), v);
        r
    };
    if let Some(why) = applicability(case, client, server) {
        return judged(r, Verdict::NotApplicable, why);
    }
    if client.credentials.psk_hex != server.credentials.psk_hex
        || client.credentials.psk_identity != server.credentials.psk_identity
    {
        return judged(
            r,
            Verdict::Error,
            "the two profiles do not share credentials".into(),
        );
    }
    let srv = match DutProcess::start(server, root) {
        Ok(p) => p,
        Err(e) => return judged(r, Verdict::Error, format!("server setup failed: {e}")),
    };
    let mut relay = match Relay::new(
        SocketAddr::from(([127, 0, 0, 1], srv.port)),
        case.impair.clone(),
    ) {
        Ok(x) => x,
        Err(e) => return judged(r, Verdict::Error, format!("relay: {e}")),
    };
    let mut client_profile = client.clone();
    if let Some(h) = &case.client_psk_hex {
        client_profile.credentials.psk_hex = h.clone();
    }
    let uses_text_arg = client
        .client_start
        .as_ref()
        .is_some_and(|s| s.command.iter().any(|a| a.contains("{text}")));
    let mut cli = match DutProcess::start_client_with(
        &client_profile,
        root,
        relay.port(),
        &[("{text}", case.send.clone())],
    ) {
        Ok(p) => p,
        Err(e) => return judged(r, Verdict::Error, format!("client setup failed: {e}")),
    };
    let psk = server.psk();
    let mut monitor = Monitor::new(Some(psk), Vec::new());
    let limit = case
        .within
        .as_deref()
        .and_then(crate::cases::parse_duration)
        .unwrap_or(Duration::from_secs(30));
    let mut sent_text = uses_text_arg;
    // The suite the server chose, read off the wire even when the monitor cannot follow it.
    let mut chosen: Option<u16> = None;
    let mut client_data = false;
    let mut echoed = false;
    let mut alerts = Vec::new();
    let want_success = case.outcome == "success";
    let server_echoes = server.probe == "echo";
    while started.elapsed() < limit {
        for d in relay.step() {
            r.trace.push(format!(
                "{:>8.3}s #{:<3} {} -> {} {} bytes, {}",
                started.elapsed().as_secs_f64(),
                d.number,
                d.from.name(),
                if d.from == Side::Client {
                    "server"
                } else {
                    "client"
                },
                d.bytes.len(),
                d.action
            ));
            r.captures.push(crate::runner::interpret::Captured {
                micros: started.elapsed().as_micros() as u64,
                from_dut: d.from == Side::Server,
                bytes: d.bytes.clone(),
                dropped: d.action.starts_with("dropped"),
            });
            if d.action.starts_with("dropped") {
                continue;
            }
            if d.from == Side::Server {
                chosen = super::suite_seen::server_hello_suite(&d.bytes).or(chosen);
            }
            for e in monitor.on_datagram(d.from, &d.bytes) {
                match &e {
                    // The text may come wrapped (a CoAP client sends it as a request's
                    // payload, an echo server returns that request), so it is looked for
                    // anywhere in the record.
                    MonitorEvent::ApplicationData {
                        from: Side::Client,
                        data,
                    } if carries(data, &case.send) => client_data = true,
                    MonitorEvent::ApplicationData {
                        from: Side::Server,
                        data,
                    } if carries(data, &case.send) => echoed = true,
                    MonitorEvent::Alert {
                        from,
                        level,
                        description,
                    } => alerts.push(format!(
                        "{} sent {} alert {}",
                        from.name(),
                        if *level == 2 { "fatal" } else { "warning" },
                        dicetest_wire::AlertDescription::from(*description)
                    )),
                    _ => {}
                }
                r.trace.push(format!("           {e:?}"));
            }
        }
        if monitor.handshakes_completed() > 0 && !sent_text {
            sent_text = cli.write_line(&case.send);
        }
        if want_success
            && monitor.handshakes_completed() > 0
            && client_data
            && (echoed || !server_echoes)
        {
            break;
        }
    }
    if let Some(l) = monitor
        .master_secret()
        .map(|m| dicetest_crypto::keylog_line(monitor.client_random(), m))
    {
        r.keylog.push(l);
    }
    r.dut_log = format!(
        "--- client {} ---\n{}\n--- server {} ---\n{}",
        client.name,
        cli.log(),
        server.name,
        srv.log()
    );
    let done = monitor.handshakes_completed() > 0;
    let alert_note = if alerts.is_empty() {
        "no alert".to_string()
    } else {
        alerts.join(", ")
    };
    // A suite whose keys the PSK alone does not give (ECDHE_PSK): the monitor saw the
    // handshake but could not check its Finished messages nor read the data.
    let unfollowable = chosen.filter(|s| !super::suite_seen::followable_with_psk(*s) && !done);
    if let Some(s) = unfollowable {
        return judged(
            r,
            Verdict::Inconclusive,
            format!(
                "the pair negotiated {}, whose keys the monitor cannot derive from the PSK, so it cannot see whether the handshake completed ({alert_note})",
                super::suite_seen::suite_name(s)
            ),
        );
    }
    let (v, why) = match (want_success, done) {
        (true, true) if client_data && (echoed || !server_echoes) => (
            Verdict::Pass,
            format!(
                "handshake completed ({}), the client's data crossed{}",
                monitor.cipher_suite().and_then(dicetest_crypto::suite_by_id).map(|s| s.name).unwrap_or("?"),
                if server_echoes { " and came back" } else { "" }
            ),
        ),
        (true, true) if !client_data => (Verdict::Inconclusive, "handshake completed but the client sent no application data (its driver may not have sent the line)".into()),
        (true, true) => (Verdict::Fail, "handshake completed but the server's echo never came back".into()),
        (true, false) => (Verdict::Fail, format!("no handshake completed within {limit:?} ({alert_note})")),
        (false, false) => (Verdict::Pass, format!("no handshake completed, as required ({alert_note})")),
        (false, true) => (Verdict::Fail, "a handshake completed although it had to fail".into()),
    };
    judged(r, v, why)
}

/// Whether `text` occurs in `data`.
fn carries(data: &[u8], text: &str) -> bool {
    let t = text.as_bytes();
    !t.is_empty() && data.windows(t.len()).any(|w| w == t)
}
