//! Records (RFC 6347 §4.1) as a device sends them: split a datagram into records, each
//! record's handshake fragments (§4.2.2), each whole message. A decode that succeeds must
//! give back exactly the bytes it consumed (every format here has one encoding).
#![no_main]
use dicetest_wire::{
    encode_datagram, parse_datagram, Alert, Codec, ContentType, HandshakeFragment,
    HandshakeMessage, ParseContext,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = parse_datagram(data);
    match &p.trailing_error {
        None => assert_eq!(encode_datagram(&p.records), data),
        Some((at, _)) => assert_eq!(encode_datagram(&p.records).len(), *at),
    }
    for rec in &p.records {
        let _ = rec.header.to_bytes();
        match rec.header.content_type {
            ContentType::Handshake => {
                let Ok(frags) = HandshakeFragment::read_all(&rec.fragment) else {
                    continue;
                };
                for f in frags {
                    if let Ok(m) = HandshakeMessage::read_unfragmented(&f, &ParseContext::default())
                    {
                        assert_eq!(m.encode_body(), f.body);
                        let _ = m.summary();
                    }
                }
            }
            ContentType::Alert => {
                if let Ok(a) = Alert::from_bytes(&rec.fragment) {
                    assert_eq!(a.to_bytes(), rec.fragment);
                    let _ = format!("{a:?}");
                }
            }
            _ => {}
        }
    }
});
