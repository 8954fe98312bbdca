//! Building outgoing datagrams: records are appended to one datagram buffer until the
//! next would not fit the configured size, then the datagram goes to the caller's closure
//! (RFC 6347 §4.1.1: several records may share a datagram, none may span two).

use super::epoch::WriteState;
use super::record::{write_header, RecordHeader, DTLS1_2, HEADER_LEN, MAX_SEQ};
use crate::codec::Writer;
use crate::crypto::protect::RecordContext;
use crate::crypto::Drbg;
use crate::peer::PeerAddr;

pub struct Output<'a> {
    buf: &'a mut [u8],
    len: usize,
    max: usize,
    peer: PeerAddr,
    sink: &'a mut dyn FnMut(&PeerAddr, &[u8]),
    pub rng: &'a mut Drbg,
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
}
