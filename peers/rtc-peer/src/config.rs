//! What a caller chooses about one peer.

use std::time::Duration;

/// Which side of the handshake the peer plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sends the first ClientHello (RFC 6347 §4.2.1).
    Client,
    /// Answers ClientHellos; rtc-dtls always does the cookie exchange first.
    Server,
}

/// Whether the peer offers / accepts the extended master secret (RFC 7627).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExtendedMasterSecret {
    /// Offer it (client) or accept it when offered (server). rtc-dtls's own default.
    #[default]
    Request,
    /// Abort the handshake when the other side does not use it.
    Require,
    /// Neither offer nor accept it.
    Disable,
}

/// Configuration of one [`crate::RtcPeer`].
#[derive(Debug, Clone)]
pub struct PskPeerConfig {
    /// Client or server.
    pub role: Role,
    /// Client: the PSK identity sent in ClientKeyExchange (RFC 4279 §2).
    /// Server: the only identity accepted; any other one fails the handshake.
    pub identity: Vec<u8>,
    /// The pre-shared key.
    pub psk: Vec<u8>,
    /// Offered (client) or accepted (server) suites as IANA code points, most preferred first.
    pub cipher_suites: Vec<u16>,
    /// `Some(seed)` makes every random byte rtc-dtls asks for (Random, cookie, explicit nonces)
    /// come from a deterministic stream derived from `seed` and the role; `None` uses the OS.
    pub seed: Option<u64>,
    /// First retransmission timeout (RFC 6347 §4.2.4.1). rtc-dtls keeps it constant.
    pub retransmit_interval: Duration,
    /// Extended master secret policy (RFC 7627).
    pub extended_master_secret: ExtendedMasterSecret,
    /// Largest handshake fragment rtc-dtls puts in one record, in bytes.
    pub mtu: usize,
}

impl PskPeerConfig {
    /// A peer offering only `TLS_PSK_WITH_AES_128_CCM_8`, OS randomness, 1 s retransmission.
    pub fn new(role: Role, identity: &[u8], psk: &[u8]) -> Self {
        Self {
            role,
            identity: identity.to_vec(),
            psk: psk.to_vec(),
            cipher_suites: vec![crate::TLS_PSK_WITH_AES_128_CCM_8],
            seed: None,
            retransmit_interval: Duration::from_secs(1),
            extended_master_secret: ExtendedMasterSecret::default(),
            mtu: 1200,
        }
    }
}
