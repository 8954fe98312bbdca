use crate::codec::{Codec, Reader};
use crate::error::DecodeError;

/// HelloRequest (RFC 5246 §7.4.1.1): an empty body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HelloRequest;

/// ServerHelloDone (RFC 5246 §7.4.5): an empty body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerHelloDone;

impl Codec for HelloRequest {
    fn encode(&self, _out: &mut Vec<u8>) {}

    fn read(_r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self)
    }
}

impl Codec for ServerHelloDone {
    fn encode(&self, _out: &mut Vec<u8>) {}

    fn read(_r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self)
    }
}
