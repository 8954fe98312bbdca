//! A third-party DTLS 1.2 peer that runs inside the test process.
//!
//! [`RtcPeer`] wraps the sans-IO DTLS stack of webrtc-rs (`rtc-dtls`) behind a small
//! datagram-in / datagram-out API driven by a caller-supplied clock, so a harness can pump two
//! endpoints against each other in memory, drop or reorder datagrams, and jump a virtual clock to
//! fire retransmission timers (RFC 6347 §4.2.4) without sleeping. It knows nothing about the
//! harness that drives it.
//!
//! Only pre-shared-key suites are configured (RFC 4279, RFC 6655): that is what RFC 7925 §4.2
//! profiles for constrained devices, and what rtc-dtls offers without certificates.

mod config;
mod peer;
mod seeded_random;

pub use config::{ExtendedMasterSecret, PskPeerConfig, Role};
pub use peer::RtcPeer;

/// `TLS_PSK_WITH_AES_128_CCM_8` (RFC 6655 §4), the RFC 7925 §4.2 mandatory PSK suite.
pub const TLS_PSK_WITH_AES_128_CCM_8: u16 = 0xC0A8;
/// `TLS_PSK_WITH_AES_128_CCM` (RFC 6655 §4).
pub const TLS_PSK_WITH_AES_128_CCM: u16 = 0xC0A4;
/// `TLS_PSK_WITH_AES_128_GCM_SHA256` (RFC 5487 §2).
pub const TLS_PSK_WITH_AES_128_GCM_SHA256: u16 = 0x00A8;
