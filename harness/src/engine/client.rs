//! The client side of a correct DTLS 1.2 handshake (RFC 6347 §4.2, Figure 1), used when the
//! autopilot is on. Whatever the autopilot, received messages update the security
//! parameters so a script driving by hand keeps working keys.

use dicetest_crypto::{suite_by_id, verify_ecdsa_sha256, EphemeralKey, KeyExchange};
use dicetest_wire::{
    AlertDescription, CertTypeList, Certificate, CertificateType, CertificateVerify, CipherSuite,
    ClientHello, ClientKeyExchange, Codec, CompressionMethod, DigitallySigned, ECPointFormat,
    Extension, ExtensionType, HandshakeMessage, NamedGroup, ProtocolVersion, ServerKeyExchange,
    SignatureScheme,
};

use super::config::Role;
use super::connection::{Connection, SendOptions, State};
use super::error::HandshakeFailure;
use crate::time::Instant;

impl Connection {
    /// A ClientHello as this client would send it now (flight 1, or flight 3 with the cookie).
    pub fn default_client_hello(&mut self) -> ClientHello {
        let random = if self.params.client_random == [0; 32] {
            self.random32()
        } else {
            // The ClientHello answering a HelloVerifyRequest repeats the first one's
            // parameters (RFC 6347 §4.2.1).
            self.params.client_random
        };
        let cipher_suites: Vec<CipherSuite> = self
            .config
            .cipher_suites
            .iter()
            .map(|&s| CipherSuite::from(s))
            .collect();
        let ecdhe = self
            .config
            .cipher_suites
            .iter()
            .filter_map(|&s| suite_by_id(s))
            .any(|s| matches!(s.kx, KeyExchange::EcdheEcdsa));
        let mut ext = Vec::new();
        if self.config.extended_master_secret {
            ext.push(Extension::ExtendedMasterSecret);
        }
        if self.config.renegotiation_info {
            // An empty renegotiation_info signals secure renegotiation support on an initial
            // handshake (RFC 5746 §3.4).
            ext.push(Extension::RenegotiationInfo(Vec::new()));
        }
        if ecdhe {
            ext.push(Extension::SupportedGroups(vec![NamedGroup::Secp256r1]));
            ext.push(Extension::EcPointFormats(vec![ECPointFormat::Uncompressed]));
            ext.push(Extension::SignatureAlgorithms(vec![
                SignatureScheme::EcdsaSecp256r1Sha256,
            ]));
            // RFC 7250 §3 / RFC 7925 §4.4: raw public keys both ways.
            ext.push(Extension::ClientCertificateType(CertTypeList::Offer(vec![
                CertificateType::RawPublicKey,
            ])));
            ext.push(Extension::ServerCertificateType(CertTypeList::Offer(vec![
                CertificateType::RawPublicKey,
            ])));
        }
        if let Some(code) = self.config.max_fragment_length {
            ext.push(Extension::MaxFragmentLength(code));
        }
        ClientHello {
            client_version: ProtocolVersion::DTLS1_2,
            random,
            // Offering a cached session's id asks for an abbreviated handshake (RFC 5246 §7.4.1.2).
            session_id: self
                .config
                .resume
                .as_ref()
                .map(|r| r.session_id.clone())
                .unwrap_or_default(),
            cookie: self.params.cookie.clone(),
            cipher_suites,
            compression_methods: vec![CompressionMethod::Null],
            extensions: Some(ext),
        }
    }

    pub(super) fn client_start(&mut self, now: Instant) {
        let ch = self.default_client_hello();
        self.begin_flight(1);
        self.send_handshake(&HandshakeMessage::ClientHello(ch), &SendOptions::default());
        self.finish_flight(now, true);
        self.state = State::ClientWaitServerHello;
    }

    pub(super) fn client_on_message(
        &mut self,
        now: Instant,
        _epoch: u16,
        message_seq: u16,
        body: &[u8],
        msg: HandshakeMessage,
    ) {
        let msg_type = msg.msg_type().get_u8();
        match msg {
            HandshakeMessage::HelloVerifyRequest(hvr) => {
                // Neither the cookieless ClientHello nor the HelloVerifyRequest count for the
                // transcript (§4.2.1).
                self.transcript.clear();
                let d = self.config.deviations;
                // Deliberately wrong on request (see `Deviations`): the first cookie kept.
                if !d.keep_first_cookie || self.params.cookie.is_empty() {
                    self.params.cookie = hvr.cookie.clone();
                }
                if d.new_random_after_hello_verify_request {
                    // Deliberately wrong on request: default_client_hello draws a new one.
                    self.params.client_random = [0; 32];
                }
                if self.autopilot && self.state == State::ClientWaitServerHello {
                    let ch = self.default_client_hello();
                    self.begin_flight(3);
                    self.send_handshake(
                        &HandshakeMessage::ClientHello(ch),
                        &SendOptions::default(),
                    );
                    self.finish_flight(now, true);
                }
            }
            HandshakeMessage::ServerHello(sh) => {
                self.transcript.add(msg_type, message_seq, body);
                self.timer.stop();
                let id = sh.cipher_suite.get_u16();
                self.params.server_random = sh.random;
                self.params.session_id = sh.session_id.clone();
                self.params.suite = suite_by_id(id);
                let exts = sh.extensions.clone().unwrap_or_default();
                self.params.extended_master_secret = exts
                    .iter()
                    .any(|e| e.ext_type() == ExtensionType::ExtendedMasterSecret);
                self.records.set_version(sh.server_version);
                if !self.autopilot {
                    return;
                }
                if !self.config.cipher_suites.contains(&id) || self.params.suite.is_none() {
                    return self.fail(
                        HandshakeFailure::UnofferedCipherSuite(id),
                        Some(AlertDescription::IllegalParameter),
                    );
                }
                if sh.compression_method != CompressionMethod::Null {
                    let c = sh.compression_method.get_u8();
                    return self.fail(
                        HandshakeFailure::NonNullCompression(c),
                        Some(AlertDescription::IllegalParameter),
                    );
                }
                let resuming = self
                    .config
                    .resume
                    .clone()
                    .filter(|r| !sh.session_id.is_empty() && r.session_id == sh.session_id);
                if let Some(r) = resuming {
                    // The server resumes (RFC 6347 Figure 2): its CCS and Finished come next.
                    if r.cipher_suite != id
                        || (r.extended_master_secret && !self.params.extended_master_secret)
                    {
                        // RFC 5246 §7.4.1.3 / RFC 7627 §5.3: a resumed session keeps its suite
                        // and its extended master secret.
                        return self.fail(
                            HandshakeFailure::UnexpectedMessage {
                                expected: "a resumption with the session's own suite and EMS",
                                got: sh_summary(id, self.params.extended_master_secret),
                            },
                            Some(AlertDescription::HandshakeFailure),
                        );
                    }
                    self.resumed = true;
                    self.params.master = Some(r.master);
                    self.install_read_keys();
                    self.state = State::ClientWaitChangeCipherSpec;
                    return;
                }
                self.state = State::ClientWaitServerHelloDone;
            }
            HandshakeMessage::Certificate(cert) => {
                self.transcript.add(msg_type, message_seq, body);
                self.absorb_peer_certificate(cert);
            }
            HandshakeMessage::ServerKeyExchange(ske) => {
                self.transcript.add(msg_type, message_seq, body);
                match ske {
                    ServerKeyExchange::Psk { identity_hint } => {
                        self.params.psk_identity_hint = Some(identity_hint)
                    }
                    ServerKeyExchange::Ecdhe { params, signature } => {
                        // RFC 8422 §5.4: the signature covers both randoms and the params.
                        let mut signed = Vec::new();
                        signed.extend_from_slice(&self.params.client_random);
                        signed.extend_from_slice(&self.params.server_random);
                        params.encode(&mut signed);
                        let ok = self
                            .params
                            .peer_spki
                            .as_ref()
                            .map(|spki| {
                                verify_ecdsa_sha256(spki, &signed, &signature.signature).is_ok()
                            })
                            .unwrap_or(false);
                        self.params.peer_point = Some(params.public.clone());
                        if !ok && self.autopilot {
                            self.fail(
                                HandshakeFailure::BadSignature("ServerKeyExchange"),
                                Some(AlertDescription::DecryptError),
                            );
                        }
                    }
                    ServerKeyExchange::Raw(_) => {}
                }
            }
            HandshakeMessage::CertificateRequest(_) => {
                self.transcript.add(msg_type, message_seq, body);
                self.params.client_certificate_requested = true;
            }
            HandshakeMessage::ServerHelloDone(_) => {
                self.transcript.add(msg_type, message_seq, body);
                if self.autopilot && self.state == State::ClientWaitServerHelloDone {
                    self.client_send_flight5(now);
                }
            }
            HandshakeMessage::Finished(fin) => {
                let ok = self.check_peer_finished(&fin.verify_data);
                self.peer_finished_ok = Some(ok);
                self.transcript.add(msg_type, message_seq, body);
                if !self.autopilot {
                    return;
                }
                if self.state != State::ClientWaitFinished {
                    return;
                }
                if !ok {
                    return self.fail(
                        HandshakeFailure::BadFinished,
                        Some(AlertDescription::DecryptError),
                    );
                }
                self.timer.stop();
                if self.resumed {
                    // Abbreviated handshake: the client's CCS and Finished close it, as the
                    // final flight (resent only if the server repeats its own).
                    self.begin_flight(5);
                    self.send_change_cipher_spec_and_finished();
                    self.finish_flight(now, false);
                }
                self.connected();
            }
            HandshakeMessage::HelloRequest(_) => {
                // RFC 7925 §17: renegotiation is not used; a HelloRequest is ignored
                // (RFC 5246 §7.4.1.1 allows ignoring it).
            }
            other => {
                self.transcript.add(msg_type, message_seq, body);
                if self.autopilot {
                    self.fail(
                        HandshakeFailure::UnexpectedMessage {
                            expected: "a server handshake message",
                            got: other.summary(),
                        },
                        Some(AlertDescription::UnexpectedMessage),
                    );
                }
            }
        }
    }

    /// The client's key exchange message for the negotiated suite, with defaults.
    pub fn default_client_key_exchange(&mut self) -> Result<ClientKeyExchange, HandshakeFailure> {
        let kx = self.params.suite.map(|s| s.kx);
        match kx {
            Some(KeyExchange::EcdheEcdsa) => {
                let peer = self
                    .params
                    .peer_point
                    .clone()
                    .ok_or(HandshakeFailure::BadKeyShare("no server key share".into()))?;
                let key = EphemeralKey::generate(&mut self.rng);
                let public = key.public_point();
                let pms = key
                    .agree(&peer)
                    .map_err(|e| HandshakeFailure::BadKeyShare(e.to_string()))?;
                self.params.premaster = Some(pms);
                self.params.ecdhe = Some(key);
                Ok(ClientKeyExchange::Ecdhe { public })
            }
            _ => {
                let psk = self
                    .config
                    .psk
                    .clone()
                    .ok_or(HandshakeFailure::MissingCredentials("PSK"))?;
                self.params.set_psk_premaster(&psk.key);
                self.params.psk_identity = Some(psk.identity.clone());
                Ok(ClientKeyExchange::Psk {
                    identity: psk.identity,
                })
            }
        }
    }

    /// Flight 5: [Certificate] ClientKeyExchange [CertificateVerify] ChangeCipherSpec Finished.
    fn client_send_flight5(&mut self, now: Instant) {
        debug_assert_eq!(self.config.role, Role::Client);
        let cke = match self.default_client_key_exchange() {
            Ok(c) => c,
            Err(f) => return self.fail(f, Some(AlertDescription::HandshakeFailure)),
        };
        self.begin_flight(5);
        let with_cert = self.params.client_certificate_requested;
        if with_cert {
            let spki = self
                .config
                .rpk
                .as_ref()
                .map(|r| r.key.subject_public_key_info())
                .unwrap_or_default();
            self.send_handshake(
                &HandshakeMessage::Certificate(Certificate::RawPublicKey(spki)),
                &SendOptions::default(),
            );
        }
        self.send_handshake(
            &HandshakeMessage::ClientKeyExchange(cke),
            &SendOptions::default(),
        );
        if with_cert {
            if let Some(rpk) = self.config.rpk.clone() {
                // TLS 1.2 CertificateVerify signs the handshake messages so far (RFC 5246 §7.4.8).
                let signature = rpk.key.sign(self.transcript.bytes());
                let cv = CertificateVerify {
                    signature: DigitallySigned {
                        scheme: SignatureScheme::EcdsaSecp256r1Sha256,
                        signature,
                    },
                };
                self.send_handshake(
                    &HandshakeMessage::CertificateVerify(cv),
                    &SendOptions::default(),
                );
            }
        }
        self.send_change_cipher_spec_and_finished();
        self.finish_flight(now, true);
        self.state = State::ClientWaitChangeCipherSpec;
    }
}

fn sh_summary(suite: u16, ems: bool) -> String {
    format!("a ServerHello resuming with suite {suite:#06x}, EMS {ems}")
}

#[cfg(test)]
mod tests {
    use super::super::config::{Config, Deviations};
    use super::super::connection::Connection;
    use crate::time::Instant;

    /// A stateless server's HelloVerifyRequest for `client_hello`; each seed gives another
    /// cookie secret.
    fn hello_verify_request(seed: u64, client_hello: &[u8]) -> Vec<u8> {
        let mut s = Connection::new(Config::server().with_psk(b"id", b"key").with_seed(seed));
        s.handle_datagram(Instant::ZERO, client_hello);
        s.poll_transmit().expect("a HelloVerifyRequest")
    }

    /// (random, cookie) of the client's ClientHellos: the first, then its answers to two
    /// HelloVerifyRequests with different cookies (each ClientHello goes to a server with
    /// another secret, so the cookie it brings is refused and a new one issued).
    fn hellos(deviations: Deviations) -> Vec<([u8; 32], Vec<u8>)> {
        let mut cfg = Config::client().with_psk(b"id", b"key").with_seed(1);
        cfg.deviations = deviations;
        let mut c = Connection::new(cfg);
        c.start(Instant::ZERO);
        let mut hello = c.poll_transmit().expect("a ClientHello");
        let mut out = vec![(c.params.client_random, c.params.cookie.clone())];
        for seed in [7, 8] {
            c.handle_datagram(Instant::ZERO, &hello_verify_request(seed, &hello));
            hello = c.poll_transmit().expect("the HelloVerifyRequest answered");
            out.push((c.params.client_random, c.params.cookie.clone()));
        }
        out
    }

    #[test]
    fn by_default_the_client_repeats_its_random_and_takes_the_latest_cookie() {
        let h = hellos(Deviations::default());
        assert!(h.iter().all(|(r, _)| *r == h[0].0 && *r != [0; 32]));
        assert!(h[0].1.is_empty());
        assert!(!h[1].1.is_empty() && !h[2].1.is_empty());
        assert_ne!(h[1].1, h[2].1, "the two servers gave different cookies");
    }

    #[test]
    fn deviations_change_the_random_or_keep_the_first_cookie_on_request() {
        let h = hellos(Deviations {
            new_random_after_hello_verify_request: true,
            ..Default::default()
        });
        assert_ne!(h[0].0, h[1].0);
        assert_ne!(h[1].0, h[2].0);
        let h = hellos(Deviations {
            keep_first_cookie: true,
            ..Default::default()
        });
        assert!(!h[1].1.is_empty());
        assert_eq!(h[1].1, h[2].1, "the second cookie replaced the first");
        assert_eq!(h[0].0, h[2].0);
    }
}
