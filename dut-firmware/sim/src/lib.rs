//! The reference device's core on the host.
//!
//! - [`SimBoard`]: the device in-process on a virtual clock. Time is whatever the caller
//!   says, so a test can jump to the next retransmission instead of waiting for it.
//! - [`serve`]: the device behind a real UDP socket and the wall clock (the `dut-sim`
//!   command).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use dut_core::{Config, Device, Faults, PeerAddr, Timers, Variation, Variations};

/// Sessions the simulated board keeps at once.
pub const SESSIONS: usize = 8;

/// The demo credentials most DTLS sample programs use (issue 4).
pub const DEFAULT_IDENTITY: &str = "Client_identity";
pub const DEFAULT_PSK_HEX: &str = "73656372657450534b";

pub fn peer_of(a: SocketAddr) -> PeerAddr {
    match a.ip() {
        IpAddr::V4(v4) => PeerAddr::from_ipv4(v4.octets(), a.port()),
        IpAddr::V6(v6) => PeerAddr::from_ipv6(v6.octets(), a.port()),
    }
}

pub fn socket_of(p: &PeerAddr) -> SocketAddr {
    match p.ipv4() {
        Some(v4) => SocketAddr::new(IpAddr::V4(Ipv4Addr::from(v4)), p.port()),
        None => SocketAddr::new(IpAddr::V6(Ipv6Addr::from(p.ipv6())), p.port()),
    }
}

/// Decodes a hex string (the PSK on the command line).
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The default configuration of the simulated board: demo credentials, no faults, no
/// variations.
pub fn default_config() -> Config {
    let psk = parse_hex(DEFAULT_PSK_HEX).unwrap_or_default();
    Config::new(DEFAULT_IDENTITY.as_bytes(), &psk).expect("default credentials fit")
}

/// The device in-process, driven by the caller's (virtual) clock in milliseconds.
pub struct SimBoard {
    device: Box<Device<SESSIONS>>,
}

type Datagrams = Vec<(SocketAddr, Vec<u8>)>;

impl SimBoard {
    pub fn new(config: Config) -> Self {
        SimBoard {
            device: Box::new(Device::new(config)),
        }
    }

    pub fn handle_datagram(&mut self, now_ms: u64, from: SocketAddr, bytes: &[u8]) -> Datagrams {
        let mut sent = Vec::new();
        // The device decrypts in place, in the receive buffer: a caller that only lends
        // the bytes gets them copied first.
        let mut datagram = bytes.to_vec();
        self.device
            .handle_datagram(now_ms, peer_of(from), &mut datagram, &mut |to, d| {
                sent.push((socket_of(to), d.to_vec()))
            });
        sent
    }

    pub fn poll_timeout(&self) -> Option<u64> {
        self.device.poll_timeout()
    }

    pub fn handle_timeout(&mut self, now_ms: u64) -> Datagrams {
        let mut sent = Vec::new();
        self.device
            .handle_timeout(now_ms, &mut |to, d| sent.push((socket_of(to), d.to_vec())));
        sent
    }

    pub fn device(&self) -> &Device<SESSIONS> {
        &self.device
    }

    pub fn device_mut(&mut self) -> &mut Device<SESSIONS> {
        &mut self.device
    }
}

/// Runs the board behind `socket` on the wall clock until `stop` is set (or forever).
pub fn serve(socket: UdpSocket, mut board: SimBoard, stop: Arc<AtomicBool>) -> io::Result<()> {
    let start = Instant::now();
    let now_ms = || start.elapsed().as_millis() as u64;
    let mut buf = vec![0u8; 65535];
    while !stop.load(Ordering::Relaxed) {
        // Wake for the next retransmission, or at least every 200 ms to notice `stop`.
        let wait = board
            .poll_timeout()
            .map(|d| d.saturating_sub(now_ms()))
            .unwrap_or(200)
            .clamp(1, 200);
        socket.set_read_timeout(Some(Duration::from_millis(wait)))?;
        let replies = match socket.recv_from(&mut buf) {
            Ok((n, from)) => board.handle_datagram(now_ms(), from, &buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Vec::new()
            }
            // A previous send's ICMP port unreachable surfaces here on some systems.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Vec::new(),
            Err(e) => return Err(e),
        };
        let mut all = replies;
        if board.poll_timeout().is_some_and(|d| d <= now_ms()) {
            all.extend(board.handle_timeout(now_ms()));
        }
        for (to, d) in all {
            let _ = socket.send_to(&d, to);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip() {
        for a in ["127.0.0.1:5684", "[::1]:61616"] {
            let s: SocketAddr = a.parse().unwrap();
            assert_eq!(socket_of(&peer_of(s)), s);
        }
    }

    #[test]
    fn hex_parsing() {
        assert_eq!(parse_hex("73656372657450534b").unwrap(), b"secretPSK");
        assert_eq!(parse_hex("7"), None);
        assert_eq!(parse_hex("zz"), None);
    }
}
