//! An in-memory wire between two peers, with a virtual clock and a hook to lose datagrams.

use rtc_peer::{PskPeerConfig, Role, RtcPeer};
use std::time::{Duration, Instant};

pub const IDENTITY: &[u8] = b"Client_identity";
pub const PSK: &[u8] = b"secretPSK";

/// Which way a datagram travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    ClientToServer,
    ServerToClient,
}

/// One datagram as it crossed (or failed to cross) the wire.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub direction: Direction,
    pub at: Duration,
    pub bytes: Vec<u8>,
    pub dropped: bool,
}

/// No handshake needs more; a pair that keeps answering each other is a bug to report.
const MAX_DATAGRAMS_PER_EXCHANGE: usize = 200;

pub struct Wire {
    pub client: RtcPeer,
    pub server: RtcPeer,
    pub start: Instant,
    pub elapsed: Duration,
    pub log: Vec<Delivery>,
}

impl Wire {
    pub fn new(client: PskPeerConfig, server: PskPeerConfig) -> Self {
        let start = Instant::now();
        Self {
            client: RtcPeer::new(client, start).expect("client config"),
            server: RtcPeer::new(server, start).expect("server config"),
            start,
            elapsed: Duration::ZERO,
            log: Vec::new(),
        }
    }

    pub fn now(&self) -> Instant {
        self.start + self.elapsed
    }

    /// Moves queued datagrams both ways until both sides are quiet. `lose` sees each datagram
    /// with its index among those sent in the same direction, and returns true to drop it.
    /// Returns how many datagrams crossed. Panics if the two sides never fall quiet.
    pub fn exchange(&mut self, lose: &mut dyn FnMut(Direction, usize, &[u8]) -> bool) -> usize {
        let mut moved = 0;
        loop {
            assert!(
                moved < MAX_DATAGRAMS_PER_EXCHANGE,
                "endless exchange: {:?}",
                self.trace()
            );
            let mut any = false;
            while let Some(d) = self.client.poll_transmit() {
                any = true;
                moved += 1;
                self.carry(Direction::ClientToServer, d, lose);
            }
            while let Some(d) = self.server.poll_transmit() {
                any = true;
                moved += 1;
                self.carry(Direction::ServerToClient, d, lose);
            }
            if !any {
                return moved;
            }
        }
    }

    fn carry(
        &mut self,
        direction: Direction,
        bytes: Vec<u8>,
        lose: &mut dyn FnMut(Direction, usize, &[u8]) -> bool,
    ) {
        let index = self.log.iter().filter(|d| d.direction == direction).count();
        let dropped = lose(direction, index, &bytes);
        self.log.push(Delivery {
            direction,
            at: self.elapsed,
            bytes: bytes.clone(),
            dropped,
        });
        if dropped {
            return;
        }
        let now = self.now();
        // A fatal alert shows up as an error here; the peers' state tells the tests the rest.
        let _ = match direction {
            Direction::ClientToServer => self.server.handle_datagram(now, &bytes),
            Direction::ServerToClient => self.client.handle_datagram(now, &bytes),
        };
    }

    /// Jumps the virtual clock to the earliest pending timer and fires it. False if none is armed.
    pub fn advance_to_next_timer(&mut self) -> bool {
        let next = [self.client.poll_timeout(), self.server.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let Some(next) = next else {
            return false;
        };
        if next > self.now() {
            self.elapsed = next - self.start;
        }
        let now = self.now();
        self.client.handle_timeout(now);
        self.server.handle_timeout(now);
        true
    }

    /// Pumps until both handshakes complete, firing timers when the wire goes quiet.
    /// Gives up after `max_timer_fires` timer jumps.
    pub fn handshake(
        &mut self,
        lose: &mut dyn FnMut(Direction, usize, &[u8]) -> bool,
        max_timer_fires: usize,
    ) -> bool {
        let mut fires = 0;
        loop {
            self.exchange(lose);
            if self.client.is_handshake_complete() && self.server.is_handshake_complete() {
                return true;
            }
            if fires == max_timer_fires || !self.advance_to_next_timer() {
                return false;
            }
            fires += 1;
        }
    }

    /// The log as (direction, virtual ms, records, dropped), for failure messages.
    pub fn trace(&self) -> Vec<String> {
        self.log
            .iter()
            .map(|d| {
                format!(
                    "{:?} @{}ms {:?}{}",
                    d.direction,
                    d.at.as_millis(),
                    records(&d.bytes),
                    if d.dropped { " dropped" } else { "" }
                )
            })
            .collect()
    }

    pub fn sent(&self, direction: Direction) -> Vec<&Delivery> {
        self.log
            .iter()
            .filter(|d| d.direction == direction)
            .collect()
    }
}

pub fn config(role: Role, seed: u64) -> PskPeerConfig {
    let mut cfg = PskPeerConfig::new(role, IDENTITY, PSK);
    cfg.seed = Some(seed);
    cfg
}

pub fn keep_all(_: Direction, _: usize, _: &[u8]) -> bool {
    false
}

/// The DTLS records in one datagram as (content type, epoch, handshake type of the first
/// fragment if the record is a plaintext handshake record). RFC 6347 §4.1 header layout.
pub fn records(datagram: &[u8]) -> Vec<(u8, u16, Option<u8>)> {
    let mut out = Vec::new();
    let mut rest = datagram;
    while rest.len() >= 13 {
        let content_type = rest[0];
        let epoch = u16::from_be_bytes([rest[3], rest[4]]);
        let length = usize::from(u16::from_be_bytes([rest[11], rest[12]]));
        let Some(body) = rest.get(13..13 + length) else {
            break;
        };
        let handshake_type = (content_type == 22 && epoch == 0)
            .then(|| body.first().copied())
            .flatten();
        out.push((content_type, epoch, handshake_type));
        rest = &rest[13 + length..];
    }
    out
}
