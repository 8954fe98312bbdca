//! The `send` step: one message built from the engine's defaults with any field, record
//! header or fragment layout overridden.

use super::*;

impl Interpreter<'_> {
    pub(super) fn value_bytes(&self, v: &Value) -> Result<Vec<u8>, String> {
        match v {
            Value::String(s) if s.starts_with('$') => match self.vars.get(&s[1..]) {
                Some(Var::Bytes(b)) => Ok(b.clone()),
                Some(Var::Number(n)) => Ok(n.to_be_bytes().to_vec()),
                _ => Err(format!("{s} holds no bytes")),
            },
            Value::String(s) => hex::decode(s).map_err(|e| format!("{s:?}: {e}")),
            Value::Null => Ok(Vec::new()),
            other => Err(format!("{other} is not hex")),
        }
    }

    pub(super) fn value_u64(&self, v: &Value) -> Result<u64, String> {
        match v {
            Value::Number(n) => n
                .as_u64()
                .ok_or(format!("{n} is not a non-negative integer")),
            Value::String(s) if s.starts_with('$') => match self.vars.get(&s[1..]) {
                Some(Var::Number(n)) => Ok(*n),
                _ => Err(format!("{s} holds no number")),
            },
            Value::String(s) if s.starts_with("0x") => {
                u64::from_str_radix(&s[2..], 16).map_err(|e| e.to_string())
            }
            Value::String(s) => s.parse().map_err(|_| format!("{s:?} is not a number")),
            other => Err(format!("{other} is not a number")),
        }
    }

    pub(super) fn suites(&self, v: &Value) -> Result<Vec<CipherSuite>, String> {
        let items = v.as_array().ok_or("cipher_suites takes a list")?;
        items
            .iter()
            .map(|i| match i {
                Value::String(s) if dicetest_crypto::suite_by_name(s).is_some() => Ok(
                    CipherSuite::from(dicetest_crypto::suite_by_name(s).map(|p| p.id).unwrap_or(0)),
                ),
                other => self.value_u64(other).map(|n| CipherSuite::from(n as u16)),
            })
            .collect()
    }

    pub(super) fn build_client_hello(
        &mut self,
        with: &std::collections::BTreeMap<String, Value>,
    ) -> Result<ClientHello, String> {
        let mut ch = self.conn.default_client_hello();
        for (k, v) in with {
            match k.as_str() {
                "cookie" => ch.cookie = self.value_bytes(v)?,
                "random" => {
                    let b = self.value_bytes(v)?;
                    ch.random = b
                        .try_into()
                        .map_err(|_| "random needs 32 bytes".to_string())?;
                }
                "session_id" => ch.session_id = self.value_bytes(v)?,
                "client_version" => {
                    ch.client_version = ProtocolVersion::from(self.value_u64(v)? as u16)
                }
                "cipher_suites" => ch.cipher_suites = self.suites(v)?,
                "compression_methods" => {
                    let items = v.as_array().ok_or("compression_methods takes a list")?;
                    ch.compression_methods = items
                        .iter()
                        .map(|i| self.value_u64(i).map(|n| CompressionMethod::from(n as u8)))
                        .collect::<Result<_, _>>()?;
                }
                // Applied together below, in a fixed order (cases/extensions.rs).
                "extensions" | "add_extensions" | "remove_extensions" | "no_extensions" => {}
                other => return Err(format!("ClientHello has no field {other:?}")),
            }
        }
        crate::cases::extensions::apply(&mut ch.extensions, with, &|v| self.value_bytes(v))?;
        Ok(ch)
    }

    pub(super) fn send(&mut self, s: &Step, name: &str) -> StepOutcome {
        let record = record_overrides(s.record.as_ref());
        let record = match record {
            Ok(r) => r,
            Err(e) => return StepOutcome::error(e),
        };
        let opts = SendOptions {
            layout: layout(s.fragments.as_ref()),
            message_seq: s.message_seq,
            record: record.clone(),
            skip_transcript: s.skip_transcript,
            // Kept for the harness's retransmissions (§4.2.4), with its layout and
            // deviations.
            no_retransmit: false,
            raw_body: s.raw_body.as_ref().and_then(|h| hex::decode(h).ok()),
        };
        let msg = match name {
            "ClientHello" => match self.build_client_hello(&s.with) {
                Ok(ch) => {
                    self.last_client_hello = Some((ch.clone(), opts.clone()));
                    Some(HandshakeMessage::ClientHello(ch))
                }
                Err(e) => return StepOutcome::error(e),
            },
            "ClientKeyExchange" => match self.conn.default_client_key_exchange() {
                Ok(mut cke) => {
                    if let (Some(v), ClientKeyExchange::Psk { identity }) =
                        (s.with.get("identity"), &mut cke)
                    {
                        *identity = v.as_str().unwrap_or_default().as_bytes().to_vec();
                    }
                    Some(HandshakeMessage::ClientKeyExchange(cke))
                }
                Err(e) => {
                    return StepOutcome::inconclusive(format!(
                        "cannot build ClientKeyExchange yet: {e}"
                    ))
                }
            },
            "Finished" => {
                let verify_data = match s.with.get("verify_data") {
                    Some(v) => match self.value_bytes(v) {
                        Ok(b) => b,
                        Err(e) => return StepOutcome::error(e),
                    },
                    None => self.conn.our_finished(),
                };
                Some(HandshakeMessage::Finished(Finished { verify_data }))
            }
            "HelloRequest" => Some(HandshakeMessage::HelloRequest(HelloRequest)),
            "HelloVerifyRequest" => {
                let mut hvr = self.conn.default_hello_verify_request();
                if let Some(v) = s.with.get("cookie") {
                    match self.value_bytes(v) {
                        Ok(c) => hvr.cookie = c,
                        Err(e) => return StepOutcome::error(e),
                    }
                }
                if let Some(v) = s.with.get("server_version") {
                    match self.value_u64(v) {
                        Ok(n) => hvr.server_version = ProtocolVersion::from(n as u16),
                        Err(e) => return StepOutcome::error(e),
                    }
                }
                // Neither the HelloVerifyRequest nor the ClientHello it answers count for
                // the transcript (§4.2.1).
                self.conn.send_handshake(
                    &HandshakeMessage::HelloVerifyRequest(hvr),
                    &SendOptions {
                        skip_transcript: true,
                        // Stateless: a HelloVerifyRequest is never retransmitted (§4.2.1).
                        no_retransmit: true,
                        ..opts.clone()
                    },
                );
                None
            }
            "ServerHello" => match self.conn.default_server_hello() {
                Ok(mut sh) => {
                    if let Some(v) = s.with.get("cipher_suite") {
                        match self.value_u64(v) {
                            Ok(n) => sh.cipher_suite = CipherSuite::from(n as u16),
                            Err(e) => return StepOutcome::error(e),
                        }
                    }
                    if let Some(v) = s.with.get("server_version") {
                        match self.value_u64(v) {
                            Ok(n) => sh.server_version = ProtocolVersion::from(n as u16),
                            Err(e) => return StepOutcome::error(e),
                        }
                    }
                    // "extensions", "add_extensions", "remove_extensions", "no_extensions":
                    // the engine's answer to the DUT's offer, edited.
                    if let Err(e) =
                        crate::cases::extensions::apply(&mut sh.extensions, &s.with, &|v| {
                            self.value_bytes(v)
                        })
                    {
                        return StepOutcome::error(e);
                    }
                    Some(HandshakeMessage::ServerHello(sh))
                }
                Err((f, _)) => {
                    return StepOutcome::fail(format!("cannot answer the DUT's ClientHello: {f}"))
                }
            },
            "ServerHelloDone" => Some(HandshakeMessage::ServerHelloDone(
                dicetest_wire::ServerHelloDone,
            )),
            "ServerKeyExchange" => {
                let hint = s
                    .with
                    .get("identity_hint")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .as_bytes()
                    .to_vec();
                Some(HandshakeMessage::ServerKeyExchange(
                    dicetest_wire::ServerKeyExchange::Psk {
                        identity_hint: hint,
                    },
                ))
            }
            "ChangeCipherSpec" => {
                self.conn.send_change_cipher_spec(&record);
                None
            }
            "Probe" => {
                let data = match self.profile.probe.as_str() {
                    "coap" => {
                        self.coap_mid = self.coap_mid.wrapping_add(1);
                        let m = CoapMessage::request(
                            MessageType::Confirmable,
                            Code(1),
                            self.coap_mid,
                            self.coap_mid.to_be_bytes().to_vec(),
                            &self.profile.probe_uri,
                            b"",
                        );
                        let b = m.encode();
                        self.last_coap = Some(m);
                        b
                    }
                    "echo" => format!("dicetest probe {}", self.coap_mid).into_bytes(),
                    _ => {
                        return StepOutcome::inconclusive(
                            "the DUT offers no way to see that it took application data (profile probe: none)",
                        )
                    }
                };
                self.last_probe = Some(data.clone());
                self.conn.send_application_data_with(&data, &record);
                if self.profile.probe == "coap" {
                    let epoch = self.conn.record_layer().write_epoch();
                    self.coap_timer
                        .start(self.link.now(), data, record.clone(), epoch);
                }
                None
            }
            "ApplicationData" => {
                let text = s
                    .with
                    .get("text")
                    .and_then(|v| v.as_str())
                    .unwrap_or("dicetest");
                self.conn
                    .send_application_data_with(text.as_bytes(), &record);
                None
            }
            "Alert" => {
                // An alert ends what the flight was waiting for: no more repeats of it.
                self.rtx.stop();
                // Names or numbers (RFC 5246 §7.2), as the loader checked them.
                let level = s
                    .with
                    .get("level")
                    .map_or(Some(AlertLevel::Fatal), crate::cases::fields::alert_level);
                let Some(level) = level else {
                    return StepOutcome::error("the alert level is neither fatal nor warning");
                };
                let d = s.with.get("description").map_or(
                    Some(AlertDescription::CloseNotify),
                    crate::cases::fields::alert_description,
                );
                let Some(d) = d else {
                    return StepOutcome::error(format!(
                        "unknown alert {}",
                        s.with.get("description").cloned().unwrap_or_default()
                    ));
                };
                self.conn.send_alert(level, d, &record);
                if level == AlertLevel::Fatal || d == AlertDescription::CloseNotify {
                    self.harness_ended = true;
                }
                None
            }
            "Record" => {
                let ct = s.record.as_ref().and_then(|r| r.content_type).unwrap_or(23);
                let payload = match s
                    .with
                    .get("payload")
                    .map(|v| self.value_bytes(v))
                    .transpose()
                {
                    Ok(p) => p.unwrap_or_default(),
                    Err(e) => return StepOutcome::error(e),
                };
                self.conn
                    .send_record(ContentType::from(ct), &payload, &record);
                None
            }
            other => return StepOutcome::error(format!("cannot send {other}")),
        };
        if let Some(m) = &msg {
            self.conn.send_handshake(m, &opts);
        }
        self.conn.flush();
        let sent = self.flush_path(s.withhold, s.duplicate.unwrap_or(0));
        // A withheld datagram has not gone out: nothing waits for an answer to it yet.
        if (msg.is_some() || name == "ChangeCipherSpec") && !s.withhold {
            self.arm_harness_timer();
        }
        if let Some(k) = &s.keep_datagram {
            self.vars.insert(k.clone(), Var::Datagrams(sent.clone()));
        }
        StepOutcome::pass(format!("sent {name} in {} datagram(s)", sent.len()))
    }
}

pub(super) fn record_overrides(r: Option<&RecordSpec>) -> Result<RecordOverrides, String> {
    let Some(r) = r else {
        return Ok(RecordOverrides::default());
    };
    Ok(RecordOverrides {
        content_type: r.content_type,
        version: r.version,
        epoch: r.epoch,
        sequence_number: r.sequence_number,
        length: r.length,
        plaintext: r.plaintext,
        tag_xor: r
            .tag_xor
            .as_ref()
            .map(|h| hex::decode(h).map_err(|e| format!("tag_xor: {e}")))
            .transpose()?,
        ..Default::default()
    })
}

pub(super) fn layout(f: Option<&FragmentsSpec>) -> FragmentLayout {
    match f {
        None => FragmentLayout::Whole,
        Some(f) if !f.list.is_empty() => FragmentLayout::Explicit(
            f.list
                .iter()
                .map(|i| FragmentSpec {
                    offset: i.offset,
                    // The loader refused an item with neither, and hex that is not.
                    len: i.len.unwrap_or(0),
                    bytes: i.bytes.as_ref().and_then(|h| hex::decode(h).ok()),
                    body_xor: i.body_xor.as_ref().and_then(|h| hex::decode(h).ok()),
                    header: HeaderOverrides {
                        msg_type: None,
                        length: i.length,
                        message_seq: i.message_seq,
                        fragment_offset: i.fragment_offset,
                        fragment_length: i.fragment_length,
                    },
                })
                .collect(),
        ),
        Some(f) => FragmentLayout::MaxBody(f.max_body.unwrap_or(u32::MAX)),
    }
}
