//! Registry values (IANA "TLS Parameters") as open enums: every known value
//! has a variant, anything else is kept in `Unknown` so it survives a
//! decode/encode round trip and can be sent on purpose.

use crate::codec::{Codec, FixedWidth, Reader};
use crate::error::DecodeError;

/// Declares an open enum over `u8` or `u16`.
///
/// Generated: the enum with an `Unknown(repr)` catch-all, `From<repr>`,
/// `From<Enum> for repr`, `get_u8()`/`get_u16()`, `KNOWN` (all named
/// variants), `name()`, `Display` (the RFC name or `unknown(0x..)`),
/// `Codec` and `FixedWidth`.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident: $repr:ident, $getter:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal => $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value with no variant here; kept verbatim.
            Unknown($repr),
        }

        impl $name {
            /// Every named variant, in registry order.
            pub const KNOWN: &'static [$name] = &[ $( $name::$variant, )* ];

            pub const fn $getter(self) -> $repr {
                match self {
                    $( $name::$variant => $value, )*
                    $name::Unknown(v) => v,
                }
            }

            /// The registry name, `None` for `Unknown`.
            pub const fn name(self) -> Option<&'static str> {
                match self {
                    $( $name::$variant => Some($text), )*
                    $name::Unknown(_) => None,
                }
            }
        }

        impl From<$repr> for $name {
            fn from(v: $repr) -> Self {
                match v {
                    $( $value => $name::$variant, )*
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for $repr {
            fn from(v: $name) -> $repr {
                v.$getter()
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "unknown(0x{:0w$x})", self.$getter(), w = 2 * <$repr>::BITS as usize / 8),
                }
            }
        }

        impl FixedWidth for $name {
            const WIDTH: usize = <$repr>::BITS as usize / 8;
        }

        impl Codec for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.$getter().to_be_bytes());
            }

            fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                r.$repr(stringify!($name)).map($name::from)
            }
        }
    };
}

wire_enum! {
    /// `ContentType` of a record (RFC 5246 §6.2.1, RFC 6520, RFC 9146 §3).
    pub enum ContentType: u8, get_u8 {
        ChangeCipherSpec = 20 => "change_cipher_spec",
        Alert = 21 => "alert",
        Handshake = 22 => "handshake",
        ApplicationData = 23 => "application_data",
        Heartbeat = 24 => "heartbeat",
        Tls12Cid = 25 => "tls12_cid",
    }
}

wire_enum! {
    /// `HandshakeType` (RFC 5246 §7.4, RFC 6347 §4.3.2, RFC 5077, RFC 6066).
    pub enum HandshakeType: u8, get_u8 {
        HelloRequest = 0 => "hello_request",
        ClientHello = 1 => "client_hello",
        ServerHello = 2 => "server_hello",
        HelloVerifyRequest = 3 => "hello_verify_request",
        NewSessionTicket = 4 => "new_session_ticket",
        Certificate = 11 => "certificate",
        ServerKeyExchange = 12 => "server_key_exchange",
        CertificateRequest = 13 => "certificate_request",
        ServerHelloDone = 14 => "server_hello_done",
        CertificateVerify = 15 => "certificate_verify",
        ClientKeyExchange = 16 => "client_key_exchange",
        Finished = 20 => "finished",
        CertificateUrl = 21 => "certificate_url",
        CertificateStatus = 22 => "certificate_status",
    }
}

wire_enum! {
    /// `AlertLevel` (RFC 5246 §7.2).
    pub enum AlertLevel: u8, get_u8 {
        Warning = 1 => "warning",
        Fatal = 2 => "fatal",
    }
}

wire_enum! {
    /// `AlertDescription` (RFC 5246 §7.2, RFC 6066 §9, RFC 4279 §6,
    /// RFC 7507 §2, RFC 7301 §3.2).
    pub enum AlertDescription: u8, get_u8 {
        CloseNotify = 0 => "close_notify",
        UnexpectedMessage = 10 => "unexpected_message",
        BadRecordMac = 20 => "bad_record_mac",
        DecryptionFailed = 21 => "decryption_failed_RESERVED",
        RecordOverflow = 22 => "record_overflow",
        DecompressionFailure = 30 => "decompression_failure",
        HandshakeFailure = 40 => "handshake_failure",
        NoCertificate = 41 => "no_certificate_RESERVED",
        BadCertificate = 42 => "bad_certificate",
        UnsupportedCertificate = 43 => "unsupported_certificate",
        CertificateRevoked = 44 => "certificate_revoked",
        CertificateExpired = 45 => "certificate_expired",
        CertificateUnknown = 46 => "certificate_unknown",
        IllegalParameter = 47 => "illegal_parameter",
        UnknownCa = 48 => "unknown_ca",
        AccessDenied = 49 => "access_denied",
        DecodeError = 50 => "decode_error",
        DecryptError = 51 => "decrypt_error",
        ExportRestriction = 60 => "export_restriction_RESERVED",
        ProtocolVersion = 70 => "protocol_version",
        InsufficientSecurity = 71 => "insufficient_security",
        InternalError = 80 => "internal_error",
        InappropriateFallback = 86 => "inappropriate_fallback",
        UserCanceled = 90 => "user_canceled",
        NoRenegotiation = 100 => "no_renegotiation",
        UnsupportedExtension = 110 => "unsupported_extension",
        CertificateUnobtainable = 111 => "certificate_unobtainable",
        UnrecognizedName = 112 => "unrecognized_name",
        BadCertificateStatusResponse = 113 => "bad_certificate_status_response",
        BadCertificateHashValue = 114 => "bad_certificate_hash_value",
        UnknownPskIdentity = 115 => "unknown_psk_identity",
        NoApplicationProtocol = 120 => "no_application_protocol",
    }
}

wire_enum! {
    /// `ProtocolVersion` (RFC 5246 §6.2.1; DTLS versions are the one's
    /// complement of the TLS-like number, RFC 6347 §4.1).
    pub enum ProtocolVersion: u16, get_u16 {
        SSL3_0 = 0x0300 => "SSL3.0",
        TLS1_0 = 0x0301 => "TLS1.0",
        TLS1_1 = 0x0302 => "TLS1.1",
        TLS1_2 = 0x0303 => "TLS1.2",
        TLS1_3 = 0x0304 => "TLS1.3",
        DTLS1_0 = 0xfeff => "DTLS1.0",
        DTLS1_2 = 0xfefd => "DTLS1.2",
        DTLS1_3 = 0xfefc => "DTLS1.3",
    }
}

wire_enum! {
    /// `CipherSuite` (IANA registry; RFC 4279, RFC 5487, RFC 5289, RFC 6655,
    /// RFC 7251, RFC 7905, RFC 5746 §3.3, RFC 7507).
    pub enum CipherSuite: u16, get_u16 {
        TLS_NULL_WITH_NULL_NULL = 0x0000 => "TLS_NULL_WITH_NULL_NULL",
        TLS_PSK_WITH_AES_128_CBC_SHA = 0x008c => "TLS_PSK_WITH_AES_128_CBC_SHA",
        TLS_PSK_WITH_AES_256_CBC_SHA = 0x008d => "TLS_PSK_WITH_AES_256_CBC_SHA",
        TLS_PSK_WITH_AES_128_GCM_SHA256 = 0x00a8 => "TLS_PSK_WITH_AES_128_GCM_SHA256",
        TLS_PSK_WITH_AES_256_GCM_SHA384 = 0x00a9 => "TLS_PSK_WITH_AES_256_GCM_SHA384",
        TLS_PSK_WITH_AES_128_CBC_SHA256 = 0x00ae => "TLS_PSK_WITH_AES_128_CBC_SHA256",
        TLS_PSK_WITH_AES_256_CBC_SHA384 = 0x00af => "TLS_PSK_WITH_AES_256_CBC_SHA384",
        TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff => "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
        TLS_FALLBACK_SCSV = 0x5600 => "TLS_FALLBACK_SCSV",
        TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA = 0xc009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA = 0xc00a => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 = 0xc023 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 = 0xc024 => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xc02b => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xc02c => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xc02f => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xc030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256 = 0xc037 => "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256",
        TLS_PSK_WITH_AES_128_CCM = 0xc0a4 => "TLS_PSK_WITH_AES_128_CCM",
        TLS_PSK_WITH_AES_256_CCM = 0xc0a5 => "TLS_PSK_WITH_AES_256_CCM",
        TLS_PSK_WITH_AES_128_CCM_8 = 0xc0a8 => "TLS_PSK_WITH_AES_128_CCM_8",
        TLS_PSK_WITH_AES_256_CCM_8 = 0xc0a9 => "TLS_PSK_WITH_AES_256_CCM_8",
        TLS_ECDHE_ECDSA_WITH_AES_128_CCM = 0xc0ac => "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
        TLS_ECDHE_ECDSA_WITH_AES_256_CCM = 0xc0ad => "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
        TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 = 0xc0ae => "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
        TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8 = 0xc0af => "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 = 0xccab => "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256",
        TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 = 0xccac => "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
    }
}

wire_enum! {
    /// `CompressionMethod` (RFC 5246 §7.4.1.2, RFC 3749).
    pub enum CompressionMethod: u8, get_u8 {
        Null = 0 => "null",
        Deflate = 1 => "deflate",
    }
}

wire_enum! {
    /// `ExtensionType` (IANA registry; RFC 6066, RFC 8422, RFC 5246 §7.4.1.4.1,
    /// RFC 6520, RFC 7250, RFC 7366, RFC 7627, RFC 5077, RFC 9146, RFC 5746).
    pub enum ExtensionType: u16, get_u16 {
        ServerName = 0 => "server_name",
        MaxFragmentLength = 1 => "max_fragment_length",
        ClientCertificateUrl = 2 => "client_certificate_url",
        TrustedCaKeys = 3 => "trusted_ca_keys",
        TruncatedHmac = 4 => "truncated_hmac",
        StatusRequest = 5 => "status_request",
        SupportedGroups = 10 => "supported_groups",
        EcPointFormats = 11 => "ec_point_formats",
        SignatureAlgorithms = 13 => "signature_algorithms",
        UseSrtp = 14 => "use_srtp",
        Heartbeat = 15 => "heartbeat",
        ApplicationLayerProtocolNegotiation = 16 => "application_layer_protocol_negotiation",
        ClientCertificateType = 19 => "client_certificate_type",
        ServerCertificateType = 20 => "server_certificate_type",
        Padding = 21 => "padding",
        EncryptThenMac = 22 => "encrypt_then_mac",
        ExtendedMasterSecret = 23 => "extended_master_secret",
        RecordSizeLimit = 28 => "record_size_limit",
        SessionTicket = 35 => "session_ticket",
        ConnectionIdDeprecated = 53 => "connection_id (deprecated)",
        ConnectionId = 54 => "connection_id",
        RenegotiationInfo = 0xff01 => "renegotiation_info",
    }
}

wire_enum! {
    /// `NamedGroup` / `NamedCurve` (RFC 8422 §5.1.1, RFC 7027, RFC 7919).
    pub enum NamedGroup: u16, get_u16 {
        Secp256r1 = 23 => "secp256r1",
        Secp384r1 = 24 => "secp384r1",
        Secp521r1 = 25 => "secp521r1",
        BrainpoolP256r1 = 26 => "brainpoolP256r1",
        BrainpoolP384r1 = 27 => "brainpoolP384r1",
        BrainpoolP512r1 = 28 => "brainpoolP512r1",
        X25519 = 29 => "x25519",
        X448 = 30 => "x448",
        Ffdhe2048 = 256 => "ffdhe2048",
        Ffdhe3072 = 257 => "ffdhe3072",
        ArbitraryExplicitPrimeCurves = 0xff01 => "arbitrary_explicit_prime_curves",
        ArbitraryExplicitChar2Curves = 0xff02 => "arbitrary_explicit_char2_curves",
    }
}

wire_enum! {
    /// TLS 1.2 `SignatureAndHashAlgorithm` (RFC 5246 §7.4.1.4.1: hash byte
    /// then signature byte), named by its TLS 1.3 `SignatureScheme` code point
    /// (RFC 8446 §4.2.3), which has the same two bytes.
    pub enum SignatureScheme: u16, get_u16 {
        RsaPkcs1Sha1 = 0x0201 => "rsa_pkcs1_sha1",
        EcdsaSha1 = 0x0203 => "ecdsa_sha1",
        RsaPkcs1Sha256 = 0x0401 => "rsa_pkcs1_sha256",
        EcdsaSecp256r1Sha256 = 0x0403 => "ecdsa_secp256r1_sha256",
        RsaPkcs1Sha384 = 0x0501 => "rsa_pkcs1_sha384",
        EcdsaSecp384r1Sha384 = 0x0503 => "ecdsa_secp384r1_sha384",
        RsaPkcs1Sha512 = 0x0601 => "rsa_pkcs1_sha512",
        EcdsaSecp521r1Sha512 = 0x0603 => "ecdsa_secp521r1_sha512",
        RsaPssRsaeSha256 = 0x0804 => "rsa_pss_rsae_sha256",
        RsaPssRsaeSha384 = 0x0805 => "rsa_pss_rsae_sha384",
        RsaPssRsaeSha512 = 0x0806 => "rsa_pss_rsae_sha512",
        Ed25519 = 0x0807 => "ed25519",
        Ed448 = 0x0808 => "ed448",
    }
}

impl SignatureScheme {
    /// The TLS 1.2 `HashAlgorithm` byte (RFC 5246 §7.4.1.4.1).
    pub const fn hash_byte(self) -> u8 {
        (self.get_u16() >> 8) as u8
    }

    /// The TLS 1.2 `SignatureAlgorithm` byte (RFC 5246 §7.4.1.4.1).
    pub const fn signature_byte(self) -> u8 {
        self.get_u16() as u8
    }
}

wire_enum! {
    /// `CertificateType` of the RFC 7250 §3 negotiation extensions.
    pub enum CertificateType: u8, get_u8 {
        X509 = 0 => "X.509",
        OpenPgp = 1 => "OpenPGP",
        RawPublicKey = 2 => "RawPublicKey",
    }
}

wire_enum! {
    /// `ClientCertificateType` of a CertificateRequest (RFC 5246 §7.4.4,
    /// RFC 8422 §5.5).
    pub enum ClientCertificateType: u8, get_u8 {
        RsaSign = 1 => "rsa_sign",
        DssSign = 2 => "dss_sign",
        RsaFixedDh = 3 => "rsa_fixed_dh",
        DssFixedDh = 4 => "dss_fixed_dh",
        EcdsaSign = 64 => "ecdsa_sign",
        RsaFixedEcdh = 65 => "rsa_fixed_ecdh",
        EcdsaFixedEcdh = 66 => "ecdsa_fixed_ecdh",
    }
}

wire_enum! {
    /// `ECCurveType` (RFC 8422 §5.4).
    pub enum ECCurveType: u8, get_u8 {
        ExplicitPrime = 1 => "explicit_prime",
        ExplicitChar2 = 2 => "explicit_char2",
        NamedCurve = 3 => "named_curve",
    }
}

wire_enum! {
    /// `ECPointFormat` (RFC 8422 §5.1.2).
    pub enum ECPointFormat: u8, get_u8 {
        Uncompressed = 0 => "uncompressed",
        AnsiX962CompressedPrime = 1 => "ansiX962_compressed_prime",
        AnsiX962CompressedChar2 = 2 => "ansiX962_compressed_char2",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_the_enum() {
        for v in 0..=u8::MAX {
            assert_eq!(ContentType::from(v).get_u8(), v);
            assert_eq!(AlertDescription::from(v).get_u8(), v);
        }
        for v in [0u16, 0x00ae, 0xc0a8, 0xfefd, 0xffff, 0x1234] {
            assert_eq!(CipherSuite::from(v).get_u16(), v);
            assert_eq!(ProtocolVersion::from(v).get_u16(), v);
            assert_eq!(ExtensionType::from(v).get_u16(), v);
        }
    }

    #[test]
    fn known_values_match_the_registries() {
        assert_eq!(ProtocolVersion::DTLS1_0.get_u16(), 0xfeff);
        assert_eq!(ProtocolVersion::DTLS1_2.get_u16(), 0xfefd);
        assert_eq!(
            CipherSuite::from(0xc0a8),
            CipherSuite::TLS_PSK_WITH_AES_128_CCM_8
        );
        assert_eq!(
            ExtensionType::from(0xff01),
            ExtensionType::RenegotiationInfo
        );
        assert_eq!(ExtensionType::from(54), ExtensionType::ConnectionId);
        assert_eq!(
            AlertDescription::from(115),
            AlertDescription::UnknownPskIdentity
        );
        assert_eq!(SignatureScheme::EcdsaSecp256r1Sha256.hash_byte(), 4);
        assert_eq!(SignatureScheme::EcdsaSecp256r1Sha256.signature_byte(), 3);
    }

    #[test]
    fn display_uses_rfc_names() {
        assert_eq!(ContentType::Handshake.to_string(), "handshake");
        assert_eq!(ProtocolVersion::DTLS1_2.to_string(), "DTLS1.2");
        assert_eq!(ContentType::from(99).to_string(), "unknown(0x63)");
        assert_eq!(CipherSuite::from(0xabcd).to_string(), "unknown(0xabcd)");
        assert_eq!(
            CipherSuite::TLS_PSK_WITH_AES_128_CCM_8.to_string(),
            "TLS_PSK_WITH_AES_128_CCM_8"
        );
    }

    #[test]
    fn known_lists_are_distinct() {
        let mut values: Vec<u16> = CipherSuite::KNOWN.iter().map(|c| c.get_u16()).collect();
        values.sort_unstable();
        values.dedup();
        assert_eq!(values.len(), CipherSuite::KNOWN.len());
    }
}
