//! The server side of a correct DTLS 1.2 handshake (RFC 6347 §4.2, Figure 1), with the
//! stateless cookie exchange of §4.2.1.

use dicetest_crypto::{hmac_sha256, suite_by_id, verify_ecdsa_sha256, EphemeralKey, KeyExchange};
use dicetest_wire::{
    AlertDescription, CertTypeList, Certificate, CertificateRequest, CertificateType,
    ClientCertificateType, ClientHello, ClientKeyExchange, Codec, CompressionMethod,
    DigitallySigned, ECCurveType, ECPointFormat, Extension, ExtensionType, HandshakeMessage,
    HelloVerifyRequest, NamedGroup, ProtocolVersion, ServerEcdhParams, ServerHello,
    ServerKeyExchange, SignatureScheme,
};

use super::connection::{Connection, SendOptions, State};
use super::error::HandshakeFailure;
use super::record::RecordOverrides;
use crate::time::Instant;

impl Connection {
    /// The cookie we expect from a client with these hello parameters: an HMAC under a
    /// secret of ours over what RFC 6347 §4.2.1 says a cookie should bind (the client's
    /// address from the I/O edge, version, random, session_id, cipher suites, compression).
    pub fn cookie_for(&self, ch: &ClientHello) -> Vec<u8> {
        let mut data = self.config.cookie_context.clone();
        data.extend_from_slice(&ch.client_version.get_u16().to_be_bytes());
        data.extend_from_slice(&ch.random);
        data.push(ch.session_id.len() as u8);
        data.extend_from_slice(&ch.session_id);
        for s in &ch.cipher_suites {
            data.extend_from_slice(&s.get_u16().to_be_bytes());
        }
        for c in &ch.compression_methods {
            data.push(c.get_u8());
        }
        hmac_sha256(&self.cookie_secret, &data)[..16].to_vec()
    }

    pub(super) fn server_on_message(
        &mut self,
        now: Instant,
        epoch: u16,
        message_seq: u16,
        body: &[u8],
        msg: HandshakeMessage,
    ) {
        let msg_type = msg.msg_type().get_u8();
        match msg {
            HandshakeMessage::ClientHello(ch) => {
                if self.state != State::ServerWaitClientHello {
                    // A ClientHello inside an association (renegotiation, RFC 7925 §17) or in a
                    // protected epoch: refused with a warning, nothing else changes.
                    if self.autopilot && self.state == State::Connected && epoch > 0 {
                        self.send_alert(
                            dicetest_wire::AlertLevel::Warning,
                            AlertDescription::NoRenegotiation,
                            &RecordOverrides::default(),
                        );
                    }
                    return;
                }
                if epoch != 0 {
                    return; // a first ClientHello is only valid in epoch 0 (§4.1)
                }
                self.server_on_client_hello(now, message_seq, body, ch);
            }
            HandshakeMessage::Certificate(cert) => {
                self.transcript.add(msg_type, message_seq, body);
                self.absorb_peer_certificate(cert);
            }
            HandshakeMessage::ClientKeyExchange(cke) => {
                self.transcript.add(msg_type, message_seq, body);
                if let Err((f, alert)) = self.server_absorb_client_key_exchange(cke) {
                    if self.autopilot {
                        return self.fail(f, Some(alert));
                    }
                    return;
                }
                // The master secret, with EMS hashing through ClientKeyExchange (RFC 7627 §3).
                let hash = self.transcript.hash();
                if self.params.derive_master(&hash) {
                    self.install_read_keys();
                }
                if self.state == State::ServerWaitClientKeyExchange {
                    self.state = if self.params.client_certificate_requested {
                        State::ServerWaitCertificateVerify
                    } else {
                        State::ServerWaitChangeCipherSpec
                    };
                }
            }
            HandshakeMessage::CertificateVerify(cv) => {
                let ok = self
                    .params
                    .peer_spki
                    .as_ref()
                    .map(|spki| {
                        verify_ecdsa_sha256(spki, self.transcript.bytes(), &cv.signature.signature)
                            .is_ok()
                    })
                    .unwrap_or(false);
                self.transcript.add(msg_type, message_seq, body);
                if self.autopilot && !ok {
                    return self.fail(
                        HandshakeFailure::BadSignature("CertificateVerify"),
                        Some(AlertDescription::DecryptError),
                    );
                }
                if self.state == State::ServerWaitCertificateVerify {
                    self.state = State::ServerWaitChangeCipherSpec;
                }
            }
            HandshakeMessage::Finished(fin) => {
                let ok = self.check_peer_finished(&fin.verify_data);
                self.peer_finished_ok = Some(ok);
                self.transcript.add(msg_type, message_seq, body);
                if !self.autopilot || self.state != State::ServerWaitFinished {
                    return;
                }
                if !ok {
                    return self.fail(
                        HandshakeFailure::BadFinished,
                        Some(AlertDescription::DecryptError),
                    );
                }
                if self.resumed {
                    // Abbreviated handshake: our Finished went first; the client's closes it.
                    self.timer.stop();
                    return self.connected();
                }
                // Flight 6. It is the last flight: it is not retransmitted on a timer, only
                // when the client repeats flight 5 (§4.2.4).
                self.begin_flight(6);
                self.send_change_cipher_spec_and_finished();
                self.finish_flight(now, false);
                self.connected();
            }
            other => {
                self.transcript.add(msg_type, message_seq, body);
                if self.autopilot {
                    self.fail(
                        HandshakeFailure::UnexpectedMessage {
                            expected: "a client handshake message",
                            got: other.summary(),
                        },
                        Some(AlertDescription::UnexpectedMessage),
                    );
                }
            }
        }
    }

    fn server_on_client_hello(
        &mut self,
        now: Instant,
        message_seq: u16,
        body: &[u8],
        ch: ClientHello,
    ) {
        let record_seq = self.last_handshake_record_seq;
        if self.autopilot && self.config.cookie_exchange {
            let want = self.cookie_for(&ch);
            if ch.cookie != want {
                // Stateless answer (§4.2.1): HelloVerifyRequest with the ClientHello's
                // message_seq and record sequence number, no timer, nothing remembered.
                let hvr = HelloVerifyRequest {
                    server_version: ProtocolVersion::DTLS1_0,
                    cookie: want,
                };
                self.records.set_next_write_seq(record_seq);
                self.begin_flight(2);
                self.send_handshake(
                    &HandshakeMessage::HelloVerifyRequest(hvr),
                    &SendOptions {
                        message_seq: Some(message_seq),
                        skip_transcript: true,
                        no_retransmit: true,
                        ..Default::default()
                    },
                );
                self.finish_flight(now, false);
                self.reassembler.expect_any_first();
                return;
            }
            self.records.set_next_write_seq(record_seq);
        }
        self.transcript.clear();
        self.transcript.add(1, message_seq, body);
        self.params.client_random = ch.random;
        self.params.cookie = ch.cookie.clone();
        self.last_client_hello = Some(ch.clone());
        // Our messages continue the client's numbering (§4.2.2).
        self.next_send_seq = message_seq;
        if !self.autopilot {
            return;
        }
        if let Some(cached) = self.resumable_for(&ch) {
            return self.server_resume(now, message_seq, cached);
        }
        let mut sh = match self.default_server_hello() {
            Ok(sh) => sh,
            Err((f, alert)) => return self.fail(f, Some(alert)),
        };
        if self.config.session_cache.is_some() {
            // A session id lets the client resume this session later (RFC 5246 §7.4.1.3).
            sh.session_id = self.random32().to_vec();
        }
        let ecdhe = suite_by_id(sh.cipher_suite.get_u16())
            .is_some_and(|p| matches!(p.kx, KeyExchange::EcdheEcdsa));
        self.reassembler.reset_to(message_seq.wrapping_add(1));
        self.begin_flight(4);
        self.send_handshake(&HandshakeMessage::ServerHello(sh), &SendOptions::default());
        if ecdhe {
            let Some(rpk) = self.config.rpk.clone() else {
                return self.fail(
                    HandshakeFailure::MissingCredentials("raw public key"),
                    Some(AlertDescription::InternalError),
                );
            };
            let spki = rpk.key.subject_public_key_info();
            self.send_handshake(
                &HandshakeMessage::Certificate(Certificate::RawPublicKey(spki)),
                &SendOptions::default(),
            );
            let key = EphemeralKey::generate(&mut self.rng);
            let params = ServerEcdhParams {
                curve_type: ECCurveType::NamedCurve,
                named_group: NamedGroup::Secp256r1,
                public: key.public_point(),
            };
            let mut signed = Vec::new();
            signed.extend_from_slice(&self.params.client_random);
            signed.extend_from_slice(&self.params.server_random);
            params.encode(&mut signed);
            let signature = rpk.key.sign(&signed);
            self.params.ecdhe = Some(key);
            let ske = ServerKeyExchange::Ecdhe {
                params,
                signature: DigitallySigned {
                    scheme: SignatureScheme::EcdsaSecp256r1Sha256,
                    signature,
                },
            };
            self.send_handshake(
                &HandshakeMessage::ServerKeyExchange(ske),
                &SendOptions::default(),
            );
            if self.config.request_client_certificate {
                self.params.client_certificate_requested = true;
                let cr = CertificateRequest {
                    certificate_types: vec![ClientCertificateType::EcdsaSign],
                    supported_signature_algorithms: vec![SignatureScheme::EcdsaSecp256r1Sha256],
                    certificate_authorities: Vec::new(),
                };
                self.send_handshake(
                    &HandshakeMessage::CertificateRequest(cr),
                    &SendOptions::default(),
                );
            }
        } else if let Some(hint) = self.config.psk_identity_hint.clone() {
            // RFC 4279 §2: ServerKeyExchange only to carry a hint.
            self.send_handshake(
                &HandshakeMessage::ServerKeyExchange(ServerKeyExchange::Psk {
                    identity_hint: hint,
                }),
                &SendOptions::default(),
            );
        }
        self.send_handshake(
            &HandshakeMessage::ServerHelloDone(dicetest_wire::ServerHelloDone),
            &SendOptions::default(),
        );
        self.finish_flight(now, true);
        self.state = State::ServerWaitClientKeyExchange;
    }

    /// The cached session this ClientHello may resume, if any: same id, its suite still
    /// offered, and its extended master secret still offered (RFC 7627 §5.3).
    fn resumable_for(&self, ch: &ClientHello) -> Option<super::config::ResumableSession> {
        if ch.session_id.is_empty() {
            return None;
        }
        let cache = self.config.session_cache.as_ref()?;
        let s = cache.lock().ok()?.get(&ch.session_id).cloned()?;
        let offers_suite = ch
            .cipher_suites
            .iter()
            .any(|c| c.get_u16() == s.cipher_suite);
        let offers_ems = ch.extensions.as_ref().is_some_and(|x| {
            x.iter()
                .any(|e| e.ext_type() == ExtensionType::ExtendedMasterSecret)
        });
        (offers_suite && (offers_ems || !s.extended_master_secret)).then_some(s)
    }

    /// Abbreviated handshake (RFC 6347 Figure 2): ServerHello with the cached session id,
    /// then our ChangeCipherSpec and Finished at once; the client's CCS and Finished follow.
    fn server_resume(
        &mut self,
        now: Instant,
        message_seq: u16,
        s: super::config::ResumableSession,
    ) {
        self.resumed = true;
        self.params.master = Some(s.master);
        self.params.extended_master_secret = s.extended_master_secret;
        let mut ext = Vec::new();
        if s.extended_master_secret {
            ext.push(Extension::ExtendedMasterSecret);
        }
        let sh = ServerHello {
            server_version: ProtocolVersion::DTLS1_2,
            random: self.random32(),
            session_id: s.session_id.clone(),
            cipher_suite: s.cipher_suite.into(),
            compression_method: CompressionMethod::Null,
            extensions: Some(ext),
        };
        self.reassembler.reset_to(message_seq.wrapping_add(1));
        self.begin_flight(4);
        self.send_handshake(&HandshakeMessage::ServerHello(sh), &SendOptions::default());
        self.install_read_keys();
        self.send_change_cipher_spec_and_finished();
        self.finish_flight(now, true);
        self.state = State::ServerWaitChangeCipherSpec;
    }

    /// A HelloVerifyRequest for the last ClientHello, with the cookie we would accept.
    pub fn default_hello_verify_request(&self) -> HelloVerifyRequest {
        let cookie = self
            .last_client_hello
            .as_ref()
            .map(|ch| self.cookie_for(ch))
            .unwrap_or_default();
        HelloVerifyRequest {
            server_version: ProtocolVersion::DTLS1_0,
            cookie,
        }
    }

    /// The ServerHello this server would answer the last ClientHello with: our preferred
    /// suite among those offered, null compression, and the extensions we support.
    pub fn default_server_hello(
        &mut self,
    ) -> Result<ServerHello, (HandshakeFailure, AlertDescription)> {
        let Some(ch) = self.last_client_hello.clone() else {
            return Err((
                HandshakeFailure::UnexpectedMessage {
                    expected: "a ClientHello first",
                    got: "nothing".into(),
                },
                AlertDescription::InternalError,
            ));
        };
        // RFC 7925 §6.1 / RFC 5246 §7.4.1.2: null compression must be offered.
        if !ch.compression_methods.contains(&CompressionMethod::Null) {
            return Err((
                HandshakeFailure::NonNullCompression(
                    ch.compression_methods
                        .first()
                        .map(|c| c.get_u8())
                        .unwrap_or(0),
                ),
                AlertDescription::IllegalParameter,
            ));
        }
        let offered: Vec<u16> = ch.cipher_suites.iter().map(|s| s.get_u16()).collect();
        let Some(suite) = self
            .config
            .cipher_suites
            .iter()
            .copied()
            .find(|s| offered.contains(s))
            .and_then(suite_by_id)
        else {
            return Err((
                HandshakeFailure::NoCommonCipherSuite { offered },
                AlertDescription::HandshakeFailure,
            ));
        };
        let exts = ch.extensions.clone().unwrap_or_default();
        let has = |t: ExtensionType| exts.iter().any(|e| e.ext_type() == t);
        self.params.extended_master_secret =
            self.config.extended_master_secret && has(ExtensionType::ExtendedMasterSecret);
        let secure_reneg = has(ExtensionType::RenegotiationInfo) || offered.contains(&0x00FF);
        let mut sh_ext = Vec::new();
        if self.params.extended_master_secret {
            sh_ext.push(Extension::ExtendedMasterSecret);
        }
        if secure_reneg && self.config.renegotiation_info {
            sh_ext.push(Extension::RenegotiationInfo(Vec::new()));
        }
        let ecdhe = matches!(suite.kx, KeyExchange::EcdheEcdsa);
        if ecdhe {
            if has(ExtensionType::EcPointFormats) {
                sh_ext.push(Extension::EcPointFormats(vec![ECPointFormat::Uncompressed]));
            }
            if has(ExtensionType::ServerCertificateType) {
                sh_ext.push(Extension::ServerCertificateType(CertTypeList::Selected(
                    CertificateType::RawPublicKey,
                )));
            }
            if self.config.request_client_certificate && has(ExtensionType::ClientCertificateType) {
                sh_ext.push(Extension::ClientCertificateType(CertTypeList::Selected(
                    CertificateType::RawPublicKey,
                )));
            }
        }
        for e in &exts {
            if let Extension::MaxFragmentLength(code) = e {
                // RFC 6066 §4: echo an acceptable value.
                if (1..=4).contains(code) {
                    sh_ext.push(Extension::MaxFragmentLength(*code));
                }
            }
        }
        Ok(ServerHello {
            server_version: ProtocolVersion::DTLS1_2,
            random: self.random32(),
            session_id: Vec::new(),
            cipher_suite: suite.id.into(),
            compression_method: CompressionMethod::Null,
            extensions: Some(sh_ext),
        })
    }

    fn server_absorb_client_key_exchange(
        &mut self,
        cke: ClientKeyExchange,
    ) -> Result<(), (HandshakeFailure, AlertDescription)> {
        match cke {
            ClientKeyExchange::Psk { identity } => {
                let psk = self.config.psk.clone().ok_or((
                    HandshakeFailure::MissingCredentials("PSK"),
                    AlertDescription::InternalError,
                ))?;
                self.params.psk_identity = Some(identity.clone());
                if identity != psk.identity {
                    // RFC 4279 §2 allows unknown_psk_identity (or decrypt_error, to hide it).
                    return Err((
                        HandshakeFailure::UnknownPskIdentity(
                            String::from_utf8_lossy(&identity).into_owned(),
                        ),
                        AlertDescription::UnknownPskIdentity,
                    ));
                }
                self.params.set_psk_premaster(&psk.key);
                Ok(())
            }
            ClientKeyExchange::Ecdhe { public } => {
                let key = self.params.ecdhe.as_ref().ok_or((
                    HandshakeFailure::BadKeyShare("no server key".into()),
                    AlertDescription::UnexpectedMessage,
                ))?;
                let pms = key.agree(&public).map_err(|e| {
                    (
                        HandshakeFailure::BadKeyShare(e.to_string()),
                        AlertDescription::IllegalParameter,
                    )
                })?;
                self.params.peer_point = Some(public);
                self.params.premaster = Some(pms);
                Ok(())
            }
            ClientKeyExchange::Raw(_) => Err((
                HandshakeFailure::UnexpectedMessage {
                    expected: "a ClientKeyExchange for the negotiated suite",
                    got: "an undecodable ClientKeyExchange".into(),
                },
                AlertDescription::DecodeError,
            )),
        }
    }
}
