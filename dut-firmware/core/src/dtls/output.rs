//! Building outgoing datagrams: records are appended to one datagram buffer until the
//! next would not fit the configured size, then the datagram goes to the caller's closure
//! (RFC 6347 §4.1.1: several records may share a datagram, none may span two).

use super::epoch::WriteState;
use super::messages::HANDSHAKE_HEADER_LEN;
use super::record::{write_header, RecordHeader, DTLS1_2, HANDSHAKE, HEADER_LEN, MAX_SEQ};
use crate::codec::Writer;
use crate::crypto::protect::RecordContext;
use crate::crypto::Drbg;
use crate::peer::PeerAddr;
use crate::variations::{Variation, Variations, FRAGMENT_BODY};

/// Room for one record carrying a whole flight with `messages_in_one_record` (a flight of
/// at most `FLIGHT_BUF` bytes, plus a handshake header per extra fragment).
const ONE_RECORD_BUF: usize = 320;

/// The whole handshake messages of a flight, each with its 12-byte header.
fn messages(flight: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut p = 0;
    core::iter::from_fn(move || {
        let h = flight.get(p..p + HANDSHAKE_HEADER_LEN)?;
        let len = usize::from(h[9]) << 16 | usize::from(h[10]) << 8 | usize::from(h[11]);
        let start = p;
        p = (p + HANDSHAKE_HEADER_LEN + len).min(flight.len());
        Some(&flight[start..p])
    })
}

/// The header of the fragment of a message (its whole-message header `h`) that starts at
/// `offset` and is `len` bytes long (RFC 6347 §4.2.2).
fn fragment_header(h: &[u8], offset: usize, len: usize) -> [u8; HANDSHAKE_HEADER_LEN] {
    let mut f = [0u8; HANDSHAKE_HEADER_LEN];
    f[..6].copy_from_slice(&h[..6]);
    f[6..9].copy_from_slice(&(offset as u32).to_be_bytes()[1..]);
    f[9..12].copy_from_slice(&(len as u32).to_be_bytes()[1..]);
    f
}

/// The fragments of one message: the whole message, or with `fragmented_flights` pieces of
/// at most [`FRAGMENT_BODY`] bytes (one, empty, for an empty body): (offset, length).
fn fragments(body_len: usize, v: &Variations) -> impl Iterator<Item = (usize, usize)> {
    let step = if v.has(Variation::FragmentedFlights) {
        FRAGMENT_BODY
    } else {
        usize::MAX
    };
    let mut off = 0;
    let mut first = true;
    core::iter::from_fn(move || {
        if !first && off >= body_len {
            return None;
        }
        first = false;
        let n = (body_len - off).min(step);
        let at = off;
        off += n;
        Some((at, n))
    })
}

pub struct Output<'a> {
    buf: &'a mut [u8],
    len: usize,
    max: usize,
    peer: PeerAddr,
    sink: &'a mut dyn FnMut(&PeerAddr, &[u8]),
    pub rng: &'a mut Drbg,
    /// The board's fault switches (all off, and compiled out, in firmware images).
    pub faults: crate::faults::Faults,
}

impl<'a> Output<'a> {
    pub fn new(
        buf: &'a mut [u8],
        max: usize,
        peer: PeerAddr,
        sink: &'a mut dyn FnMut(&PeerAddr, &[u8]),
        rng: &'a mut Drbg,
    ) -> Self {
        let max = max.min(buf.len());
        Output {
            buf,
            len: 0,
            max,
            peer,
            sink,
            rng,
            faults: crate::faults::Faults::default(),
        }
    }

    /// Sends what is buffered; subsequent records go to `peer`.
    pub fn retarget(&mut self, peer: PeerAddr) {
        if peer != self.peer {
            self.flush();
            self.peer = peer;
        }
    }

    pub fn flush(&mut self) {
        if self.len > 0 {
            (self.sink)(&self.peer, &self.buf[..self.len]);
            self.len = 0;
        }
    }

    /// Appends one record protected with `w`'s keys and numbered with its next sequence
    /// number. False if it cannot be sent (too large, or the sequence space is spent).
    pub fn record(&mut self, w: &mut WriteState, content_type: u8, payload: &[u8]) -> bool {
        self.record_with_version(w, content_type, DTLS1_2, payload)
    }

    pub fn record_with_version(
        &mut self,
        w: &mut WriteState,
        content_type: u8,
        version: u16,
        payload: &[u8],
    ) -> bool {
        // §4.1: the sequence number must never repeat within an epoch.
        if w.seq > MAX_SEQ {
            return false;
        }
        // The fault: protected records claim DTLS 1.0 in a DTLS 1.2 association.
        let version = if w.epoch > 0
            && self
                .faults
                .has(crate::faults::Fault::ProtectedRecordsVersion10)
        {
            super::record::DTLS1_0
        } else {
            version
        };
        let overhead = w.keys.as_ref().map_or(0, |k| k.max_overhead());
        let need = HEADER_LEN + payload.len() + overhead;
        if need > self.max {
            return false;
        }
        if self.len + need > self.max {
            self.flush();
        }
        let region = &mut self.buf[self.len..self.len + need];
        let frag_len = match &w.keys {
            None => {
                region[HEADER_LEN..].copy_from_slice(payload);
                payload.len()
            }
            Some(k) => {
                let p = HEADER_LEN + k.prefix_len();
                region[p..p + payload.len()].copy_from_slice(payload);
                let mut iv = [0u8; 16];
                if k.prefix_len() == 16 {
                    // CBC: a fresh unpredictable IV per record (RFC 5246 §6.2.3.2).
                    self.rng.fill(&mut iv);
                }
                let ctx = RecordContext {
                    epoch: w.epoch,
                    seq: w.seq,
                    content_type,
                    version,
                };
                match k.seal(&ctx, &mut region[HEADER_LEN..], payload.len(), &iv) {
                    Ok(n) => n,
                    Err(_) => return false,
                }
            }
        };
        let header = RecordHeader {
            content_type,
            version,
            epoch: w.epoch,
            seq: w.seq,
        };
        let mut hw = Writer::new(&mut region[..HEADER_LEN]);
        if write_header(&mut hw, &header, frag_len).is_err() {
            return false;
        }
        self.len += HEADER_LEN + frag_len;
        w.seq += 1;
        true
    }

    /// Sends a flight of whole handshake messages (each behind its 12-byte header, as they
    /// enter the transcript), in records of `version`. By default one record per message,
    /// records packed into datagrams as they fit (RFC 6347 §4.1.1). The legal-variation
    /// switches `fragmented_flights`, `messages_in_one_record` and
    /// `one_datagram_per_message` choose the other layouts §4.2.3 allows.
    pub fn handshake_flight(
        &mut self,
        w: &mut WriteState,
        version: u16,
        flight: &[u8],
        v: &Variations,
    ) {
        if v.has(Variation::MessagesInOneRecord) {
            self.flight_in_one_record(w, version, flight, v);
            return;
        }
        for message in messages(flight) {
            let (h, body) = message.split_at(HANDSHAKE_HEADER_LEN);
            for (off, n) in fragments(body.len(), v) {
                if n == body.len() {
                    self.record_with_version(w, HANDSHAKE, version, message);
                    continue;
                }
                let mut piece = [0u8; HANDSHAKE_HEADER_LEN + FRAGMENT_BODY];
                piece[..HANDSHAKE_HEADER_LEN].copy_from_slice(&fragment_header(h, off, n));
                piece[HANDSHAKE_HEADER_LEN..][..n].copy_from_slice(&body[off..off + n]);
                let piece = &piece[..HANDSHAKE_HEADER_LEN + n];
                self.record_with_version(w, HANDSHAKE, version, piece);
            }
            if v.has(Variation::OneDatagramPerMessage) {
                self.flush();
            }
        }
    }

    /// Sends a HelloVerifyRequest (a whole message behind its header) in one record, its
    /// sequence number the ClientHello's (RFC 6347 §4.2.1): with `fragmented_flights` its
    /// fragments share that record (§4.2.3 allows several in one), as a stateless server
    /// has no other number it may use.
    pub fn hello_verify_request(
        &mut self,
        w: &mut WriteState,
        version: u16,
        message: &[u8],
        v: &Variations,
    ) {
        if v.has(Variation::FragmentedFlights) {
            self.flight_in_one_record(w, version, message, v);
        } else {
            self.record_with_version(w, HANDSHAKE, version, message);
        }
    }

    /// `messages_in_one_record`: every fragment of the flight in one record (more only if it
    /// would not fit [`ONE_RECORD_BUF`]).
    fn flight_in_one_record(
        &mut self,
        w: &mut WriteState,
        version: u16,
        flight: &[u8],
        v: &Variations,
    ) {
        let mut rec = [0u8; ONE_RECORD_BUF];
        let mut len = 0;
        for message in messages(flight) {
            let (h, body) = message.split_at(HANDSHAKE_HEADER_LEN);
            for (off, n) in fragments(body.len(), v) {
                if len + HANDSHAKE_HEADER_LEN + n > ONE_RECORD_BUF {
                    self.record_with_version(w, HANDSHAKE, version, &rec[..len]);
                    len = 0;
                }
                rec[len..][..HANDSHAKE_HEADER_LEN].copy_from_slice(&fragment_header(h, off, n));
                len += HANDSHAKE_HEADER_LEN;
                rec[len..][..n].copy_from_slice(&body[off..off + n]);
                len += n;
            }
        }
        if len > 0 {
            self.record_with_version(w, HANDSHAKE, version, &rec[..len]);
        }
    }
}
