//! proptest strategies for every wire type: well-formed values whose
//! encoding decodes back to themselves. Used by this crate's tests and, with
//! the `proptest` feature, by callers that want random valid input.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use crate::enums::*;
use crate::extensions::{CertTypeList, Extension, ExtensionContext, INTERPRETED_EXTENSIONS};
use crate::handshake::{HandshakeFragment, HandshakeHeader};
use crate::message::{HandshakeMessage, ParseContext};
use crate::messages::*;
use crate::record::{Record, RecordHeader, MAX_SEQUENCE_NUMBER};

macro_rules! enum_strategy {
    ($($f:ident: $t:ident($repr:ty)),* $(,)?) => {$(
        /// Mostly registered values, sometimes any value.
        pub fn $f() -> impl Strategy<Value = $t> {
            prop_oneof![
                3 => select($t::KNOWN),
                1 => any::<$repr>().prop_map($t::from),
            ]
        }
    )*};
}

enum_strategy!(
    content_type: ContentType(u8),
    handshake_type: HandshakeType(u8),
    alert_level: AlertLevel(u8),
    alert_description: AlertDescription(u8),
    protocol_version: ProtocolVersion(u16),
    cipher_suite: CipherSuite(u16),
    compression_method: CompressionMethod(u8),
    extension_type: ExtensionType(u16),
    named_group: NamedGroup(u16),
    signature_scheme: SignatureScheme(u16),
    certificate_type: CertificateType(u8),
    client_certificate_type: ClientCertificateType(u8),
    ec_point_format: ECPointFormat(u8),
);

pub fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

pub fn nonempty_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 1..=max.max(1))
}

pub fn random() -> impl Strategy<Value = [u8; 32]> {
    any::<[u8; 32]>()
}

fn session_id() -> impl Strategy<Value = Vec<u8>> {
    bytes(32)
}

pub fn key_exchange_kind() -> impl Strategy<Value = KeyExchangeKind> {
    select(
        &[
            KeyExchangeKind::Psk,
            KeyExchangeKind::EcdheEcdsa,
            KeyExchangeKind::Opaque,
        ][..],
    )
}

pub fn extension_context() -> impl Strategy<Value = ExtensionContext> {
    select(&[ExtensionContext::ClientHello, ExtensionContext::ServerHello][..])
}

fn cert_type_list(ctx: ExtensionContext) -> BoxedStrategy<CertTypeList> {
    match ctx {
        ExtensionContext::ClientHello => vec(certificate_type(), 1..4)
            .prop_map(CertTypeList::Offer)
            .boxed(),
        ExtensionContext::ServerHello => {
            certificate_type().prop_map(CertTypeList::Selected).boxed()
        }
    }
}

/// An extension valid in `ctx`. `Unknown` only uses types not interpreted
/// here, since an interpreted type would decode to its own variant.
pub fn extension(ctx: ExtensionContext) -> impl Strategy<Value = Extension> {
    let unknown_type = any::<u16>().prop_filter("interpreted type", |t| {
        !INTERPRETED_EXTENSIONS.contains(&ExtensionType::from(*t))
    });
    prop_oneof![
        bytes(40).prop_map(Extension::ServerName),
        any::<u8>().prop_map(Extension::MaxFragmentLength),
        vec(named_group(), 1..6).prop_map(Extension::SupportedGroups),
        vec(ec_point_format(), 1..4).prop_map(Extension::EcPointFormats),
        vec(signature_scheme(), 1..8).prop_map(Extension::SignatureAlgorithms),
        any::<u8>().prop_map(Extension::Heartbeat),
        cert_type_list(ctx).prop_map(Extension::ClientCertificateType),
        cert_type_list(ctx).prop_map(Extension::ServerCertificateType),
        Just(Extension::EncryptThenMac),
        Just(Extension::ExtendedMasterSecret),
        bytes(64).prop_map(Extension::SessionTicket),
        bytes(255).prop_map(Extension::ConnectionId),
        bytes(255).prop_map(Extension::RenegotiationInfo),
        (unknown_type, bytes(64)).prop_map(|(typ, data)| Extension::Unknown { typ, data }),
    ]
}

fn extensions(ctx: ExtensionContext) -> impl Strategy<Value = Option<Vec<Extension>>> {
    proptest::option::of(vec(extension(ctx), 0..6))
}

pub fn client_hello() -> impl Strategy<Value = ClientHello> {
    (
        protocol_version(),
        random(),
        session_id(),
        bytes(255),
        vec(cipher_suite(), 1..20),
        vec(compression_method(), 1..3),
        extensions(ExtensionContext::ClientHello),
    )
        .prop_map(
            |(
                client_version,
                random,
                session_id,
                cookie,
                cipher_suites,
                compression_methods,
                extensions,
            )| {
                ClientHello {
                    client_version,
                    random,
                    session_id,
                    cookie,
                    cipher_suites,
                    compression_methods,
                    extensions,
                }
            },
        )
}

pub fn server_hello() -> impl Strategy<Value = ServerHello> {
    (
        protocol_version(),
        random(),
        session_id(),
        cipher_suite(),
        compression_method(),
        extensions(ExtensionContext::ServerHello),
    )
        .prop_map(
            |(server_version, random, session_id, cipher_suite, compression_method, extensions)| {
                ServerHello {
                    server_version,
                    random,
                    session_id,
                    cipher_suite,
                    compression_method,
                    extensions,
                }
            },
        )
}

pub fn hello_verify_request() -> impl Strategy<Value = HelloVerifyRequest> {
    (protocol_version(), bytes(255)).prop_map(|(server_version, cookie)| HelloVerifyRequest {
        server_version,
        cookie,
    })
}

/// A certificate and the certificate type it must be read as.
pub fn certificate() -> impl Strategy<Value = (Certificate, CertificateType)> {
    prop_oneof![
        vec(nonempty_bytes(300), 0..4).prop_map(|c| (Certificate::X509(c), CertificateType::X509)),
        bytes(120).prop_map(|k| (Certificate::RawPublicKey(k), CertificateType::RawPublicKey)),
    ]
}

pub fn digitally_signed() -> impl Strategy<Value = DigitallySigned> {
    (signature_scheme(), bytes(80))
        .prop_map(|(scheme, signature)| DigitallySigned { scheme, signature })
}

pub fn server_ecdh_params() -> impl Strategy<Value = ServerEcdhParams> {
    (named_group(), nonempty_bytes(133)).prop_map(|(named_group, public)| ServerEcdhParams {
        curve_type: ECCurveType::NamedCurve,
        named_group,
        public,
    })
}

/// A ServerKeyExchange and the key exchange it must be read as.
pub fn server_key_exchange() -> impl Strategy<Value = (ServerKeyExchange, KeyExchangeKind)> {
    prop_oneof![
        bytes(64).prop_map(|identity_hint| (
            ServerKeyExchange::Psk { identity_hint },
            KeyExchangeKind::Psk
        )),
        (server_ecdh_params(), digitally_signed()).prop_map(|(params, signature)| (
            ServerKeyExchange::Ecdhe { params, signature },
            KeyExchangeKind::EcdheEcdsa
        )),
        bytes(64).prop_map(|b| (ServerKeyExchange::Raw(b), KeyExchangeKind::Opaque)),
    ]
}

/// A ClientKeyExchange and the key exchange it must be read as.
pub fn client_key_exchange() -> impl Strategy<Value = (ClientKeyExchange, KeyExchangeKind)> {
    prop_oneof![
        bytes(64).prop_map(|identity| (ClientKeyExchange::Psk { identity }, KeyExchangeKind::Psk)),
        nonempty_bytes(133).prop_map(|public| (
            ClientKeyExchange::Ecdhe { public },
            KeyExchangeKind::EcdheEcdsa
        )),
        bytes(64).prop_map(|b| (ClientKeyExchange::Raw(b), KeyExchangeKind::Opaque)),
    ]
}

pub fn certificate_request() -> impl Strategy<Value = CertificateRequest> {
    (
        vec(client_certificate_type(), 1..4),
        vec(signature_scheme(), 1..8),
        vec(nonempty_bytes(60), 0..4),
    )
        .prop_map(
            |(certificate_types, supported_signature_algorithms, certificate_authorities)| {
                CertificateRequest {
                    certificate_types,
                    supported_signature_algorithms,
                    certificate_authorities,
                }
            },
        )
}

pub fn certificate_verify() -> impl Strategy<Value = CertificateVerify> {
    digitally_signed().prop_map(|signature| CertificateVerify { signature })
}

pub fn finished() -> impl Strategy<Value = Finished> {
    bytes(32).prop_map(|verify_data| Finished { verify_data })
}

pub fn alert() -> impl Strategy<Value = Alert> {
    (alert_level(), alert_description())
        .prop_map(|(level, description)| Alert { level, description })
}

pub fn change_cipher_spec() -> impl Strategy<Value = ChangeCipherSpec> {
    any::<u8>().prop_map(|value| ChangeCipherSpec { value })
}

/// Handshake types whose body `HandshakeMessage::read_body` interprets.
fn is_interpreted(t: HandshakeType) -> bool {
    !matches!(t, HandshakeType::Unknown(_))
        && !matches!(
            t,
            HandshakeType::NewSessionTicket
                | HandshakeType::CertificateUrl
                | HandshakeType::CertificateStatus
        )
}

/// A handshake message and a context it decodes back under.
pub fn handshake_message() -> impl Strategy<Value = (HandshakeMessage, ParseContext)> {
    let ctx = |kx, certificate_type| ParseContext {
        kx,
        certificate_type,
    };
    let any_ctx = (key_exchange_kind(), certificate_type()).prop_map(move |(k, c)| ctx(k, c));
    let plain = prop_oneof![
        Just(HandshakeMessage::HelloRequest(HelloRequest)),
        client_hello().prop_map(HandshakeMessage::ClientHello),
        server_hello().prop_map(HandshakeMessage::ServerHello),
        hello_verify_request().prop_map(HandshakeMessage::HelloVerifyRequest),
        certificate_request().prop_map(HandshakeMessage::CertificateRequest),
        Just(HandshakeMessage::ServerHelloDone(ServerHelloDone)),
        certificate_verify().prop_map(HandshakeMessage::CertificateVerify),
        finished().prop_map(HandshakeMessage::Finished),
        (
            any::<u8>().prop_filter("interpreted type", |t| !is_interpreted(
                HandshakeType::from(*t)
            )),
            bytes(64)
        )
            .prop_map(|(msg_type, body)| HandshakeMessage::Unknown { msg_type, body }),
    ];
    prop_oneof![
        3 => (plain, any_ctx),
        1 => (certificate(), key_exchange_kind()).prop_map(move |((c, t), k)| (
            HandshakeMessage::Certificate(c),
            ctx(k, t)
        )),
        1 => (server_key_exchange(), certificate_type()).prop_map(move |((m, k), t)| (
            HandshakeMessage::ServerKeyExchange(m),
            ctx(k, t)
        )),
        1 => (client_key_exchange(), certificate_type()).prop_map(move |((m, k), t)| (
            HandshakeMessage::ClientKeyExchange(m),
            ctx(k, t)
        )),
    ]
}

pub fn record_header() -> impl Strategy<Value = RecordHeader> {
    (
        content_type(),
        protocol_version(),
        any::<u16>(),
        0..=MAX_SEQUENCE_NUMBER,
        any::<u16>(),
    )
        .prop_map(
            |(content_type, version, epoch, sequence_number, length)| RecordHeader {
                content_type,
                version,
                epoch,
                sequence_number,
                length,
            },
        )
}

/// A record whose header length matches its fragment.
pub fn record() -> impl Strategy<Value = Record> {
    (record_header(), bytes(200)).prop_map(|(h, fragment)| {
        Record::new(
            h.content_type,
            h.version,
            h.epoch,
            h.sequence_number,
            fragment,
        )
    })
}

pub fn handshake_header() -> impl Strategy<Value = HandshakeHeader> {
    (
        handshake_type(),
        0..=0xff_ffffu32,
        any::<u16>(),
        0..=0xff_ffffu32,
        0..=0xff_ffffu32,
    )
        .prop_map(
            |(msg_type, length, message_seq, fragment_offset, fragment_length)| HandshakeHeader {
                msg_type,
                length,
                message_seq,
                fragment_offset,
                fragment_length,
            },
        )
}

/// A fragment whose `fragment_length` matches its body.
pub fn handshake_fragment() -> impl Strategy<Value = HandshakeFragment> {
    (handshake_header(), bytes(100)).prop_map(|(mut header, body)| {
        header.fragment_length = body.len() as u32;
        HandshakeFragment { header, body }
    })
}
