//! The handshake transcript behind Finished, CertificateVerify and the RFC 7627 session hash.
//!
//! RFC 6347 §4.2.6: each message is hashed as if it had been sent as one fragment, i.e. with
//! its 12-byte DTLS header carrying fragment_offset 0 and fragment_length = length, whatever
//! fragmentation was really used. §4.2.1: the cookieless ClientHello and the
//! HelloVerifyRequest are left out.

use dicetest_crypto::sha256;

#[derive(Clone, Debug, Default)]
pub struct Transcript {
    bytes: Vec<u8>,
}

impl Transcript {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
    }

    pub fn add(&mut self, msg_type: u8, message_seq: u16, body: &[u8]) {
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
