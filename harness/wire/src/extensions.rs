//! Hello extensions (RFC 5246 §7.4.1.4) and the bodies this harness needs
//! to understand. Anything else is kept as bytes and re-encoded verbatim.

use crate::codec::{
    encode_list, encode_opaque, encode_prefixed, read_fixed_list, read_opaque, Codec, CodecAs,
    LengthPrefix, MinItems, Reader,
};
use crate::enums::{CertificateType, ECPointFormat, ExtensionType, NamedGroup, SignatureScheme};
use crate::error::DecodeError;

/// Which message an extension sits in; some bodies differ (RFC 7250 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtensionContext {
    ClientHello,
    ServerHello,
}

/// Body of `client_certificate_type` / `server_certificate_type` (RFC 7250 §3):
/// the client offers a list, the server answers with the one it selected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertTypeList {
    /// ClientHello form: `CertificateType types<1..2^8-1>`.
    Offer(Vec<CertificateType>),
    /// ServerHello form: a single `CertificateType`.
    Selected(CertificateType),
}

/// One hello extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Extension {
    /// RFC 6066 §3; the `ServerNameList` (or the empty server answer) unparsed.
    ServerName(Vec<u8>),
    /// RFC 6066 §4: one `MaxFragmentLength` byte (1..=4 are defined).
    MaxFragmentLength(u8),
    /// RFC 8422 §5.1.1: `NamedCurve named_curve_list<2..2^16-1>`.
    SupportedGroups(Vec<NamedGroup>),
    /// RFC 8422 §5.1.2: `ECPointFormat ec_point_format_list<1..2^8-1>`.
    EcPointFormats(Vec<ECPointFormat>),
    /// RFC 5246 §7.4.1.4.1: `supported_signature_algorithms<2..2^16-2>`.
    SignatureAlgorithms(Vec<SignatureScheme>),
    /// RFC 6520 §2: one `HeartbeatMode` byte.
    Heartbeat(u8),
    /// RFC 7250 §3.
    ClientCertificateType(CertTypeList),
    /// RFC 7250 §3.
    ServerCertificateType(CertTypeList),
    /// RFC 7366 §2: empty body.
    EncryptThenMac,
    /// RFC 7627 §5.1: empty body.
    ExtendedMasterSecret,
    /// RFC 5077 §3.2: the ticket (or nothing).
    SessionTicket(Vec<u8>),
    /// RFC 9146 §3: `opaque cid<0..2^8-1>`.
    ConnectionId(Vec<u8>),
    /// RFC 5746 §3.2: `opaque renegotiated_connection<0..255>`.
    RenegotiationInfo(Vec<u8>),
    /// Anything not understood here, kept byte for byte.
    Unknown { typ: u16, data: Vec<u8> },
}

/// Extension types whose body this crate interprets; every other type is
/// read as [`Extension::Unknown`].
pub const INTERPRETED_EXTENSIONS: &[ExtensionType] = &[
    ExtensionType::ServerName,
    ExtensionType::MaxFragmentLength,
    ExtensionType::SupportedGroups,
    ExtensionType::EcPointFormats,
    ExtensionType::SignatureAlgorithms,
    ExtensionType::Heartbeat,
    ExtensionType::ClientCertificateType,
    ExtensionType::ServerCertificateType,
    ExtensionType::EncryptThenMac,
    ExtensionType::ExtendedMasterSecret,
    ExtensionType::SessionTicket,
    ExtensionType::ConnectionId,
    ExtensionType::RenegotiationInfo,
];

impl Extension {
    pub fn ext_type(&self) -> ExtensionType {
        match self {
            Self::ServerName(_) => ExtensionType::ServerName,
            Self::MaxFragmentLength(_) => ExtensionType::MaxFragmentLength,
            Self::SupportedGroups(_) => ExtensionType::SupportedGroups,
            Self::EcPointFormats(_) => ExtensionType::EcPointFormats,
            Self::SignatureAlgorithms(_) => ExtensionType::SignatureAlgorithms,
            Self::Heartbeat(_) => ExtensionType::Heartbeat,
            Self::ClientCertificateType(_) => ExtensionType::ClientCertificateType,
            Self::ServerCertificateType(_) => ExtensionType::ServerCertificateType,
            Self::EncryptThenMac => ExtensionType::EncryptThenMac,
            Self::ExtendedMasterSecret => ExtensionType::ExtendedMasterSecret,
            Self::SessionTicket(_) => ExtensionType::SessionTicket,
            Self::ConnectionId(_) => ExtensionType::ConnectionId,
            Self::RenegotiationInfo(_) => ExtensionType::RenegotiationInfo,
            Self::Unknown { typ, .. } => ExtensionType::from(*typ),
        }
    }

    /// The `extension_data` bytes (without type and length).
    pub fn encode_data(&self, out: &mut Vec<u8>) {
        match self {
            Self::ServerName(raw) | Self::SessionTicket(raw) => out.extend_from_slice(raw),
            Self::Unknown { data, .. } => out.extend_from_slice(data),
            Self::MaxFragmentLength(v) | Self::Heartbeat(v) => out.push(*v),
            Self::SupportedGroups(groups) => encode_list(out, LengthPrefix::U16, groups),
            Self::EcPointFormats(formats) => encode_list(out, LengthPrefix::U8, formats),
            Self::SignatureAlgorithms(schemes) => encode_list(out, LengthPrefix::U16, schemes),
            Self::ClientCertificateType(list) | Self::ServerCertificateType(list) => match list {
                CertTypeList::Offer(types) => encode_list(out, LengthPrefix::U8, types),
                CertTypeList::Selected(t) => t.encode(out),
            },
            Self::EncryptThenMac | Self::ExtendedMasterSecret => {}
            Self::ConnectionId(v) | Self::RenegotiationInfo(v) => {
                encode_opaque(out, LengthPrefix::U8, v)
            }
        }
    }

    /// Decodes `extension_data` of the given type; the body must be consumed
    /// exactly.
    pub fn read_data(
        typ: u16,
        data: &[u8],
        ctx: ExtensionContext,
    ) -> Result<Extension, DecodeError> {
        let ext_type = ExtensionType::from(typ);
        let what = data_name(ext_type);
        let mut r = Reader::new(data);
        let ext = match ext_type {
            ExtensionType::ServerName => Self::ServerName(r.rest().to_vec()),
            ExtensionType::MaxFragmentLength => Self::MaxFragmentLength(r.u8(what)?),
            ExtensionType::SupportedGroups => Self::SupportedGroups(read_fixed_list(
                &mut r,
                LengthPrefix::U16,
                what,
                MinItems::One,
            )?),
            ExtensionType::EcPointFormats => Self::EcPointFormats(read_fixed_list(
                &mut r,
                LengthPrefix::U8,
                what,
                MinItems::One,
            )?),
            ExtensionType::SignatureAlgorithms => Self::SignatureAlgorithms(read_fixed_list(
                &mut r,
                LengthPrefix::U16,
                what,
                MinItems::One,
            )?),
            ExtensionType::Heartbeat => Self::Heartbeat(r.u8(what)?),
            ExtensionType::ClientCertificateType => {
                Self::ClientCertificateType(read_cert_types(&mut r, ctx, what)?)
            }
            ExtensionType::ServerCertificateType => {
                Self::ServerCertificateType(read_cert_types(&mut r, ctx, what)?)
            }
            ExtensionType::EncryptThenMac => Self::EncryptThenMac,
            ExtensionType::ExtendedMasterSecret => Self::ExtendedMasterSecret,
            ExtensionType::SessionTicket => Self::SessionTicket(r.rest().to_vec()),
            ExtensionType::ConnectionId => {
                Self::ConnectionId(read_opaque(&mut r, LengthPrefix::U8, what)?)
            }
            ExtensionType::RenegotiationInfo => {
                Self::RenegotiationInfo(read_opaque(&mut r, LengthPrefix::U8, what)?)
            }
            _ => Self::Unknown {
                typ,
                data: r.rest().to_vec(),
            },
        };
        r.expect_end(what)?;
        Ok(ext)
    }
}

fn read_cert_types(
    r: &mut Reader<'_>,
    ctx: ExtensionContext,
    what: &'static str,
) -> Result<CertTypeList, DecodeError> {
    Ok(match ctx {
        ExtensionContext::ClientHello => {
            CertTypeList::Offer(read_fixed_list(r, LengthPrefix::U8, what, MinItems::One)?)
        }
        ExtensionContext::ServerHello => CertTypeList::Selected(CertificateType::from(r.u8(what)?)),
    })
}

/// A static field name for error messages about an extension's body.
fn data_name(t: ExtensionType) -> &'static str {
    match t {
        ExtensionType::ServerName => "server_name extension_data",
        ExtensionType::MaxFragmentLength => "max_fragment_length extension_data",
        ExtensionType::SupportedGroups => "supported_groups named_curve_list",
        ExtensionType::EcPointFormats => "ec_point_formats ec_point_format_list",
        ExtensionType::SignatureAlgorithms => "signature_algorithms supported_signature_algorithms",
        ExtensionType::Heartbeat => "heartbeat extension_data",
        ExtensionType::ClientCertificateType => "client_certificate_type extension_data",
        ExtensionType::ServerCertificateType => "server_certificate_type extension_data",
        ExtensionType::EncryptThenMac => "encrypt_then_mac extension_data",
        ExtensionType::ExtendedMasterSecret => "extended_master_secret extension_data",
        ExtensionType::SessionTicket => "session_ticket extension_data",
        ExtensionType::ConnectionId => "connection_id cid",
        ExtensionType::RenegotiationInfo => "renegotiation_info renegotiated_connection",
        _ => "extension_data",
    }
}

impl CodecAs<ExtensionContext> for Extension {
    fn encode(&self, out: &mut Vec<u8>) {
        self.ext_type().encode(out);
        encode_prefixed(out, LengthPrefix::U16, |out| self.encode_data(out));
    }

    fn read_as(r: &mut Reader<'_>, ctx: ExtensionContext) -> Result<Self, DecodeError> {
        let typ = r.u16("Extension.extension_type")?;
        let data = read_opaque(r, LengthPrefix::U16, "Extension.extension_data")?;
        Self::read_data(typ, &data, ctx)
    }
}

/// Writes `Extension extensions<0..2^16-1>` (RFC 5246 §7.4.1.2), omitted
/// entirely when `None`.
pub fn encode_extensions(out: &mut Vec<u8>, exts: Option<&[Extension]>) {
    if let Some(exts) = exts {
        encode_prefixed(out, LengthPrefix::U16, |out| {
            exts.iter().for_each(|e| e.encode(out))
        });
    }
}

/// Reads the optional extensions block that ends a hello: absent when no
/// bytes are left (RFC 5246 §7.4.1.2), otherwise a u16 length and exactly
/// that many bytes of extensions. Duplicates are kept, not merged; see
/// [`duplicate_extension`].
pub fn read_extensions(
    r: &mut Reader<'_>,
    ctx: ExtensionContext,
) -> Result<Option<Vec<Extension>>, DecodeError> {
    if !r.any_left() {
        return Ok(None);
    }
    let len = r.u16("extensions")? as usize;
    let mut sub = r.sub(len, "extensions")?;
    let mut exts = Vec::new();
    while sub.any_left() {
        exts.push(Extension::read_as(&mut sub, ctx)?);
    }
    Ok(Some(exts))
}

/// The first extension of type `t`.
pub fn find_extension(exts: &[Extension], t: ExtensionType) -> Option<&Extension> {
    exts.iter().find(|e| e.ext_type() == t)
}

/// The first extension type that appears more than once (RFC 5246 §7.4.1.4:
/// "There MUST NOT be more than one extension of the same type").
pub fn duplicate_extension(exts: &[Extension]) -> Option<ExtensionType> {
    exts.iter().enumerate().find_map(|(i, e)| {
        let t = e.ext_type();
        exts[..i].iter().any(|p| p.ext_type() == t).then_some(t)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renegotiation_info_empty_body() {
        // RFC 5746 §3.4: an initial ClientHello carries ff 01 00 01 00.
        let e = Extension::from_bytes_as(
            &[0xff, 0x01, 0x00, 0x01, 0x00],
            ExtensionContext::ClientHello,
        )
        .unwrap();
        assert_eq!(e, Extension::RenegotiationInfo(vec![]));
    }

    #[test]
    fn cert_type_depends_on_the_message() {
        let offer = [0x00, 0x14, 0x00, 0x03, 0x02, 0x02, 0x00];
        assert_eq!(
            Extension::from_bytes_as(&offer, ExtensionContext::ClientHello).unwrap(),
            Extension::ServerCertificateType(CertTypeList::Offer(vec![
                CertificateType::RawPublicKey,
                CertificateType::X509
            ]))
        );
        let selected = [0x00, 0x14, 0x00, 0x01, 0x02];
        assert_eq!(
            Extension::from_bytes_as(&selected, ExtensionContext::ServerHello).unwrap(),
            Extension::ServerCertificateType(CertTypeList::Selected(CertificateType::RawPublicKey))
        );
        // The list form is not a valid ServerHello body.
        assert!(Extension::from_bytes_as(&offer, ExtensionContext::ServerHello).is_err());
    }

    #[test]
    fn extended_master_secret_must_be_empty() {
        assert_eq!(
            Extension::from_bytes_as(
                &[0x00, 0x17, 0x00, 0x01, 0x00],
                ExtensionContext::ServerHello
            ),
            Err(DecodeError::TrailingBytes {
                what: "extended_master_secret extension_data",
                count: 1
            })
        );
    }

    #[test]
    fn unknown_extension_is_kept_verbatim() {
        let bytes = [0x12, 0x34, 0x00, 0x03, 0xde, 0xad, 0x00];
        let e = Extension::from_bytes_as(&bytes, ExtensionContext::ClientHello).unwrap();
        assert_eq!(
            e,
            Extension::Unknown {
                typ: 0x1234,
                data: vec![0xde, 0xad, 0x00]
            }
        );
        assert_eq!(e.to_bytes(), bytes);
    }

    #[test]
    fn empty_supported_groups_is_rejected() {
        assert_eq!(
            Extension::from_bytes_as(
                &[0x00, 0x0a, 0x00, 0x02, 0x00, 0x00],
                ExtensionContext::ClientHello
            ),
            Err(DecodeError::EmptyVector {
                what: "supported_groups named_curve_list"
            })
        );
    }

    #[test]
    fn duplicates_are_found() {
        let exts = vec![
            Extension::ExtendedMasterSecret,
            Extension::RenegotiationInfo(vec![]),
            Extension::Unknown {
                typ: 23,
                data: vec![],
            },
        ];
        assert_eq!(
            duplicate_extension(&exts),
            Some(ExtensionType::ExtendedMasterSecret)
        );
        assert_eq!(duplicate_extension(&exts[..2]), None);
        assert_eq!(
            find_extension(&exts, ExtensionType::RenegotiationInfo),
            Some(&Extension::RenegotiationInfo(vec![]))
        );
    }
}
