//! The strict CoAP parser (RFC 7252 §3) that judges a device's responses. The format has
//! one encoding for every message (option deltas and lengths take the shortest form by
//! construction, §3.1), so whatever parses must re-encode to exactly its bytes.
#![no_main]
use dicetest::coap::CoapMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = CoapMessage::parse(data) {
        let _ = m.summary();
        assert_eq!(m.encode(), data);
    }
});
