//! Handshake message framing (RFC 6347 §4.2.2): every handshake message
//! carries a 12-byte header that allows it to be fragmented across records.

use crate::codec::{put_u24, Codec, Reader};
use crate::enums::HandshakeType;
use crate::error::DecodeError;

/// Size of the DTLS handshake header.
pub const HANDSHAKE_HEADER_LEN: usize = 12;

/// The DTLS handshake header (RFC 6347 §4.2.2). The three length/offset
/// fields are 24 bits on the wire; higher bits are dropped when encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandshakeHeader {
    pub msg_type: HandshakeType,
    /// Length of the whole (reassembled) message body.
    pub length: u32,
    pub message_seq: u16,
    pub fragment_offset: u32,
    pub fragment_length: u32,
}

impl HandshakeHeader {
    /// Header of an unfragmented message with a body of `len` bytes.
    pub fn unfragmented(msg_type: HandshakeType, message_seq: u16, len: usize) -> Self {
        Self {
            msg_type,
            length: len as u32,
            message_seq,
            fragment_offset: 0,
            fragment_length: len as u32,
        }
    }

    /// Whether this header describes a whole message in one fragment.
    pub fn is_unfragmented(&self) -> bool {
        self.fragment_offset == 0 && self.fragment_length == self.length
    }

    /// Checks that the fragment lies inside the message (RFC 6347 §4.2.2:
    /// `fragment_offset + fragment_length <= length`). Not done while
    /// reading, so an inconsistent header can still be looked at.
    pub fn check_fragment_bounds(&self) -> Result<(), DecodeError> {
        let end = u64::from(self.fragment_offset) + u64::from(self.fragment_length);
        if end > u64::from(self.length) {
            return Err(DecodeError::LengthMismatch {
                what: "Handshake.fragment_offset + fragment_length",
                declared: end as usize,
                actual: self.length as usize,
            });
        }
        Ok(())
    }
}

impl Codec for HandshakeHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        self.msg_type.encode(out);
        put_u24(out, self.length);
        out.extend_from_slice(&self.message_seq.to_be_bytes());
        put_u24(out, self.fragment_offset);
        put_u24(out, self.fragment_length);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if r.remaining() < HANDSHAKE_HEADER_LEN {
            return Err(DecodeError::Truncated {
                what: "Handshake header",
                needed: HANDSHAKE_HEADER_LEN,
                available: r.remaining(),
            });
        }
        Ok(Self {
            msg_type: HandshakeType::from(r.u8("Handshake.msg_type")?),
            length: r.u24("Handshake.length")?,
            message_seq: r.u16("Handshake.message_seq")?,
            fragment_offset: r.u24("Handshake.fragment_offset")?,
            fragment_length: r.u24("Handshake.fragment_length")?,
        })
    }
}

/// One handshake fragment as carried in a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandshakeFragment {
    pub header: HandshakeHeader,
    /// `header.fragment_length` bytes when read; anything when crafted.
    pub body: Vec<u8>,
}

impl HandshakeFragment {
    /// Reads every fragment of a handshake record's plaintext. A record may
    /// hold several (RFC 6347 §4.2.3 lets senders pack messages); all of
    /// them must fit exactly, otherwise the first inconsistency is returned.
    pub fn read_all(record_fragment: &[u8]) -> Result<Vec<HandshakeFragment>, DecodeError> {
        let mut r = Reader::new(record_fragment);
        let mut out = Vec::new();
        while r.any_left() {
            out.push(Self::read(&mut r)?);
        }
        Ok(out)
    }

    /// Reads one fragment: header, then `fragment_length` bytes.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header = HandshakeHeader::read(r)?;
        let body = r
            .take_declared(header.fragment_length as usize, "Handshake fragment body")?
            .to_vec();
        Ok(Self { header, body })
    }

    /// Writes the header exactly as given, then the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.header.encode(out);
        out.extend_from_slice(&self.body);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HANDSHAKE_HEADER_LEN + self.body.len());
        self.encode(&mut out);
        out
    }

    /// Cuts a message body into consistent fragments of at most
    /// `max_fragment_len` body bytes each (at least one fragment, even for an
    /// empty body; a zero maximum is treated as one).
    pub fn split(
        msg_type: HandshakeType,
        message_seq: u16,
        body: &[u8],
        max_fragment_len: usize,
    ) -> Vec<HandshakeFragment> {
        let step = max_fragment_len.max(1);
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let end = body.len().min(offset + step);
            let chunk = &body[offset..end];
            out.push(HandshakeFragment {
                header: HandshakeHeader {
                    msg_type,
                    length: body.len() as u32,
                    message_seq,
                    fragment_offset: offset as u32,
                    fragment_length: chunk.len() as u32,
                },
                body: chunk.to_vec(),
            });
            offset = end;
            if offset >= body.len() {
                return out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout_matches_rfc6347() {
        let bytes = [
            1, // client_hello
            0x00, 0x01, 0x00, // length 256
            0x00, 0x02, // message_seq
            0x00, 0x00, 0x10, // fragment_offset 16
            0x00, 0x00, 0x20, // fragment_length 32
        ];
        let h = HandshakeHeader::from_bytes(&bytes).unwrap();
        assert_eq!(h.msg_type, HandshakeType::ClientHello);
        assert_eq!(h.length, 256);
        assert_eq!(h.message_seq, 2);
        assert_eq!(h.fragment_offset, 16);
        assert_eq!(h.fragment_length, 32);
        assert_eq!(h.to_bytes(), bytes);
        assert!(!h.is_unfragmented());
        assert!(h.check_fragment_bounds().is_ok());
    }

    #[test]
    fn several_fragments_in_one_record() {
        let a = HandshakeFragment {
            header: HandshakeHeader::unfragmented(HandshakeType::ServerHelloDone, 4, 0),
            body: vec![],
        };
        let b = HandshakeFragment {
            header: HandshakeHeader::unfragmented(HandshakeType::Finished, 5, 3),
            body: vec![1, 2, 3],
        };
        let mut bytes = a.to_bytes();
        bytes.extend(b.to_bytes());
        assert_eq!(HandshakeFragment::read_all(&bytes).unwrap(), vec![a, b]);
    }

    #[test]
    fn fragment_length_beyond_record_is_an_error() {
        let mut f = HandshakeFragment {
            header: HandshakeHeader::unfragmented(HandshakeType::Finished, 5, 3),
            body: vec![1, 2, 3],
        };
        f.header.fragment_length = 9;
        assert_eq!(
            HandshakeFragment::read_all(&f.to_bytes()),
            Err(DecodeError::LengthMismatch {
                what: "Handshake fragment body",
                declared: 9,
                actual: 3
            })
        );
    }

    #[test]
    fn fragment_beyond_message_fails_bounds_check() {
        let h = HandshakeHeader {
            msg_type: HandshakeType::Certificate,
            length: 10,
            message_seq: 1,
            fragment_offset: 8,
            fragment_length: 4,
        };
        assert!(matches!(
            h.check_fragment_bounds(),
            Err(DecodeError::LengthMismatch {
                declared: 12,
                actual: 10,
                ..
            })
        ));
    }

    #[test]
    fn split_covers_the_body() {
        let body: Vec<u8> = (0..10).collect();
        let frags = HandshakeFragment::split(HandshakeType::Certificate, 3, &body, 4);
        assert_eq!(frags.len(), 3);
        let offsets: Vec<u32> = frags.iter().map(|f| f.header.fragment_offset).collect();
        assert_eq!(offsets, [0, 4, 8]);
        let joined: Vec<u8> = frags.iter().flat_map(|f| f.body.clone()).collect();
        assert_eq!(joined, body);
        assert!(frags.iter().all(|f| f.header.length == 10));
        assert_eq!(
            HandshakeFragment::split(HandshakeType::ServerHelloDone, 0, &[], 4).len(),
            1
        );
    }
}
