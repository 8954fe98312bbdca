//! The verdict of an interop session, from what the monitor saw on the path.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::coap_seen::CoapSeen;
use super::model::InteropCase;
use super::suite_seen::{followable_with_psk, suite_name};
use crate::monitor::Monitor;
use crate::runner::Verdict;

/// The judge's checks, in the order it makes them. Every verdict names the one that decided
/// it (the last one made for a pass), so the able-to-fail self-test can assert that a
/// breaking pair fails at the requirement its description is about, not anywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The negotiated suite's keys follow from the PSK, so the monitor can see the session
    /// (ECDHE_PSK cannot be followed: inconclusive).
    Followable,
    /// `outcome: failure`: no handshake completed.
    NoHandshake,
    /// A handshake completed, both Finished verified by the monitor, within `within`.
    Handshake,
    /// The session runs on the suite the description demands.
    Suite,
    /// extended_master_secret in both hellos (RFC 7627 §5.1).
    ExtendedMasterSecret,
    /// The client sent the CoAP request asked for.
    CoapRequest,
    /// A response carrying the request's token came back (RFC 7252 §5.3.2).
    CoapResponse,
    /// The response's code is one the description accepts.
    CoapCode,
    /// A second session resumed the first with an abbreviated handshake (RFC 5246 §7.3).
    Resumption,
    /// The client's application data crossed.
    Data,
    /// An echo server sent the client's data back.
    Echo,
}

impl Check {
    pub const ALL: &'static [Check] = &[
        Check::Followable,
        Check::NoHandshake,
        Check::Handshake,
        Check::Suite,
        Check::ExtendedMasterSecret,
        Check::CoapRequest,
        Check::CoapResponse,
        Check::CoapCode,
        Check::Resumption,
        Check::Data,
        Check::Echo,
    ];

    /// The check's name, as descriptions spell it.
    pub fn name(self) -> &'static str {
        match self {
            Check::Followable => "followable",
            Check::NoHandshake => "no_handshake",
            Check::Handshake => "handshake",
            Check::Suite => "suite",
            Check::ExtendedMasterSecret => "extended_master_secret",
            Check::CoapRequest => "coap_request",
            Check::CoapResponse => "coap_response",
            Check::CoapCode => "coap_code",
            Check::Resumption => "resumption",
            Check::Data => "data",
            Check::Echo => "echo",
        }
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A verdict, the check that decided it and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    pub verdict: Verdict,
    pub check: Check,
    pub reason: String,
}

fn judged(verdict: Verdict, check: Check, reason: impl Into<String>) -> Judgement {
    Judgement {
        verdict,
        check,
        reason: reason.into(),
    }
}

/// A datagram the relay dropped or held back, and what the two ends sent after it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Impaired {
    pub number: u32,
    pub from_client: bool,
    /// "dropped", "dropped (larger than the path MTU)" or "held back".
    pub action: String,
    /// Datagrams the client and the server sent after it.
    pub client_after: u32,
    pub server_after: u32,
    /// A held-back datagram still waiting for one to follow it when the session ended.
    pub still_held: bool,
}

impl Impaired {
    /// What the relay did and what came after, for a reason.
    fn describe(&self) -> String {
        let (from, to) = if self.from_client {
            ("client", "server")
        } else {
            ("server", "client")
        };
        let what = if self.action == "held back" {
            "held back (to be delivered after the next one)"
        } else {
            self.action.as_str()
        };
        let after = match (self.client_after, self.server_after) {
            (0, 0) => "neither end sent anything after it".to_string(),
            (c, s) => format!("after it the client sent {c} datagram(s) and the server {s}"),
        };
        format!(
            "the relay {what} datagram {} ({from} → {to}); {after}{}",
            self.number,
            if self.still_held {
                ", so it was never delivered"
            } else {
                ""
            }
        )
    }
}

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
    /// A ServerHello that repeated the offered session id was followed by messages of a
    /// full handshake (ServerKeyExchange, ServerHelloDone) on its association.
    pub resumed_then_full: bool,
    /// The last datagram the relay dropped or held back (impair: drop, reorder,
    /// max_datagram), for the reason of a handshake that did not complete.
    pub last_impaired: Option<Impaired>,
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

pub fn judge(case: &InteropCase, s: &Seen, coap: &CoapSeen, limit: Duration) -> Judgement {
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
        return judged(
            Verdict::Inconclusive,
            Check::Followable,
            format!(
                "the pair negotiated {}, whose keys a passive monitor cannot derive from the PSK (the ECDHE secret is never on the wire), so it cannot see whether the handshake completed ({alert_note})",
                suite_name(c)
            ),
        );
    }
    let want_success = case.outcome == "success";
    if !want_success {
        return if s.handshakes == 0 {
            judged(
                Verdict::Pass,
                Check::NoHandshake,
                format!("no handshake completed, as required ({alert_note})"),
            )
        } else {
            judged(
                Verdict::Fail,
                Check::NoHandshake,
                "a handshake completed although it had to fail",
            )
        };
    }
    if s.handshakes == 0 {
        // On a lossy path, what the relay did last and what came after it: the end that
        // sent nothing more never retransmitted (RFC 6347 §4.2.4).
        let path = s
            .last_impaired
            .as_ref()
            .map(|i| format!("; {}", i.describe()))
            .unwrap_or_default();
        return judged(
            Verdict::Fail,
            Check::Handshake,
            format!("no handshake completed within {limit:?} ({alert_note}){path}"),
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
            return judged(
                Verdict::Inconclusive,
                Check::Suite,
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
                return judged(
                    Verdict::Fail,
                    Check::ExtendedMasterSecret,
                    "the ClientHello did not offer extended_master_secret",
                )
            }
            (true, false) => return judged(
                Verdict::Fail,
                Check::ExtendedMasterSecret,
                "the client offered extended_master_secret but the ServerHello did not carry it",
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
            judged(
                Verdict::Pass,
                if s.server_echoes {
                    Check::Echo
                } else {
                    Check::Data
                },
                notes.join(", "),
            )
        }
        (false, _) => judged(
            Verdict::Inconclusive,
            Check::Data,
            "handshake completed but the client sent no application data (its driver may not have sent the line)",
        ),
        (true, false) => judged(
            Verdict::Fail,
            Check::Echo,
            "handshake completed but the server's echo never came back",
        ),
    }
}

fn judge_coap(
    x: &super::model::CoapExchange,
    coap: &CoapSeen,
    mut notes: Vec<String>,
) -> Judgement {
    let Some(req) = &coap.request else {
        return if coap.other_requests.is_empty() {
            judged(
                Verdict::Inconclusive,
                Check::CoapRequest,
                "handshake completed but the client sent no CoAP request",
            )
        } else {
            judged(
                Verdict::Fail,
                Check::CoapRequest,
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
        // RFC 7252 §5.3.2: a response echoes the request's token; one with another token
        // answers nothing the client sent.
        let others = if coap.other_responses.is_empty() {
            String::new()
        } else {
            format!(
                "; it sent {}, whose token is not the request's (RFC 7252 §5.3.2: the response echoes the request's token)",
                coap.other_responses.join("; ")
            )
        };
        return judged(
            Verdict::Fail,
            Check::CoapResponse,
            format!(
                "the server never answered {} {path} (token {}){others}",
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
        judged(Verdict::Pass, Check::CoapCode, notes.join(", "))
    } else {
        judged(
            Verdict::Fail,
            Check::CoapCode,
            format!(
                "{}; the description accepts only {}",
                notes.join(", "),
                x.response.join(" or ")
            ),
        )
    }
}

fn judge_resume(s: &Seen) -> Judgement {
    if s.resumptions > 0 {
        return judged(
            Verdict::Pass,
            Check::Resumption,
            format!(
                "a full handshake, then {} abbreviated handshake(s) resuming it (RFC 5246 §7.3), every Finished verified with the first session's master secret ({} association(s))",
                s.resumptions, s.associations
            ),
        );
    }
    if s.resumption_unknown {
        return judged(
            Verdict::Inconclusive,
            Check::Resumption,
            "the server resumed a session the monitor never saw established",
        );
    }
    if s.resumed_then_full {
        // RFC 5246 §7.4.1.3: a ServerHello repeats the client's session id only when it
        // resumes that session, and a resumed session goes straight to ChangeCipherSpec
        // and Finished (§7.3, RFC 6347 Figure 2).
        return judged(
            Verdict::Fail,
            Check::Resumption,
            "the ServerHello repeated the session id the client offered to resume, then the server went on with a full handshake (ServerHelloDone): it did not resume the session it said it resumed",
        );
    }
    if s.resumptions_offered > 0 {
        return judged(
            Verdict::Fail,
            Check::Resumption,
            "the server answered with an abbreviated handshake whose Finished did not verify with the resumed session's keys",
        );
    }
    if s.associations < 2 && s.handshakes < 2 {
        return judged(
            Verdict::Inconclusive,
            Check::Resumption,
            "the client never started a second session to resume the first",
        );
    }
    judged(
        Verdict::Fail,
        Check::Resumption,
        format!(
            "{} handshakes completed, none abbreviated: the server did not resume the session",
            s.handshakes
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(yaml: &str) -> InteropCase {
        serde_saphyr::from_str(&format!(
            "id: T\ntitle: t\nobjective: o\nrefs: []\nlevel: MUST\n{yaml}"
        ))
        .unwrap()
    }

    #[test]
    fn a_lost_flight_names_the_datagram_and_what_followed() {
        let s = Seen {
            last_impaired: Some(Impaired {
                number: 4,
                from_client: false,
                action: "dropped".into(),
                client_after: 3,
                ..Default::default()
            }),
            ..Default::default()
        };
        let j = judge(
            &case("impair: { drop: [4] }"),
            &s,
            &CoapSeen::default(),
            Duration::from_secs(40),
        );
        assert_eq!((j.verdict, j.check), (Verdict::Fail, Check::Handshake));
        assert!(
            j.reason.ends_with(
                "the relay dropped datagram 4 (server → client); after it the client sent 3 datagram(s) and the server 0"
            ),
            "{}",
            j.reason
        );
    }

    #[test]
    fn every_check_decides_something_and_is_named_as_descriptions_spell_it() {
        let mut s = Seen {
            handshakes: 1,
            client_ems: true,
            ..Default::default()
        };
        let ems = case("extended_master_secret: true");
        let j = judge(&ems, &s, &CoapSeen::default(), Duration::from_secs(1));
        assert_eq!(j.check, Check::ExtendedMasterSecret);
        s.server_ems = true;
        s.client_data = true;
        let j = judge(&ems, &s, &CoapSeen::default(), Duration::from_secs(1));
        assert_eq!((j.verdict, j.check), (Verdict::Pass, Check::Data));
        let j = judge(
            &case("outcome: failure"),
            &s,
            &CoapSeen::default(),
            Duration::from_secs(1),
        );
        assert_eq!((j.verdict, j.check), (Verdict::Fail, Check::NoHandshake));
        for c in Check::ALL {
            let yaml: Check = serde_saphyr::from_str(c.name()).unwrap();
            assert_eq!(yaml, *c);
        }
    }
}
