use crate::codec::{Codec, Reader};
use crate::error::DecodeError;

/// A change_cipher_spec record's plaintext (RFC 5246 §7.1): one byte that
/// should be 1. Other values are kept so the harness can see (or send) them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangeCipherSpec {
    pub value: u8,
}

impl Default for ChangeCipherSpec {
    fn default() -> Self {
        Self { value: 1 }
    }
}

impl Codec for ChangeCipherSpec {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.value);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            value: r.u8("ChangeCipherSpec.type")?,
        })
    }
}
