//! Properties of the engine, checked with proptest: any fragmentation of a handshake message
//! reassembles (RFC 6347 §4.2.3); a handshake survives any reordering and duplication of its
//! datagrams (§4.1.2.7, §4.2.4); no datagram makes an endpoint panic, whatever its state; and
//! application data round-trips under every PSK suite while replays are dropped (§4.1.2.6).
//!
//! The `engine_bug_*` tests reproduce bugs these properties found (plaintext epoch-0 records
//! acted on after the handshake; ServerHello and ClientKeyExchange taken in any state); they
//! stay as regression tests.
//! PROPTEST_CASES=N raises the case counts for a longer hunt.

mod support;

use std::sync::OnceLock;

use dicetest::engine::handshake::fragmenter::{fragment, FragmentLayout, FragmentSpec};
use dicetest::engine::handshake::reassembly::{
    FragmentIn, FragmentOutcome, Reassembler, ReassemblyLimits,
};
use dicetest::engine::record::DropReason;
use dicetest::engine::{Connection, Event, RecordOverrides, State};
use dicetest::time::Instant;
use dicetest::wire::{
    parse_datagram, ClientKeyExchange, CompressionMethod, ContentType, HandshakeMessage,
    ProtocolVersion, Record, ServerHello,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::Index;
use support::*;

const PSK_SUITES: [u16; 3] = [0xC0A8, 0xC0A4, 0x00AE];

/// `n` cases, few enough that the file runs in seconds in a debug build; PROPTEST_CASES
/// overrides it for a longer hunt.
fn cases(n: u32) -> ProptestConfig {
    let n = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n);
    ProptestConfig::with_cases(n)
}

// ---- reassembly ------------------------------------------------------------------------

/// The raw material of one fragmentation: a message, cut points that split it into
/// consecutive pieces covering it, extra pieces that overlap them, empty pieces, pieces sent
/// twice, and keys that shuffle the lot.
#[derive(Clone, Debug)]
struct Fragmentation {
    msg_type: u8,
    message_seq: u16,
    body: Vec<u8>,
    cuts: Vec<u32>,
    overlaps: Vec<(u32, u32)>,
    empties: Vec<u32>,
    repeats: Vec<Index>,
    order: Vec<u32>,
}

fn fragmentation() -> impl Strategy<Value = Fragmentation> {
    // message_seq stays below 0xFFFF: at the very top of the 16-bit space, "already
    // delivered" cannot be told from "far ahead" without a wrap-around rule the RFC lacks.
    (any::<u8>(), 0u16..0xFFFF, vec(any::<u8>(), 0..700)).prop_flat_map(
        |(msg_type, message_seq, body)| {
            let len = body.len() as u32;
            (
                vec(0..=len, 0..12),
                vec((0..=len, 0..=len), 0..8),
                vec(0..=len, 0..4),
                vec(any::<Index>(), 0..6),
                vec(any::<u32>(), 32),
            )
                .prop_map(move |(cuts, overlaps, empties, repeats, order)| {
                    Fragmentation {
                        msg_type,
                        message_seq,
                        body: body.clone(),
                        cuts,
                        overlaps,
                        empties,
                        repeats,
                        order,
                    }
                })
        },
    )
}

fn piece(offset: u32, len: u32) -> FragmentSpec {
    FragmentSpec {
        offset,
        len,
        ..Default::default()
    }
}

impl Fragmentation {
    /// The fragments, in the order they are sent.
    fn specs(&self) -> Vec<FragmentSpec> {
        let len = self.body.len() as u32;
        let mut points = self.cuts.clone();
        points.extend([0, len]);
        points.sort_unstable();
        points.dedup();
        let mut specs: Vec<FragmentSpec> = points
            .windows(2)
            .map(|w| piece(w[0], w[1] - w[0]))
            .collect();
        if specs.is_empty() {
            // An empty message is complete with one empty fragment.
            specs.push(piece(0, 0));
        }
        specs.extend(
            self.overlaps
                .iter()
                .map(|&(a, b)| piece(a.min(b), a.max(b) - a.min(b))),
        );
        specs.extend(self.empties.iter().map(|&at| piece(at, 0)));
        for i in &self.repeats {
            let again = specs[i.index(specs.len())].clone();
            specs.push(again);
        }
        let mut keyed: Vec<(u32, usize, FragmentSpec)> = specs
            .into_iter()
            .enumerate()
            .map(|(i, s)| (self.order[i % self.order.len()], i, s))
            .collect();
        keyed.sort_by_key(|(k, i, _)| (*k, *i));
        keyed.into_iter().map(|(_, _, s)| s).collect()
    }
}

proptest! {
    #![proptest_config(cases(64))]

    /// RFC 6347 §4.2.3: fragments may overlap, repeat and come in any order; the message is
    /// delivered exactly when its last missing byte arrives, and it is the original body.
    #[test]
    fn any_fragmentation_reassembles_the_original_body(f in fragmentation()) {
        let specs = f.specs();
        let frags = fragment(f.msg_type, f.message_seq, &f.body, &FragmentLayout::Explicit(specs.clone()));
        prop_assert_eq!(frags.len(), specs.len());
        let mut r = Reassembler::new(ReassemblyLimits::default());
        r.reset_to(f.message_seq);
        let mut present = vec![false; f.body.len()];
        let mut delivered = None;
        for (i, frag) in frags.iter().enumerate() {
            let outcome = r.insert(FragmentIn {
                msg_type: frag.msg_type,
                length: frag.length,
                message_seq: frag.message_seq,
                fragment_offset: frag.fragment_offset,
                fragment_length: frag.fragment_length,
                body: &frag.body,
            });
            if delivered.is_some() {
                prop_assert_eq!(outcome, FragmentOutcome::AlreadyDelivered { message_seq: f.message_seq });
                continue;
            }
            prop_assert_eq!(outcome, FragmentOutcome::Accepted, "fragment {}: {:?}", i, frag);
            let start = frag.fragment_offset as usize;
            present[start..start + frag.body.len()].iter_mut().for_each(|p| *p = true);
            let complete = present.iter().all(|&p| p);
            match r.pop_complete() {
                Some(m) => {
                    prop_assert!(complete, "delivered after fragment {} with bytes missing", i);
                    prop_assert_eq!(&m.body, &f.body);
                    prop_assert_eq!(m.msg_type, f.msg_type);
                    prop_assert_eq!(m.message_seq, f.message_seq);
                    prop_assert_eq!(m.unfragmented, i == 0);
                    delivered = Some(m);
                }
                None => prop_assert!(!complete, "every byte present after fragment {}, nothing delivered", i),
            }
        }
        prop_assert!(delivered.is_some(), "the covering fragments never completed the message");
        prop_assert_eq!(r.buffered_bytes(), 0);
        prop_assert_eq!(r.next_seq(), Some(f.message_seq + 1));
    }
}

// ---- handshake through reordering and duplication ---------------------------------------

/// How one batch of datagrams reaches the other side: datagram i is sent `copies[i]` times
/// (cyclically), then every copy is sorted by a random key.
#[derive(Clone, Debug)]
struct Delivery {
    copies: Vec<u8>,
    keys: Vec<u16>,
}

fn delivery() -> impl Strategy<Value = Delivery> {
    (vec(1u8..=3, 1..8), vec(any::<u16>(), 1..24))
        .prop_map(|(copies, keys)| Delivery { copies, keys })
}

fn scramble(batch: Vec<Vec<u8>>, d: &Delivery) -> Vec<Vec<u8>> {
    let mut copies = Vec::new();
    for (i, datagram) in batch.into_iter().enumerate() {
        for _ in 0..d.copies[i % d.copies.len()] {
            copies.push(datagram.clone());
        }
    }
    let mut keyed: Vec<((u16, usize), Vec<u8>)> = copies
        .into_iter()
        .enumerate()
        .map(|(j, dg)| ((d.keys[j % d.keys.len()], j), dg))
        .collect();
    keyed.sort_by_key(|(k, _)| *k);
    keyed.into_iter().map(|(_, dg)| dg).collect()
}

/// Runs a handshake in which every batch of datagrams one side sends (a flight, or a
/// retransmission) is duplicated and shuffled before the other side sees it. Nothing is lost.
fn scrambled_handshake(
    c: &mut Connection,
    s: &mut Connection,
    plans: &[Delivery],
) -> Result<(), String> {
    let mut now = Instant::ZERO;
    let mut batch = 0;
    c.start(now);
    for _ in 0..500 {
        let mut moved = false;
        for client_sends in [true, false] {
            let (from, to) = if client_sends {
                (&mut *c, &mut *s)
            } else {
                (&mut *s, &mut *c)
            };
            let out: Vec<Vec<u8>> = std::iter::from_fn(|| from.poll_transmit()).collect();
            if out.is_empty() {
                continue;
            }
            moved = true;
            for d in scramble(out, &plans[batch % plans.len()]) {
                to.handle_datagram(now, &d);
            }
            batch += 1;
        }
        if c.is_connected() && s.is_connected() {
            return Ok(());
        }
        if c.is_finished() || s.is_finished() {
            return Err(format!(
                "gave up: client {:?}, server {:?}",
                c.state(),
                s.state()
            ));
        }
        if !moved {
            let Some(next) = [c.poll_timeout(), s.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
            else {
                return Err(format!(
                    "stalled: client {:?}, server {:?}",
                    c.state(),
                    s.state()
                ));
            };
            now = next;
            c.handle_timeout(now);
            s.handle_timeout(now);
        }
    }
    Err(format!(
        "no end in sight: client {:?}, server {:?}",
        c.state(),
        s.state()
    ))
}

proptest! {
    #![proptest_config(cases(64))]

    /// RFC 6347 §4.1.2.7 and §4.2.4: reordered and repeated datagrams are absorbed (buffered,
    /// dropped as duplicates, or recovered by retransmission); the handshake completes and
    /// both sides hold the same master secret.
    #[test]
    fn reordered_and_duplicated_datagrams_still_complete_the_handshake(
        plans in vec(delivery(), 1..12),
        max_datagram_size in prop_oneof![Just(1400usize), 60usize..=240],
        seeds in (any::<u64>(), any::<u64>()),
    ) {
        let mut cc = dicetest::engine::Config::client().with_psk(PSK_ID, PSK).with_suites(&[0xC0A8]).with_seed(seeds.0);
        cc.max_datagram_size = max_datagram_size;
        let mut sc = dicetest::engine::Config::server().with_psk(PSK_ID, PSK).with_suites(&[0xC0A8]).with_seed(seeds.1);
        sc.max_datagram_size = max_datagram_size;
        let (mut c, mut s) = (Connection::new(cc), Connection::new(sc));
        if let Err(e) = scrambled_handshake(&mut c, &mut s, &plans) {
            return Err(TestCaseError::fail(e));
        }
        prop_assert_eq!(c.cipher_suite(), Some(0xC0A8));
        let (cl, sl) = (c.keylog_line(), s.keylog_line());
        prop_assert!(cl.is_some());
        prop_assert_eq!(cl, sl);
        // The keys agree in use too, not only in the key log.
        let _ = events(&mut s);
        c.send_application_data(b"after the storm");
        let d = c.poll_transmit().expect("application data datagram");
        s.handle_datagram(Instant::ZERO, &d);
        prop_assert_eq!(app_data(&mut s), vec![b"after the storm".to_vec()]);
    }
}

// ---- no panic on hostile datagrams, in any state -----------------------------------------

/// Where the endpoint under attack stands.
#[derive(Clone, Copy, Debug)]
enum Stage {
    /// Server: nothing received. Client: ClientHello sent, nothing received.
    Fresh,
    /// HelloVerifyRequest answered: the client has sent its second ClientHello, the server
    /// has answered it with flight 4 (which the client has not seen).
    CookieExchanged,
    Connected,
}

const STAGES: [Stage; 3] = [Stage::Fresh, Stage::CookieExchanged, Stage::Connected];

/// The PSK-CCM8 pair of `psk_pair`, driven to `stage`. Seeds are fixed, so the same bytes
/// as in [`corpus`] flow and its records are valid for this pair.
fn staged_pair(stage: Stage) -> (Connection, Connection) {
    let (mut c, mut s) = psk_pair(&[0xC0A8]);
    let now = Instant::ZERO;
    match stage {
        Stage::Fresh => {
            c.start(now);
            while c.poll_transmit().is_some() {}
        }
        Stage::CookieExchanged => {
            c.start(now);
            let ch1 = c.poll_transmit().expect("ClientHello");
            s.handle_datagram(now, &ch1);
            let hvr = s.poll_transmit().expect("HelloVerifyRequest");
            c.handle_datagram(now, &hvr);
            while let Some(ch2) = c.poll_transmit() {
                s.handle_datagram(now, &ch2);
            }
            while s.poll_transmit().is_some() {}
            assert_eq!(c.state(), State::ClientWaitServerHello);
            assert_eq!(s.state(), State::ServerWaitClientKeyExchange);
        }
        Stage::Connected => {
            handshake(&mut c, &mut s, &mut |_, _, _| true).expect("clean handshake");
        }
    }
    let _ = (events(&mut c), events(&mut s));
    (c, s)
}

/// Every datagram of a clean PSK-CCM8 handshake of `psk_pair`, then application data both
/// ways: valid records to mutate.
fn corpus() -> &'static [Vec<u8>] {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let (mut c, mut s) = psk_pair(&[0xC0A8]);
        let mut seen = Vec::new();
        handshake(&mut c, &mut s, &mut |_, _, d| {
            seen.push(d.to_vec());
            true
        })
        .expect("clean handshake");
        c.send_application_data(b"GET /.well-known/core");
        s.send_application_data(b"</sensors/temp>;rt=\"temperature\"");
        seen.extend(std::iter::from_fn(|| c.poll_transmit()));
        seen.extend(std::iter::from_fn(|| s.poll_transmit()));
        seen
    })
}

/// One change to a valid datagram. Header fields are those of one of its records.
#[derive(Clone, Debug)]
enum Mutation {
    FlipByte { at: Index, mask: u8 },
    Truncate(Index),
    Length(u16),
    Epoch(u16),
    ContentType(u8),
    SequenceNumber(u64),
    Version(u16),
    Append(Vec<u8>),
}

/// One thing thrown at the endpoint.
#[derive(Clone, Debug)]
enum Hostile {
    /// Bytes from nowhere.
    Random(Vec<u8>),
    /// A plaintext record with a correct length field and any content.
    Forged {
        content_type: u8,
        epoch: u16,
        sequence_number: u64,
        fragment: Vec<u8>,
    },
    /// A datagram of the clean handshake, altered.
    Mutated {
        datagram: Index,
        record: Index,
        mutations: Vec<Mutation>,
    },
    /// A record the peer seals under its current keys, with any content and header lies.
    Sealed {
        content_type: u8,
        payload: Vec<u8>,
        overrides: RecordOverrides,
    },
    /// A handshake fragment with any header, sealed by the peer.
    Fragment {
        msg_type: u8,
        message_seq: u16,
        length: Option<u32>,
        fragment_offset: Option<u32>,
        fragment_length: Option<u32>,
        body: Vec<u8>,
    },
    /// The clock moves on; timers may fire.
    Wait(u32),
}

fn content_type() -> impl Strategy<Value = u8> {
    prop_oneof![3 => 20u8..=25, 1 => any::<u8>()]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 1u8..=255).prop_map(|(at, mask)| Mutation::FlipByte { at, mask }),
        any::<Index>().prop_map(Mutation::Truncate),
        any::<u16>().prop_map(Mutation::Length),
        prop_oneof![0u16..4, any::<u16>()].prop_map(Mutation::Epoch),
        content_type().prop_map(Mutation::ContentType),
        prop_oneof![0u64..64, any::<u64>()].prop_map(Mutation::SequenceNumber),
        prop_oneof![Just(0xFEFFu16), Just(0x0303), any::<u16>()].prop_map(Mutation::Version),
        vec(any::<u8>(), 1..40).prop_map(Mutation::Append),
    ]
}

fn overrides() -> impl Strategy<Value = RecordOverrides> {
    (
        option::weighted(0.2, any::<u16>()),
        option::weighted(0.2, any::<u16>()),
        option::weighted(0.2, any::<u64>()),
        option::weighted(0.1, any::<u16>()),
        any::<bool>(),
    )
        .prop_map(
            |(epoch, length, sequence_number, version, plaintext)| RecordOverrides {
                epoch,
                length,
                sequence_number,
                version,
                plaintext: plaintext && epoch.is_some(),
                ..Default::default()
            },
        )
}

/// A plaintext record: any bytes, or a well-formed alert (warning or fatal).
fn forged() -> impl Strategy<Value = Hostile> {
    let fragment = prop_oneof![
        vec(any::<u8>(), 0..120),
        (1u8..=2, prop_oneof![Just(0u8), any::<u8>()])
            .prop_map(|(level, description)| vec![level, description]),
    ];
    (content_type(), 0u16..3, 0u64..64, fragment).prop_map(
        |(content_type, epoch, sequence_number, fragment)| Hostile::Forged {
            content_type,
            epoch,
            sequence_number,
            fragment,
        },
    )
}

/// What anyone on the path can send: nothing here is sealed by the peer.
fn unauthenticated() -> impl Strategy<Value = Hostile> {
    prop_oneof![
        1 => vec(any::<u8>(), 0..200).prop_map(Hostile::Random),
        2 => forged(),
        3 => (any::<Index>(), any::<Index>(), vec(mutation(), 1..4)).prop_map(|(datagram, record, mutations)| {
            Hostile::Mutated { datagram, record, mutations }
        }),
    ]
}

fn hostile() -> impl Strategy<Value = Hostile> {
    prop_oneof![
        2 => vec(any::<u8>(), 0..200).prop_map(Hostile::Random),
        2 => forged(),
        4 => (any::<Index>(), any::<Index>(), vec(mutation(), 1..4)).prop_map(|(datagram, record, mutations)| {
            Hostile::Mutated { datagram, record, mutations }
        }),
        3 => (content_type(), vec(any::<u8>(), 0..120), overrides()).prop_map(|(content_type, payload, overrides)| {
            Hostile::Sealed { content_type, payload, overrides }
        }),
        4 => (
            prop_oneof![0u8..=25, any::<u8>()],
            prop_oneof![0u16..8, any::<u16>()],
            option::weighted(0.3, 0u32..0x100_0000),
            option::weighted(0.3, 0u32..0x100_0000),
            option::weighted(0.2, 0u32..0x100_0000),
            vec(any::<u8>(), 0..160),
        )
            .prop_map(|(msg_type, message_seq, length, fragment_offset, fragment_length, body)| Hostile::Fragment {
                msg_type,
                message_seq,
                length,
                fragment_offset,
                fragment_length,
                body,
            }),
        1 => (0u32..5000).prop_map(Hostile::Wait),
    ]
}

/// Overwrites `bytes` at `at`, as far as the datagram reaches.
fn put(d: &mut [u8], at: usize, bytes: &[u8]) {
    for (i, b) in bytes.iter().enumerate() {
        if let Some(x) = d.get_mut(at + i) {
            *x = *b;
        }
    }
}

fn mutate(datagram: &[u8], record: Index, mutations: &[Mutation]) -> Vec<u8> {
    let mut d = datagram.to_vec();
    // Where each record of the datagram starts (13-byte header, then the fragment).
    let mut starts = Vec::new();
    let mut at = 0;
    for r in parse_datagram(datagram).records {
        starts.push(at);
        at += 13 + r.fragment.len();
    }
    let base = if starts.is_empty() {
        0
    } else {
        starts[record.index(starts.len())]
    };
    for m in mutations {
        match m {
            Mutation::FlipByte { at, mask } => {
                if !d.is_empty() {
                    let i = at.index(d.len());
                    d[i] ^= mask;
                }
            }
            Mutation::Truncate(at) => {
                let n = at.index(d.len() + 1);
                d.truncate(n);
            }
            Mutation::Length(v) => put(&mut d, base + 11, &v.to_be_bytes()),
            Mutation::Epoch(v) => put(&mut d, base + 3, &v.to_be_bytes()),
            Mutation::ContentType(v) => put(&mut d, base, &[*v]),
            Mutation::SequenceNumber(v) => put(&mut d, base + 5, &v.to_be_bytes()[2..]),
            Mutation::Version(v) => put(&mut d, base + 1, &v.to_be_bytes()),
            Mutation::Append(extra) => d.extend_from_slice(extra),
        }
    }
    d
}

/// The datagrams `h` stands for; the peer seals what needs sealing.
fn materialize(h: &Hostile, peer: &mut Connection) -> Vec<Vec<u8>> {
    match h {
        Hostile::Random(bytes) => vec![bytes.clone()],
        Hostile::Forged {
            content_type,
            epoch,
            sequence_number,
            fragment,
        } => {
            let r = Record::new(
                ContentType::from(*content_type),
                ProtocolVersion::DTLS1_2,
                *epoch,
                *sequence_number,
                fragment.clone(),
            );
            vec![r.to_bytes()]
        }
        Hostile::Mutated {
            datagram,
            record,
            mutations,
        } => {
            let c = corpus();
            vec![mutate(&c[datagram.index(c.len())], *record, mutations)]
        }
        Hostile::Sealed {
            content_type,
            payload,
            overrides,
        } => {
            peer.send_record(ContentType::from(*content_type), payload, overrides);
            std::iter::from_fn(|| peer.poll_transmit()).collect()
        }
        Hostile::Fragment {
            msg_type,
            message_seq,
            length,
            fragment_offset,
            fragment_length,
            body,
        } => {
            // The 12-byte handshake header of RFC 6347 §4.2.2, fields as given.
            let mut p = vec![*msg_type];
            p.extend_from_slice(&length.unwrap_or(body.len() as u32).to_be_bytes()[1..]);
            p.extend_from_slice(&message_seq.to_be_bytes());
            p.extend_from_slice(&fragment_offset.unwrap_or(0).to_be_bytes()[1..]);
            p.extend_from_slice(&fragment_length.unwrap_or(body.len() as u32).to_be_bytes()[1..]);
            p.extend_from_slice(body);
            peer.send_record(ContentType::Handshake, &p, &RecordOverrides::default());
            std::iter::from_fn(|| peer.poll_transmit()).collect()
        }
        Hostile::Wait(_) => Vec::new(),
    }
}

/// Throws `inputs` at one endpoint of a pair in `stage`; checks that whatever it sends back
/// is well-formed. A panic anywhere fails the property.
fn attack(stage: Stage, target_is_server: bool, inputs: &[Hostile]) -> Result<(), TestCaseError> {
    let (mut c, mut s) = staged_pair(stage);
    let (target, peer) = if target_is_server {
        (&mut s, &mut c)
    } else {
        (&mut c, &mut s)
    };
    let mut now = Instant::ZERO;
    for h in inputs {
        if let Hostile::Wait(ms) = h {
            now = Instant::from_micros(now.as_micros() + u64::from(*ms) * 1000);
            target.handle_timeout(now);
        }
        for d in materialize(h, peer) {
            target.handle_datagram(now, &d);
        }
        while let Some(out) = target.poll_transmit() {
            let parsed = parse_datagram(&out);
            prop_assert!(
                !out.is_empty() && parsed.trailing_error.is_none(),
                "{:?}: the endpoint sent a malformed datagram {}",
                stage,
                hex::encode(&out)
            );
            prop_assert!(
                out.len() <= target.config().max_datagram_size,
                "{:?}: the endpoint sent a {}-byte datagram",
                stage,
                out.len()
            );
        }
        while target.poll_event().is_some() {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(64))]

    /// "Never panics, whatever the bytes" (connection.rs), checked for a client and a server
    /// before, during and after the handshake; afterwards a fresh pair still connects.
    #[test]
    fn hostile_datagrams_never_panic_in_any_state(inputs in vec(hostile(), 1..24)) {
        for stage in STAGES {
            for target_is_server in [false, true] {
                attack(stage, target_is_server, &inputs)?;
            }
        }
        let (mut c, mut s) = psk_pair(&[0xC0A8]);
        prop_assert!(handshake(&mut c, &mut s, &mut |_, _, _| true).is_some(), "a fresh pair no longer connects");
        prop_assert_eq!(c.keylog_line(), s.keylog_line());
    }
}

proptest! {
    #![proptest_config(cases(64))]

    /// RFC 6347 §4.1 (records of earlier epochs SHOULD be discarded) and §4.1.2.7 (invalid
    /// records are dropped silently): once connected, nothing the peer did not seal under the
    /// session keys may end the association, derail it or change its keys.
    #[test]
    fn unauthenticated_datagrams_never_disturb_an_established_association(inputs in vec(unauthenticated(), 1..24)) {
        for target_is_server in [false, true] {
            let (mut c, mut s) = staged_pair(Stage::Connected);
            let keylog = c.keylog_line();
            let (target, peer) = if target_is_server { (&mut s, &mut c) } else { (&mut c, &mut s) };
            for h in &inputs {
                for d in materialize(h, peer) {
                    target.handle_datagram(Instant::ZERO, &d);
                }
                while target.poll_transmit().is_some() {}
            }
            prop_assert_eq!(target.state(), State::Connected, "server: {}", target_is_server);
            prop_assert_eq!(target.keylog_line(), keylog.clone(), "server: {}", target_is_server);
            let _ = events(target);
            // The corpus holds genuine epoch-1 records of this very pair (same seeds), which the
            // target may have accepted: the peer writes past their sequence numbers.
            let past_corpus = RecordOverrides { sequence_number: Some(1000), ..Default::default() };
            peer.send_application_data_with(b"still there?", &past_corpus);
            let d = peer.poll_transmit().expect("application data datagram");
            target.handle_datagram(Instant::ZERO, &d);
            let received = app_data(target);
            prop_assert_eq!(received.last(), Some(&b"still there?".to_vec()), "server: {}", target_is_server);
        }
    }
}

// ---- engine bugs these properties found, one reproduction each ---------------------------

/// A plaintext (epoch 0) handshake message `msg` with `message_seq`, as anyone can send it.
fn plaintext_handshake(msg: &HandshakeMessage, message_seq: u16, record_seq: u64) -> Vec<u8> {
    let body = msg.encode_body();
    let frags = fragment(
        msg.msg_type().get_u8(),
        message_seq,
        &body,
        &FragmentLayout::Whole,
    );
    let mut payload = Vec::new();
    frags[0].encode(&mut payload);
    Record::new(
        ContentType::Handshake,
        ProtocolVersion::DTLS1_2,
        0,
        record_seq,
        payload,
    )
    .to_bytes()
}

fn injected_server_hello() -> HandshakeMessage {
    HandshakeMessage::ServerHello(ServerHello {
        server_version: ProtocolVersion::DTLS1_2,
        random: [7; 32],
        session_id: Vec::new(),
        cipher_suite: 0xC0A8u16.into(),
        compression_method: CompressionMethod::Null,
        extensions: Some(Vec::new()),
    })
}

/// RFC 6347 §4.1: epoch-0 records are not discarded after the handshake, so a forged
/// plaintext alert ends an authenticated association (fatal: Failed; close_notify: Closed).
#[test]
fn engine_bug_plaintext_alert_ends_an_established_association() {
    for (level, description) in [(2u8, 40u8), (1, 0)] {
        for target_is_server in [false, true] {
            let (mut c, mut s) = staged_pair(Stage::Connected);
            let target = if target_is_server { &mut s } else { &mut c };
            let alert = Record::new(
                ContentType::Alert,
                ProtocolVersion::DTLS1_2,
                0,
                900,
                vec![level, description],
            );
            target.handle_datagram(Instant::ZERO, &alert.to_bytes());
            assert_eq!(
                target.state(),
                State::Connected,
                "plaintext alert {level}/{description} to the {}",
                if target_is_server { "server" } else { "client" }
            );
        }
    }
}

/// A connected client takes a plaintext ServerHello carrying the next message_seq as the
/// start of a new handshake: it leaves Connected and drops the server's application data.
#[test]
fn engine_bug_plaintext_server_hello_knocks_a_connected_client_out() {
    let (mut c, mut s) = staged_pair(Stage::Connected);
    // The server's flight 4 and 6 used message_seq 1..=3: the client expects 4 next.
    c.handle_datagram(
        Instant::ZERO,
        &plaintext_handshake(&injected_server_hello(), 4, 1000),
    );
    assert_eq!(c.state(), State::Connected);
    let _ = events(&mut c);
    s.send_application_data(b"hello");
    let d = s.poll_transmit().expect("application data datagram");
    c.handle_datagram(Instant::ZERO, &d);
    assert_eq!(app_data(&mut c), vec![b"hello".to_vec()]);
}

/// A client waiting for flight 6 that receives an injected ServerHello stops its
/// retransmission timer and moves back to ClientWaitServerHelloDone: it then neither
/// completes nor times out (RFC 6347 §4.2.4 requires the timer to bound every wait).
#[test]
fn engine_bug_injected_server_hello_leaves_the_client_without_a_deadline() {
    let (mut c, mut s) = psk_pair(&[0xC0A8]);
    let mut now = Instant::ZERO;
    c.start(now);
    let mut flight6 = Vec::new();
    loop {
        let mut moved = false;
        while let Some(d) = c.poll_transmit() {
            moved = true;
            s.handle_datagram(now, &d);
        }
        while let Some(d) = s.poll_transmit() {
            moved = true;
            if s.is_connected() {
                flight6.push(d); // held back for now
            } else {
                c.handle_datagram(now, &d);
            }
        }
        if !moved {
            break;
        }
    }
    assert_eq!(c.state(), State::ClientWaitChangeCipherSpec);
    c.handle_datagram(now, &plaintext_handshake(&injected_server_hello(), 3, 500));
    for d in &flight6 {
        c.handle_datagram(now, d);
    }
    // Let the virtual clock run out every timer either side has.
    for _ in 0..64 {
        let Some(next) = [c.poll_timeout(), s.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
        else {
            break;
        };
        now = next;
        c.handle_timeout(now);
        s.handle_timeout(now);
        let mut n = 0;
        pump(&mut c, &mut s, now, &mut |_, _, _| true, &mut n);
    }
    assert!(
        c.is_connected() || c.is_finished(),
        "the client is stuck in {:?} with no timer (deadline {:?})",
        c.state(),
        c.poll_timeout()
    );
}

/// A connected server absorbs a plaintext ClientKeyExchange carrying the next message_seq:
/// it derives a new master secret, so its key log line no longer matches the session keys.
#[test]
fn engine_bug_plaintext_client_key_exchange_rewrites_a_connected_servers_master_secret() {
    let (c, mut s) = staged_pair(Stage::Connected);
    let cke = HandshakeMessage::ClientKeyExchange(ClientKeyExchange::Psk {
        identity: PSK_ID.to_vec(),
    });
    s.handle_datagram(Instant::ZERO, &plaintext_handshake(&cke, 4, 700));
    assert_eq!(s.keylog_line(), c.keylog_line());
}

// ---- record layer round trip and replay protection ----------------------------------------

proptest! {
    #![proptest_config(cases(32))]

    /// Application data of any length up to 1200 bytes crosses intact both ways under every
    /// PSK suite, and a datagram delivered again is dropped as a replay (RFC 6347 §4.1.2.6),
    /// whether repeated at once or later.
    #[test]
    fn application_data_round_trips_and_replays_are_dropped(
        payloads in vec((any::<bool>(), vec(any::<u8>(), 0..=1200)), 1..8),
        replays in vec(any::<Index>(), 1..8),
    ) {
        for suite in PSK_SUITES {
            let (mut c, mut s) = psk_pair(&[suite]);
            prop_assert!(handshake(&mut c, &mut s, &mut |_, _, _| true).is_some(), "suite {:#06x} did not connect", suite);
            prop_assert_eq!(c.cipher_suite(), Some(suite));
            let _ = (events(&mut c), events(&mut s));
            let now = Instant::ZERO;
            let mut sent: Vec<(bool, Vec<u8>)> = Vec::new();
            for (to_server, data) in &payloads {
                let (tx, rx) = if *to_server { (&mut c, &mut s) } else { (&mut s, &mut c) };
                tx.send_application_data(data);
                let d = tx.poll_transmit().expect("a datagram");
                prop_assert!(tx.poll_transmit().is_none());
                let rec = &parse_datagram(&d).records;
                prop_assert_eq!(rec.len(), 1);
                prop_assert_eq!((rec[0].header.content_type, rec[0].header.epoch), (ContentType::ApplicationData, 1));
                rx.handle_datagram(now, &d);
                prop_assert_eq!(app_data(rx), vec![data.clone()], "suite {:#06x}", suite);
                rx.handle_datagram(now, &d);
                let replayed = events(rx);
                prop_assert!(!replayed.iter().any(|e| matches!(e, Event::ApplicationData(_))), "suite {:#06x}: replay delivered", suite);
                let dropped_as_replay = replayed.iter().any(|e| {
                    matches!(e, Event::Record(t) if matches!(t.dropped, Some(DropReason::Replayed { epoch: 1, .. })))
                });
                prop_assert!(dropped_as_replay, "suite {:#06x}: the replay was not reported as one", suite);
                sent.push((*to_server, d));
            }
            for i in &replays {
                let (to_server, d) = &sent[i.index(sent.len())];
                let rx = if *to_server { &mut s } else { &mut c };
                rx.handle_datagram(now, d);
                prop_assert!(app_data(rx).is_empty(), "suite {:#06x}: a later replay was delivered", suite);
            }
            prop_assert!(c.is_connected() && s.is_connected());
        }
    }
}
