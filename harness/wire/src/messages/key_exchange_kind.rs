use crate::enums::CipherSuite;

/// How to read the key exchange messages, which RFC 5246 §7.4.3/§7.4.7
/// leave to the negotiated cipher suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum KeyExchangeKind {
    /// RFC 4279 §2: PSK identity hint / PSK identity.
    Psk,
    /// RFC 8422 §5.4 and §5.7: signed ECDH parameters / ephemeral public key.
    EcdheEcdsa,
    /// Not interpreted: the body is kept as bytes (`Raw` variants).
    #[default]
    Opaque,
}

impl KeyExchangeKind {
    /// The key exchange of a cipher suite known to this crate.
    pub fn from_suite(suite: CipherSuite) -> Option<Self> {
        use CipherSuite::*;
        match suite {
            TLS_PSK_WITH_AES_128_CBC_SHA
            | TLS_PSK_WITH_AES_256_CBC_SHA
            | TLS_PSK_WITH_AES_128_GCM_SHA256
            | TLS_PSK_WITH_AES_256_GCM_SHA384
            | TLS_PSK_WITH_AES_128_CBC_SHA256
            | TLS_PSK_WITH_AES_256_CBC_SHA384
            | TLS_PSK_WITH_AES_128_CCM
            | TLS_PSK_WITH_AES_256_CCM
            | TLS_PSK_WITH_AES_128_CCM_8
            | TLS_PSK_WITH_AES_256_CCM_8
            | TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 => Some(Self::Psk),
            TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
            | TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
            | TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
            | TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
            | TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
            | TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
            | TLS_ECDHE_ECDSA_WITH_AES_128_CCM
            | TLS_ECDHE_ECDSA_WITH_AES_256_CCM
            | TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
            | TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8
            | TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => Some(Self::EcdheEcdsa),
            _ => None,
        }
    }
}
