//! Bounded reassembly of the peer's handshake fragments (RFC 6347 §4.2.3).
//!
//! Fragments may arrive out of order, overlap, repeat, or leave gaps; a message is delivered
//! only once every byte of it is present, and only in message_seq order (§4.2.2). Every buffer
//! is bounded: a peer that announces many huge messages it never completes (the shape of
//! pion CVE-2022-29189 and OpenSSL CVE-2014-3506) cannot make us allocate without limit.

use std::collections::BTreeMap;

use thiserror::Error;

/// Limits on what the peer can make us buffer.
#[derive(Clone, Copy, Debug)]
pub struct ReassemblyLimits {
    /// Largest handshake message we agree to reassemble.
    pub max_message_len: u32,
    /// How far ahead of the next expected message_seq we buffer.
    pub max_messages_ahead: u16,
    /// Total bytes held for incomplete messages.
    pub max_buffered_bytes: usize,
}

impl Default for ReassemblyLimits {
    fn default() -> Self {
        ReassemblyLimits {
            max_message_len: 64 * 1024,
            max_messages_ahead: 16,
            max_buffered_bytes: 256 * 1024,
        }
    }
}

/// What the peer did wrong with a fragment.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ReassemblyError {
    #[error("fragment_length {declared} does not match the {actual} body bytes present")]
    FragmentLengthMismatch { declared: u32, actual: usize },
    #[error("fragment [{offset}, {end}) reaches beyond the message length {length}")]
    FragmentBeyondMessage { offset: u32, end: u64, length: u32 },
    #[error("message_seq {message_seq}: fragment says type {got}/length {got_len}, earlier fragments said type {want}/length {want_len}")]
    InconsistentFragments {
        message_seq: u16,
        want: u8,
        want_len: u32,
        got: u8,
        got_len: u32,
    },
    #[error("message_seq {message_seq}: overlapping fragments carry different bytes")]
    OverlapMismatch { message_seq: u16 },
    #[error("message length {length} exceeds our limit of {limit} bytes")]
    MessageTooLarge { length: u32, limit: u32 },
    #[error("buffered handshake data would exceed {limit} bytes")]
    BufferFull { limit: usize },
}

/// One fragment as it came off the wire.
#[derive(Clone, Copy, Debug)]
pub struct FragmentIn<'a> {
    pub msg_type: u8,
    pub length: u32,
    pub message_seq: u16,
    pub fragment_offset: u32,
    pub fragment_length: u32,
    pub body: &'a [u8],
}

/// What became of a fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FragmentOutcome {
    /// Kept (possibly completing a message).
    Accepted,
    /// Part of a message we already delivered: the peer is retransmitting (§4.2.4).
    AlreadyDelivered { message_seq: u16 },
    /// Too far ahead of what we expect; dropped (§4.2.2 allows discarding).
    TooFarAhead { message_seq: u16 },
    /// Malformed or hostile; dropped.
    Rejected(ReassemblyError),
}

/// A complete handshake message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompleteMessage {
    pub msg_type: u8,
    pub message_seq: u16,
    pub body: Vec<u8>,
    /// True when it arrived as one fragment covering the whole message.
    pub unfragmented: bool,
}

#[derive(Debug)]
struct Partial {
    msg_type: u8,
    body: Vec<u8>,
    /// Sorted, disjoint, non-adjacent byte ranges received so far.
    have: Vec<(u32, u32)>,
    fragments: u32,
}

impl Partial {
    fn complete(&self) -> bool {
        let len = self.body.len() as u32;
        len == 0 && self.fragments > 0 || self.have.first() == Some(&(0, len))
    }

    /// Adds [start, end) and merges neighbours.
    fn add_range(&mut self, start: u32, end: u32) {
        if start == end {
            return;
        }
        self.have.push((start, end));
        self.have.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(self.have.len());
        for &(s, e) in &self.have {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.have = merged;
    }

    /// Whether the bytes already held in [start, end) equal `data`.
    fn overlap_consistent(&self, start: u32, data: &[u8]) -> bool {
        let end = start + data.len() as u32;
        self.have.iter().all(|&(s, e)| {
            let lo = s.max(start);
            let hi = e.min(end);
            lo >= hi
                || self.body[lo as usize..hi as usize]
                    == data[(lo - start) as usize..(hi - start) as usize]
        })
    }
}

/// Reassembles the peer's handshake messages in order.
#[derive(Debug)]
pub struct Reassembler {
    limits: ReassemblyLimits,
    /// The message_seq we deliver next; `None` until the first message fixes it (a server
    /// that answered with a stateless HelloVerifyRequest has not seen message_seq 0).
    next_seq: Option<u16>,
    pending: BTreeMap<u16, Partial>,
    buffered: usize,
}

impl Reassembler {
    pub fn new(limits: ReassemblyLimits) -> Self {
        Reassembler {
            limits,
            next_seq: Some(0),
            pending: BTreeMap::new(),
            buffered: 0,
        }
    }

    /// Accept whatever message_seq comes first (server side before the cookie exchange).
    pub fn expect_any_first(&mut self) {
        self.next_seq = None;
        self.pending.clear();
        self.buffered = 0;
    }

    /// Expect `seq` next, dropping everything buffered (a new handshake).
    pub fn reset_to(&mut self, seq: u16) {
        self.next_seq = Some(seq);
        self.pending.clear();
        self.buffered = 0;
    }

    pub fn next_seq(&self) -> Option<u16> {
        self.next_seq
    }

    pub fn insert(&mut self, f: FragmentIn<'_>) -> FragmentOutcome {
        use FragmentOutcome::*;
        if f.fragment_length as usize != f.body.len() {
            return Rejected(ReassemblyError::FragmentLengthMismatch {
                declared: f.fragment_length,
                actual: f.body.len(),
            });
        }
        let end = u64::from(f.fragment_offset) + u64::from(f.fragment_length);
        if end > u64::from(f.length) {
            return Rejected(ReassemblyError::FragmentBeyondMessage {
                offset: f.fragment_offset,
                end,
                length: f.length,
            });
        }
        if f.length > self.limits.max_message_len {
            return Rejected(ReassemblyError::MessageTooLarge {
                length: f.length,
                limit: self.limits.max_message_len,
            });
        }
        if let Some(next) = self.next_seq {
            if f.message_seq < next {
                return AlreadyDelivered {
                    message_seq: f.message_seq,
                };
            }
            if f.message_seq - next >= self.limits.max_messages_ahead {
                return TooFarAhead {
                    message_seq: f.message_seq,
                };
            }
        }
        let partial = match self.pending.get_mut(&f.message_seq) {
            Some(p) => {
                if p.msg_type != f.msg_type || p.body.len() as u32 != f.length {
                    // Fragments of two different messages under one message_seq must never
                    // be merged (§4.2.3; the shape of a GnuTLS heap overflow).
                    return Rejected(ReassemblyError::InconsistentFragments {
                        message_seq: f.message_seq,
                        want: p.msg_type,
                        want_len: p.body.len() as u32,
                        got: f.msg_type,
                        got_len: f.length,
                    });
                }
                p
            }
            None => {
                if self.buffered + f.length as usize > self.limits.max_buffered_bytes {
                    return Rejected(ReassemblyError::BufferFull {
                        limit: self.limits.max_buffered_bytes,
                    });
                }
                self.buffered += f.length as usize;
                self.pending.entry(f.message_seq).or_insert(Partial {
                    msg_type: f.msg_type,
                    body: vec![0; f.length as usize],
                    have: Vec::new(),
                    fragments: 0,
                })
            }
        };
        if !partial.overlap_consistent(f.fragment_offset, f.body) {
            return Rejected(ReassemblyError::OverlapMismatch {
                message_seq: f.message_seq,
            });
        }
        let start = f.fragment_offset as usize;
        partial.body[start..start + f.body.len()].copy_from_slice(f.body);
        partial.add_range(f.fragment_offset, f.fragment_offset + f.fragment_length);
        partial.fragments += 1;
        Accepted
    }

    /// The next message in message_seq order, once it is complete.
    pub fn pop_complete(&mut self) -> Option<CompleteMessage> {
        let seq = match self.next_seq {
            Some(s) => s,
            None => {
                // First message fixes the sequence: take the lowest complete one.
                let (&s, _) = self.pending.iter().find(|(_, p)| p.complete())?;
                s
            }
        };
        if !self.pending.get(&seq)?.complete() {
            return None;
        }
        let p = self.pending.remove(&seq)?;
        self.buffered -= p.body.len();
        self.next_seq = Some(seq.wrapping_add(1));
        // Drop anything now behind us.
        let next = seq.wrapping_add(1);
        let stale: Vec<u16> = self.pending.range(..next).map(|(k, _)| *k).collect();
        for k in stale {
            if let Some(p) = self.pending.remove(&k) {
                self.buffered -= p.body.len();
            }
        }
        Some(CompleteMessage {
            msg_type: p.msg_type,
            message_seq: seq,
            unfragmented: p.fragments == 1,
            body: p.body,
        })
    }

    /// Bytes currently held for incomplete messages.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(seq: u16, len: u32, off: u32, body: &[u8]) -> FragmentIn<'_> {
        FragmentIn {
            msg_type: 1,
            length: len,
            message_seq: seq,
            fragment_offset: off,
            fragment_length: body.len() as u32,
            body,
        }
    }

    #[test]
    fn out_of_order_overlapping_fragments_reassemble() {
        let msg: Vec<u8> = (0..100u8).collect();
        let mut r = Reassembler::new(ReassemblyLimits::default());
        assert_eq!(
            r.insert(frag(0, 100, 50, &msg[50..])),
            FragmentOutcome::Accepted
        );
        assert!(r.pop_complete().is_none());
        assert_eq!(
            r.insert(frag(0, 100, 10, &msg[10..60])),
            FragmentOutcome::Accepted
        );
        assert_eq!(
            r.insert(frag(0, 100, 0, &msg[0..0])),
            FragmentOutcome::Accepted
        );
        assert!(r.pop_complete().is_none());
        assert_eq!(
            r.insert(frag(0, 100, 0, &msg[0..20])),
            FragmentOutcome::Accepted
        );
        let m = r.pop_complete().expect("complete");
        assert_eq!(m.body, msg);
        assert!(!m.unfragmented);
        assert_eq!(r.buffered_bytes(), 0);
        assert_eq!(
            r.insert(frag(0, 100, 0, &msg)),
            FragmentOutcome::AlreadyDelivered { message_seq: 0 }
        );
    }

    #[test]
    fn hostile_fragments_are_rejected() {
        let mut r = Reassembler::new(ReassemblyLimits::default());
        assert!(matches!(
            r.insert(frag(0, 10, 8, &[0; 4])),
            FragmentOutcome::Rejected(ReassemblyError::FragmentBeyondMessage { .. })
        ));
        assert_eq!(r.insert(frag(0, 10, 0, &[1; 4])), FragmentOutcome::Accepted);
        assert!(matches!(
            r.insert(frag(0, 12, 4, &[1; 4])),
            FragmentOutcome::Rejected(ReassemblyError::InconsistentFragments { .. })
        ));
        assert!(matches!(
            r.insert(frag(0, 10, 2, &[2; 4])),
            FragmentOutcome::Rejected(ReassemblyError::OverlapMismatch { .. })
        ));
        let mut lying = frag(1, 10, 0, &[0; 4]);
        lying.fragment_length = 9;
        assert!(matches!(
            r.insert(lying),
            FragmentOutcome::Rejected(ReassemblyError::FragmentLengthMismatch { .. })
        ));
    }

    #[test]
    fn memory_stays_bounded_under_huge_incomplete_messages() {
        let limits = ReassemblyLimits::default();
        let mut r = Reassembler::new(limits);
        for seq in 0..16u16 {
            let _ = r.insert(frag(seq, limits.max_message_len, 0, &[0; 1]));
        }
        assert!(r.buffered_bytes() <= limits.max_buffered_bytes);
        assert!(matches!(
            r.insert(frag(0, 0xFF_FFFF, 0, &[0; 1])),
            FragmentOutcome::Rejected(ReassemblyError::MessageTooLarge { .. })
        ));
        assert_eq!(
            r.insert(frag(40, 4, 0, &[0; 4])),
            FragmentOutcome::TooFarAhead { message_seq: 40 }
        );
    }

    #[test]
    fn delivers_in_message_seq_order() {
        let mut r = Reassembler::new(ReassemblyLimits::default());
        r.insert(frag(1, 2, 0, b"bb"));
        assert!(r.pop_complete().is_none());
        r.insert(frag(0, 2, 0, b"aa"));
        assert_eq!(r.pop_complete().unwrap().body, b"aa");
        assert_eq!(r.pop_complete().unwrap().body, b"bb");
    }

    #[test]
    fn a_server_takes_the_first_message_seq_it_sees() {
        let mut r = Reassembler::new(ReassemblyLimits::default());
        r.expect_any_first();
        r.insert(frag(1, 2, 0, b"ch"));
        let m = r.pop_complete().unwrap();
        assert_eq!(m.message_seq, 1);
        assert_eq!(r.next_seq(), Some(2));
    }
}
