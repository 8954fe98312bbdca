//! One-line human-readable summaries for traces.

use core::fmt;

use crate::enums::CertificateType;
use crate::extensions::{CertTypeList, Extension};
use crate::handshake::{HandshakeFragment, HandshakeHeader};
use crate::message::HandshakeMessage;
use crate::messages::{Alert, Certificate, ChangeCipherSpec, ClientKeyExchange, ServerKeyExchange};
use crate::record::{Record, RecordHeader};

/// `[a, b, c]` from anything displayable.
fn list<T: fmt::Display>(items: &[T]) -> String {
    let parts: Vec<String> = items.iter().map(|i| i.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// Printable ASCII in quotes, anything else as hex.
fn bytes(b: &[u8]) -> String {
    if !b.is_empty() && b.iter().all(|c| (0x20..0x7f).contains(c) && *c != b'"') {
        format!("\"{}\"", String::from_utf8_lossy(b))
    } else {
        b.iter().map(|c| format!("{c:02x}")).collect()
    }
}

fn extensions(exts: &Option<Vec<Extension>>) -> String {
    match exts {
        None => "none".into(),
        Some(exts) => list(&exts.iter().map(|e| e.ext_type()).collect::<Vec<_>>()),
    }
}

impl Extension {
    /// The type name plus the interesting part of the body.
    pub fn summary(&self) -> String {
        let t = self.ext_type();
        match self {
            Self::SupportedGroups(g) => format!("{t}={}", list(g)),
            Self::EcPointFormats(f) => format!("{t}={}", list(f)),
            Self::SignatureAlgorithms(s) => format!("{t}={}", list(s)),
            Self::ClientCertificateType(CertTypeList::Offer(l))
            | Self::ServerCertificateType(CertTypeList::Offer(l)) => format!("{t}={}", list(l)),
            Self::ClientCertificateType(CertTypeList::Selected(c))
            | Self::ServerCertificateType(CertTypeList::Selected(c)) => format!("{t}={c}"),
            Self::MaxFragmentLength(v) | Self::Heartbeat(v) => format!("{t}={v}"),
            Self::RenegotiationInfo(v) | Self::ConnectionId(v) => format!("{t}={}B", v.len()),
            Self::ServerName(v) | Self::SessionTicket(v) => format!("{t}={}B", v.len()),
            Self::Unknown { data, .. } => format!("{t}={}B", data.len()),
            Self::EncryptThenMac | Self::ExtendedMasterSecret => t.to_string(),
        }
    }
}

impl HandshakeMessage {
    /// E.g. `ClientHello v=DTLS1.2 cookie=0B suites=[TLS_PSK_WITH_AES_128_CCM_8] ext=[extended_master_secret]`.
    pub fn summary(&self) -> String {
        match self {
            Self::HelloRequest(_) => "HelloRequest".into(),
            Self::ClientHello(m) => format!(
                "ClientHello v={} sid={}B cookie={}B suites={} comp={} ext={}",
                m.client_version,
                m.session_id.len(),
                m.cookie.len(),
                list(&m.cipher_suites),
                list(&m.compression_methods),
                extensions(&m.extensions)
            ),
            Self::ServerHello(m) => format!(
                "ServerHello v={} sid={}B suite={} comp={} ext={}",
                m.server_version,
                m.session_id.len(),
                m.cipher_suite,
                m.compression_method,
                extensions(&m.extensions)
            ),
            Self::HelloVerifyRequest(m) => format!(
                "HelloVerifyRequest v={} cookie={}B",
                m.server_version,
                m.cookie.len()
            ),
            Self::Certificate(Certificate::X509(chain)) => format!(
                "Certificate {} certs={}",
                CertificateType::X509,
                list(
                    &chain
                        .iter()
                        .map(|c| format!("{}B", c.len()))
                        .collect::<Vec<_>>()
                )
            ),
            Self::Certificate(Certificate::RawPublicKey(spki)) => format!(
                "Certificate {} spki={}B",
                CertificateType::RawPublicKey,
                spki.len()
            ),
            Self::ServerKeyExchange(ServerKeyExchange::Psk { identity_hint }) => {
                format!("ServerKeyExchange psk hint={}", bytes(identity_hint))
            }
            Self::ServerKeyExchange(ServerKeyExchange::Ecdhe { params, signature }) => format!(
                "ServerKeyExchange ecdhe {} {} pub={}B sig={} {}B",
                params.curve_type,
                params.named_group,
                params.public.len(),
                signature.scheme,
                signature.signature.len()
            ),
            Self::ServerKeyExchange(ServerKeyExchange::Raw(raw)) => {
                format!("ServerKeyExchange raw {}B", raw.len())
            }
            Self::CertificateRequest(m) => format!(
                "CertificateRequest types={} sigalgs={} cas={}",
                list(&m.certificate_types),
                list(&m.supported_signature_algorithms),
                m.certificate_authorities.len()
            ),
            Self::ServerHelloDone(_) => "ServerHelloDone".into(),
            Self::CertificateVerify(m) => format!(
                "CertificateVerify {} {}B",
                m.signature.scheme,
                m.signature.signature.len()
            ),
            Self::ClientKeyExchange(ClientKeyExchange::Psk { identity }) => {
                format!("ClientKeyExchange psk identity={}", bytes(identity))
            }
            Self::ClientKeyExchange(ClientKeyExchange::Ecdhe { public }) => {
                format!("ClientKeyExchange ecdhe pub={}B", public.len())
            }
            Self::ClientKeyExchange(ClientKeyExchange::Raw(raw)) => {
                format!("ClientKeyExchange raw {}B", raw.len())
            }
            Self::Finished(m) => format!("Finished verify_data={}", bytes(&m.verify_data)),
            Self::Unknown { msg_type, body } => format!(
                "Handshake {} {}B",
                crate::enums::HandshakeType::from(*msg_type),
                body.len()
            ),
        }
    }
}

impl RecordHeader {
    /// E.g. `handshake DTLS1.2 epoch=0 seq=1 len=120`.
    pub fn summary(&self) -> String {
        format!(
            "{} {} epoch={} seq={} len={}",
            self.content_type, self.version, self.epoch, self.sequence_number, self.length
        )
    }
}

impl Record {
    pub fn summary(&self) -> String {
        let mut s = self.header.summary();
        if self.fragment.len() != self.header.length as usize {
            s.push_str(&format!(" (fragment {}B)", self.fragment.len()));
        }
        s
    }
}

impl HandshakeHeader {
    /// E.g. `client_hello seq=0 len=120 frag=0+120`.
    pub fn summary(&self) -> String {
        format!(
            "{} seq={} len={} frag={}+{}",
            self.msg_type,
            self.message_seq,
            self.length,
            self.fragment_offset,
            self.fragment_length
        )
    }
}

impl HandshakeFragment {
    pub fn summary(&self) -> String {
        self.header.summary()
    }
}

impl Alert {
    /// E.g. `Alert fatal handshake_failure`.
    pub fn summary(&self) -> String {
        format!("Alert {} {}", self.level, self.description)
    }
}

impl ChangeCipherSpec {
    pub fn summary(&self) -> String {
        format!("ChangeCipherSpec {}", self.value)
    }
}

macro_rules! display_via_summary {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.summary())
            }
        }
    )*};
}

display_via_summary!(
    HandshakeMessage,
    RecordHeader,
    Record,
    HandshakeHeader,
    HandshakeFragment,
    Alert,
    ChangeCipherSpec,
    Extension
);
