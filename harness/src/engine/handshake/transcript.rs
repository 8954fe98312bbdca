//! The handshake transcript behind Finished, CertificateVerify and the RFC 7627 session hash.
//!
//! RFC 6347 §4.2.6: each message is hashed as if it had been sent as one fragment, i.e. with
//! its 12-byte DTLS header carrying fragment_offset 0 and fragment_length = length, whatever
//! fragmentation was really used. §4.2.1: the cookieless ClientHello and the
//! HelloVerifyRequest are left out.

use dicetest_crypto::sha256;

/// The most handshake bytes kept (1 MiB).
pub const MAX_TRANSCRIPT: usize = 1 << 20;
const HEADER_LEN: usize = 12;

#[derive(Clone, Debug, Default)]
pub struct Transcript {
    bytes: Vec<u8>,
    /// A message was left out because of [`MAX_TRANSCRIPT`].
    overflowed: bool,
}

impl Transcript {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
        self.overflowed = false;
    }

    /// Whether a message was left out because the transcript reached its bound.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    pub fn add(&mut self, msg_type: u8, message_seq: u16, body: &[u8]) {
        // A bound, so that a peer sending handshake messages without end cannot grow the
        // harness's memory with them: no genuine DTLS 1.2 handshake comes near it. Past it
        // the transcript is incomplete, so the peer's and our Finished cannot match and the
        // handshake fails, as it should with such a peer.
        if self.bytes.len() + HEADER_LEN + body.len() > MAX_TRANSCRIPT {
            self.overflowed = true;
            return;
        }
        let len = body.len() as u32;
        self.bytes.push(msg_type);
        self.bytes.extend_from_slice(&len.to_be_bytes()[1..]);
        self.bytes.extend_from_slice(&message_seq.to_be_bytes());
        self.bytes.extend_from_slice(&[0, 0, 0]);
        self.bytes.extend_from_slice(&len.to_be_bytes()[1..]);
        self.bytes.extend_from_slice(body);
    }

    pub fn hash(&self) -> [u8; 32] {
        sha256(&self.bytes)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transcript_is_bounded() {
        let mut t = Transcript::new();
        let body = vec![0u8; 64 * 1024];
        for seq in 0..100u16 {
            t.add(11, seq, &body);
        }
        assert!(t.bytes().len() <= MAX_TRANSCRIPT);
        assert!(t.overflowed());
        t.clear();
        assert!(!t.overflowed());
        t.add(1, 0, b"hello");
        assert_eq!(t.bytes().len(), 12 + 5);
    }
}
