use crate::codec::{
    encode_list, encode_opaque, encode_prefixed, read_fixed_list, read_opaque_nonempty, Codec,
    LengthPrefix, MinItems, Reader,
};
use crate::enums::{ClientCertificateType, SignatureScheme};
use crate::error::DecodeError;

/// CertificateRequest (RFC 5246 §7.4.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateRequest {
    /// `ClientCertificateType certificate_types<1..2^8-1>`.
    pub certificate_types: Vec<ClientCertificateType>,
    /// `SignatureAndHashAlgorithm supported_signature_algorithms<2..2^16-2>`.
    pub supported_signature_algorithms: Vec<SignatureScheme>,
    /// `DistinguishedName certificate_authorities<0..2^16-1>`, each
    /// `opaque DistinguishedName<1..2^16-1>` (DER).
    pub certificate_authorities: Vec<Vec<u8>>,
}

impl Codec for CertificateRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_list(out, LengthPrefix::U8, &self.certificate_types);
        encode_list(out, LengthPrefix::U16, &self.supported_signature_algorithms);
        encode_prefixed(out, LengthPrefix::U16, |out| {
            self.certificate_authorities
                .iter()
                .for_each(|dn| encode_opaque(out, LengthPrefix::U16, dn))
        });
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let certificate_types = read_fixed_list(
            r,
            LengthPrefix::U8,
            "CertificateRequest.certificate_types",
            MinItems::One,
        )?;
        let supported_signature_algorithms = read_fixed_list(
            r,
            LengthPrefix::U16,
            "CertificateRequest.supported_signature_algorithms",
            MinItems::One,
        )?;
        let len = LengthPrefix::U16.read(r, "CertificateRequest.certificate_authorities")?;
        let mut list = r.sub(len, "CertificateRequest.certificate_authorities")?;
        let mut certificate_authorities = Vec::new();
        while list.any_left() {
            certificate_authorities.push(read_opaque_nonempty(
                &mut list,
                LengthPrefix::U16,
                "CertificateRequest.DistinguishedName",
            )?);
        }
        Ok(Self {
            certificate_types,
            supported_signature_algorithms,
            certificate_authorities,
        })
    }
}
