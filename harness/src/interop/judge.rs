//! The verdict of an interop session, from what the monitor saw on the path.

use std::time::Duration;

use super::coap_seen::CoapSeen;
use super::model::InteropCase;
use super::suite_seen::{followable_with_psk, suite_name};
use crate::monitor::Monitor;
use crate::runner::Verdict;

/// What the session saw, gathered while it runs.
#[derive(Debug, Default)]
pub struct Seen {
    /// The suite the server chose, read off the wire even when the monitor cannot follow it.
    pub chosen: Option<u16>,
    /// The suite of the first association's handshake, as the monitor followed it.
    pub suite: Option<u16>,
    pub client_data: bool,
    pub echoed: bool,
    pub server_echoes: bool,
    pub alerts: Vec<String>,
    /// Handshakes (full or abbreviated) with both Finished verified, over all associations.
    pub handshakes: u32,
    /// Of those, abbreviated ones (resumptions).
    pub resumptions: u32,
    /// ServerHellos that resumed a session, and whether one resumed a session the monitor
    /// never saw established.
    pub resumptions_offered: u32,
    pub resumption_unknown: bool,
    /// extended_master_secret in the first association's ClientHello / ServerHello.
    pub client_ems: bool,
    pub server_ems: bool,
    pub associations: usize,
}

impl Seen {
    pub fn observe(&mut self, monitors: &[Monitor]) {
        self.handshakes = monitors.iter().map(|m| m.handshakes_completed()).sum();
        self.resumptions = monitors.iter().map(|m| m.resumptions_completed()).sum();
        if let Some(m) = monitors.first() {
            self.suite = m.cipher_suite();
            self.client_ems = m.client_offered_ems();
            self.server_ems = m.extended_master_secret();
        }
    }

    /// Everything a successful session must show has been seen: the session can stop.
    pub fn complete(&self, case: &InteropCase, coap: &CoapSeen) -> bool {
        if case.coap.is_some() {
            coap.response.is_some()
        } else if case.resume {
            self.resumptions > 0
        } else {
            self.handshakes > 0 && self.client_data && (self.echoed || !self.server_echoes)
        }
    }
}

pub fn judge(case: &InteropCase, s: &Seen, coap: &CoapSeen, limit: Duration) -> (Verdict, String) {
    let alert_note = if s.alerts.is_empty() {
        "no alert".to_string()
    } else {
        s.alerts.join(", ")
    };
    // A suite whose keys the PSK alone does not give (ECDHE_PSK, RFC 5489 §2): the monitor
    // saw the handshake but can neither check its Finished messages nor read the data, so
    // it cannot say whether the session worked. Descriptions demand a PSK suite (`suite:`)
    // and profiles make their clients offer one where the implementation allows it.
    if let Some(c) = s
        .chosen
        .filter(|c| !followable_with_psk(*c) && s.handshakes == 0)
    {
        return (
            Verdict::Inconclusive,
            format!(
                "the pair negotiated {}, whose keys a passive monitor cannot derive from the PSK (the ECDHE secret is never on the wire), so it cannot see whether the handshake completed ({alert_note})",
                suite_name(c)
            ),
        );
    }
    let want_success = case.outcome == "success";
    if !want_success {
        return if s.handshakes == 0 {
            (
                Verdict::Pass,
                format!("no handshake completed, as required ({alert_note})"),
            )
        } else {
            (
                Verdict::Fail,
                "a handshake completed although it had to fail".into(),
            )
        };
    }
    if s.handshakes == 0 {
        return (
            Verdict::Fail,
            format!("no handshake completed within {limit:?} ({alert_note})"),
        );
    }
    let negotiated = s
        .suite
        .and_then(dicetest_crypto::suite_by_id)
        .map(|x| x.name)
        .unwrap_or("?");
    if let Some(want) = case
        .suite
        .as_deref()
        .and_then(dicetest_crypto::suite_by_name)
    {
        if s.suite != Some(want.id) {
            return (
                Verdict::Inconclusive,
                format!(
                    "the pair negotiated {negotiated}, not the {} this description demands (the client offered more than that suite and the server chose another)",
                    want.name
                ),
            );
        }
    }
    let mut notes = vec![format!("handshake completed ({negotiated})")];
    if case.extended_master_secret {
        // RFC 7627 §5.1: the client offers the extension, the server echoes it; the
        // Finished messages then verified with the session-hash master secret (§4).
        match (s.client_ems, s.server_ems) {
            (false, _) => {
                return (
                    Verdict::Fail,
                    "the ClientHello did not offer extended_master_secret".into(),
                )
            }
            (true, false) => return (
                Verdict::Fail,
                "the client offered extended_master_secret but the ServerHello did not carry it"
                    .into(),
            ),
            (true, true) => notes.push(
                "extended_master_secret in both hellos, Finished verified with the session hash"
                    .into(),
            ),
        }
    }
    if let Some(x) = &case.coap {
        return judge_coap(x, coap, notes);
    }
    if case.resume {
        return judge_resume(s);
    }
    match (s.client_data, s.echoed || !s.server_echoes) {
        (true, true) => {
            notes.push(format!(
                "the client's data crossed{}",
                if s.server_echoes {
                    " and came back"
                } else {
                    ""
                }
            ));
            (Verdict::Pass, notes.join(", "))
        }
        (false, _) => (
            Verdict::Inconclusive,
            "handshake completed but the client sent no application data (its driver may not have sent the line)".into(),
        ),
        (true, false) => (
            Verdict::Fail,
            "handshake completed but the server's echo never came back".into(),
        ),
    }
}

fn judge_coap(
    x: &super::model::CoapExchange,
    coap: &CoapSeen,
    mut notes: Vec<String>,
) -> (Verdict, String) {
    let Some(req) = &coap.request else {
        return if coap.other_requests.is_empty() {
            (
                Verdict::Inconclusive,
                "handshake completed but the client sent no CoAP request".into(),
            )
        } else {
            (
                Verdict::Fail,
                format!(
                    "the client sent {}, not the {} the description asks for",
                    coap.other_requests.join("; "),
                    x.method
                ),
            )
        };
    };
    let path = super::coap_seen::uri_path(req);
    let Some(resp) = &coap.response else {
        return (
            Verdict::Fail,
            format!(
                "the server never answered {} {path} (token {})",
                x.method,
                hex::encode(&req.token)
            ),
        );
    };
    // RFC 7252 §5.3.2: the response carries the request's token (checked when it was
    // matched); its code says whether the method succeeded (§5.9).
    let code = resp.code.to_string();
    let ok = x.response.contains(&code);
    notes.push(format!(
        "{} {path}{} (token {}) answered {code}{}",
        x.method,
        if x.method == "PUT" {
            format!(" with payload {:?}", x.payload)
        } else {
            String::new()
        },
        hex::encode(&req.token),
        if resp.payload.is_empty() {
            String::new()
        } else {
            format!(" with {} bytes", resp.payload.len())
        }
    ));
    if ok {
        (Verdict::Pass, notes.join(", "))
    } else {
        (
            Verdict::Fail,
            format!(
                "{}; the description accepts only {}",
                notes.join(", "),
                x.response.join(" or ")
            ),
        )
    }
}

fn judge_resume(s: &Seen) -> (Verdict, String) {
    if s.resumptions > 0 {
        return (
            Verdict::Pass,
            format!(
                "a full handshake, then {} abbreviated handshake(s) resuming it (RFC 5246 §7.3), every Finished verified with the first session's master secret ({} association(s))",
                s.resumptions, s.associations
            ),
        );
    }
    if s.resumption_unknown {
        return (
            Verdict::Inconclusive,
            "the server resumed a session the monitor never saw established".into(),
        );
    }
    if s.resumptions_offered > 0 {
        return (
            Verdict::Fail,
            "the server answered with an abbreviated handshake whose Finished did not verify with the resumed session's keys".into(),
        );
    }
    if s.associations < 2 && s.handshakes < 2 {
        return (
            Verdict::Inconclusive,
            "the client never started a second session to resume the first".into(),
        );
    }
    (
        Verdict::Fail,
        format!(
            "{} handshakes completed, none abbreviated: the server did not resume the session",
            s.handshakes
        ),
    )
}
