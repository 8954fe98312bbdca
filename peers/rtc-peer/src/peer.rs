//! The sans-IO peer: datagrams in, datagrams out, time supplied by the caller.

use crate::config::{ExtendedMasterSecret, PskPeerConfig, Role};
use crate::seeded_random::SeededProvider;
use bytes::BytesMut;
use rtc_dtls::cipher_suite::CipherSuiteId;
use rtc_dtls::config::{ConfigBuilder, ExtendedMasterSecretType, HandshakeConfig};
use rtc_dtls::crypto_provider::providers::RingProvider;
use rtc_dtls::crypto_provider::RTCCryptoProvider;
use rtc_dtls::endpoint::{Endpoint, EndpointEvent};
use rtc_shared::error::Error as RtcError;
use rtc_shared::TransportProtocol;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// rtc-dtls keys associations by socket address; a lone in-memory pair needs just two
/// fixed, distinct ones. They never reach a socket.
const LOCAL: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 1);
const REMOTE: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 2);

/// One DTLS 1.2 PSK endpoint of rtc-dtls, talking to exactly one other side.
pub struct RtcPeer {
    role: Role,
    endpoint: Endpoint,
    /// Last instant the caller handed in; stamps writes, which take no `now` of their own.
    now: Instant,
    handshake_complete: bool,
    peer_closed: bool,
    failure: Option<String>,
    received: VecDeque<Vec<u8>>,
}

impl RtcPeer {
    /// Builds the peer. A client queues its first ClientHello at once (see `poll_transmit`);
    /// a server waits for one.
    pub fn new(cfg: PskPeerConfig, now: Instant) -> Result<Self, String> {
        let config = Arc::new(handshake_config(&cfg)?);
        let mut peer = Self {
            role: cfg.role,
            endpoint: Endpoint::new(LOCAL, TransportProtocol::UDP, None),
            now,
            handshake_complete: false,
            peer_closed: false,
            failure: None,
            received: VecDeque::new(),
        };
        match cfg.role {
            Role::Client => peer
                .endpoint
                .connect(now, REMOTE, config, None)
                .map_err(|e| format!("rtc-dtls connect: {e}"))?,
            Role::Server => peer.endpoint.set_server_config(Some(config)),
        }
        Ok(peer)
    }

    /// The role this peer plays.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Feeds one datagram from the other side. Whatever rtc-dtls answers (a flight, an alert)
    /// is queued for `poll_transmit` even when this returns an error.
    ///
    /// Once the association has failed (see [`Self::failure`]) datagrams are refused unread:
    /// rtc-dtls keeps a failed association alive and answers every alert it receives with the
    /// same alert, so two failed rtc-dtls peers would otherwise trade alerts forever.
    pub fn handle_datagram(&mut self, now: Instant, datagram: &[u8]) -> Result<(), String> {
        self.now = now;
        if let Some(failure) = &self.failure {
            return Err(format!("association failed earlier: {failure}"));
        }
        let result = self
            .endpoint
            .read(now, REMOTE, None, BytesMut::from(datagram));
        match result {
            Ok(events) => {
                self.absorb(events);
                Ok(())
            }
            Err(e) => {
                let message = format!("rtc-dtls read: {e}");
                if ends_association(&e) {
                    self.failure = Some(message.clone());
                }
                Err(message)
            }
        }
    }

    /// Fires the retransmission timer if `now` has reached it (RFC 6347 §4.2.4). A handshake
    /// that runs out of retransmissions is recorded in [`Self::failure`].
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        if self.failure.is_some() || self.endpoint.poll_timeout(&REMOTE).is_none() {
            return;
        }
        if let Err(e) = self.endpoint.handle_timeout(REMOTE, now) {
            self.failure = Some(format!("rtc-dtls timeout: {e}"));
        }
    }

    /// When `handle_timeout` next has work, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.failure.is_some() {
            return None;
        }
        self.endpoint.poll_timeout(&REMOTE)
    }

    /// The next datagram for the other side.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.endpoint.poll_transmit().map(|t| t.message.to_vec())
    }

    /// True once this side has sent and received Finished.
    pub fn is_handshake_complete(&self) -> bool {
        self.handshake_complete
    }

    /// True once the other side's close_notify has arrived (RFC 5246 §7.2.1).
    pub fn is_peer_closed(&self) -> bool {
        self.peer_closed
    }

    /// Why the association ended, if it did: a fatal alert sent or received, a failed
    /// handshake step, or exhausted retransmissions.
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// Protects `data` as one application_data record, queued for `poll_transmit`.
    pub fn send_application_data(&mut self, data: &[u8]) -> Result<(), String> {
        if !self.handshake_complete {
            return Err("handshake not complete".to_owned());
        }
        self.endpoint
            .write(self.now, REMOTE, data)
            .map_err(|e| format!("rtc-dtls write: {e}"))
    }

    /// The next decrypted application_data payload.
    pub fn poll_application_data(&mut self) -> Option<Vec<u8>> {
        self.received.pop_front()
    }

    /// The cipher suite both sides agreed on, once the handshake is complete.
    pub fn negotiated_suite(&self) -> Option<u16> {
        if !self.handshake_complete {
            return None;
        }
        let state = self.endpoint.get_connection_state(REMOTE)?;
        state.cipher_suite().map(|suite| suite.id() as u16)
    }

    /// Sends close_notify (queued for `poll_transmit`) and forgets the association.
    pub fn close(&mut self, now: Instant) {
        self.now = now;
        let _ = self.endpoint.stop(now, REMOTE);
    }

    fn absorb(&mut self, events: Vec<EndpointEvent>) {
        for event in events {
            match event {
                EndpointEvent::HandshakeComplete => self.handshake_complete = true,
                EndpointEvent::ApplicationData(data) => self.received.push_back(data.to_vec()),
                EndpointEvent::PeerClosed => self.peer_closed = true,
                _ => {}
            }
        }
    }
}

/// Whether an error from `Endpoint::read` ends the association. rtc-dtls reports two things
/// as errors that are not: a datagram it could not split into records (discarded whole, as
/// RFC 6347 §4.1.2.7 allows) and a warning-level alert from the peer. Everything else is a
/// fatal alert sent or received (RFC 5246 §7.2.2) or a failed handshake step.
fn ends_association(error: &RtcError) -> bool {
    match error {
        RtcError::ErrInvalidPacketLength => false,
        RtcError::Other(text) => !text.starts_with("Error of Alert"),
        _ => true,
    }
}

fn handshake_config(cfg: &PskPeerConfig) -> Result<HandshakeConfig, String> {
    let provider: Arc<dyn RTCCryptoProvider> = match cfg.seed {
        Some(seed) => Arc::new(SeededProvider::new(seed, role_label(cfg.role))),
        None => Arc::new(RingProvider::new()),
    };
    let suites = cfg
        .cipher_suites
        .iter()
        .map(|&id| match CipherSuiteId::from(id) {
            CipherSuiteId::Unsupported => Err(format!("rtc-dtls has no cipher suite 0x{id:04X}")),
            suite => Ok(suite),
        })
        .collect::<Result<Vec<_>, _>>()?;

    let psk = cfg.psk.clone();
    let builder = ConfigBuilder::default()
        .with_crypto_provider(provider)
        .with_cipher_suites(suites)
        .with_extended_master_secret(match cfg.extended_master_secret {
            ExtendedMasterSecret::Request => ExtendedMasterSecretType::Request,
            ExtendedMasterSecret::Require => ExtendedMasterSecretType::Require,
            ExtendedMasterSecret::Disable => ExtendedMasterSecretType::Disable,
        })
        .with_flight_interval(cfg.retransmit_interval)
        .with_mtu(cfg.mtu)
        // PSK only: no certificate is ever exchanged, so skip building a verifier.
        .with_insecure_skip_verify(true);
    let builder = match cfg.role {
        // rtc-dtls calls the identity a client sends its "identity hint"; the callback gets the
        // server's hint (if any) and answers with the key.
        Role::Client => builder
            .with_psk_identity_hint(Some(cfg.identity.clone()))
            .with_psk(Some(Arc::new(move |_hint: &[u8]| Ok(psk.clone())))),
        // The server callback gets the client's identity (RFC 4279 §2).
        Role::Server => {
            let identity = cfg.identity.clone();
            builder.with_psk(Some(Arc::new(move |offered: &[u8]| {
                if offered == identity.as_slice() {
                    Ok(psk.clone())
                } else {
                    Err(RtcError::Other(format!(
                        "unknown PSK identity {}",
                        String::from_utf8_lossy(offered)
                    )))
                }
            })))
        }
    };
    builder
        .build(cfg.role == Role::Client, Some(REMOTE))
        .map_err(|e| format!("rtc-dtls config: {e}"))
}

fn role_label(role: Role) -> &'static [u8] {
    match role {
        Role::Client => b"client",
        Role::Server => b"server",
    }
}
