//! The test description format: what a case file in `suites/` says.
//!
//! A case reads as a conversation (tlsfuzzer) with the shape of an ETSI test description:
//! identity and references first, then steps that send, impair, expect and check. Every key
//! is known: an unknown one is an error with file, line and column (see `load.rs`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

/// Requirement level of the clause a case checks (RFC 2119).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Level {
    MUST,
    SHOULD,
    MAY,
}

/// Which side the device under test plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DutRole {
    Server,
    Client,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DutRequirement {
    pub role: DutRole,
    /// Features the DUT profile must claim, else the case is not applicable.
    #[serde(default)]
    #[schemars(schema_with = "crate::cases::claims::claims_schema")]
    pub claims: Vec<String>,
}

/// How the project shows that this case can fail (the able-to-fail self-test).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AbleToFail {
    /// A fault switch of the simulated board that breaks the requirement...
    pub sim_fault: Option<String>,
    /// ...or a DUT profile (shipped name or file) that breaks it.
    pub dut: Option<String>,
    /// The verdict the case must then give (default fail).
    #[serde(default)]
    pub verdict: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    pub title: String,
    pub objective: String,
    /// Clauses checked, e.g. "RFC 6347 §4.2.1".
    pub refs: Vec<String>,
    pub level: Level,
    #[serde(default)]
    pub tags: Vec<String>,
    pub dut: DutRequirement,
    /// Where the RFC is ambiguous, why the case judges as it does.
    #[serde(default)]
    pub ambiguity: Option<String>,
    pub able_to_fail: Option<AbleToFail>,
    /// Whether the harness retransmits a flight the DUT does not answer, on the profile's
    /// timer, as any conforming peer does (RFC 6347 §4.2.4). On by default, so that one
    /// lost datagram never decides a verdict; `false` where loss itself is what the case
    /// tests (the DUT's own timer must act, or a repeat would hide it).
    #[serde(default)]
    pub harness_retransmits: Option<bool>,
    #[schemars(with = "Vec<Step>")]
    pub steps: Vec<Spanned<Step>>,
}

/// One step. Exactly one action key (`handshake`, `send`, `expect`, `wait`, `drop`,
/// `replay`, `new_client`, `liveness`, `coap`, `flood`) is set; the others modify it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// A complete, correct handshake with this suite (`psk-ccm8`, ...); `default` takes the
    /// DUT's first claimed suite.
    pub handshake: Option<String>,
    /// Send one message built from defaults: ClientHello, ClientKeyExchange,
    /// ChangeCipherSpec, Finished, ApplicationData, Alert, HelloRequest, Record, or Probe
    /// (application data the DUT answers: an echo line or a CoAP GET, per its profile).
    pub send: Option<String>,
    pub expect: Option<Expect>,
    /// Do nothing for this long (`500ms`, `2s`, or a multiple of a declared timer:
    /// `1.5 x initial_retransmit`).
    pub wait: Option<String>,
    /// Discard the next N datagrams the DUT sends (a lossy path).
    pub drop: Option<u32>,
    /// Send a datagram kept earlier (`$name`) again, byte for byte: the same record
    /// sequence numbers, so a DUT sees a replay (RFC 6347 §4.1.2.6). Together with
    /// `withhold` it delays a datagram past later ones (reordering).
    pub replay: Option<String>,
    /// `flight`: send the harness's current flight again as its retransmission timer would
    /// (RFC 6347 §4.2.4): the same messages and message_seq values in new records with new
    /// sequence numbers, ChangeCipherSpec and epoch change included. A flight is the run of
    /// `send` steps since the last step of another kind.
    pub retransmit: Option<String>,
    /// Start over as a new client from a new source port (state of the old one is kept on
    /// the DUT side).
    pub new_client: Option<bool>,
    /// Start a new association from the same address and port, as a client that rebooted
    /// would: no close_notify, the DUT still holds the old association (RFC 6347 §4.2.8).
    /// The next `send: ClientHello` (or `handshake` with `same_port: true`) begins it.
    pub reconnect: Option<bool>,
    /// A fresh, correct handshake from a new source port must still succeed.
    pub liveness: Option<bool>,
    pub coap: Option<CoapRequest>,
    /// A rule every record the DUT sends must keep, from this step to the end of the case
    /// (a later `every_record` replaces it, `every_record: {}` lifts it): a record that
    /// breaks it fails the case, decided by this step.
    pub every_record: Option<RecordRule>,
    /// ClientHellos without a cookie from many source ports at once, the shape of a
    /// spoofed-source flood (RFC 6347 §4.2.1): the DUT must answer each with at most a
    /// HelloVerifyRequest, send nothing on its own afterwards, and (a process DUT) not grow.
    pub flood: Option<Flood>,

    // ---- modifiers of `send` ----
    /// Field overrides of the message: the fields of `cases::fields::FIELDS` that its
    /// message takes in `with` (suites/README.md lists them).
    #[serde(default)]
    #[schemars(schema_with = "crate::cases::fields::with_schema")]
    pub with: BTreeMap<String, Value>,
    pub record: Option<RecordSpec>,
    pub fragments: Option<FragmentsSpec>,
    /// The message body as hex, instead of its encoding.
    pub raw_body: Option<String>,
    pub message_seq: Option<u16>,
    /// Keep the datagram(s) this step sends under a name, for `replay`.
    pub keep_datagram: Option<String>,
    /// Do not put the datagram(s) on the path now: only keep them (`keep_datagram`), to be
    /// sent later with `replay` (a delayed, reordered datagram).
    #[serde(default)]
    pub withhold: bool,
    /// Send every datagram of this step this many extra times, back to back (a path that
    /// duplicates datagrams, RFC 6347 §4.1.2.6 and §4.2.4).
    pub duplicate: Option<u32>,
    /// Keep the message out of the handshake transcript.
    #[serde(default)]
    pub skip_transcript: bool,

    // ---- modifiers of `handshake` ----
    /// Use this PSK (hex) instead of the profile's.
    pub psk_hex: Option<String>,
    pub psk_identity: Option<String>,
    /// `success` (default) or `failure`: what the handshake must do.
    pub outcome: Option<String>,
    /// Offer the session of the previous handshake step: the DUT must resume it with an
    /// abbreviated handshake (RFC 5246 §7.3, RFC 6347 Figure 2).
    pub resume: Option<bool>,
    /// Make the handshake from the same address and port as before (a rebooted client,
    /// RFC 6347 §4.2.8) instead of a new source port; the old association is not closed.
    #[serde(default)]
    pub same_port: bool,

    /// A comment shown in `dicetest explain`.
    pub note: Option<String>,
    /// This step judges the requirement the case is about (its clause). The able-to-fail
    /// self-test demands that the breaking DUT fails here, not at some other step.
    #[serde(default)]
    pub checks: bool,
}

/// Variables the harness keeps by itself, usable as `$name` from the first step (name,
/// meaning), for the loader, `explain` and the docs.
pub const BUILTIN_VARIABLES: &[(&str, &str)] = &[(
    "sent_record_seq",
    "the record sequence number of the harness's latest handshake record (the copy a DUT answers, whether or not it was a retransmission)",
)];

/// A YAML value used in overrides.
pub type Value = serde_json::Value;

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordSpec {
    pub content_type: Option<u8>,
    pub version: Option<u16>,
    pub epoch: Option<u16>,
    pub sequence_number: Option<u64>,
    pub length: Option<u16>,
    /// Send in the clear even when keys exist.
    #[serde(default)]
    pub plaintext: bool,
    /// XOR into the last bytes (the tag for CCM suites), hex.
    pub tag_xor: Option<String>,
}

/// What every record the DUT sends must be (the `every_record` step).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RecordRule {
    /// Judge only records of this epoch or later (1: the protected ones).
    pub from_epoch: Option<u16>,
    /// The record header's version must be this (0xfefd: DTLS 1.2).
    pub version: Option<u16>,
    /// At most this many plaintext bytes in a record (a max_fragment_length the DUT
    /// agreed to, RFC 6066 §4; 2^14 for any record, RFC 5246 §6.2.1).
    pub max_plaintext: Option<u32>,
    /// At most this record length field (the bytes on the wire after the header).
    pub max_length: Option<u32>,
    /// The requirement, named in the reason of a failure (`RFC 6347 §4.1`).
    pub clause: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FragmentsSpec {
    /// Even fragments of at most this many body bytes.
    pub max_body: Option<u32>,
    /// Explicit fragments, in sending order.
    #[serde(default)]
    pub list: Vec<FragmentItem>,
}

impl FragmentsSpec {
    /// The layout in words, for `explain`.
    pub fn describe(&self) -> String {
        if self.list.is_empty() {
            return match self.max_body {
                Some(n) => format!("in fragments of at most {n} bytes"),
                None => "in fragments".into(),
            };
        }
        let items: Vec<String> = self
            .list
            .iter()
            .map(|i| {
                let mut d = match (&i.bytes, i.len) {
                    (Some(b), _) => format!("bytes {b} of its own at offset {}", i.offset),
                    (None, Some(l)) if l > 0 => {
                        format!("bytes {}-{}", i.offset, i.offset.saturating_add(l - 1))
                    }
                    _ => format!("no bytes at offset {}", i.offset),
                };
                if let Some(x) = &i.body_xor {
                    d += &format!(" XORed with {x}");
                }
                let lies: Vec<String> = [
                    ("length", i.length),
                    ("fragment_offset", i.fragment_offset),
                    ("fragment_length", i.fragment_length),
                    ("message_seq", i.message_seq.map(u32::from)),
                ]
                .iter()
                .filter_map(|(k, v)| v.map(|v| format!("{k} {v}")))
                .collect();
                if !lies.is_empty() {
                    d += &format!(" (header says {})", lies.join(", "));
                }
                d
            })
            .collect();
        format!("in fragments: {}", items.join("; "))
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FragmentItem {
    /// Where the fragment's bytes sit in the message body.
    pub offset: u32,
    /// How many of the message's body bytes it carries (exactly one of `len` and `bytes`).
    pub len: Option<u32>,
    /// The fragment's bytes as hex, instead of the message's: two overlapping fragments
    /// may then disagree on the overlap (RFC 6347 §4.2.3). The header still names the true
    /// message (its length, type and message_seq), and the transcript keeps the true one.
    pub bytes: Option<String>,
    /// Hex XORed into the fragment's bytes from its first byte (a shorter mask leaves the
    /// rest as they are).
    pub body_xor: Option<String>,
    /// Header lies.
    pub length: Option<u32>,
    pub fragment_offset: Option<u32>,
    pub fragment_length: Option<u32>,
    pub message_seq: Option<u16>,
}

/// What must (or may) come back.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// A handshake message by name (HelloVerifyRequest, ServerHello, ...).
    pub message: Option<String>,
    /// Several handshake messages, in order (ServerHello, ServerHelloDone).
    pub flight: Option<Vec<String>>,
    /// A ChangeCipherSpec.
    pub change_cipher_spec: Option<bool>,
    /// An alert with this description (`bad_record_mac`, `any`).
    pub alert: Option<String>,
    /// `fatal` or `warning`.
    pub alert_level: Option<String>,
    /// Application data equal to this text.
    pub application_data: Option<String>,
    /// Nothing at all for this long (`2s`, or `2.5 x initial_retransmit`: timers are
    /// `initial_retransmit`, `max_retransmit`, `response` as the DUT profile declares them).
    pub silence: Option<String>,
    /// The handshake completes (both Finished verified); for steps after manual sends.
    pub connected: Option<bool>,
    /// The DUT's answer to the last `send: Probe` (an echo, or a CoAP response).
    pub probe_reply: Option<bool>,
    pub coap: Option<CoapResponse>,
    /// Alternatives; the first that matches decides. Each may carry `verdict` and `reason`.
    pub one_of: Option<Vec<Expect>>,
    /// How long to wait (default: the profile's response time). Where retransmission is
    /// judged, write it against the timers the DUT profile declares:
    /// `1.5 x initial_retransmit`.
    pub within: Option<String>,
    /// Fields to check: `name: value` or `name: $var` (the fields of `cases::fields::FIELDS`
    /// the expected message has; suites/README.md lists them).
    #[serde(default)]
    #[schemars(schema_with = "crate::cases::fields::match_schema")]
    pub r#match: BTreeMap<String, Value>,
    /// Values to remember: `var: field` (a field `match` could check).
    #[serde(default)]
    pub keep: BTreeMap<String, String>,
    /// Message names that must not show up while waiting.
    #[serde(default)]
    pub never: Vec<String>,
    /// Inside `one_of`: the verdict when this alternative is what happened (default pass).
    pub verdict: Option<String>,
    /// Inside `one_of`: why that verdict.
    pub reason: Option<String>,
    /// Inside `one_of`: this outcome settles the case (an allowed refusal after which the
    /// later steps have nothing left to judge): they are skipped, except `liveness` steps.
    #[serde(default)]
    pub end_case: bool,
}

/// A flood of ClientHellos (the `flood` step). What it judges: every answer to a flood
/// source is a HelloVerifyRequest (§4.2.1: no state before the cookie comes back); no
/// source receives more datagrams than it sent ClientHellos, nor anything once the DUT had
/// time to answer (a stateless server never retransmits a HelloVerifyRequest); the answers
/// carry no more bytes than the flood did (no amplification); and, for a DUT that runs as
/// a local process, its resident memory grew by at most `max_memory_growth`. For a DUT whose memory cannot be read (in-process
/// boards have fixed-size state, remote devices cannot be seen) the memory check is not
/// applicable and the reason says so.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Flood {
    /// How many ClientHellos, each with its own random.
    pub client_hellos: u32,
    /// From how many source ports, in turn (at most 512).
    pub source_ports: u32,
    /// How long to listen on the flood's ports afterwards (default `3s`, past the first
    /// retransmission of the usual 1 s timer).
    pub quiet: Option<String>,
    /// The most the DUT process's resident memory may grow (`1MB`, `512KB`).
    pub max_memory_growth: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoapRequest {
    pub method: String,
    pub uri: String,
    #[serde(default = "con")]
    pub r#type: String,
    pub token: Option<String>,
    pub payload: Option<String>,
    pub message_id: Option<u16>,
    /// More options, by RFC name or number: `content_format: 0`, `accept: 50`,
    /// `observe: 0`, `uri_query: [a=1, b=2]` (numbers as minimal uints, strings as UTF-8).
    #[serde(default)]
    pub options: BTreeMap<String, Value>,
}

fn con() -> String {
    "CON".into()
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoapResponse {
    /// `2.05`, `4.04`, ...
    pub code: Option<String>,
    pub payload: Option<String>,
    pub payload_contains: Option<String>,
    pub r#type: Option<String>,
    /// Options the response must carry with these values (`content_format: 40`; a list for
    /// a repeated option), or must not carry at all (`observe: null`).
    #[serde(default)]
    pub options: BTreeMap<String, Value>,
}
