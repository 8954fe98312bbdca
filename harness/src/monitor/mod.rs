//! A passive DTLS 1.2 observer: it sees the datagrams of both directions, follows the
//! handshake, derives the keys from the PSK (or takes them from a key log), verifies both
//! Finished messages and decrypts every protected record — the way the monitoring tools of
//! ETSI plugtests judge an exchange between two real implementations.
//!
//! It replays recorded third-party transcripts (`vectors/`) and watches interop sessions.
//! It follows abbreviated handshakes too (session resumption, RFC 6347 Figure 2): it keeps
//! the master secret of each session it saw established ([`sessions`]) and, when a later
//! ServerHello echoes the ClientHello's session id, derives the new keys from it.
//!
//! What it cannot follow, and why: suites whose premaster secret mixes in an ephemeral
//! Diffie-Hellman result (ECDHE_PSK, RFC 5489 §2: the premaster is the ECDH shared secret
//! *and* the PSK). Knowing the PSK is not enough; the ECDH secret is what a passive observer
//! is built never to learn. Such sessions are followable only through a key log from one of
//! the ends, so interop descriptions demand a PSK suite (`suite:`) instead.

pub mod hello;
pub mod sessions;

use dicetest_crypto::{
    derive_key_block, extended_master_secret, master_secret, psk_premaster_secret,
    record_protection, suite_by_id, verify_data, AadFields, FinishedLabel, KeyExchange,
    RecordProtection, SuiteParams,
};
use dicetest_wire::{parse_datagram, ContentType, HandshakeFragment, HandshakeType};

use crate::engine::handshake::reassembly::{FragmentIn, Reassembler, ReassemblyLimits};
use crate::engine::handshake::transcript::Transcript;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

/// What the monitor saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MonitorEvent {
    Handshake {
        from: Side,
        msg_type: HandshakeType,
        message_seq: u16,
        epoch: u16,
    },
    ChangeCipherSpec {
        from: Side,
    },
    Alert {
        from: Side,
        level: u8,
        description: u8,
    },
    ApplicationData {
        from: Side,
        data: Vec<u8>,
    },
    /// The ServerHello echoes the ClientHello's session id: an abbreviated handshake that
    /// resumes an earlier session (RFC 5246 §7.4.1.3); `known` when the monitor saw that
    /// session established and so has its master secret.
    Resumption {
        known: bool,
    },
    /// The master secret became known (derived from the PSK, or from the key log).
    MasterSecret {
        derived_from_psk: bool,
        extended: bool,
    },
    /// A Finished was checked against the transcript.
    Finished {
        from: Side,
        verified: bool,
    },
    /// A protected record could not be opened.
    Undecryptable {
        from: Side,
        epoch: u16,
        sequence_number: u64,
        why: String,
    },
    /// Bytes that are not DTLS.
    Malformed {
        from: Side,
        why: String,
    },
}

struct Direction {
    reassembler: Reassembler,
    epoch1: Option<Box<dyn RecordProtection>>,
}

impl Direction {
    fn new() -> Self {
        let mut reassembler = Reassembler::new(ReassemblyLimits::default());
        reassembler.expect_any_first();
        Direction {
            reassembler,
            epoch1: None,
        }
    }
}

pub struct Monitor {
    psk: Option<Vec<u8>>,
    keylog: Vec<([u8; 32], [u8; 48])>,
    client: Direction,
    server: Direction,
    transcript: Transcript,
    client_random: [u8; 32],
    server_random: [u8; 32],
    suite: Option<&'static SuiteParams>,
    extended: bool,
    master: Option<[u8; 48]>,
    handshakes_completed: u32,
    finished_seen: [bool; 2],
    /// What this handshake's ClientHello offered.
    offered: hello::ClientHelloSeen,
    /// The session id of this handshake's ServerHello.
    server_session_id: Vec<u8>,
    /// This handshake is an abbreviated one.
    abbreviated: bool,
    resumptions_completed: u32,
    cache: sessions::SessionCache,
}

impl Monitor {
    /// `psk` derives the keys of PSK suites; `keylog` (NSS lines, parsed) supplies the master
    /// secret where it cannot be derived (ECDHE).
    pub fn new(psk: Option<Vec<u8>>, keylog: Vec<([u8; 32], [u8; 48])>) -> Self {
        Monitor {
            psk,
            keylog,
            client: Direction::new(),
            server: Direction::new(),
            transcript: Transcript::new(),
            client_random: [0; 32],
            server_random: [0; 32],
            suite: None,
            extended: false,
            master: None,
            handshakes_completed: 0,
            finished_seen: [false; 2],
            offered: hello::ClientHelloSeen::default(),
            server_session_id: Vec::new(),
            abbreviated: false,
            resumptions_completed: 0,
            cache: sessions::SessionCache::default(),
        }
    }

    /// A monitor for a new association between the same two implementations (a client
    /// that reconnects from another port): fresh connection state, the same PSK and key
    /// log, and the sessions seen so far, so a resumption on the new association is
    /// followed.
    pub fn next_association(&self) -> Monitor {
        let mut m = Monitor::new(self.psk.clone(), self.keylog.clone());
        m.cache = self.cache.clone();
        m
    }

    pub fn master_secret(&self) -> Option<&[u8; 48]> {
        self.master.as_ref()
    }

    pub fn client_random(&self) -> &[u8; 32] {
        &self.client_random
    }

    /// The ServerHello of the last handshake carried extended_master_secret.
    pub fn extended_master_secret(&self) -> bool {
        self.extended
    }

    /// The ClientHello of the last handshake offered extended_master_secret.
    pub fn client_offered_ems(&self) -> bool {
        self.offered.extended_master_secret
    }

    /// Abbreviated handshakes (resumptions) in which both Finished messages verified.
    pub fn resumptions_completed(&self) -> u32 {
        self.resumptions_completed
    }

    pub fn cipher_suite(&self) -> Option<u16> {
        self.suite.map(|s| s.id)
    }

    /// Handshakes in which both Finished messages verified.
    pub fn handshakes_completed(&self) -> u32 {
        self.handshakes_completed
    }

    fn dir(&mut self, from: Side) -> &mut Direction {
        match from {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    /// One datagram seen on the path.
    pub fn on_datagram(&mut self, from: Side, bytes: &[u8]) -> Vec<MonitorEvent> {
        let mut out = Vec::new();
        let parsed = parse_datagram(bytes);
        for rec in parsed.records {
            let h = rec.header;
            let plaintext = if h.epoch == 0 {
                rec.fragment
            } else {
                let Some(p) = self.dir(from).epoch1.as_ref() else {
                    out.push(MonitorEvent::Undecryptable {
                        from,
                        epoch: h.epoch,
                        sequence_number: h.sequence_number,
                        why: "no keys for this epoch".into(),
                    });
                    continue;
                };
                let aad = AadFields {
                    epoch: h.epoch,
                    sequence_number: h.sequence_number,
                    content_type: h.content_type.get_u8(),
                    version: h.version.get_u16().to_be_bytes(),
                };
                match p.open(&aad, &rec.fragment) {
                    Ok(pt) => pt,
                    Err(e) => {
                        out.push(MonitorEvent::Undecryptable {
                            from,
                            epoch: h.epoch,
                            sequence_number: h.sequence_number,
                            why: e.to_string(),
                        });
                        continue;
                    }
                }
            };
            match h.content_type {
                ContentType::Handshake => self.on_handshake(from, h.epoch, &plaintext, &mut out),
                ContentType::ChangeCipherSpec => out.push(MonitorEvent::ChangeCipherSpec { from }),
                ContentType::Alert if plaintext.len() >= 2 => out.push(MonitorEvent::Alert {
                    from,
                    level: plaintext[0],
                    description: plaintext[1],
                }),
                ContentType::ApplicationData => out.push(MonitorEvent::ApplicationData {
                    from,
                    data: plaintext,
                }),
                _ => {}
            }
        }
        if let Some((off, e)) = parsed.trailing_error {
            out.push(MonitorEvent::Malformed {
                from,
                why: format!("byte {off}: {e}"),
            });
        }
        out
    }

    fn on_handshake(
        &mut self,
        from: Side,
        epoch: u16,
        payload: &[u8],
        out: &mut Vec<MonitorEvent>,
    ) {
        let Ok(frags) = HandshakeFragment::read_all(payload) else {
            out.push(MonitorEvent::Malformed {
                from,
                why: "undecodable handshake fragment".into(),
            });
            return;
        };
        for f in frags {
            let dir = self.dir(from);
            let _ = dir.reassembler.insert(FragmentIn {
                msg_type: f.header.msg_type.get_u8(),
                length: f.header.length,
                message_seq: f.header.message_seq,
                fragment_offset: f.header.fragment_offset,
                fragment_length: f.header.fragment_length,
                body: &f.body,
            });
            let mut done = Vec::new();
            while let Some(m) = dir.reassembler.pop_complete() {
                done.push(m);
            }
            for m in done {
                let t = HandshakeType::from(m.msg_type);
                out.push(MonitorEvent::Handshake {
                    from,
                    msg_type: t,
                    message_seq: m.message_seq,
                    epoch,
                });
                self.on_message(from, t, m.message_seq, &m.body, out);
            }
        }
    }

    fn on_message(
        &mut self,
        from: Side,
        t: HandshakeType,
        seq: u16,
        body: &[u8],
        out: &mut Vec<MonitorEvent>,
    ) {
        match t {
            HandshakeType::ClientHello => {
                // A new handshake, or the ClientHello answering a HelloVerifyRequest: only
                // the ClientHello the server answers counts for the transcript (§4.2.1).
                self.transcript.clear();
                if body.len() >= 34 {
                    self.client_random.copy_from_slice(&body[2..34]);
                }
                self.finished_seen = [false; 2];
                self.abbreviated = false;
                // A new handshake has no master secret until its key exchange (or its
                // resumption) gives one; the old one must not verify its Finished.
                self.master = None;
                self.offered = hello::client_hello(body).unwrap_or_default();
                self.transcript.add(t.get_u8(), seq, body);
            }
            HandshakeType::HelloVerifyRequest => self.transcript.clear(),
            HandshakeType::ServerHello => {
                if body.len() >= 34 {
                    self.server_random.copy_from_slice(&body[2..34]);
                }
                let sh = hello::server_hello(body);
                if let Some(sh) = &sh {
                    self.suite = suite_by_id(sh.cipher_suite);
                    self.extended = sh.extended_master_secret;
                    self.server_session_id = sh.session_id.clone();
                }
                self.transcript.add(t.get_u8(), seq, body);
                // RFC 5246 §7.4.1.3: a ServerHello that repeats the ClientHello's non-empty
                // session id resumes that session; its CCS and Finished come next, with
                // keys from the old master secret and the new randoms.
                let sid = sh.map(|s| s.session_id).unwrap_or_default();
                if !sid.is_empty() && sid == self.offered.session_id {
                    self.abbreviated = true;
                    let found = self.cache.find(self.offered.ticket.as_deref(), &sid);
                    out.push(MonitorEvent::Resumption {
                        known: found.is_some(),
                    });
                    if let Some(s) = found {
                        self.install(s.master, false, out);
                    }
                }
            }
            HandshakeType::NewSessionTicket => {
                // RFC 5077 §3.3: the ticket stands for the session of this handshake.
                if let (Some(m), Some(ticket)) = (self.master, hello::new_session_ticket(body)) {
                    self.cache.ticket_issued(&m, &ticket);
                }
                self.transcript.add(t.get_u8(), seq, body);
            }
            HandshakeType::ClientKeyExchange => {
                self.transcript.add(t.get_u8(), seq, body);
                self.derive(out);
            }
            HandshakeType::Finished => {
                let label = match from {
                    Side::Client => FinishedLabel::Client,
                    Side::Server => FinishedLabel::Server,
                };
                let verified = self
                    .master
                    .map(|m| verify_data(&m, label, &self.transcript.hash()).as_slice() == body)
                    .unwrap_or(false);
                out.push(MonitorEvent::Finished { from, verified });
                self.transcript.add(t.get_u8(), seq, body);
                let i = usize::from(from == Side::Server);
                self.finished_seen[i] = verified;
                if self.finished_seen == [true, true] {
                    self.handshakes_completed += 1;
                    self.resumptions_completed += u32::from(self.abbreviated);
                    self.finished_seen = [false; 2];
                }
            }
            _ => self.transcript.add(t.get_u8(), seq, body),
        }
    }

    /// Keys follow ClientKeyExchange (with EMS the session hash covers it, RFC 7627 §3).
    fn derive(&mut self, out: &mut Vec<MonitorEvent>) {
        let Some(suite) = self.suite else { return };
        let from_log = self
            .keylog
            .iter()
            .find(|(r, _)| *r == self.client_random)
            .map(|(_, m)| *m);
        let derived = match (suite.kx, &self.psk) {
            (KeyExchange::Psk, Some(psk)) => {
                let pms = psk_premaster_secret(psk);
                Some(if self.extended {
                    extended_master_secret(&pms, &self.transcript.hash())
                } else {
                    master_secret(&pms, &self.client_random, &self.server_random)
                })
            }
            _ => None,
        };
        let Some(master) = derived.or(from_log) else {
            return;
        };
        self.cache
            .established(&self.server_session_id, master, self.extended);
        self.install(master, derived.is_some(), out);
    }

    /// The master secret of this handshake is known: announce it and key epoch 1.
    fn install(&mut self, master: [u8; 48], derived_from_psk: bool, out: &mut Vec<MonitorEvent>) {
        let Some(suite) = self.suite else { return };
        self.master = Some(master);
        out.push(MonitorEvent::MasterSecret {
            derived_from_psk,
            extended: self.extended,
        });
        let kb = derive_key_block(suite, &master, &self.client_random, &self.server_random);
        self.client.epoch1 = Some(record_protection(
            suite,
            &kb.client_write_key,
            &kb.client_write_iv,
            &kb.client_write_mac_key,
        ));
        self.server.epoch1 = Some(record_protection(
            suite,
            &kb.server_write_key,
            &kb.server_write_iv,
            &kb.server_write_mac_key,
        ));
    }
}

#[cfg(test)]
mod tests;
