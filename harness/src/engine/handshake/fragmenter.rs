//! Cutting our own handshake messages into fragments (RFC 6347 §4.2.3), in the layout a
//! script asks for: whole, evenly sized, or an explicit list that may overlap, repeat, leave
//! gaps, be empty, come out of order, or lie in any header field.

/// One fragment to emit, as a script describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FragmentSpec {
    /// Offset of the body bytes taken from the message.
    pub offset: u32,
    /// Number of body bytes taken (clamped to what the message has).
    pub len: u32,
    /// Header fields written instead of the true ones.
    pub header: HeaderOverrides,
    /// These bytes instead of the message's (`offset`/`len` then only place the fragment
    /// header): overlapping fragments may disagree on the overlap (RFC 6347 §4.2.3).
    pub bytes: Option<Vec<u8>>,
    /// XORed into the fragment's bytes from its first one (a shorter mask leaves the rest).
    pub body_xor: Option<Vec<u8>>,
}

/// Lies a fragment header may tell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderOverrides {
    pub msg_type: Option<u8>,
    pub length: Option<u32>,
    pub message_seq: Option<u16>,
    pub fragment_offset: Option<u32>,
    pub fragment_length: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FragmentLayout {
    /// One fragment carrying the whole message.
    #[default]
    Whole,
    /// Consecutive fragments of at most this many body bytes (at least 1).
    MaxBody(u32),
    /// Exactly these fragments, in this order.
    Explicit(Vec<FragmentSpec>),
}

/// The header and body of one handshake fragment, ready to encode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutFragment {
    pub msg_type: u8,
    pub length: u32,
    pub message_seq: u16,
    pub fragment_offset: u32,
    pub fragment_length: u32,
    pub body: Vec<u8>,
}

impl OutFragment {
    /// The 12-byte DTLS handshake header followed by the body (RFC 6347 §4.2.2).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.msg_type);
        out.extend_from_slice(&self.length.to_be_bytes()[1..]);
        out.extend_from_slice(&self.message_seq.to_be_bytes());
        out.extend_from_slice(&self.fragment_offset.to_be_bytes()[1..]);
        out.extend_from_slice(&self.fragment_length.to_be_bytes()[1..]);
        out.extend_from_slice(&self.body);
    }

    pub fn encoded_len(&self) -> usize {
        12 + self.body.len()
    }
}

/// Cuts `body` (of message `msg_type`, `message_seq`) per `layout`.
pub fn fragment(
    msg_type: u8,
    message_seq: u16,
    body: &[u8],
    layout: &FragmentLayout,
) -> Vec<OutFragment> {
    let length = body.len() as u32;
    let piece = |offset: u32, len: u32, h: &HeaderOverrides| {
        let start = (offset as usize).min(body.len());
        let end = start.saturating_add(len as usize).min(body.len());
        let bytes = body[start..end].to_vec();
        piece_of(msg_type, message_seq, length, offset, bytes, h)
    };
    let explicit = |s: &FragmentSpec| {
        let mut f = match &s.bytes {
            Some(b) => piece_of(
                msg_type,
                message_seq,
                length,
                s.offset,
                b.clone(),
                &s.header,
            ),
            None => piece(s.offset, s.len, &s.header),
        };
        if let Some(mask) = &s.body_xor {
            f.body.iter_mut().zip(mask).for_each(|(b, m)| *b ^= m);
        }
        f
    };
    match layout {
        FragmentLayout::Whole => vec![piece(0, length, &HeaderOverrides::default())],
        FragmentLayout::MaxBody(max) => {
            let max = (*max).max(1);
            if length == 0 {
                return vec![piece(0, 0, &HeaderOverrides::default())];
            }
            (0..length)
                .step_by(max as usize)
                .map(|off| piece(off, max, &HeaderOverrides::default()))
                .collect()
        }
        FragmentLayout::Explicit(specs) => specs.iter().map(explicit).collect(),
    }
}

/// One fragment carrying `bytes` at `offset`, with the header's lies applied.
fn piece_of(
    msg_type: u8,
    message_seq: u16,
    length: u32,
    offset: u32,
    bytes: Vec<u8>,
    h: &HeaderOverrides,
) -> OutFragment {
    OutFragment {
        msg_type: h.msg_type.unwrap_or(msg_type),
        length: h.length.unwrap_or(length),
        message_seq: h.message_seq.unwrap_or(message_seq),
        fragment_offset: h.fragment_offset.unwrap_or(offset),
        fragment_length: h.fragment_length.unwrap_or(bytes.len() as u32),
        body: bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_split_covers_the_message() {
        let body: Vec<u8> = (0..10).collect();
        let f = fragment(1, 3, &body, &FragmentLayout::MaxBody(4));
        assert_eq!(f.len(), 3);
        assert_eq!((f[2].fragment_offset, f[2].fragment_length), (8, 2));
        assert!(f.iter().all(|x| x.length == 10 && x.message_seq == 3));
        let mut enc = Vec::new();
        f[1].encode(&mut enc);
        assert_eq!(enc, [1, 0, 0, 10, 0, 3, 0, 0, 4, 0, 0, 4, 4, 5, 6, 7]);
    }

    #[test]
    fn explicit_layout_may_lie() {
        let body = [9u8; 6];
        let spec = FragmentSpec {
            offset: 4,
            len: 100,
            header: HeaderOverrides {
                fragment_length: Some(0xFFFF),
                ..Default::default()
            },
            ..Default::default()
        };
        let f = fragment(2, 0, &body, &FragmentLayout::Explicit(vec![spec]));
        assert_eq!(f[0].body.len(), 2);
        assert_eq!(f[0].fragment_length, 0xFFFF);
        assert_eq!(f[0].fragment_offset, 4);
    }

    #[test]
    fn a_fragment_may_carry_its_own_bytes() {
        let body: Vec<u8> = (0..12).collect();
        let a = FragmentSpec {
            offset: 0,
            len: 8,
            ..Default::default()
        };
        let b = FragmentSpec {
            offset: 4,
            len: 8,
            body_xor: Some(vec![0xff]),
            ..Default::default()
        };
        let c = FragmentSpec {
            offset: 10,
            bytes: Some(vec![0xaa, 0xbb]),
            ..Default::default()
        };
        let f = fragment(20, 5, &body, &FragmentLayout::Explicit(vec![a, b, c]));
        assert_eq!(f[0].body, body[..8]);
        assert_eq!(f[1].body, [0xfb, 5, 6, 7, 8, 9, 10, 11]);
        assert_eq!((f[1].fragment_offset, f[1].fragment_length), (4, 8));
        assert_eq!(f[2].body, [0xaa, 0xbb]);
        assert_eq!(
            (f[2].fragment_offset, f[2].fragment_length, f[2].length),
            (10, 2, 12)
        );
    }
}
