//! Mutations of a flight, in the case format's own terms: record header fields, message
//! fields, fragment layouts, message_seq, whole bodies, the order and number of records,
//! inserted alerts and records, losses, waits, replays, CoAP request fields. Each one is
//! data (serialized into the findings), drawn from the batch's random stream, and applied
//! to the steps of a template's flights.

use serde::Serialize;
use serde_json::{json, Value};

use super::exchange::{send, Env, Flight, Template};
use super::rng::Rng;
use crate::cases::model::{FragmentItem, FragmentsSpec, RecordSpec, Step};

/// One mutation. `slot` is a position among the target flight's steps when the mutation is
/// applied (earlier mutations may have moved them); one that does not fit does nothing.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Epoch {
        slot: usize,
        epoch: u16,
    },
    SequenceNumber {
        slot: usize,
        sequence_number: u64,
    },
    Version {
        slot: usize,
        version: u16,
    },
    ContentType {
        slot: usize,
        content_type: u8,
    },
    Length {
        slot: usize,
        length: u16,
    },
    /// Sent in the clear; with `epoch_0` also numbered in epoch 0, as a record before
    /// any ChangeCipherSpec would be.
    Plaintext {
        slot: usize,
        epoch_0: bool,
    },
    TagXor {
        slot: usize,
        xor: String,
    },
    /// A message field (`with`): cookie, random, identity, verify_data, ...
    Field {
        slot: usize,
        key: String,
        value: Value,
    },
    /// Even fragments of at most this many body bytes (a valid layout).
    MaxBody {
        slot: usize,
        max_body: u32,
    },
    /// Fragments cut at `cuts`, sent in `order`, one of them twice when `repeat` (a valid
    /// layout: RFC 6347 §4.2.3 allows any order, overlap and duplicates).
    Pieces {
        slot: usize,
        cuts: Vec<u32>,
        order: Vec<usize>,
        repeat: bool,
    },
    /// Fragments whose headers lie.
    FragmentLies {
        slot: usize,
        items: Vec<Lie>,
    },
    MessageSeq {
        slot: usize,
        message_seq: u16,
    },
    RawBody {
        slot: usize,
        hex: String,
    },
    Drop {
        slot: usize,
    },
    Duplicate {
        slot: usize,
    },
    Swap {
        slot: usize,
    },
    InsertAlert {
        slot: usize,
        level: String,
        description: String,
    },
    InsertRecord {
        slot: usize,
        content_type: u8,
        payload: String,
    },
    InsertHelloRequest {
        slot: usize,
    },
    /// A ClientHello on the established association, ahead of the flight.
    Renegotiate {
        random: String,
    },
    /// The DUT's next datagrams are lost on the way back.
    Lose {
        datagrams: u32,
    },
    Wait {
        slot: usize,
        ms: u32,
    },
    /// The flight is never sent: the client goes away.
    Abandon,
    /// The previous flight's first datagram is sent again instead of this flight.
    Replay,
    /// The previous flight goes out far ahead (`high`), this one `back` behind it.
    WindowJump {
        high: u64,
        back: u64,
    },
    /// A field of the flight's CoAP request: method, uri, type, token, payload, message_id.
    Coap {
        field: String,
        value: Value,
    },
}

/// A fragment whose header may lie (the case format's `FragmentItem`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Lie {
    pub offset: u32,
    pub len: u32,
    pub length: Option<u32>,
    pub fragment_offset: Option<u32>,
    pub fragment_length: Option<u32>,
    pub message_seq: Option<u16>,
}

impl Lie {
    fn item(&self) -> FragmentItem {
        FragmentItem {
            offset: self.offset,
            len: Some(self.len),
            bytes: None,
            body_xor: None,
            length: self.length,
            fragment_offset: self.fragment_offset,
            fragment_length: self.fragment_length,
            message_seq: self.message_seq,
        }
    }
}

/// The datagram kept from the flight before a `Replay`.
pub const REPLAY_VAR: &str = "earlier";

fn sends_at(f: &mut Flight, slot: usize) -> Option<&mut Step> {
    f.sends.get_mut(slot).filter(|s| s.send.is_some())
}

fn record(s: &mut Step) -> &mut RecordSpec {
    s.record.get_or_insert_with(Default::default)
}

fn is_handshake_message(s: &Step) -> bool {
    matches!(
        s.send.as_deref(),
        Some("ClientHello" | "ClientKeyExchange" | "Finished")
    )
}

impl Op {
    /// Applies the mutation to flight `t` of `fl` (and, for the few that reach back, the
    /// flight before it).
    pub fn apply(&self, fl: &mut [Flight], t: usize, _env: &Env) {
        if t >= fl.len() {
            return;
        }
        let (before, rest) = fl.split_at_mut(t);
        let f = &mut rest[0];
        match self {
            Op::Epoch { slot, epoch } => {
                if let Some(s) = sends_at(f, *slot) {
                    record(s).epoch = Some(*epoch);
                }
            }
            Op::SequenceNumber {
                slot,
                sequence_number,
            } => {
                if let Some(s) = sends_at(f, *slot) {
                    record(s).sequence_number = Some(*sequence_number);
                }
            }
            Op::Version { slot, version } => {
                if let Some(s) = sends_at(f, *slot) {
                    record(s).version = Some(*version);
                }
            }
            Op::ContentType { slot, content_type } => {
                if let Some(s) = sends_at(f, *slot) {
                    record(s).content_type = Some(*content_type);
                }
            }
            Op::Length { slot, length } => {
                if let Some(s) = sends_at(f, *slot) {
                    record(s).length = Some(*length);
                }
            }
            Op::Plaintext { slot, epoch_0 } => {
                if let Some(s) = sends_at(f, *slot) {
                    record(s).plaintext = true;
                    if *epoch_0 {
                        record(s).epoch = Some(0);
                    }
                }
            }
            Op::TagXor { slot, xor } => {
                if let Some(s) = sends_at(f, *slot) {
                    record(s).tag_xor = Some(xor.clone());
                }
            }
            Op::Field { slot, key, value } => {
                if let Some(s) = sends_at(f, *slot) {
                    s.with.insert(key.clone(), value.clone());
                }
            }
            Op::MaxBody { slot, max_body } => {
                if let Some(s) = sends_at(f, *slot).filter(|s| is_handshake_message(s)) {
                    s.fragments = Some(FragmentsSpec {
                        max_body: Some(*max_body),
                        list: Vec::new(),
                    });
                }
            }
            Op::Pieces {
                slot,
                cuts,
                order,
                repeat,
            } => {
                if let Some(s) = sends_at(f, *slot).filter(|s| is_handshake_message(s)) {
                    s.fragments = Some(FragmentsSpec {
                        max_body: None,
                        list: pieces(cuts, order, *repeat),
                    });
                }
            }
            Op::FragmentLies { slot, items } => {
                if let Some(s) = sends_at(f, *slot).filter(|s| is_handshake_message(s)) {
                    s.fragments = Some(FragmentsSpec {
                        max_body: None,
                        list: items.iter().map(Lie::item).collect(),
                    });
                }
            }
            Op::MessageSeq { slot, message_seq } => {
                if let Some(s) = sends_at(f, *slot).filter(|s| is_handshake_message(s)) {
                    s.message_seq = Some(*message_seq);
                }
            }
            Op::RawBody { slot, hex } => {
                if let Some(s) = sends_at(f, *slot).filter(|s| is_handshake_message(s)) {
                    s.raw_body = Some(hex.clone());
                }
            }
            Op::Drop { slot } => {
                if *slot < f.sends.len() {
                    f.sends.remove(*slot);
                }
            }
            Op::Duplicate { slot } => {
                if let Some(s) = f.sends.get(*slot).cloned() {
                    f.sends.insert(*slot + 1, s);
                }
            }
            Op::Swap { slot } => {
                if slot + 1 < f.sends.len() {
                    f.sends.swap(*slot, slot + 1);
                }
            }
            Op::InsertAlert {
                slot,
                level,
                description,
            } => {
                let mut s = send("Alert");
                s.with.insert("level".into(), level.clone().into());
                s.with
                    .insert("description".into(), description.clone().into());
                insert(f, *slot, s);
            }
            Op::InsertRecord {
                slot,
                content_type,
                payload,
            } => {
                let mut s = send("Record");
                s.with.insert("payload".into(), payload.clone().into());
                record(&mut s).content_type = Some(*content_type);
                insert(f, *slot, s);
            }
            Op::InsertHelloRequest { slot } => insert(f, *slot, send("HelloRequest")),
            Op::Renegotiate { random } => {
                let mut s = send("ClientHello");
                s.with.insert("random".into(), random.clone().into());
                s.with.insert("cookie".into(), "".into());
                // Alone in its flight: what follows is judged by whether the association
                // still carries data.
                f.sends = vec![s];
            }
            Op::Lose { datagrams } => insert(
                f,
                0,
                Step {
                    drop: Some(*datagrams),
                    ..Default::default()
                },
            ),
            Op::Wait { slot, ms } => insert(
                f,
                *slot,
                Step {
                    wait: Some(format!("{ms}ms")),
                    ..Default::default()
                },
            ),
            Op::Abandon => {
                f.sends.clear();
                // The HelloVerifyRequest before is lost on its way, so the first one that
                // arrives would be a retransmission (one that did arrive makes a copy look
                // like an old message, which the harness does not show again).
                if let Some(prev) = before.last_mut() {
                    prev.sends.insert(
                        0,
                        Step {
                            drop: Some(1),
                            ..Default::default()
                        },
                    );
                    prev.answer.clear();
                }
            }
            Op::Replay => {
                let Some(prev) = before.last_mut() else {
                    return;
                };
                let Some(first) = prev.sends.iter_mut().find(|s| s.send.is_some()) else {
                    return;
                };
                first.keep_datagram = Some(REPLAY_VAR.into());
                f.sends = vec![Step {
                    replay: Some(format!("${REPLAY_VAR}")),
                    ..Default::default()
                }];
            }
            Op::WindowJump { high, back } => {
                let Some(prev) = before.last_mut() else {
                    return;
                };
                if let Some(first) = prev.sends.iter_mut().find(|s| s.send.is_some()) {
                    record(first).sequence_number = Some(*high);
                }
                if let Some(s) = f.sends.iter_mut().find(|s| s.send.is_some()) {
                    record(s).sequence_number = Some(high.saturating_sub(*back));
                }
            }
            Op::Coap { field, value } => {
                let Some(c) = f.sends.iter_mut().find_map(|s| s.coap.as_mut()) else {
                    return;
                };
                let text = value.as_str().map(str::to_string);
                match field.as_str() {
                    "method" => c.method = text.unwrap_or_default(),
                    "uri" => c.uri = text.unwrap_or_default(),
                    "type" => c.r#type = text.unwrap_or_default(),
                    "token" => c.token = text,
                    "payload" => c.payload = text,
                    "message_id" => c.message_id = value.as_u64().map(|n| n as u16),
                    _ => {}
                }
            }
        }
    }

    /// The mutation in words, for reports.
    pub fn describe(&self) -> String {
        let at = |slot: &usize| format!("record {} of the flight", slot + 1);
        match self {
            Op::Epoch { slot, epoch } => format!("epoch {epoch} on {}", at(slot)),
            Op::SequenceNumber {
                slot,
                sequence_number,
            } => format!("sequence number {sequence_number} on {}", at(slot)),
            Op::Version { slot, version } => {
                format!("record version {version:#06x} on {}", at(slot))
            }
            Op::ContentType { slot, content_type } => {
                format!("content type {content_type} on {}", at(slot))
            }
            Op::Length { slot, length } => format!("record length {length} on {}", at(slot)),
            Op::Plaintext { slot, epoch_0 } => format!(
                "{} sent in the clear{}",
                at(slot),
                if *epoch_0 { " in epoch 0" } else { "" }
            ),
            Op::TagXor { slot, xor } => format!("tag of {} XORed with {xor}", at(slot)),
            Op::Field { slot, key, value } => format!("{key} = {value} in {}", at(slot)),
            Op::MaxBody { slot, max_body } => {
                format!("{} in fragments of {max_body} bytes", at(slot))
            }
            Op::Pieces {
                slot,
                cuts,
                order,
                repeat,
            } => format!(
                "{} cut at {cuts:?}, pieces sent in order {order:?}{}",
                at(slot),
                if *repeat { ", one twice" } else { "" }
            ),
            Op::FragmentLies { slot, items } => {
                format!(
                    "{} in {} fragments with lying headers",
                    at(slot),
                    items.len()
                )
            }
            Op::MessageSeq { slot, message_seq } => {
                format!("message_seq {message_seq} on {}", at(slot))
            }
            Op::RawBody { slot, hex } => {
                format!("body of {} replaced by {} bytes", at(slot), hex.len() / 2)
            }
            Op::Drop { slot } => format!("{} left out", at(slot)),
            Op::Duplicate { slot } => format!("{} sent twice", at(slot)),
            Op::Swap { slot } => format!("{} and the next swapped", at(slot)),
            Op::InsertAlert {
                slot,
                level,
                description,
            } => format!("a {level} {description} alert before {}", at(slot)),
            Op::InsertRecord {
                slot,
                content_type,
                payload,
            } => format!(
                "a record of type {content_type} with {} bytes before {}",
                payload.len() / 2,
                at(slot)
            ),
            Op::InsertHelloRequest { slot } => format!("a HelloRequest before {}", at(slot)),
            Op::Renegotiate { .. } => "a ClientHello on the established association".into(),
            Op::Lose { datagrams } => format!("the DUT's next {datagrams} datagram(s) lost"),
            Op::Wait { slot, ms } => format!("a {ms} ms pause before {}", at(slot)),
            Op::Abandon => {
                "the DUT's answer to the previous flight lost, and this flight never sent".into()
            }
            Op::Replay => "the previous flight's datagram replayed instead".into(),
            Op::WindowJump { high, back } => {
                format!("the previous record numbered {high}, this one {back} behind")
            }
            Op::Coap { field, value } => format!("CoAP {field} = {value}"),
        }
    }
}

fn insert(f: &mut Flight, slot: usize, s: Step) {
    let at = slot.min(f.sends.len());
    f.sends.insert(at, s);
}

/// Explicit fragments covering a body: cut points (ascending, all below 12, so inside
/// any handshake body), the last piece running to the end.
fn pieces(cuts: &[u32], order: &[usize], repeat: bool) -> Vec<FragmentItem> {
    let mut bounds = vec![0u32];
    bounds.extend(cuts.iter().copied());
    let n = bounds.len();
    let item = |i: usize| FragmentItem {
        offset: bounds[i],
        // The last piece asks for more than any body has; the fragmenter stops at its end.
        len: Some(if i + 1 < n {
            bounds[i + 1] - bounds[i]
        } else {
            0xFFFF
        }),
        bytes: None,
        body_xor: None,
        length: None,
        fragment_offset: None,
        fragment_length: None,
        message_seq: None,
    };
    let mut list: Vec<FragmentItem> = order.iter().filter(|i| **i < n).map(|i| item(*i)).collect();
    if repeat {
        if let Some(first) = list.first().cloned() {
            list.push(first);
        }
    }
    list
}

const ALERTS: &[&str] = &[
    "close_notify",
    "unexpected_message",
    "bad_record_mac",
    "handshake_failure",
    "decode_error",
    "internal_error",
    "no_renegotiation",
    "unknown_psk_identity",
];

/// One of `fixed`, or `random`.
fn choose<T: Copy>(rng: &mut Rng, fixed: &[T], random: T) -> T {
    let i = rng.below(fixed.len() + 1);
    fixed.get(i).copied().unwrap_or(random)
}

fn hex_of(b: &[u8]) -> String {
    hex::encode(b)
}

/// The mutations of one exchange: one to three, drawn for its target flight.
pub fn generate(rng: &mut Rng, template: Template, target: usize, env: &Env) -> Vec<Op> {
    let n = match rng.below(10) {
        0..=5 => 1,
        6..=8 => 2,
        _ => 3,
    };
    let mut fl = super::exchange::flights(template, env);
    let mut ops = Vec::new();
    for _ in 0..n {
        let op = draw(rng, template, target, &fl, env, ops.is_empty());
        op.apply(&mut fl, target, env);
        let exclusive = matches!(op, Op::Abandon | Op::Replay);
        ops.push(op);
        if exclusive {
            break;
        }
    }
    ops
}

fn draw(
    rng: &mut Rng,
    template: Template,
    target: usize,
    fl: &[Flight],
    env: &Env,
    first: bool,
) -> Op {
    let f = &fl[target];
    let sendable: Vec<usize> = (0..f.sends.len())
        .filter(|i| f.sends[*i].send.is_some())
        .collect();
    let handshake: Vec<usize> = sendable
        .iter()
        .copied()
        .filter(|i| is_handshake_message(&f.sends[*i]))
        .collect();
    let has_coap = f.sends.iter().any(|s| s.coap.is_some());
    let session = template == Template::Session;
    loop {
        let slot = if sendable.is_empty() {
            0
        } else {
            *rng.pick(&sendable)
        };
        let hs_slot = if handshake.is_empty() {
            None
        } else {
            Some(*rng.pick(&handshake))
        };
        let name = f
            .sends
            .get(slot)
            .and_then(|s| s.send.clone())
            .unwrap_or_default();
        let op = match rng.below(26) {
            0 | 1 if !sendable.is_empty() => Op::Epoch {
                slot,
                epoch: {
                    let r = rng.range(4, 0xFFFE) as u16;
                    choose(rng, &[0, 1, 1, 2, 3, 0xFFFF], r)
                },
            },
            2 if !sendable.is_empty() => Op::SequenceNumber {
                slot,
                sequence_number: {
                    let r = rng.range(0, (1 << 48) - 1);
                    choose(rng, &[0, 1, 0xFFFF, 1 << 32, (1 << 48) - 1], r)
                },
            },
            3 if !sendable.is_empty() => Op::Version {
                slot,
                version: {
                    let r = rng.range(0, 0xFFFF) as u16;
                    choose(rng, &[0xFEFF, 0x0303, 0xFEFC], r)
                },
            },
            4 if !sendable.is_empty() => Op::ContentType {
                slot,
                content_type: {
                    let r = rng.range(0, 255) as u8;
                    choose(rng, &[20, 21, 22, 23, 24, 25], r)
                },
            },
            5 if !sendable.is_empty() => Op::Length {
                slot,
                length: {
                    let r = rng.range(0, 0x4400) as u16;
                    choose(rng, &[0, 1, 13, 0xFFFF], r)
                },
            },
            6 | 7 if !sendable.is_empty() => Op::Plaintext {
                slot,
                epoch_0: rng.chance(2, 3),
            },
            8 | 9 if !sendable.is_empty() => Op::TagXor {
                slot,
                xor: {
                    let n = rng.range(1, 4) as usize;
                    hex_of(&rng.nonzero_bytes(n))
                },
            },
            10..=12 if !sendable.is_empty() => match field(rng, &name) {
                Some((key, value)) => Op::Field { slot, key, value },
                None => continue,
            },
            13 if hs_slot.is_some() => Op::MaxBody {
                slot: hs_slot.unwrap_or(0),
                max_body: rng.range(1, 16) as u32,
            },
            14 if hs_slot.is_some() => {
                let k = rng.range(1, 4) as usize;
                let mut cuts: Vec<u32> = (0..k).map(|_| rng.range(1, 11) as u32).collect();
                cuts.sort_unstable();
                cuts.dedup();
                let mut order: Vec<usize> = (0..=cuts.len()).collect();
                rng.shuffle(&mut order);
                Op::Pieces {
                    slot: hs_slot.unwrap_or(0),
                    cuts,
                    order,
                    repeat: rng.chance(1, 3),
                }
            }
            15 if hs_slot.is_some() => {
                let items = (0..rng.range(1, 4))
                    .map(|_| Lie {
                        offset: rng.range(0, 80) as u32,
                        len: rng.range(0, 80) as u32,
                        length: rng.chance(1, 2).then(|| rng.range(0, 0xFF_FFFF) as u32),
                        fragment_offset: rng.chance(1, 2).then(|| rng.range(0, 0xFF_FFFF) as u32),
                        fragment_length: rng.chance(1, 2).then(|| rng.range(0, 0xFF_FFFF) as u32),
                        message_seq: rng.chance(1, 4).then(|| rng.range(0, 20) as u16),
                    })
                    .collect();
                Op::FragmentLies {
                    slot: hs_slot.unwrap_or(0),
                    items,
                }
            }
            16 if hs_slot.is_some() => Op::MessageSeq {
                slot: hs_slot.unwrap_or(0),
                message_seq: {
                    let r = rng.range(0, 0xFFFF) as u16;
                    choose(rng, &[0, 1, 2, 3, 4, 7, 0xFFFF], r)
                },
            },
            17 if hs_slot.is_some() => Op::RawBody {
                slot: hs_slot.unwrap_or(0),
                hex: {
                    let n = rng.range(0, 64) as usize;
                    hex_of(&rng.bytes(n))
                },
            },
            18 if !f.sends.is_empty() && !session => match rng.below(3) {
                0 => Op::Drop {
                    slot: rng.below(f.sends.len()),
                },
                1 => Op::Duplicate {
                    slot: rng.below(f.sends.len()),
                },
                _ if f.sends.len() > 1 => Op::Swap {
                    slot: rng.below(f.sends.len() - 1),
                },
                _ => continue,
            },
            19 => Op::InsertAlert {
                slot: rng.below(f.sends.len() + 1),
                level: rng.pick(&["warning", "fatal"]).to_string(),
                description: rng.pick(ALERTS).to_string(),
            },
            20 => Op::InsertRecord {
                slot: rng.below(f.sends.len() + 1),
                content_type: {
                    let r = rng.range(0, 255) as u8;
                    choose(rng, &[20, 21, 22, 23, 24, 25], r)
                },
                payload: hex_of(&garbage(rng, session)),
            },
            21 => Op::InsertHelloRequest {
                slot: rng.below(f.sends.len() + 1),
            },
            22 => Op::Wait {
                slot: rng.below(f.sends.len() + 1),
                ms: *rng.pick(&[100, 1000, 2500]),
            },
            23 if session && first => Op::Renegotiate {
                random: hex_of(&rng.bytes(32)),
            },
            23 if !session && first && is_server_flight_lossable(target, env) => {
                Op::Lose { datagrams: 1 }
            }
            24 if first && session && target == 1 && env.probe => {
                if rng.chance(1, 2) {
                    Op::Replay
                } else {
                    let high = rng.range(1_000, 1_000_000);
                    Op::WindowJump {
                        high,
                        back: rng.range(300, high),
                    }
                }
            }
            24 if first && !session && env.cookie && target == 1 => Op::Abandon,
            25 if has_coap => coap_field(rng),
            _ => continue,
        };
        return op;
    }
}

/// Whether the flight's answer is one a server retransmits on its own timer: flight 4
/// (ServerHello ... ServerHelloDone), RFC 6347 §4.2.4.
pub fn is_server_flight_lossable(target: usize, env: &Env) -> bool {
    (env.cookie && target == 1) || (!env.cookie && target == 0)
}

/// A message field worth changing, for the message `name`.
fn field(rng: &mut Rng, name: &str) -> Option<(String, Value)> {
    Some(match name {
        "ClientHello" => match rng.below(8) {
            0 => {
                let n = *rng.pick(&[0usize, 1, 16, 31, 32, 33]);
                ("cookie".into(), json!(hex_of(&rng.bytes(n))))
            }
            1 => ("random".into(), json!(hex_of(&rng.bytes(32)))),
            2 => {
                let n = rng.range(1, 32) as usize;
                ("session_id".into(), json!(hex_of(&rng.bytes(n))))
            }
            3 => ("client_version".into(), {
                let r = rng.range(0, 0xFEFC);
                json!(choose(rng, &[0xFEFFu64, 0x0303, 0xFEFC, 0x0100], r))
            }),
            4 => {
                let lists = [
                    json!(["psk-ccm8", "psk-ccm", "psk-cbc-sha256"]),
                    json!(["psk-cbc-sha256"]),
                    json!([255, rng.range(0, 0xFFFF)]),
                    json!([]),
                    json!([rng.range(0, 0xFFFF), "psk-ccm8"]),
                ];
                ("cipher_suites".into(), rng.pick(&lists).clone())
            }
            5 => {
                let lists = [json!([0, 1]), json!([1]), json!([]), json!([64, 0])];
                ("compression_methods".into(), rng.pick(&lists).clone())
            }
            6 => {
                let lists = [
                    json!([]),
                    json!(["extended_master_secret"]),
                    json!(["renegotiation_info"]),
                ];
                ("extensions".into(), rng.pick(&lists).clone())
            }
            _ => ("no_extensions".into(), json!(true)),
        },
        "ClientKeyExchange" => {
            let n = rng.range(0, 40) as usize;
            let text: String = (0..n)
                .map(|_| char::from(b'a' + (rng.below(26) as u8)))
                .collect();
            ("identity".into(), json!(format!("fuzz_{text}")))
        }
        "Finished" => {
            let n = *rng.pick(&[12usize, 12, 0, 11, 13, 24]);
            ("verify_data".into(), json!(hex_of(&rng.bytes(n))))
        }
        "ApplicationData" => ("text".into(), json!(hex_of(&rng.bytes(8)))),
        _ => return None,
    })
}

/// Bytes for an inserted record: in a session, often a CoAP-shaped message with random
/// options (RFC 7252 §3: version 1, a token, option deltas and lengths that may lie).
fn garbage(rng: &mut Rng, session: bool) -> Vec<u8> {
    if session && rng.chance(2, 3) {
        let tkl = rng.range(0, 8) as u8;
        let mut m = vec![
            0x40 | tkl,
            *rng.pick(&[1u8, 2, 3, 4, 5, 0, 0x45]),
            0x12,
            0x34,
        ];
        m.extend(rng.bytes(tkl as usize));
        for _ in 0..rng.range(0, 5) {
            let delta = rng.range(0, 15) as u8;
            let len = rng.range(0, 15) as u8;
            m.push(delta << 4 | len);
            let extra = match (delta, len) {
                (13, _) | (_, 13) => 1,
                (14, _) | (_, 14) => 2,
                _ => 0,
            };
            m.extend(rng.bytes(extra + (len.min(12) as usize)));
        }
        if rng.chance(1, 2) {
            m.push(0xFF);
            let n = rng.range(0, 8) as usize;
            m.extend(rng.bytes(n));
        }
        m
    } else {
        let n = rng.range(0, 48) as usize;
        rng.bytes(n)
    }
}

fn coap_field(rng: &mut Rng) -> Op {
    let (field, value) = match rng.below(6) {
        0 => ("method", json!(rng.pick(&["GET", "POST", "PUT", "DELETE"]))),
        1 => {
            let long = "x".repeat(rng.range(13, 300) as usize);
            let uris = [
                "/light".to_string(),
                "/.well-known/core".to_string(),
                "/nothing/here".to_string(),
                format!("/{long}"),
                "/a/b/c/d/e/f/g/h/i/j/k/l/m/n".to_string(),
                "/".to_string(),
            ];
            ("uri", json!(rng.pick(&uris)))
        }
        2 => ("type", json!(rng.pick(&["CON", "NON"]))),
        3 => {
            let n = rng.range(1, 8) as usize;
            ("token", json!(hex_of(&rng.bytes(n))))
        }
        4 => {
            let n = rng.range(0, 64) as usize;
            let text: String = (0..n)
                .map(|_| char::from(b' ' + (rng.below(94) as u8)))
                .collect();
            ("payload", json!(text))
        }
        _ => ("message_id", json!(rng.range(0, 0xFFFF))),
    };
    Op::Coap {
        field: field.into(),
        value,
    }
}
