//! Bounded reassembly of the client's handshake messages (RFC 6347 §4.2.3): fragments of
//! the expected message may come in any order, overlap or repeat; the message is complete
//! when every byte has arrived. Fixed buffers; a message longer than its buffer is refused
//! (a PSK server never needs long messages from the client). Two sizes: the ClientHello
//! slots in front of the cookie check ([`HelloReassembler`]), and one per session for what
//! the client sends after its ClientHello ([`HandshakeReassembler`]).

use super::messages::HandshakeHeader;
use crate::codec::Reader;
use crate::faults::{Fault, Faults};

/// Longest client handshake message the device reassembles: a ClientHello, in the shared
/// slots of `hello_reassembly` (its cipher suites, extensions and a cookie).
pub const REASSEMBLY_BUF: usize = 512;

/// Longest message a session reassembles. After the ClientHello (reassembled in front of
/// the cookie check, never here) a PSK client sends only ClientKeyExchange and Finished
/// (RFC 4279 §2, RFC 5246 §7.3): a ClientKeyExchange is the identity's 2-byte length and
/// the identity (at most [`crate::config::MAX_IDENTITY_LEN`] for one the device can know),
/// a Finished 12 bytes of verify_data (RFC 5246 §7.4.9); 8 bytes of margin. A renegotiating
/// ClientHello is refused unreassembled (RFC 5746 §4.4). Anything longer is refused at its
/// first fragment, so that it costs the session no more than this.
pub const SESSION_REASSEMBLY_BUF: usize = 2 + crate::config::MAX_IDENTITY_LEN + 8;

/// The reassembler of a ClientHello slot.
pub type HelloReassembler = Reassembler<REASSEMBLY_BUF, { REASSEMBLY_BUF.div_ceil(8) }>;
/// A session's reassembler.
pub type HandshakeReassembler =
    Reassembler<SESSION_REASSEMBLY_BUF, { SESSION_REASSEMBLY_BUF.div_ceil(8) }>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReassemblyError {
    /// The message is longer than the buffer (the length the fragment claims).
    TooLong(u32),
    /// A fragment disagrees with the first one on msg_type or length.
    Inconsistent,
    /// Only with the `no_fragment_reassembly` fault: a fragment that is not the whole
    /// message.
    Fragmented,
}

/// Reassembles messages of up to `N` bytes; `MAP` is `N` / 8 rounded up (the bitmap).
#[derive(Clone, Debug)]
pub struct Reassembler<const N: usize, const MAP: usize> {
    buf: [u8; N],
    /// Bit i of byte i/8: byte i has arrived.
    have: [u8; MAP],
    /// (msg_type, length, message_seq) of the message being collected.
    current: Option<(u8, u32, u16)>,
    /// Only with the `fragment_offset_ignored` fault: bytes appended so far.
    appended: usize,
}

impl<const N: usize, const MAP: usize> Default for Reassembler<N, MAP> {
    fn default() -> Self {
        let () = Self::MAP_COVERS_BUF;
        Reassembler {
            buf: [0; N],
            have: [0; MAP],
            current: None,
            appended: 0,
        }
    }
}

impl<const N: usize, const MAP: usize> Reassembler<N, MAP> {
    /// Checked when the type is used: the bitmap has a bit for every byte of the buffer.
    const MAP_COVERS_BUF: () = assert!(MAP * 8 >= N);

    pub fn reset(&mut self) {
        self.current = None;
        self.have = [0; MAP];
        self.appended = 0;
    }

    /// Adds one fragment of message `h.message_seq` (the caller passes only fragments of
    /// the message it expects next). Returns the message once complete; the reassembler is
    /// then empty again. `faults` may turn on the reassembly bugs of [`Fault`].
    pub fn add(
        &mut self,
        h: &HandshakeHeader,
        body: &[u8],
        faults: &Faults,
    ) -> Result<Option<(u8, &[u8])>, ReassemblyError> {
        if h.length as usize > N {
            return Err(ReassemblyError::TooLong(h.length));
        }
        if faults.has(Fault::NoFragmentReassembly) && !h.is_whole() {
            return Err(ReassemblyError::Fragmented);
        }
        match self.current {
            Some((t, l, s)) if s == h.message_seq => {
                let merge_any = faults.has(Fault::FragmentsMergedByMessageSeq);
                if (t != h.msg_type || l != h.length) && !merge_any {
                    return Err(ReassemblyError::Inconsistent);
                }
            }
            _ => {
                self.reset();
                self.current = Some((h.msg_type, h.length, h.message_seq));
            }
        }
        // The message is what the first fragment said (later ones agree, or the fault
        // `fragments_merged_by_message_seq` does not look).
        let Some((msg_type, length, _)) = self.current else {
            return Ok(None);
        };
        let len = length as usize;
        // next_fragment() already bounded offset + length by h.length (<= the buffer).
        let start = if faults.has(Fault::FragmentOffsetIgnored) {
            self.appended
        } else {
            h.fragment_offset as usize
        };
        let end = (start + body.len()).min(N);
        if let Some(dst) = self.buf.get_mut(start..end) {
            dst.copy_from_slice(&body[..end - start]);
        }
        for i in start..end {
            self.have[i / 8] |= 1 << (i % 8);
        }
        self.appended = end;
        let complete = (0..len).all(|i| self.have[i / 8] & (1 << (i % 8)) != 0);
        if !complete {
            return Ok(None);
        }
        self.reset();
        Ok(Some((msg_type, &self.buf[..len])))
    }
}

/// Whether a handshake fragment header in `payload` lies in a way only a device that
/// trusts it would act on: the fragment reaches past its message, or the message is longer
/// than any buffer of the device. Asked only by the `fragment_header_trusted` fault, which
/// crashes the device on such a header.
pub fn header_overruns(payload: &[u8]) -> bool {
    let mut r = Reader::new(payload);
    while let (Some(_), Some(length), Some(_), Some(off), Some(flen)) =
        (r.u8(), r.u24(), r.u16(), r.u24(), r.u24())
    {
        if off.saturating_add(flen) > length || length as usize > REASSEMBLY_BUF {
            return true;
        }
        if r.take(flen as usize).is_none() {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> Faults {
        Faults::default()
    }

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
        let mut r = HandshakeReassembler::default();
        assert_eq!(r.add(&hdr(6, 4), &msg[6..], &none()).unwrap(), None);
        assert_eq!(r.add(&hdr(0, 4), &msg[..4], &none()).unwrap(), None);
        assert_eq!(
            r.add(&hdr(0, 4), &msg[..4], &none()).unwrap(),
            None,
            "duplicate"
        );
        let (t, m) = r.add(&hdr(3, 4), &msg[3..7], &none()).unwrap().unwrap();
        assert_eq!(t, 16);
        assert_eq!(m, &msg);
    }

    #[test]
    fn zero_length_message_completes_at_once_and_limits_hold() {
        let mut r = HelloReassembler::default();
        let h = HandshakeHeader {
            msg_type: 14,
            length: 0,
            message_seq: 0,
            fragment_offset: 0,
            fragment_length: 0,
        };
        assert_eq!(r.add(&h, &[], &none()).unwrap(), Some((14, &[][..])));
        let big = HandshakeHeader { length: 513, ..h };
        assert_eq!(
            r.add(&big, &[], &none()),
            Err(ReassemblyError::TooLong(513))
        );
        r.add(&hdr(0, 2), &[0, 1], &none()).unwrap();
        let other = HandshakeHeader {
            msg_type: 20,
            ..hdr(2, 2)
        };
        assert_eq!(
            r.add(&other, &[2, 3], &none()),
            Err(ReassemblyError::Inconsistent)
        );
    }

    #[test]
    fn a_session_takes_the_longest_client_key_exchange_and_nothing_longer() {
        let mut r = HandshakeReassembler::default();
        let longest = SESSION_REASSEMBLY_BUF as u32;
        let h = |length| HandshakeHeader {
            msg_type: 16,
            length,
            message_seq: 1,
            fragment_offset: 0,
            fragment_length: length,
        };
        let msg = [7u8; SESSION_REASSEMBLY_BUF + 1];
        let (_, m) = r
            .add(&h(longest), &msg[..longest as usize], &none())
            .unwrap()
            .unwrap();
        assert_eq!(m.len(), 2 + crate::config::MAX_IDENTITY_LEN + 8);
        assert_eq!(
            r.add(&h(longest + 1), &msg, &none()),
            Err(ReassemblyError::TooLong(longest + 1))
        );
    }

    #[test]
    fn header_overruns_sees_lying_fragment_headers_only() {
        // ClientKeyExchange, length 10, fragment 0..4: honest.
        let honest = [16, 0, 0, 10, 0, 2, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4];
        assert!(!header_overruns(&honest));
        let mut past = honest;
        past[11] = 17; // 17 bytes of a 10-byte message
        assert!(header_overruns(&past));
        let mut huge = honest;
        huge[1..4].copy_from_slice(&[0xff, 0xff, 0xff]);
        assert!(header_overruns(&huge));
        assert!(!header_overruns(&[16, 0]), "a short header is no lie");
    }

    #[cfg(feature = "faults")]
    #[test]
    fn the_reassembly_faults_do_what_they_say() {
        let msg: [u8; 10] = core::array::from_fn(|i| i as u8);
        let on = |f: Fault| {
            let mut fs = Faults::default();
            fs.set(f);
            fs
        };
        let mut r = HandshakeReassembler::default();
        let no = on(Fault::NoFragmentReassembly);
        assert_eq!(
            r.add(&hdr(0, 4), &msg[..4], &no),
            Err(ReassemblyError::Fragmented)
        );
        assert_eq!(r.add(&hdr(0, 10), &msg, &no).unwrap(), Some((16, &msg[..])));

        // Offsets ignored: the reversed halves make a swapped message.
        let append = on(Fault::FragmentOffsetIgnored);
        assert_eq!(r.add(&hdr(5, 5), &msg[5..], &append).unwrap(), None);
        let (_, m) = r.add(&hdr(0, 5), &msg[..5], &append).unwrap().unwrap();
        assert_eq!(m, &[5, 6, 7, 8, 9, 0, 1, 2, 3, 4]);

        // Merged by message_seq: a Finished-typed piece completes the ClientKeyExchange.
        let merge = on(Fault::FragmentsMergedByMessageSeq);
        r.add(&hdr(0, 5), &msg[..5], &merge).unwrap();
        let other = HandshakeHeader {
            msg_type: 20,
            length: 40,
            ..hdr(5, 5)
        };
        assert_eq!(
            r.add(&other, &msg[5..], &merge).unwrap(),
            Some((16, &msg[..]))
        );
    }
}
