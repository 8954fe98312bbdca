//! Bounded reassembly of the client's handshake messages (RFC 6347 §4.2.3): fragments of
//! the expected message may come in any order, overlap or repeat; the message is complete
//! when every byte has arrived. One fixed buffer per session; a message longer than it is
//! refused (a PSK server never needs long messages from the client).

use super::messages::HandshakeHeader;

/// Longest client handshake message the device reassembles.
pub const REASSEMBLY_BUF: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReassemblyError {
    /// The message is longer than the buffer.
    TooLong(u32),
    /// A fragment disagrees with the first one on msg_type or length.
    Inconsistent,
}

#[derive(Clone, Debug)]
pub struct Reassembler {
    buf: [u8; REASSEMBLY_BUF],
    /// Bit i of byte i/8: byte i has arrived.
    have: [u8; REASSEMBLY_BUF / 8],
    /// (msg_type, length, message_seq) of the message being collected.
    current: Option<(u8, u32, u16)>,
}

impl Default for Reassembler {
    fn default() -> Self {
        Reassembler {
            buf: [0; REASSEMBLY_BUF],
            have: [0; REASSEMBLY_BUF / 8],
            current: None,
        }
    }
}

impl Reassembler {
    pub fn reset(&mut self) {
        self.current = None;
        self.have = [0; REASSEMBLY_BUF / 8];
    }

    /// Adds one fragment of message `h.message_seq` (the caller passes only fragments of
    /// the message it expects next). Returns the message once complete; the reassembler is
    /// then empty again.
    pub fn add(
        &mut self,
        h: &HandshakeHeader,
        body: &[u8],
    ) -> Result<Option<(u8, &[u8])>, ReassemblyError> {
        if h.length as usize > REASSEMBLY_BUF {
            return Err(ReassemblyError::TooLong(h.length));
        }
        match self.current {
            Some((t, l, s)) if s == h.message_seq => {
                if t != h.msg_type || l != h.length {
                    return Err(ReassemblyError::Inconsistent);
                }
            }
            _ => {
                self.reset();
                self.current = Some((h.msg_type, h.length, h.message_seq));
            }
        }
        // next_fragment() already bounded offset + length by h.length.
        let start = h.fragment_offset as usize;
        let end = start + body.len();
        if let Some(dst) = self.buf.get_mut(start..end) {
            dst.copy_from_slice(body);
        }
        for i in start..end {
            self.have[i / 8] |= 1 << (i % 8);
        }
        let len = h.length as usize;
        let complete = (0..len).all(|i| self.have[i / 8] & (1 << (i % 8)) != 0);
        if !complete {
            return Ok(None);
        }
        self.current = None;
        self.have = [0; REASSEMBLY_BUF / 8];
        Ok(Some((h.msg_type, &self.buf[..len])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(off: u32, len: u32) -> HandshakeHeader {
        HandshakeHeader {
            msg_type: 16,
            length: 10,
            message_seq: 2,
            fragment_offset: off,
            fragment_length: len,
        }
    }

    #[test]
    fn out_of_order_and_overlapping_fragments_complete_the_message() {
        let msg: [u8; 10] = core::array::from_fn(|i| i as u8);
        let mut r = Reassembler::default();
        assert_eq!(r.add(&hdr(6, 4), &msg[6..]).unwrap(), None);
        assert_eq!(r.add(&hdr(0, 4), &msg[..4]).unwrap(), None);
        assert_eq!(r.add(&hdr(0, 4), &msg[..4]).unwrap(), None, "duplicate");
        let (t, m) = r.add(&hdr(3, 4), &msg[3..7]).unwrap().unwrap();
        assert_eq!(t, 16);
        assert_eq!(m, &msg);
    }

    #[test]
    fn zero_length_message_completes_at_once_and_limits_hold() {
        let mut r = Reassembler::default();
        let h = HandshakeHeader {
            msg_type: 14,
            length: 0,
            message_seq: 0,
            fragment_offset: 0,
            fragment_length: 0,
        };
        assert_eq!(r.add(&h, &[]).unwrap(), Some((14, &[][..])));
        let big = HandshakeHeader { length: 513, ..h };
        assert_eq!(r.add(&big, &[]), Err(ReassemblyError::TooLong(513)));
        r.add(&hdr(0, 2), &[0, 1]).unwrap();
        let other = HandshakeHeader {
            msg_type: 20,
            ..hdr(2, 2)
        };
        assert_eq!(r.add(&other, &[2, 3]), Err(ReassemblyError::Inconsistent));
    }
}
