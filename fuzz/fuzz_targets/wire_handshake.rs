//! Handshake message bodies (RFC 5246 §7.4, RFC 6347 §4.2.1, RFC 4279, RFC 8422, RFC 7250)
//! under every parse context, and handshake fragments (RFC 6347 §4.2.2). The first byte
//! picks the message type, the second the context.
#![no_main]
use dicetest_wire::{
    CertificateType, HandshakeFragment, HandshakeMessage, HandshakeType, KeyExchangeKind,
    ParseContext,
};
use libfuzzer_sys::fuzz_target;

const KINDS: [KeyExchangeKind; 3] = [
    KeyExchangeKind::Psk,
    KeyExchangeKind::EcdheEcdsa,
    KeyExchangeKind::Opaque,
];
const CERT_TYPES: [CertificateType; 3] = [
    CertificateType::X509,
    CertificateType::RawPublicKey,
    CertificateType::Unknown(9),
];

fuzz_target!(|data: &[u8]| {
    let [t, c, body @ ..] = data else { return };
    let msg_type = HandshakeType::from(*t);
    let ctx = ParseContext {
        kx: KINDS[usize::from(*c) % KINDS.len()],
        certificate_type: CERT_TYPES[usize::from(*c / 3) % CERT_TYPES.len()],
    };
    if let Ok(m) = HandshakeMessage::read_body(msg_type, body, &ctx) {
        assert_eq!(m.encode_body(), body, "{msg_type:?} re-encodes differently");
        assert_eq!(m.msg_type(), msg_type);
        let _ = m.summary();
    }
    if let Ok(frags) = HandshakeFragment::read_all(body) {
        let again: Vec<u8> = frags.iter().flat_map(|f| f.to_bytes()).collect();
        assert_eq!(again, body);
        for f in &frags {
            let _ = f.header.check_fragment_bounds();
        }
    }
});
