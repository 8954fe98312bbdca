use crate::codec::read_opaque;
use crate::codec::{encode_opaque, encode_prefixed, CodecAs, LengthPrefix, Reader};
use crate::enums::CertificateType;
use crate::error::DecodeError;

/// Certificate (RFC 5246 §7.4.2, RFC 7250 §3). Which form is on the wire
/// depends on the negotiated certificate type, so reading needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Certificate {
    /// `ASN.1Cert certificate_list<0..2^24-1>`, each `opaque ASN.1Cert<1..2^24-1>`.
    X509(Vec<Vec<u8>>),
    /// `opaque ASN.1_subjectPublicKeyInfo<1..2^24-1>` (DER SPKI). An empty
    /// one is accepted when reading: it is what a client without a key sends.
    RawPublicKey(Vec<u8>),
}

impl CodecAs<CertificateType> for Certificate {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::X509(chain) => encode_prefixed(out, LengthPrefix::U24, |out| {
                chain
                    .iter()
                    .for_each(|c| encode_opaque(out, LengthPrefix::U24, c))
            }),
            Self::RawPublicKey(spki) => encode_opaque(out, LengthPrefix::U24, spki),
        }
    }

    fn read_as(r: &mut Reader<'_>, ctx: CertificateType) -> Result<Self, DecodeError> {
        match ctx {
            CertificateType::RawPublicKey => Ok(Self::RawPublicKey(read_opaque(
                r,
                LengthPrefix::U24,
                "Certificate.ASN.1_subjectPublicKeyInfo",
            )?)),
            CertificateType::X509 => {
                let len = LengthPrefix::U24.read(r, "Certificate.certificate_list")?;
                let mut list = r.sub(len, "Certificate.certificate_list")?;
                let mut chain = Vec::new();
                while list.any_left() {
                    let cert = read_opaque(&mut list, LengthPrefix::U24, "Certificate.ASN.1Cert")?;
                    if cert.is_empty() {
                        return Err(DecodeError::EmptyVector {
                            what: "Certificate.ASN.1Cert",
                        });
                    }
                    chain.push(cert);
                }
                Ok(Self::X509(chain))
            }
            other => Err(DecodeError::Invalid {
                what: "Certificate",
                detail: format!("certificate type {other} is not supported"),
            }),
        }
    }
}
