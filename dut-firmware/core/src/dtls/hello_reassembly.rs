//! Reassembly of fragmented ClientHellos in front of the cookie check (RFC 6347 §4.2.3:
//! every handshake message may be fragmented, the first ClientHello included).
//!
//! The cookie exchange exists so that a server keeps no per-client state before the client
//! has proved its address (§4.2.1). Reassembling a ClientHello needs some state, so it is
//! kept in a small area shared by every peer: [`HELLO_SLOTS`] slots keyed by address, the
//! oldest evicted when a new address needs one, a message bounded by
//! [`crate::dtls::reassembly::REASSEMBLY_BUF`]. A flood of fragments from spoofed
//! addresses can therefore cost at most this area (and the legitimate client a
//! retransmission), never the session table; no timer is attached to a slot.

use super::messages::{HandshakeHeader, CLIENT_HELLO};
use super::reassembly::{HelloReassembler, ReassemblyError};
use crate::faults::Faults;
use crate::peer::PeerAddr;

/// ClientHellos reassembled at once, across all peers.
pub const HELLO_SLOTS: usize = 2;

/// Why a ClientHello fragment was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelloFragmentError {
    /// Not a ClientHello fragment.
    NotClientHello(u8),
    /// The message is longer than a slot.
    TooLong(u32),
    /// The fragment disagrees with earlier fragments of the same message_seq on its length
    /// (RFC 6347 §4.2.3: every fragment repeats the message's length).
    Inconsistent,
    /// Only with the `no_fragment_reassembly` fault: a fragment is not taken at all.
    Fragmented,
}

#[derive(Clone, Debug, Default)]
struct Slot {
    peer: Option<PeerAddr>,
    /// When the slot was taken, in arrivals (not time): the smallest is evicted first.
    taken_at: u64,
    reassembler: HelloReassembler,
}

/// The shared area; see the module documentation.
#[derive(Clone, Debug, Default)]
pub struct HelloReassembly {
    slots: [Slot; HELLO_SLOTS],
    arrivals: u64,
}

impl HelloReassembly {
    /// Drops any partial ClientHello from `peer` (a whole one arrived, or the peer is
    /// done with it).
    pub fn forget(&mut self, peer: &PeerAddr) {
        for s in self.slots.iter_mut() {
            if s.peer.as_ref() == Some(peer) {
                s.peer = None;
                s.reassembler.reset();
            }
        }
    }

    /// How many slots hold a partial ClientHello.
    pub fn in_use(&self) -> usize {
        self.slots.iter().filter(|s| s.peer.is_some()).count()
    }

    /// Adds one fragment of a ClientHello from `peer` (`next_fragment` has already
    /// checked that offset + length stays inside the message). Returns the message_seq
    /// and body once every byte has arrived; the slot is then free again. `faults` may turn
    /// on the reassembly bugs of [`crate::faults::Fault`].
    pub fn add(
        &mut self,
        peer: PeerAddr,
        h: &HandshakeHeader,
        body: &[u8],
        faults: &Faults,
    ) -> Result<Option<(u16, &[u8])>, HelloFragmentError> {
        if h.msg_type != CLIENT_HELLO {
            return Err(HelloFragmentError::NotClientHello(h.msg_type));
        }
        if h.length as usize > super::reassembly::REASSEMBLY_BUF {
            // Refused before a slot is taken: a lie about the length evicts nobody.
            return Err(HelloFragmentError::TooLong(h.length));
        }
        self.arrivals = self.arrivals.wrapping_add(1);
        let i = match self.slots.iter().position(|s| s.peer == Some(peer)) {
            Some(i) => i,
            None => {
                let i = self
                    .slots
                    .iter()
                    .position(|s| s.peer.is_none())
                    .or_else(|| (0..HELLO_SLOTS).min_by_key(|&i| self.slots[i].taken_at))
                    .unwrap_or(0);
                let s = &mut self.slots[i];
                s.peer = Some(peer);
                s.taken_at = self.arrivals;
                s.reassembler.reset();
                i
            }
        };
        let slot = &mut self.slots[i];
        match slot.reassembler.add(h, body, faults) {
            Ok(None) => Ok(None),
            Ok(Some((_, message))) => {
                slot.peer = None;
                Ok(Some((h.message_seq, message)))
            }
            Err(ReassemblyError::TooLong(n)) => Err(HelloFragmentError::TooLong(n)),
            Err(ReassemblyError::Inconsistent) => Err(HelloFragmentError::Inconsistent),
            Err(ReassemblyError::Fragmented) => {
                slot.peer = None;
                Err(HelloFragmentError::Fragmented)
            }
        }
    }
}

/// Only with the `no_retransmission` fault: the last ClientHellos answered with a
/// HelloVerifyRequest, by address and random, so that a repeated one gets no second answer.
/// A correct server keeps nothing here (RFC 6347 §4.2.1); without the `faults` feature
/// this holds nothing at all.
#[derive(Clone, Debug, Default)]
pub struct AnsweredHellos {
    #[cfg(feature = "faults")]
    last: [Option<(PeerAddr, [u8; 32])>; HELLO_SLOTS],
    #[cfg(feature = "faults")]
    next: usize,
}

impl AnsweredHellos {
    /// Whether this ClientHello was answered before; remembers it either way.
    #[cfg_attr(not(feature = "faults"), allow(unused_variables))]
    pub fn seen_before(&mut self, peer: PeerAddr, random: &[u8; 32]) -> bool {
        #[cfg(feature = "faults")]
        {
            let entry = Some((peer, *random));
            if self.last.contains(&entry) {
                return true;
            }
            self.last[self.next % HELLO_SLOTS] = entry;
            self.next = self.next.wrapping_add(1);
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(port: u16) -> PeerAddr {
        PeerAddr::from_ipv4([192, 0, 2, 1], port)
    }

    fn frag(length: u32, seq: u16, off: u32, len: u32) -> HandshakeHeader {
        HandshakeHeader {
            msg_type: CLIENT_HELLO,
            length,
            message_seq: seq,
            fragment_offset: off,
            fragment_length: len,
        }
    }

    const MSG: [u8; 30] = {
        let mut m = [0u8; 30];
        let mut i = 0;
        while i < 30 {
            m[i] = i as u8 + 1;
            i += 1;
        }
        m
    };

    #[test]
    fn three_fragments_in_any_order_give_the_message_back_once() {
        let mut area = HelloReassembly::default();
        let p = peer(1);
        assert_eq!(
            area.add(p, &frag(30, 0, 20, 10), &MSG[20..], &Faults::default()),
            Ok(None)
        );
        assert_eq!(
            area.add(p, &frag(30, 0, 0, 10), &MSG[..10], &Faults::default()),
            Ok(None)
        );
        assert_eq!(area.in_use(), 1);
        let done = area
            .add(p, &frag(30, 0, 10, 10), &MSG[10..20], &Faults::default())
            .unwrap();
        assert_eq!(done, Some((0, &MSG[..])));
        assert_eq!(
            area.in_use(),
            0,
            "the slot is free once the message is whole"
        );
    }

    #[test]
    fn peers_do_not_mix_and_the_oldest_slot_is_evicted() {
        let mut area = HelloReassembly::default();
        let (a, b, c) = (peer(1), peer(2), peer(3));
        area.add(a, &frag(30, 0, 0, 10), &MSG[..10], &Faults::default())
            .unwrap();
        area.add(b, &frag(30, 0, 0, 10), &MSG[..10], &Faults::default())
            .unwrap();
        // A third address takes a's slot (the oldest); b's message survives.
        area.add(c, &frag(30, 0, 0, 10), &MSG[..10], &Faults::default())
            .unwrap();
        assert_eq!(area.in_use(), HELLO_SLOTS);
        assert_eq!(
            area.add(b, &frag(30, 0, 10, 20), &MSG[10..], &Faults::default())
                .unwrap(),
            Some((0, &MSG[..])),
            "b's first piece survived"
        );
        assert_eq!(
            area.add(a, &frag(30, 0, 10, 20), &MSG[10..], &Faults::default()),
            Ok(None),
            "a starts over: its first piece was evicted"
        );
    }

    #[test]
    fn bounds_and_inconsistencies_are_refused() {
        let mut area = HelloReassembly::default();
        let p = peer(1);
        let long = super::super::reassembly::REASSEMBLY_BUF as u32 + 1;
        assert_eq!(
            area.add(p, &frag(long, 0, 0, 1), &[0], &Faults::default()),
            Err(HelloFragmentError::TooLong(long))
        );
        assert_eq!(area.in_use(), 0, "a too-long message takes no slot");
        area.add(p, &frag(30, 0, 0, 10), &MSG[..10], &Faults::default())
            .unwrap();
        assert_eq!(
            area.add(p, &frag(31, 0, 10, 10), &MSG[10..20], &Faults::default()),
            Err(HelloFragmentError::Inconsistent)
        );
        let mut other = frag(30, 0, 10, 10);
        other.msg_type = 16;
        assert_eq!(
            area.add(p, &other, &MSG[10..20], &Faults::default()),
            Err(HelloFragmentError::NotClientHello(16))
        );
        // The consistent fragments still complete the message.
        assert_eq!(
            area.add(p, &frag(30, 0, 10, 20), &MSG[10..], &Faults::default())
                .unwrap(),
            Some((0, &MSG[..]))
        );
    }

    #[test]
    fn a_new_message_seq_starts_the_message_over_and_forget_frees_the_slot() {
        let mut area = HelloReassembly::default();
        let p = peer(1);
        area.add(p, &frag(30, 0, 0, 20), &MSG[..20], &Faults::default())
            .unwrap();
        // message_seq 1 (the ClientHello with the cookie): the old bytes do not count.
        assert_eq!(
            area.add(p, &frag(30, 1, 20, 10), &MSG[20..], &Faults::default()),
            Ok(None)
        );
        area.forget(&p);
        assert_eq!(area.in_use(), 0);
    }
}
