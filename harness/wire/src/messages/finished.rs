use crate::codec::{Codec, Reader};
use crate::error::DecodeError;

/// Finished (RFC 5246 §7.4.9). `verify_data` is 12 bytes for every suite in
/// use here, but any length is kept: checking it is the engine's job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finished {
    pub verify_data: Vec<u8>,
}

impl Codec for Finished {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.verify_data);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            verify_data: r.rest().to_vec(),
        })
    }
}
