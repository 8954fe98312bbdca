//! The handshake messages the server reads (ClientHello, ClientKeyExchange, Finished) and
//! writes (HelloVerifyRequest, ServerHello, ServerHelloDone, Finished), with the DTLS
//! handshake header (RFC 6347 §4.2.2).

use crate::codec::{Full, Reader, Writer};

pub const HELLO_REQUEST: u8 = 0;
pub const CLIENT_HELLO: u8 = 1;
pub const SERVER_HELLO: u8 = 2;
pub const HELLO_VERIFY_REQUEST: u8 = 3;
/// Sent only with the legal variation `psk_identity_hint` (RFC 4279 §2).
pub const SERVER_KEY_EXCHANGE: u8 = 12;
pub const SERVER_HELLO_DONE: u8 = 14;
pub const CLIENT_KEY_EXCHANGE: u8 = 16;
pub const FINISHED: u8 = 20;

pub const HANDSHAKE_HEADER_LEN: usize = 12;

/// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 §3.3).
pub const EMPTY_RENEGOTIATION_INFO_SCSV: u16 = 0x00ff;
/// extended_master_secret (RFC 7627 §5.1).
pub const EXT_EXTENDED_MASTER_SECRET: u16 = 0x0017;
/// renegotiation_info (RFC 5746 §3.2).
pub const EXT_RENEGOTIATION_INFO: u16 = 0xff01;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageError {
    /// The bytes ended inside a field.
    Truncated,
    /// Bytes left after the last field.
    TrailingBytes,
    /// fragment_offset + fragment_length runs past the message length (§4.2.3).
    FragmentBeyondMessage,
    /// A vector outside its allowed length range (RFC 5246 §4.3).
    BadVectorLength,
    /// Two extensions of one type (RFC 5246 §7.4.1.4).
    DuplicateExtension(u16),
    /// An extension whose body is not what its RFC defines.
    MalformedExtension(u16),
}

/// The 12-byte header in front of every handshake fragment (RFC 6347 §4.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandshakeHeader {
    pub msg_type: u8,
    pub length: u32,
    pub message_seq: u16,
    pub fragment_offset: u32,
    pub fragment_length: u32,
}

impl HandshakeHeader {
    pub fn is_whole(&self) -> bool {
        self.fragment_offset == 0 && self.fragment_length == self.length
    }

    /// The header of the message as if it were sent unfragmented: the form that enters the
    /// transcript (§4.2.6).
    pub fn whole(msg_type: u8, message_seq: u16, length: usize) -> [u8; HANDSHAKE_HEADER_LEN] {
        let mut h = [0u8; HANDSHAKE_HEADER_LEN];
        let len = (length as u32).to_be_bytes();
        h[0] = msg_type;
        h[1..4].copy_from_slice(&len[1..]);
        h[4..6].copy_from_slice(&message_seq.to_be_bytes());
        h[9..12].copy_from_slice(&len[1..]);
        h
    }
}

/// Splits the next handshake fragment off a record's payload (a record may carry several).
pub fn next_fragment(payload: &[u8]) -> Result<(HandshakeHeader, &[u8], &[u8]), MessageError> {
    let mut r = Reader::new(payload);
    let (Some(msg_type), Some(length), Some(message_seq), Some(off), Some(flen)) =
        (r.u8(), r.u24(), r.u16(), r.u24(), r.u24())
    else {
        return Err(MessageError::Truncated);
    };
    if off.checked_add(flen).is_none_or(|end| end > length) {
        return Err(MessageError::FragmentBeyondMessage);
    }
    let body = r.take(flen as usize).ok_or(MessageError::Truncated)?;
    let h = HandshakeHeader {
        msg_type,
        length,
        message_seq,
        fragment_offset: off,
        fragment_length: flen,
    };
    Ok((h, body, r.rest()))
}

/// A ClientHello (RFC 6347 §4.2.1 adds the cookie to RFC 5246 §7.4.1.2). Vectors are kept
/// as the raw bytes they came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientHello<'a> {
    pub client_version: u16,
    pub random: [u8; 32],
    pub session_id: &'a [u8],
    pub cookie: &'a [u8],
    /// `CipherSuite cipher_suites<2..2^16-2>`, two bytes each.
    pub cipher_suites: &'a [u8],
    pub compression_methods: &'a [u8],
    /// The extensions block without its length, when present.
    pub extensions: Option<&'a [u8]>,
}

/// What the server needs from the ClientHello's extensions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HelloExtensions<'a> {
    pub extended_master_secret: bool,
    /// The `renegotiated_connection` of renegotiation_info, when the extension was sent.
    pub renegotiation_info: Option<&'a [u8]>,
}

impl<'a> ClientHello<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Self, MessageError> {
        let mut r = Reader::new(body);
        let t = MessageError::Truncated;
        let client_version = r.u16().ok_or(t)?;
        let random = r.array::<32>().ok_or(t)?;
        let session_id = r.vec8().ok_or(t)?;
        let cookie = r.vec8().ok_or(t)?;
        let cipher_suites = r.vec16().ok_or(t)?;
        let compression_methods = r.vec8().ok_or(t)?;
        if session_id.len() > 32
            || cipher_suites.len() < 2
            || cipher_suites.len() % 2 != 0
            || compression_methods.is_empty()
        {
            return Err(MessageError::BadVectorLength);
        }
        let extensions = if r.is_empty() {
            None
        } else {
            let e = r.vec16().ok_or(t)?;
            Some(e)
        };
        if !r.is_empty() {
            return Err(MessageError::TrailingBytes);
        }
        let ch = ClientHello {
            client_version,
            random,
            session_id,
            cookie,
            cipher_suites,
            compression_methods,
            extensions,
        };
        ch.extensions()?;
        Ok(ch)
    }

    pub fn suites(&self) -> impl Iterator<Item = u16> + 'a {
        self.cipher_suites
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
    }

    pub fn offers_suite(&self, suite: u16) -> bool {
        self.suites().any(|s| s == suite)
    }

    pub fn offers_null_compression(&self) -> bool {
        self.compression_methods.contains(&0)
    }

    /// Parses the extension block, refusing duplicates and malformed bodies of the two
    /// extensions the device acts on.
    pub fn extensions(&self) -> Result<HelloExtensions<'a>, MessageError> {
        let mut out = HelloExtensions::default();
        let Some(block) = self.extensions else {
            return Ok(out);
        };
        let mut r = Reader::new(block);
        while !r.is_empty() {
            let ty = r.u16().ok_or(MessageError::Truncated)?;
            let data = r.vec16().ok_or(MessageError::Truncated)?;
            // RFC 5246 §7.4.1.4: at most one extension of each type. Scan what came before.
            let mut seen = Reader::new(block);
            let mut count = 0;
            while let (Some(t), Some(_)) = (seen.u16(), seen.vec16()) {
                if t == ty {
                    count += 1;
                }
            }
            if count > 1 {
                return Err(MessageError::DuplicateExtension(ty));
            }
            match ty {
                EXT_EXTENDED_MASTER_SECRET => {
                    // RFC 7627 §5.1: extension_data is empty.
                    if !data.is_empty() {
                        return Err(MessageError::MalformedExtension(ty));
                    }
                    out.extended_master_secret = true;
                }
                EXT_RENEGOTIATION_INFO => {
                    // RFC 5746 §3.2: opaque renegotiated_connection<0..255>.
                    let mut d = Reader::new(data);
                    let inner = d.vec8().ok_or(MessageError::MalformedExtension(ty))?;
                    if !d.is_empty() {
                        return Err(MessageError::MalformedExtension(ty));
                    }
                    out.renegotiation_info = Some(inner);
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

/// ClientKeyExchange for plain PSK: `opaque psk_identity<0..2^16-1>` (RFC 4279 §2).
pub fn parse_psk_client_key_exchange(body: &[u8]) -> Result<&[u8], MessageError> {
    let mut r = Reader::new(body);
    let id = r.vec16().ok_or(MessageError::Truncated)?;
    if !r.is_empty() {
        return Err(MessageError::TrailingBytes);
    }
    Ok(id)
}

/// Writes a handshake header for a message sent in one fragment, then `body`.
pub fn write_message(
    w: &mut Writer<'_>,
    msg_type: u8,
    message_seq: u16,
    body: &[u8],
) -> Result<(), Full> {
    w.bytes(&HandshakeHeader::whole(msg_type, message_seq, body.len()))?;
    w.bytes(body)
}

/// HelloVerifyRequest body: server_version, cookie (RFC 6347 §4.2.1; the device puts DTLS
/// 1.0 there whatever is negotiated later, as §4.2.1 recommends).
pub fn hello_verify_request_body(
    server_version: u16,
    cookie: &[u8],
    out: &mut [u8],
) -> Result<usize, Full> {
    let mut w = Writer::new(out);
    w.u16(server_version)?;
    w.vec8(cookie)?;
    Ok(w.len())
}

/// What the ServerHello answers.
#[derive(Clone, Copy, Debug)]
pub struct ServerHelloParams<'a> {
    pub random: &'a [u8; 32],
    /// Empty: the device keeps no session cache, so no session can be resumed (RFC 5246
    /// §7.4.1.3).
    pub session_id: &'a [u8],
    pub cipher_suite: u16,
    /// Null (0) in this profile (RFC 7925 §8).
    pub compression_method: u8,
    pub extended_master_secret: bool,
    /// `Some(renegotiated_connection)` to send renegotiation_info (empty on an initial
    /// handshake, RFC 5746 §3.6).
    pub renegotiation_info: Option<&'a [u8]>,
}

/// ServerHello body (RFC 5246 §7.4.1.3).
pub fn server_hello_body(p: &ServerHelloParams<'_>, out: &mut [u8]) -> Result<usize, Full> {
    let mut w = Writer::new(out);
    w.u16(super::record::DTLS1_2)?;
    w.bytes(p.random)?;
    w.vec8(p.session_id)?;
    w.u16(p.cipher_suite)?;
    w.u8(p.compression_method)?;
    if p.extended_master_secret || p.renegotiation_info.is_some() {
        let at = w.len();
        w.u16(0)?;
        if let Some(ri) = p.renegotiation_info {
            w.u16(EXT_RENEGOTIATION_INFO)?;
            w.u16(ri.len() as u16 + 1)?;
            w.vec8(ri)?;
        }
        if p.extended_master_secret {
            w.u16(EXT_EXTENDED_MASTER_SECRET)?;
            w.u16(0)?;
        }
        let ext_len = (w.len() - at - 2) as u16;
        w.patch_u16(at, ext_len)?;
    }
    Ok(w.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_flight_4_fits_the_flight_buffer() {
        let mut body = [0u8; 96];
        let n = server_hello_body(
            &ServerHelloParams {
                random: &[1; 32],
                session_id: &[],
                cipher_suite: 0xc0a8,
                compression_method: 0,
                extended_master_secret: true,
                renegotiation_info: Some(&[]),
            },
            &mut body,
        )
        .unwrap();
        // ServerHello and ServerHelloDone, each behind its 12-byte handshake header.
        assert_eq!(12 + n + 12, 73);
        assert!(12 + n + 12 <= super::super::session::FLIGHT_BUF);
    }

    /// A ClientHello like OpenSSL's: SCSV, EMS, one unknown extension.
    fn sample() -> std::vec::Vec<u8> {
        let mut v = std::vec![0xfe, 0xfd];
        v.extend_from_slice(&[7u8; 32]);
        v.push(0); // session id
        v.extend_from_slice(&[2, 0xaa, 0xbb]); // cookie
        v.extend_from_slice(&[0, 4, 0xc0, 0xa8, 0x00, 0xff]);
        v.extend_from_slice(&[1, 0]);
        v.extend_from_slice(&[0, 8, 0x00, 0x17, 0, 0, 0x00, 0x23, 0, 0]);
        v
    }

    #[test]
    fn client_hello_fields_and_extensions() {
        let b = sample();
        let ch = ClientHello::parse(&b).unwrap();
        assert_eq!(ch.client_version, 0xfefd);
        assert_eq!(ch.cookie, &[0xaa, 0xbb]);
        assert!(ch.offers_suite(0xc0a8));
        assert!(ch.offers_suite(EMPTY_RENEGOTIATION_INFO_SCSV));
        assert!(!ch.offers_suite(0x00ae));
        assert!(ch.offers_null_compression());
        let e = ch.extensions().unwrap();
        assert!(e.extended_master_secret);
        assert_eq!(e.renegotiation_info, None);
    }

    #[test]
    fn every_truncation_of_a_client_hello_is_an_error_not_a_panic() {
        let b = sample();
        let no_extensions = b.len() - 10; // a ClientHello may end before its extensions
        for n in 0..b.len() {
            assert_eq!(
                ClientHello::parse(&b[..n]).is_ok(),
                n == no_extensions,
                "prefix {n}"
            );
        }
        let mut longer = b.clone();
        longer.push(0);
        assert_eq!(
            ClientHello::parse(&longer),
            Err(MessageError::TrailingBytes)
        );
    }

    #[test]
    fn duplicate_and_malformed_extensions_are_refused() {
        let mut b = sample();
        let n = b.len();
        b.truncate(n - 10);
        b.extend_from_slice(&[0, 8, 0x00, 0x17, 0, 0, 0x00, 0x17, 0, 0]);
        assert_eq!(
            ClientHello::parse(&b),
            Err(MessageError::DuplicateExtension(0x17))
        );
        let mut b = sample();
        b.truncate(n - 10);
        b.extend_from_slice(&[0, 5, 0x00, 0x17, 0, 1, 9]);
        assert_eq!(
            ClientHello::parse(&b),
            Err(MessageError::MalformedExtension(0x17))
        );
    }

    #[test]
    fn fragments_may_not_reach_past_their_message() {
        let f = [1, 0, 0, 10, 0, 0, 0, 0, 8, 0, 0, 4, 1, 2, 3, 4];
        assert_eq!(next_fragment(&f), Err(MessageError::FragmentBeyondMessage));
        let ok = [1, 0, 0, 10, 0, 0, 0, 0, 6, 0, 0, 4, 1, 2, 3, 4];
        let (h, body, rest) = next_fragment(&ok).unwrap();
        assert_eq!((h.fragment_offset, h.fragment_length, h.length), (6, 4, 10));
        assert_eq!(body, &[1, 2, 3, 4]);
        assert!(rest.is_empty());
        assert!(!h.is_whole());
    }

    #[test]
    fn server_hello_carries_the_extensions_asked_for() {
        let mut buf = [0u8; 128];
        let n = server_hello_body(
            &ServerHelloParams {
                random: &[1; 32],
                session_id: &[],
                cipher_suite: 0xc0a8,
                compression_method: 0,
                extended_master_secret: true,
                renegotiation_info: Some(&[]),
            },
            &mut buf,
        )
        .unwrap();
        // version, random, sid, suite, compression, then 9 bytes of extensions.
        assert_eq!(n, 2 + 32 + 1 + 2 + 1 + 2 + 5 + 4);
        assert_eq!(&buf[38..n], &[0, 9, 0xff, 0x01, 0, 1, 0, 0x00, 0x17, 0, 0]);
    }
}
