//! What the RFCs require of the DUT's answer to a mutated flight, and how a failed batch is
//! read back as a finding.
//!
//! [`judge`] looks at the flight as it will be sent (not at which mutation made it so) and
//! names the rule the answer must keep: a record or message the RFC says must be discarded
//! or refused must not be acted on ([`Rule`]); a flight changed only in ways the RFC allows
//! must be answered as usual ([`Equiv`]); anything else is only robustness (the batch's
//! liveness probe judges it). The judgement is written into the batch as an ordinary
//! `one_of` expectation, so a reproducer judges itself under `dicetest run`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::exchange::{expect, Batch, Env, Flight, Role, Template, COOKIE_VAR};
use crate::cases::load::EXPECTABLE;
use crate::cases::model::{CoapResponse, Expect, Level, RecordSpec, Step};
use crate::runner::Verdict;

/// A requirement on the DUT's answer to a flight that had to be discarded or refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    ClientHelloWrongEpoch,
    ClientHelloWrongContentType,
    CookieNotIssued,
    CookieParamsChanged,
    HelloVerifyRequestRetransmitted,
    FinishedUnprotected,
    FinishedWrongVerifyData,
    FinishedBadTag,
    HandshakeRecordWrongEpoch,
    /// An unknown identity alone: the handshake must fail, with one of RFC 4279's alerts.
    UnknownIdentity,
    /// An unknown identity among other changes: the handshake must fail.
    UnknownIdentityCompleted,
    DataInTheClear,
    DataWrongEpoch,
    DataBadTag,
    ReplayedRecord,
    RecordLeftOfWindow,
    Renegotiation,
    /// A ClientHello in epoch 0, without a valid cookie, from the address of an
    /// established association.
    ClientHelloOnAssociation,
    DataAfterFatalAlert,
    CoapResponse,
}

/// What would show that the DUT acted on what it had to refuse.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Accepted {
    Message(&'static str),
    ChangeCipherSpec,
    ProbeReply,
}

impl Rule {
    /// The finding's identifier when the rule is broken.
    pub fn id(self) -> &'static str {
        match self {
            Rule::ClientHelloWrongEpoch => "client_hello_of_wrong_epoch_answered",
            Rule::ClientHelloWrongContentType => "client_hello_of_wrong_content_type_answered",
            Rule::CookieNotIssued => "cookie_not_issued_accepted",
            Rule::CookieParamsChanged => "cookie_not_bound_to_client_hello",
            Rule::HelloVerifyRequestRetransmitted => "hello_verify_request_retransmitted",
            Rule::FinishedUnprotected => "unprotected_finished_accepted",
            Rule::FinishedWrongVerifyData => "wrong_verify_data_accepted",
            Rule::FinishedBadTag => "finished_with_bad_tag_accepted",
            Rule::HandshakeRecordWrongEpoch => "handshake_record_of_wrong_epoch_accepted",
            Rule::UnknownIdentity | Rule::UnknownIdentityCompleted => {
                "unknown_psk_identity_accepted"
            }
            Rule::DataInTheClear => "plaintext_application_data_accepted",
            Rule::DataWrongEpoch => "application_data_of_wrong_epoch_accepted",
            Rule::DataBadTag => "application_data_with_bad_tag_accepted",
            Rule::ReplayedRecord => "replayed_record_accepted",
            Rule::RecordLeftOfWindow => "record_left_of_replay_window_accepted",
            Rule::Renegotiation => "renegotiation_accepted",
            Rule::ClientHelloOnAssociation => "client_hello_without_cookie_answered_on_association",
            Rule::DataAfterFatalAlert => "application_data_after_fatal_alert_accepted",
            Rule::CoapResponse => "coap_response_does_not_match_request",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Rule::ClientHelloWrongEpoch => "A ClientHello in a record of an epoch without keys was answered",
            Rule::ClientHelloWrongContentType => "A ClientHello in a record that is not of type handshake was answered",
            Rule::CookieNotIssued => "A ClientHello with a cookie the server did not issue got a ServerHello",
            Rule::CookieParamsChanged => "A cookie admitted a ClientHello with other parameters than the one it was issued for",
            Rule::HelloVerifyRequestRetransmitted => "The server retransmitted its HelloVerifyRequest: it kept state before the cookie came back",
            Rule::FinishedUnprotected => "A Finished sent without the new epoch's protection completed the handshake",
            Rule::FinishedWrongVerifyData => "A Finished with wrong verify_data completed the handshake",
            Rule::FinishedBadTag => "A Finished whose record does not authenticate completed the handshake",
            Rule::HandshakeRecordWrongEpoch => "A handshake record of the wrong epoch was used to complete the handshake",
            Rule::UnknownIdentity | Rule::UnknownIdentityCompleted => "A handshake with an unknown PSK identity completed",
            Rule::DataInTheClear => "Application data sent in the clear on the established association was delivered",
            Rule::DataWrongEpoch => "Application data in a record of the wrong epoch was delivered",
            Rule::DataBadTag => "Application data whose record does not authenticate was delivered",
            Rule::ReplayedRecord => "A replayed record was delivered a second time",
            Rule::RecordLeftOfWindow => "A record far to the left of the replay window was delivered",
            Rule::Renegotiation => "A ClientHello on the established association started a new handshake",
            Rule::ClientHelloOnAssociation => "A ClientHello without a valid cookie from the address of an established association got a ServerHello",
            Rule::DataAfterFatalAlert => "Application data after the client's fatal alert was still delivered",
            Rule::CoapResponse => "The answer to a CoAP request does not match it (token, Message ID) or is malformed",
        }
    }

    pub fn refs(self) -> &'static [&'static str] {
        match self {
            Rule::ClientHelloWrongEpoch => &["RFC 6347 §4.1", "RFC 6347 §4.1.2.7"],
            Rule::ClientHelloWrongContentType => &["RFC 6347 §4.1", "RFC 5246 §6.2.1"],
            Rule::CookieNotIssued | Rule::CookieParamsChanged => &["RFC 6347 §4.2.1"],
            Rule::HelloVerifyRequestRetransmitted => &["RFC 6347 §4.2.1"],
            Rule::FinishedUnprotected => &["RFC 6347 §4.1", "RFC 5246 §7.4.9", "RFC 5246 §7.1"],
            Rule::FinishedWrongVerifyData => &["RFC 5246 §7.4.9"],
            Rule::FinishedBadTag | Rule::DataBadTag => &["RFC 6347 §4.1.2.7", "RFC 5246 §6.2.3.3"],
            Rule::HandshakeRecordWrongEpoch | Rule::DataWrongEpoch => &["RFC 6347 §4.1"],
            Rule::UnknownIdentity | Rule::UnknownIdentityCompleted => &["RFC 4279 §2"],
            Rule::DataInTheClear => &["RFC 6347 §4.1", "RFC 6347 §4.1.2.7"],
            Rule::ReplayedRecord | Rule::RecordLeftOfWindow => &["RFC 6347 §4.1.2.6"],
            Rule::Renegotiation => &["RFC 7925 §17", "RFC 5246 §7.2.2"],
            Rule::ClientHelloOnAssociation => &["RFC 6347 §4.2.8", "RFC 6347 §4.2.1"],
            Rule::DataAfterFatalAlert => &["RFC 5246 §7.2.2", "RFC 6347 §4.2.7"],
            Rule::CoapResponse => &["RFC 7252 §5.3.2", "RFC 7252 §5.2.1"],
        }
    }

    pub fn level(self) -> Level {
        match self {
            Rule::CookieParamsChanged
            | Rule::HelloVerifyRequestRetransmitted
            | Rule::ReplayedRecord
            | Rule::RecordLeftOfWindow => Level::SHOULD,
            _ => Level::MUST,
        }
    }

    fn accepted(self) -> &'static [Accepted] {
        use Accepted::*;
        match self {
            Rule::ClientHelloWrongEpoch | Rule::ClientHelloWrongContentType => {
                &[Message("HelloVerifyRequest"), Message("ServerHello")]
            }
            Rule::CookieNotIssued | Rule::CookieParamsChanged => &[Message("ServerHello")],
            Rule::HelloVerifyRequestRetransmitted => &[Message("HelloVerifyRequest")],
            Rule::FinishedUnprotected
            | Rule::FinishedWrongVerifyData
            | Rule::FinishedBadTag
            | Rule::HandshakeRecordWrongEpoch
            | Rule::UnknownIdentity
            | Rule::UnknownIdentityCompleted => &[ChangeCipherSpec, Message("Finished")],
            Rule::DataInTheClear
            | Rule::DataWrongEpoch
            | Rule::DataBadTag
            | Rule::ReplayedRecord
            | Rule::RecordLeftOfWindow
            | Rule::DataAfterFatalAlert => &[ProbeReply],
            Rule::Renegotiation => &[Message("ServerHello"), Message("HelloVerifyRequest")],
            Rule::ClientHelloOnAssociation => &[Message("ServerHello")],
            Rule::CoapResponse => &[],
        }
    }
}

/// The reason a `one_of` alternative gives when the DUT acted on what it had to refuse; a
/// failed batch is read back by it.
pub fn accept_reason(rule: Rule) -> String {
    format!("must not happen: {}", rule.title().to_lowercase())
}

const WRONG_ALERT_REASON: &str =
    "RFC 4279 §2 answers an unknown PSK identity with unknown_psk_identity or decrypt_error, not with this alert";
const WRONG_ALERT_ID: &str = "unknown_psk_identity_wrong_alert";

/// A flight changed only in ways the RFC allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Equiv {
    /// Another fragment layout (RFC 6347 §4.2.3).
    Fragmented,
    /// The DUT's flight was lost: its timer must send it again (RFC 6347 §4.2.4).
    Retransmission,
}

/// What the DUT's answer to a mutated flight is judged by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Judge {
    Accept { rule: Rule, follow_up: bool },
    Equivalent(Equiv),
    Robust,
}

fn name(s: &Step) -> Option<&str> {
    s.send.as_deref()
}

fn rec(s: &Step) -> RecordSpec {
    s.record.clone().unwrap_or_default()
}

fn same(a: &Step, b: &Step) -> bool {
    serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
}

/// The rule the DUT's answer to flight `target` of `fl` (the template's flights `original`
/// after the mutations) must keep.
pub fn judge(
    template: Template,
    original: &[Flight],
    fl: &[Flight],
    target: usize,
    env: &Env,
) -> Judge {
    let Some(f) = fl.get(target) else {
        return Judge::Robust;
    };
    match template {
        Template::Handshake => judge_handshake(original, fl, f, target, env),
        Template::Session => judge_session(fl, f, target),
    }
}

fn judge_handshake(
    original: &[Flight],
    fl: &[Flight],
    f: &Flight,
    target: usize,
    env: &Env,
) -> Judge {
    let sends = &f.sends;
    let count = |n: &str| sends.iter().filter(|s| name(s) == Some(n)).count();
    let hello3 = env.cookie && target == 1;
    let last = target + 1 == fl.len();
    if sends.is_empty() && hello3 {
        return accept(Rule::HelloVerifyRequestRetransmitted, false);
    }
    if let Some(kind) = equivalent(&original[target], f) {
        return Judge::Equivalent(kind);
    }
    if (target == 0 || hello3) && count("ClientHello") == 1 {
        let Some(ch) = sends.iter().find(|s| name(s) == Some("ClientHello")) else {
            return Judge::Robust;
        };
        let r = rec(ch);
        if r.epoch.is_some_and(|e| e != 0) {
            return accept(Rule::ClientHelloWrongEpoch, false);
        }
        if r.content_type.is_some_and(|c| c != 22) {
            return accept(Rule::ClientHelloWrongContentType, false);
        }
        if hello3 && ch.raw_body.is_none() {
            let issued = Value::String(format!("${COOKIE_VAR}"));
            if ch.with.get("cookie") != Some(&issued) {
                return accept(Rule::CookieNotIssued, false);
            }
            // The parameters RFC 6347 §4.2.1 has the second ClientHello repeat.
            let params = [
                "random",
                "session_id",
                "cipher_suites",
                "client_version",
                "compression_methods",
            ];
            if params.iter().any(|p| ch.with.contains_key(*p)) {
                return accept(Rule::CookieParamsChanged, false);
            }
        }
        return Judge::Robust;
    }
    if last
        && count("ClientKeyExchange") == 1
        && count("Finished") == 1
        && count("ChangeCipherSpec") <= 1
        && count("ClientHello") == 0
    {
        let pos = |n: &str| sends.iter().position(|s| name(s) == Some(n));
        let (Some(fin_at), Some(cke_at)) = (pos("Finished"), pos("ClientKeyExchange")) else {
            return Judge::Robust;
        };
        let ccs_before = pos("ChangeCipherSpec").is_some_and(|c| c < fin_at);
        let fin = &sends[fin_at];
        let cke = &sends[cke_at];
        let r = rec(fin);
        if fin.raw_body.is_some() || fin.with.contains_key("verify_data") {
            return accept(Rule::FinishedWrongVerifyData, false);
        }
        if r.plaintext || r.epoch == Some(0) || !ccs_before {
            return accept(Rule::FinishedUnprotected, false);
        }
        if r.tag_xor.is_some() {
            return accept(Rule::FinishedBadTag, false);
        }
        let wrong_epoch = |s: &Step, e: u16| rec(s).epoch.is_some_and(|x| x != e);
        let ccs_wrong = sends
            .iter()
            .any(|s| name(s) == Some("ChangeCipherSpec") && wrong_epoch(s, 0));
        if r.epoch.is_some_and(|e| e != 1) || wrong_epoch(cke, 0) || ccs_wrong {
            return accept(Rule::HandshakeRecordWrongEpoch, false);
        }
        if cke.with.contains_key("identity") && cke.raw_body.is_none() {
            let alone = sends.len() == original[target].sends.len()
                && sends
                    .iter()
                    .zip(&original[target].sends)
                    .all(|(a, b)| std::ptr::eq(a, cke) || same(a, b));
            let mut plain_cke = cke.clone();
            plain_cke.with.remove("identity");
            let alone = alone && same(&plain_cke, &original[target].sends[0]);
            return accept(
                if alone {
                    Rule::UnknownIdentity
                } else {
                    Rule::UnknownIdentityCompleted
                },
                false,
            );
        }
    }
    Judge::Robust
}

/// A flight whose records only changed fragment layout (valid pieces), or before which the
/// DUT's retransmittable flight is lost.
fn equivalent(original: &Flight, f: &Flight) -> Option<Equiv> {
    let mut sends: Vec<&Step> = f.sends.iter().collect();
    let lost = sends.first().is_some_and(|s| s.drop.is_some());
    if lost {
        sends.remove(0);
    }
    if sends.len() != original.sends.len() {
        return None;
    }
    let mut fragmented = false;
    for (a, b) in sends.iter().zip(&original.sends) {
        if same(a, b) {
            continue;
        }
        let Some(fr) = &a.fragments else {
            return None;
        };
        let honest = fr.list.iter().all(|i| {
            i.length.is_none()
                && i.fragment_offset.is_none()
                && i.fragment_length.is_none()
                && i.message_seq.is_none()
                // Bytes of its own change the message, not only its cut.
                && i.bytes.is_none()
                && i.body_xor.is_none()
        }) && covers_body(&fr.list);
        let mut plain = (*a).clone();
        plain.fragments = None;
        if !honest || !same(&plain, b) {
            return None;
        }
        fragmented = true;
    }
    match (fragmented, lost) {
        (true, _) => Some(Equiv::Fragmented),
        (false, true) => Some(Equiv::Retransmission),
        (false, false) => None,
    }
}

/// Whether explicit pieces cover a body from its start to its end without a gap (a piece
/// of 0xFFFF bytes or more runs to the end of any handshake body); an empty list is the
/// `max_body` layout.
fn covers_body(list: &[crate::cases::model::FragmentItem]) -> bool {
    if list.is_empty() {
        return true;
    }
    let mut spans: Vec<(u32, u32)> = list
        .iter()
        .map(|i| (i.offset, i.offset.saturating_add(i.len.unwrap_or(0))))
        .collect();
    spans.sort_unstable();
    let mut reach = 0u32;
    for (start, end) in spans {
        if start > reach {
            return false;
        }
        reach = reach.max(end);
    }
    reach >= 0xFFFF
}

/// Whether a step may draw application data from the DUT (a request, or a record of
/// application data whose content the DUT may read as one).
fn asks_for_data(s: &Step) -> bool {
    s.coap.is_some()
        || matches!(name(s), Some("Probe" | "ApplicationData"))
        || (name(s) == Some("Record") && rec(s).content_type.is_none_or(|c| c == 23))
}

fn judge_session(fl: &[Flight], f: &Flight, target: usize) -> Judge {
    let sends = &f.sends;
    let prev_first = target
        .checked_sub(1)
        .and_then(|p| fl.get(p))
        .and_then(|p| p.sends.iter().find(|s| s.send.is_some()));
    let prev_seq = prev_first.and_then(|s| rec(s).sequence_number);
    if sends.iter().any(|s| s.replay.is_some()) {
        return accept(Rule::ReplayedRecord, prev_seq.is_none());
    }
    if let Some(ch) = sends.first().filter(|s| name(s) == Some("ClientHello")) {
        // Whatever the DUT makes of it, the association must still carry data after it
        // (RFC 6347 §4.2.8; a refused renegotiation is only a warning, RFC 5246 §7.2.2).
        // Fragments may each draw their own answer (a refusal per fragment), which would
        // stand between the genuine record and its answer.
        let follow = sends.len() == 1 && prev_seq.is_none() && ch.fragments.is_none();
        let r = rec(ch);
        let other_record_changes = r.content_type.is_some()
            || r.version.is_some()
            || r.length.is_some()
            || r.tag_xor.is_some()
            || r.sequence_number.is_some();
        if r.plaintext && r.epoch == Some(0) && !other_record_changes {
            return accept(Rule::ClientHelloOnAssociation, follow);
        }
        // A valid record numbered far ahead moves the window past the genuine record after.
        return accept(Rule::Renegotiation, follow && !other_record_changes);
    }
    let probes: Vec<&Step> = sends.iter().filter(|s| name(s) == Some("Probe")).collect();
    // Any other request in the flight could draw an answer that is not the probe's.
    let others_ask = sends.iter().filter(|s| asks_for_data(s)).count() > probes.len();
    if probes.len() == 1 && !others_ask {
        let r = rec(probes[0]);
        let probe_at = sends
            .iter()
            .position(|s| name(s) == Some("Probe"))
            .unwrap_or(0);
        // A fatal alert the DUT can read (protected, unmodified) ends the association
        // before the probe (RFC 5246 §7.2.2).
        let fatal_before = sends[..probe_at].iter().any(|s| {
            name(s) == Some("Alert")
                && s.record.is_none()
                && s.with.get("level").and_then(|v| v.as_str()) == Some("fatal")
                && s.with.get("description").and_then(|v| v.as_str()) != Some("close_notify")
        });
        if fatal_before {
            return accept(Rule::DataAfterFatalAlert, false);
        }
        // A genuine record after this one may be judged only when nothing else in the
        // flight could end the association, and no record before went out far ahead.
        let follow = sends.len() == 1 && prev_seq.is_none();
        if r.content_type.is_some_and(|c| c != 23) {
            return Judge::Robust;
        }
        if r.plaintext {
            return accept(Rule::DataInTheClear, follow);
        }
        if r.epoch.is_some_and(|e| e != 1) {
            return accept(Rule::DataWrongEpoch, follow);
        }
        if r.tag_xor.is_some() {
            return accept(Rule::DataBadTag, follow);
        }
        // Without an override the engine numbers this record on from its own counter,
        // a handful of records into the epoch.
        let this_seq = r.sequence_number.unwrap_or(16);
        if prev_seq.is_some_and(|p| p >= this_seq.saturating_add(256)) {
            return accept(Rule::RecordLeftOfWindow, false);
        }
        return Judge::Robust;
    }
    if sends.len() == 1 && sends[0].coap.is_some() {
        return accept(Rule::CoapResponse, false);
    }
    Judge::Robust
}

fn accept(rule: Rule, follow_up: bool) -> Judge {
    Judge::Accept { rule, follow_up }
}

fn alt(e: Expect, verdict: Option<&str>, reason: &str) -> Expect {
    Expect {
        verdict: verdict.map(str::to_string),
        reason: Some(reason.to_string()),
        ..e
    }
}

/// The expectation that judges the DUT's answer by `rule`: the answers that show it acted
/// on what it had to refuse fail; every other answer (silence, an alert, a retransmitted
/// flight) passes. With `follow_up` a genuine record is judged next, which a fatal alert
/// makes impossible: that outcome is inconclusive.
pub fn oracle_step(rule: Rule, follow_up: bool, _env: &Env) -> Step {
    let mut alts = Vec::new();
    let bad = accept_reason(rule);
    let accepted = rule.accepted();
    for a in accepted {
        let e = match a {
            Accepted::Message(m) => Expect {
                message: Some(m.to_string()),
                ..Default::default()
            },
            Accepted::ChangeCipherSpec => Expect {
                change_cipher_spec: Some(true),
                ..Default::default()
            },
            Accepted::ProbeReply => Expect {
                probe_reply: Some(true),
                ..Default::default()
            },
        };
        alts.push(alt(e, Some("fail"), &bad));
    }
    let alert = |name: &str, level: Option<&str>| Expect {
        alert: Some(name.to_string()),
        alert_level: level.map(str::to_string),
        ..Default::default()
    };
    if rule == Rule::UnknownIdentity {
        for ok in ["unknown_psk_identity", "decrypt_error"] {
            alts.push(alt(alert(ok, None), None, "an alert RFC 4279 §2 names"));
        }
        alts.push(alt(alert("any", None), Some("fail"), WRONG_ALERT_REASON));
    }
    if follow_up {
        alts.push(alt(
            alert("any", Some("fatal")),
            Some("inconclusive"),
            "a fatal alert ends the association, so whether it survives the record cannot be seen",
        ));
    }
    if rule == Rule::CoapResponse {
        alts.push(alt(
            Expect {
                coap: Some(CoapResponse::default()),
                ..Default::default()
            },
            None,
            "a response that matches the request",
        ));
    }
    let within = if rule == Rule::HelloVerifyRequestRetransmitted {
        "5s"
    } else {
        "2s"
    };
    alts.push(alt(
        Expect {
            silence: Some(within.into()),
            ..Default::default()
        },
        None,
        "nothing came back",
    ));
    alts.push(alt(alert("any", None), None, "refused with an alert"));
    if !accepted.contains(&Accepted::ProbeReply) && rule != Rule::CoapResponse {
        // The answer to a request sent after the record the rule is about.
        alts.push(alt(
            Expect {
                probe_reply: Some(true),
                ..Default::default()
            },
            None,
            "the answer to a later request of the flight",
        ));
        alts.push(alt(
            Expect {
                coap: Some(CoapResponse::default()),
                ..Default::default()
            },
            None,
            "the answer to a later request of the flight",
        ));
    }
    if rule != Rule::CoapResponse {
        for m in EXPECTABLE {
            if !accepted.contains(&Accepted::Message(m)) {
                alts.push(alt(
                    Expect {
                        message: Some(m.to_string()),
                        ..Default::default()
                    },
                    None,
                    "another handshake message (a retransmission)",
                ));
            }
        }
        if !accepted.contains(&Accepted::ChangeCipherSpec) {
            alts.push(alt(
                Expect {
                    change_cipher_spec: Some(true),
                    ..Default::default()
                },
                None,
                "a retransmitted ChangeCipherSpec",
            ));
        }
    }
    expect(Expect {
        one_of: Some(alts),
        within: Some(within.into()),
        ..Default::default()
    })
}

/// What a finding says was broken: its identifier, title, clauses and level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Oracle {
    pub id: String,
    pub title: String,
    pub refs: Vec<String>,
    pub level: Level,
}

impl Oracle {
    fn new(id: &str, title: &str, refs: &[&str], level: Level) -> Oracle {
        Oracle {
            id: id.into(),
            title: title.into(),
            refs: refs.iter().map(|r| r.to_string()).collect(),
            level,
        }
    }

    fn of_rule(rule: Rule) -> Oracle {
        Oracle::new(rule.id(), rule.title(), rule.refs(), rule.level())
    }

    pub fn stops_serving() -> Oracle {
        Oracle::new(
            "stops_serving",
            "After this input the DUT no longer completes a fresh, correct handshake",
            &["RFC 6347 §4.1.2.7"],
            Level::MUST,
        )
    }

    pub fn crash() -> Oracle {
        Oracle::new(
            "crash",
            "The DUT crashed (the in-process board panicked) on this input",
            &["RFC 6347 §4.1.2.7"],
            Level::MUST,
        )
    }
}

/// Reads a batch's verdict back: which requirement the step that decided it protects.
/// `None` when the batch shows nothing wrong (pass, inconclusive) or the harness broke.
pub fn read(
    verdict: Verdict,
    step: Option<usize>,
    reason: &str,
    roles: &[Role],
    batch: &Batch,
    env: &Env,
) -> Option<Oracle> {
    if verdict != Verdict::Fail {
        return None;
    }
    let role = roles.get(step?.checked_sub(1)?)?;
    Some(match role {
        Role::Oracle { rule, .. } => {
            if reason.ends_with(&accept_reason(*rule)) {
                Oracle::of_rule(*rule)
            } else if reason.ends_with(WRONG_ALERT_REASON) {
                Oracle::new(
                    WRONG_ALERT_ID,
                    "An unknown PSK identity was refused with an alert RFC 4279 §2 does not name",
                    &["RFC 4279 §2", "RFC 5246 §7.2.2"],
                    Level::MAY,
                )
            } else if *rule == Rule::CoapResponse {
                Oracle::of_rule(*rule)
            } else {
                Oracle::new(
                    &format!("unexpected_answer_to_{}", rule.id()),
                    &format!(
                        "An answer that is none of those the RFC allows, where: {}",
                        rule.title().to_lowercase()
                    ),
                    rule.refs(),
                    rule.level(),
                )
            }
        }
        Role::FollowUp { .. } => Oracle::new(
            "association_lost_after_discarded_record",
            "The association stopped carrying data after a record that had to leave it intact",
            &["RFC 6347 §4.1.2.7", "RFC 6347 §4.2.8"],
            Level::SHOULD,
        ),
        Role::Equivalent { kind, .. } => match kind {
            Equiv::Fragmented => Oracle::new(
                "valid_fragment_layout_refused",
                "A flight in a valid fragment layout (any order, overlap, repeats) was not answered as usual",
                &["RFC 6347 §4.2.3"],
                Level::MUST,
            ),
            Equiv::Retransmission => Oracle::new(
                "lost_flight_not_retransmitted",
                "The server did not retransmit its flight when it was lost",
                &["RFC 6347 §4.2.4"],
                Level::MUST,
            ),
        },
        Role::Prefix { ex, flight } => {
            if *ex > 0 {
                return Some(Oracle::stops_serving());
            }
            let x = batch.exchanges.first()?;
            match flight {
                None => Oracle::new(
                    &format!("correct_{}_setup_failed", x.template.name()),
                    "A correct handshake failed",
                    &["RFC 6347 §4.2.2"],
                    Level::MUST,
                ),
                Some(i) => {
                    let fl = super::exchange::flights(x.template, env);
                    let f = fl.get(*i)?;
                    let refs: Vec<&str> = f.refs.clone();
                    Oracle::new(
                        &format!("correct_{}_{}_failed", x.template.name(), i + 1),
                        &format!("A correct exchange failed at its {}", f.name),
                        &refs,
                        f.level,
                    )
                }
            }
        }
        Role::Mutated { .. } => return None,
        Role::Liveness => Oracle::stops_serving(),
        Role::LivenessData if batch.exchanges.iter().all(|x| x.ops.is_empty()) => Oracle::new(
            "correct_request_failed",
            "A correct request on a fresh association (a CoAP GET, or the profile's probe) was not answered correctly",
            &["RFC 7252 §5.3.2", "RFC 7252 §5.2.1"],
            Level::MUST,
        ),
        Role::LivenessData => Oracle::new(
            "stops_serving_data",
            "After this input the DUT no longer answers a request (a CoAP GET, or the profile's probe) on a fresh association correctly",
            &["RFC 7252 §5.3.2", "RFC 7252 §5.2.1"],
            Level::MUST,
        ),
    })
}

/// Rules by identifier, for the report's list of what the campaign can judge.
pub fn catalogue() -> BTreeMap<&'static str, &'static str> {
    use Rule::*;
    [
        ClientHelloWrongEpoch,
        ClientHelloWrongContentType,
        CookieNotIssued,
        CookieParamsChanged,
        HelloVerifyRequestRetransmitted,
        FinishedUnprotected,
        FinishedWrongVerifyData,
        FinishedBadTag,
        HandshakeRecordWrongEpoch,
        UnknownIdentity,
        DataInTheClear,
        DataWrongEpoch,
        DataBadTag,
        ReplayedRecord,
        RecordLeftOfWindow,
        Renegotiation,
        ClientHelloOnAssociation,
        DataAfterFatalAlert,
        CoapResponse,
    ]
    .into_iter()
    .map(|r| (r.id(), r.title()))
    .collect()
}
