//! In-memory plumbing between dicetest's engine (a client peer only) and the SimBoard on a
//! virtual clock, plus small readers of raw DTLS records and a CoAP request builder.

#![allow(dead_code)]

use std::net::SocketAddr;

use dicetest::engine::{Config as EngineConfig, Connection, Event};
use dicetest::time::Instant;
use dut_sim::{default_config, Config, Faults, SimBoard, Variations};

pub const PSK_ID: &[u8] = b"Client_identity";
pub const PSK: &[u8] = b"secretPSK";

pub fn client_addr() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

pub fn board_with(faults: Faults) -> SimBoard {
    let mut c: Config = default_config();
    c.faults = faults;
    SimBoard::new(c)
}

pub fn board_varying(variations: Variations) -> SimBoard {
    let mut c: Config = default_config();
    c.variations = variations;
    SimBoard::new(c)
}

pub fn client(seed: u64) -> Connection {
    Connection::new(EngineConfig::client().with_psk(PSK_ID, PSK).with_seed(seed))
}

/// A client and a board on one virtual clock (milliseconds).
pub struct Net {
    pub board: SimBoard,
    pub client: Connection,
    pub now_ms: u64,
    /// Every datagram the board sent, in order.
    pub from_board: Vec<Vec<u8>>,
    /// Every datagram the client sent, in order.
    pub from_client: Vec<Vec<u8>>,
}

impl Net {
    pub fn new(board: SimBoard, client: Connection) -> Self {
        Net {
            board,
            client,
            now_ms: 0,
            from_board: Vec::new(),
            from_client: Vec::new(),
        }
    }

    pub fn now(&self) -> Instant {
        Instant::from_millis(self.now_ms)
    }

    /// Delivers one datagram to the board and returns what it answered (not delivered).
    pub fn deliver_to_board(&mut self, d: &[u8]) -> Vec<Vec<u8>> {
        let out: Vec<Vec<u8>> = self
            .board
            .handle_datagram(self.now_ms, client_addr(), d)
            .into_iter()
            .map(|(to, d)| {
                assert_eq!(to, client_addr(), "the board answered someone else");
                d
            })
            .collect();
        self.from_board.extend(out.iter().cloned());
        out
    }

    pub fn deliver_to_client(&mut self, d: &[u8]) {
        let now = self.now();
        self.client.handle_datagram(now, d);
    }

    /// Moves datagrams both ways until quiet. `keep(from_client, index, datagram)` false
    /// drops one; indices count every datagram of this Net.
    pub fn pump(&mut self, keep: &mut dyn FnMut(bool, usize, &[u8]) -> bool, n: &mut usize) {
        loop {
            let mut any = false;
            while let Some(d) = self.client.poll_transmit() {
                any = true;
                *n += 1;
                self.from_client.push(d.clone());
                if keep(true, *n, &d) {
                    for r in self.deliver_to_board(&d) {
                        *n += 1;
                        if keep(false, *n, &r) {
                            self.deliver_to_client(&r);
                        }
                    }
                }
            }
            if !any {
                return;
            }
        }
    }

    /// Runs until the client is connected, firing both sides' timers on the virtual clock.
    /// Returns whether it connected.
    pub fn run(&mut self, keep: &mut dyn FnMut(bool, usize, &[u8]) -> bool) -> bool {
        let mut n = 0;
        let now = self.now();
        self.client.start(now);
        for _ in 0..100 {
            self.pump(keep, &mut n);
            if self.client.is_connected() || self.client.is_finished() {
                // Let the last exchange settle (the board may still answer).
                self.pump(keep, &mut n);
                return self.client.is_connected();
            }
            let c = self
                .client
                .poll_timeout()
                .map(|i| i.as_micros().div_ceil(1000));
            let b = self.board.poll_timeout();
            let Some(next) = [c, b].into_iter().flatten().min() else {
                return false;
            };
            self.now_ms = self.now_ms.max(next);
            let now = self.now();
            self.client.handle_timeout(now);
            let out = self.board.handle_timeout(self.now_ms);
            for (_, d) in out {
                n += 1;
                self.from_board.push(d.clone());
                if keep(false, n, &d) {
                    self.deliver_to_client(&d);
                }
            }
        }
        false
    }

    /// Like [`Net::run`] without loss, but every datagram of the client goes through
    /// `rewrite` first, which returns the datagrams to deliver in its place (records
    /// reordered, duplicated, split). Returns whether the client connected.
    pub fn run_rewriting(&mut self, rewrite: &mut dyn FnMut(&[u8]) -> Vec<Vec<u8>>) -> bool {
        let now = self.now();
        self.client.start(now);
        for _ in 0..100 {
            loop {
                let mut any = false;
                while let Some(d) = self.client.poll_transmit() {
                    any = true;
                    self.from_client.push(d.clone());
                    for d2 in rewrite(&d) {
                        for r in self.deliver_to_board(&d2) {
                            self.deliver_to_client(&r);
                        }
                    }
                }
                if !any {
                    break;
                }
            }
            if self.client.is_connected() || self.client.is_finished() {
                return self.client.is_connected();
            }
            let c = self
                .client
                .poll_timeout()
                .map(|i| i.as_micros().div_ceil(1000));
            let b = self.board.poll_timeout();
            let Some(next) = [c, b].into_iter().flatten().min() else {
                return false;
            };
            self.now_ms = self.now_ms.max(next);
            let now = self.now();
            self.client.handle_timeout(now);
            for (_, d) in self.board.handle_timeout(self.now_ms) {
                self.from_board.push(d.clone());
                self.deliver_to_client(&d);
            }
        }
        false
    }

    pub fn handshake(&mut self) -> bool {
        self.run(&mut |_, _, _| true)
    }

    pub fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.client.poll_event()).collect()
    }

    /// Sends application data from the client; returns the board's answers.
    pub fn send_app(&mut self, data: &[u8]) -> Vec<Vec<u8>> {
        self.client.send_application_data(data);
        let mut answers = Vec::new();
        while let Some(d) = self.client.poll_transmit() {
            self.from_client.push(d.clone());
            for r in self.deliver_to_board(&d) {
                self.deliver_to_client(&r);
                answers.push(r);
            }
        }
        answers
    }

    pub fn app_data(&mut self) -> Vec<Vec<u8>> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::ApplicationData(d) => Some(d),
                _ => None,
            })
            .collect()
    }
}

/// The raw records of a datagram, each with its header, in order.
pub fn split_records(d: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = d;
    while rest.len() >= 13 {
        let len = u16::from_be_bytes([rest[11], rest[12]]) as usize;
        if rest.len() < 13 + len {
            break;
        }
        out.push(rest[..13 + len].to_vec());
        rest = &rest[13 + len..];
    }
    out
}

/// (content type, epoch, sequence number, fragment) of each record of a datagram.
pub fn records(d: &[u8]) -> Vec<(u8, u16, u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = d;
    while rest.len() >= 13 {
        let len = u16::from_be_bytes([rest[11], rest[12]]) as usize;
        if rest.len() < 13 + len {
            break;
        }
        let epoch = u16::from_be_bytes([rest[3], rest[4]]);
        let mut seq = [0u8; 8];
        seq[2..].copy_from_slice(&rest[5..11]);
        out.push((
            rest[0],
            epoch,
            u64::from_be_bytes(seq),
            rest[13..13 + len].to_vec(),
        ));
        rest = &rest[13 + len..];
    }
    out
}

/// The handshake message types in the plaintext (epoch 0) records of datagrams, every
/// message of every record.
pub fn plain_handshake_types(ds: &[Vec<u8>]) -> Vec<u8> {
    let mut types = Vec::new();
    for (ct, epoch, _, f) in ds.iter().flat_map(|d| records(d)) {
        if ct != 22 || epoch != 0 {
            continue;
        }
        let mut rest = &f[..];
        while rest.len() >= 12 {
            types.push(rest[0]);
            let flen = u32::from_be_bytes([0, rest[9], rest[10], rest[11]]) as usize;
            rest = rest.get(12 + flen..).unwrap_or(&[]);
        }
    }
    types
}

/// The plaintext alerts (level, description) in datagrams.
pub fn plain_alerts(ds: &[Vec<u8>]) -> Vec<(u8, u8)> {
    ds.iter()
        .flat_map(|d| records(d))
        .filter(|(ct, epoch, _, f)| *ct == 21 && *epoch == 0 && f.len() == 2)
        .map(|(_, _, _, f)| (f[0], f[1]))
        .collect()
}

/// A CoAP request (RFC 7252 §3) built by hand: type, code, message ID, token, path.
pub fn coap(mtype: u8, code: u8, mid: u16, token: &[u8], path: &[&str], payload: &[u8]) -> Vec<u8> {
    let mut m = vec![0x40 | mtype << 4 | token.len() as u8, code];
    m.extend_from_slice(&mid.to_be_bytes());
    m.extend_from_slice(token);
    let mut last = 0u16;
    for seg in path {
        let delta = 11 - last;
        last = 11;
        assert!(seg.len() < 13, "short segments only");
        m.push((delta as u8) << 4 | seg.len() as u8);
        m.extend_from_slice(seg.as_bytes());
    }
    if !payload.is_empty() {
        m.push(0xff);
        m.extend_from_slice(payload);
    }
    m
}

/// (type, code, message ID, token, payload) of a CoAP message without options beyond
/// Content-Format, for assertions.
pub fn coap_parts(m: &[u8]) -> (u8, u8, u16, Vec<u8>, Vec<u8>) {
    let tkl = (m[0] & 0x0f) as usize;
    let token = m[4..4 + tkl].to_vec();
    let payload = match m[4 + tkl..].iter().position(|&b| b == 0xff) {
        Some(i) => m[4 + tkl + i + 1..].to_vec(),
        None => Vec::new(),
    };
    (
        (m[0] >> 4) & 3,
        m[1],
        u16::from_be_bytes([m[2], m[3]]),
        token,
        payload,
    )
}
