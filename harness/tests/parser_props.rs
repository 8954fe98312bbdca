//! Properties of the two parsers of DUT bytes that the wire and engine properties do not
//! reach (the fuzz targets in fuzz/ hunt the same ground for longer):
//! - the strict CoAP parser (RFC 7252 §3): no input panics it; what parses re-encodes to
//!   exactly its bytes (the format has one encoding per message); every well-formed
//!   message round-trips;
//! - the passive monitor: a recorded third-party handshake, cut, mutated, duplicated and
//!   reordered datagram by datagram, never panics it, and the untouched transcript is
//!   still followed to the end (so the property runs on a monitor that works).
//!
//! PROPTEST_CASES=N raises the case counts for a longer hunt.

use std::path::PathBuf;

use dicetest::coap::{CoapMessage, Code, MessageType};
use dicetest::monitor::{Monitor, MonitorEvent, Side};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

fn cases(n: u32) -> ProptestConfig {
    let n = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n);
    ProptestConfig::with_cases(n)
}

// ---- CoAP ---------------------------------------------------------------------------

fn message_type() -> impl Strategy<Value = MessageType> {
    prop_oneof![
        Just(MessageType::Confirmable),
        Just(MessageType::NonConfirmable),
        Just(MessageType::Acknowledgement),
        Just(MessageType::Reset),
    ]
}

/// A well-formed message: a code outside the reserved classes, options in ascending
/// order with values across every length encoding (0-12, 13-268, 269+), a payload.
fn coap_message() -> impl Strategy<Value = CoapMessage> {
    (
        message_type(),
        prop_oneof![Just(0u8), 1u8..=31, 0x40u8..=0xbf],
        any::<u16>(),
        vec(any::<u8>(), 0..=8),
        vec((0u16..2000, vec(any::<u8>(), 0..300)), 0..6),
        vec(any::<u8>(), 0..64),
    )
        .prop_map(|(mtype, code, message_id, token, mut options, payload)| {
            options.sort_by_key(|(n, _)| *n);
            let mut m = CoapMessage {
                mtype,
                code: Code(code),
                message_id,
                token,
                options,
                payload,
            };
            if code == 0 {
                // An Empty message has nothing but its header (§4.1).
                m.token.clear();
                m.options.clear();
                m.payload.clear();
            }
            m
        })
}

proptest! {
    #![proptest_config(cases(2000))]

    #[test]
    fn coap_parse_never_panics_and_what_parses_reencodes_exactly(
        b in vec(any::<u8>(), 0..400)
    ) {
        if let Ok(m) = CoapMessage::parse(&b) {
            prop_assert_eq!(m.encode(), b);
            let _ = m.summary();
        }
    }

    #[test]
    fn coap_messages_with_a_valid_header_and_garbage_after_it_never_panic(
        header in (0x40u8..=0x7f, any::<u8>(), any::<u16>()),
        rest in vec(any::<u8>(), 0..600),
    ) {
        let mut b = vec![header.0, header.1];
        b.extend(header.2.to_be_bytes());
        b.extend(rest);
        if let Ok(m) = CoapMessage::parse(&b) {
            prop_assert_eq!(m.encode(), b);
        }
    }

    #[test]
    fn every_well_formed_coap_message_round_trips(m in coap_message()) {
        let b = m.encode();
        prop_assert_eq!(CoapMessage::parse(&b), Ok(m));
    }
}

#[test]
fn coap_format_errors_are_refused() {
    // Token length 9 (§3), a payload marker with no payload (§3), an Empty message with a
    // token (§4.1), a reserved class (§12.1), a truncated option.
    for bad in [
        &[0x49, 0x45, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9][..],
        &[0x40, 0x45, 0, 1, 0xff],
        &[0x41, 0x00, 0, 1, 7],
        &[0x40, 0x20, 0, 1],
        &[0x40, 0x45, 0, 1, 0xd1],
    ] {
        assert!(CoapMessage::parse(bad).is_err(), "{bad:02x?}");
    }
}

// ---- the monitor ---------------------------------------------------------------------

/// The datagrams of the recorded OpenSSL/GnuTLS PSK-CCM8 handshake (vectors/transcripts/).
fn transcript() -> Vec<(Side, Vec<u8>)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../vectors/transcripts/psk-ccm8_gnutls-client_openssl-server.toml");
    let text = std::fs::read_to_string(path).expect("transcript");
    let t: toml::Table = text.parse().expect("toml");
    t["datagram"]
        .as_array()
        .expect("datagrams")
        .iter()
        .map(|d| {
            let side = if d["from"].as_str() == Some("server") {
                Side::Server
            } else {
                Side::Client
            };
            (
                side,
                hex::decode(d["hex"].as_str().expect("hex")).expect("hex"),
            )
        })
        .collect()
}

const PSK: &[u8] = b"secretPSK";

fn follow(grams: &[(Side, Vec<u8>)]) -> (Monitor, Vec<MonitorEvent>) {
    let mut m = Monitor::new(Some(PSK.to_vec()), Vec::new());
    let mut events = Vec::new();
    for (side, d) in grams {
        events.extend(m.on_datagram(*side, d));
    }
    (m, events)
}

#[test]
fn the_untouched_transcript_is_followed_to_the_end() {
    let (m, events) = follow(&transcript());
    assert_eq!(m.handshakes_completed(), 1, "{events:?}");
    let verified = events
        .iter()
        .filter(|e| matches!(e, MonitorEvent::Finished { verified: true, .. }))
        .count();
    assert_eq!(verified, 2, "{events:?}");
}

/// What happens to the transcript on the way.
#[derive(Clone, Debug)]
enum Edit {
    /// XOR a byte of a datagram.
    Flip(Index, Index, u8),
    /// Cut a datagram short.
    Truncate(Index, Index),
    /// Send a datagram again later.
    Duplicate(Index),
    /// Swap two datagrams.
    Swap(Index, Index),
    /// Lose a datagram.
    Drop(Index),
    /// Insert noise from either side.
    Noise(bool, Vec<u8>),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), any::<Index>(), 1u8..=255).prop_map(|(a, b, x)| Edit::Flip(a, b, x)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Truncate(a, b)),
        any::<Index>().prop_map(Edit::Duplicate),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        any::<Index>().prop_map(Edit::Drop),
        (any::<bool>(), vec(any::<u8>(), 0..200)).prop_map(|(s, b)| Edit::Noise(s, b)),
    ]
}

fn apply(grams: &mut Vec<(Side, Vec<u8>)>, e: &Edit) {
    if grams.is_empty() {
        return;
    }
    let n = grams.len();
    match e {
        Edit::Flip(d, at, x) => {
            let g = &mut grams[d.index(n)].1;
            if !g.is_empty() {
                let i = at.index(g.len());
                g[i] ^= x;
            }
        }
        Edit::Truncate(d, at) => {
            let g = &mut grams[d.index(n)].1;
            let n = at.index(g.len() + 1);
            g.truncate(n);
        }
        Edit::Duplicate(d) => {
            let g = grams[d.index(grams.len())].clone();
            grams.push(g);
        }
        Edit::Swap(a, b) => {
            let (i, j) = (a.index(grams.len()), b.index(grams.len()));
            grams.swap(i, j);
        }
        Edit::Drop(d) => {
            grams.remove(d.index(grams.len()));
        }
        Edit::Noise(server, b) => {
            let side = if *server { Side::Server } else { Side::Client };
            grams.push((side, b.clone()));
        }
    }
}

proptest! {
    #![proptest_config(cases(300))]

    #[test]
    fn no_edit_of_a_real_exchange_panics_the_monitor(edits in vec(edit(), 1..12)) {
        let mut grams = transcript();
        for e in &edits {
            apply(&mut grams, e);
        }
        let (m, events) = follow(&grams);
        // One handshake in the transcript: however it is edited, at most one completes,
        // and nothing the monitor reports is a Finished that verified twice per side.
        prop_assert!(m.handshakes_completed() <= 1);
        let verified = events
            .iter()
            .filter(|e| matches!(e, MonitorEvent::Finished { verified: true, .. }))
            .count();
        prop_assert!(verified <= 2, "{:?}", events);
        let _ = m.next_association();
    }

    #[test]
    fn no_datagram_of_noise_panics_the_monitor(
        grams in vec((any::<bool>(), vec(any::<u8>(), 0..300)), 0..20)
    ) {
        let grams: Vec<(Side, Vec<u8>)> = grams
            .into_iter()
            .map(|(s, d)| (if s { Side::Server } else { Side::Client }, d))
            .collect();
        let (m, _) = follow(&grams);
        prop_assert_eq!(m.handshakes_completed(), 0);
    }
}
