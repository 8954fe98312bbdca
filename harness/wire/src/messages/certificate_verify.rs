use crate::codec::{Codec, Reader};
use crate::error::DecodeError;
use crate::messages::DigitallySigned;

/// CertificateVerify (RFC 5246 §7.4.8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateVerify {
    pub signature: DigitallySigned,
}

impl Codec for CertificateVerify {
    fn encode(&self, out: &mut Vec<u8>) {
        self.signature.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            signature: DigitallySigned::read(r)?,
        })
    }
}
