//! The cipher suite a server chose, read straight off the wire, so a session the monitor
//! cannot follow (a suite it has no keys for, such as an ECDHE_PSK one) is reported as
//! that, not as a handshake that never completed.

use dicetest_wire::{parse_datagram, ContentType, HandshakeFragment, HandshakeType};

/// The suite of a ServerHello in this datagram, if one is there unfragmented enough to
/// read it. ServerHello: version (2), random (32), session id (1 + n), cipher_suite (2)
/// (RFC 5246 §7.4.1.3).
pub fn server_hello_suite(datagram: &[u8]) -> Option<u16> {
    parse_datagram(datagram)
        .records
        .iter()
        .filter(|r| r.header.epoch == 0 && r.header.content_type == ContentType::Handshake)
        .filter_map(|r| HandshakeFragment::read_all(&r.fragment).ok())
        .flatten()
        .filter(|f| {
            f.header.msg_type == HandshakeType::ServerHello && f.header.fragment_offset == 0
        })
        .find_map(|f| {
            let sid_len = usize::from(*f.body.get(34)?);
            let at = 35 + sid_len;
            Some(u16::from_be_bytes([*f.body.get(at)?, *f.body.get(at + 1)?]))
        })
}

/// Whether the monitor can derive this suite's keys from the PSK alone.
pub fn followable_with_psk(suite: u16) -> bool {
    dicetest_crypto::suite_by_id(suite).is_some_and(|s| s.kx == dicetest_crypto::KeyExchange::Psk)
}

/// A suite's IANA name (or `unknown(0x....)`).
pub fn suite_name(suite: u16) -> String {
    dicetest_wire::CipherSuite::from(suite).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ServerHello record in epoch 0: header, then the message with a 1-byte session id.
    fn server_hello(suite: u16) -> Vec<u8> {
        let mut body = vec![0xfe, 0xfd];
        body.extend([7u8; 32]);
        body.extend([1, 0xaa]);
        body.extend(suite.to_be_bytes());
        body.push(0);
        let mut hs = vec![2];
        hs.extend(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend([0, 1, 0, 0, 0]);
        hs.extend(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend(&body);
        let mut rec = vec![22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    #[test]
    fn reads_the_chosen_suite() {
        assert_eq!(server_hello_suite(&server_hello(0xc0a8)), Some(0xc0a8));
        let mut cut = server_hello(0xc0a8);
        cut.truncate(60);
        assert_eq!(server_hello_suite(&cut), None);
        assert_eq!(server_hello_suite(&[]), None);
        assert!(followable_with_psk(0xc0a8), "TLS_PSK_WITH_AES_128_CCM_8");
        // TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 needs the ECDHE secret.
        assert!(!followable_with_psk(0xccac));
        assert_eq!(
            suite_name(0xccac),
            "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"
        );
    }
}
