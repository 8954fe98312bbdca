//! The path between the harness and the DUT: real UDP on a wall clock, or an in-process
//! simulated device on a virtual clock (so a 60 s retransmission schedule takes
//! microseconds and every run is deterministic).

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use crate::time::{Instant, WallClock};

/// What the interpreter needs from a path to the DUT.
pub trait Link: Send {
    fn now(&self) -> Instant;
    /// One datagram to the DUT from our current source.
    fn send(&mut self, datagram: &[u8]);
    /// The next datagram from the DUT to our current source, or `None` at `deadline`.
    /// Time advances to the datagram's arrival or to the deadline.
    fn recv(&mut self, deadline: Instant) -> Option<Vec<u8>>;
    /// From now on, talk from a new source address (a new client).
    fn new_source(&mut self);
    /// Sends datagram i from the i % `sources`-th of `sources` other source addresses (a
    /// flood from many clients), then listens on them for `quiet`: what came back
    /// (`dut/flood.rs`). None where the link cannot send from other addresses.
    fn flood(
        &mut self,
        _datagrams: &[Vec<u8>],
        _sources: usize,
        _quiet: Duration,
    ) -> Option<super::flood::FloodEcho> {
        None
    }
    /// The DUT's UDP address when it is reached over UDP (to find a local DUT's process).
    fn dut_address(&self) -> Option<SocketAddr> {
        None
    }
    /// ICMP port-unreachable errors that came back since the last call: a datagram reached
    /// the DUT's address and nothing listened there. Seen and reported, never ignored.
    fn take_unreachable(&mut self) -> u32 {
        0
    }
    /// Datagrams the path received but could not give to this conversation (from another
    /// address than the DUT's), since the last call: said, not silently dropped.
    fn take_foreign(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// Whether an I/O error is an ICMP port unreachable that came back on a connected socket.
fn is_unreachable(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::ConnectionRefused
}

/// The longest a socket wait runs before looking whether the run was interrupted.
const INTERRUPT_POLL: Duration = Duration::from_millis(200);

// ---- UDP ------------------------------------------------------------------------------

pub struct UdpLink {
    dut: SocketAddr,
    socket: UdpSocket,
    clock: WallClock,
    buf: Vec<u8>,
    unreachable: u32,
}

impl UdpLink {
    pub fn new(dut: SocketAddr) -> io::Result<Self> {
        let socket = Self::socket_to(dut)?;
        Ok(UdpLink {
            dut,
            socket,
            clock: WallClock::start(),
            buf: vec![0; 65536],
            unreachable: 0,
        })
    }

    fn socket_to(dut: SocketAddr) -> io::Result<UdpSocket> {
        let s = UdpSocket::bind(if dut.is_ipv6() {
            "[::1]:0"
        } else {
            "127.0.0.1:0"
        })?;
        s.connect(dut)?;
        Ok(s)
    }
}

impl Link for UdpLink {
    fn now(&self) -> Instant {
        self.clock.now()
    }

    fn send(&mut self, datagram: &[u8]) {
        // An ICMP unreachable from an earlier send surfaces here: counted, then the
        // datagram goes again (the DUT may be starting).
        if let Err(e) = self.socket.send(datagram) {
            if is_unreachable(&e) {
                self.unreachable += 1;
                let _ = self.socket.send(datagram);
            }
        }
    }

    fn recv(&mut self, deadline: Instant) -> Option<Vec<u8>> {
        loop {
            let wait = self.clock.until(deadline);
            if wait.is_zero() || crate::interrupt::requested().is_some() {
                return None;
            }
            let _ = self
                .socket
                .set_read_timeout(Some(wait.clamp(Duration::from_millis(1), INTERRUPT_POLL)));
            match self.socket.recv(&mut self.buf) {
                Ok(n) => return Some(self.buf[..n].to_vec()),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                // Port unreachable: nothing listens (yet). Counted for the verdict's
                // reason; keep waiting until the deadline.
                Err(e) => {
                    if is_unreachable(&e) {
                        self.unreachable += 1;
                    }
                    std::thread::sleep(Duration::from_millis(20).min(wait))
                }
            }
        }
    }

    fn new_source(&mut self) {
        if let Ok(s) = Self::socket_to(self.dut) {
            self.socket = s;
        }
    }

    fn flood(
        &mut self,
        datagrams: &[Vec<u8>],
        sources: usize,
        quiet: Duration,
    ) -> Option<super::flood::FloodEcho> {
        super::flood::udp_flood(self.dut, datagrams, sources, quiet).ok()
    }

    fn dut_address(&self) -> Option<SocketAddr> {
        Some(self.dut)
    }

    fn take_unreachable(&mut self) -> u32 {
        std::mem::take(&mut self.unreachable)
    }
}

// ---- UDP, the harness as server ------------------------------------------------------

/// The harness listens; the DUT (a client) talks first, and its address is learnt from its
/// first datagram.
pub struct UdpServerLink {
    socket: UdpSocket,
    peer: Option<SocketAddr>,
    clock: WallClock,
    buf: Vec<u8>,
    /// Datagrams from other addresses than the DUT's first one, not yet reported.
    foreign: Vec<String>,
}

impl UdpServerLink {
    pub fn bind() -> io::Result<Self> {
        Ok(UdpServerLink {
            socket: UdpSocket::bind("127.0.0.1:0")?,
            peer: None,
            clock: WallClock::start(),
            buf: vec![0; 65536],
            foreign: Vec::new(),
        })
    }

    pub fn port(&self) -> u16 {
        self.socket.local_addr().map(|a| a.port()).unwrap_or(0)
    }
}

impl Link for UdpServerLink {
    fn now(&self) -> Instant {
        self.clock.now()
    }

    fn send(&mut self, datagram: &[u8]) {
        if let Some(p) = self.peer {
            let _ = self.socket.send_to(datagram, p);
        }
    }

    fn recv(&mut self, deadline: Instant) -> Option<Vec<u8>> {
        loop {
            let wait = self.clock.until(deadline);
            if wait.is_zero() || crate::interrupt::requested().is_some() {
                return None;
            }
            let _ = self
                .socket
                .set_read_timeout(Some(wait.clamp(Duration::from_millis(1), INTERRUPT_POLL)));
            match self.socket.recv_from(&mut self.buf) {
                Ok((n, from)) => {
                    // The first client is the DUT's address; a datagram from another (a
                    // client that changed its port) is not part of this conversation, and
                    // is reported as such (bounded).
                    if *self.peer.get_or_insert(from) == from {
                        return Some(self.buf[..n].to_vec());
                    }
                    if self.foreign.len() < 16 {
                        self.foreign.push(format!(
                            "a datagram of {n} bytes from {from}, not the DUT's first address {}: not part of this conversation",
                            self.peer.map(|p| p.to_string()).unwrap_or_default()
                        ));
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(20).min(wait)),
            }
        }
    }

    fn new_source(&mut self) {}

    fn take_foreign(&mut self) -> Vec<String> {
        std::mem::take(&mut self.foreign)
    }
}

// ---- simulated device -----------------------------------------------------------------

/// A device that runs in-process on the caller's clock. `from`/`to` name client sources.
pub trait SimDevice: Send {
    /// What the device sends on its own at the start (a client's first flight).
    fn start(&mut self, _now: Instant) -> Vec<(u16, Vec<u8>)> {
        Vec::new()
    }
    fn handle_datagram(&mut self, now: Instant, from: u16, datagram: &[u8]) -> Vec<(u16, Vec<u8>)>;
    fn handle_timeout(&mut self, now: Instant) -> Vec<(u16, Vec<u8>)>;
    fn poll_timeout(&self) -> Option<Instant>;
}

pub struct SimLink {
    device: Box<dyn SimDevice>,
    now: Instant,
    source: u16,
    inbox: VecDeque<Vec<u8>>,
    /// Simulated one-way latency, so time moves a little with every exchange.
    latency: Duration,
}

impl SimLink {
    pub fn new(device: Box<dyn SimDevice>) -> Self {
        let mut l = SimLink {
            device,
            now: Instant::ZERO,
            source: 40000,
            inbox: VecDeque::new(),
            latency: Duration::from_millis(1),
        };
        let out = l.device.start(l.now);
        l.deliver(out);
        l
    }

    fn deliver(&mut self, out: Vec<(u16, Vec<u8>)>) {
        for (to, d) in out {
            if to == self.source {
                self.inbox.push_back(d);
            }
        }
    }
}

impl Link for SimLink {
    fn now(&self) -> Instant {
        self.now
    }

    fn send(&mut self, datagram: &[u8]) {
        self.now = self.now + self.latency;
        let out = self.device.handle_datagram(self.now, self.source, datagram);
        self.deliver(out);
    }

    fn recv(&mut self, deadline: Instant) -> Option<Vec<u8>> {
        loop {
            if let Some(d) = self.inbox.pop_front() {
                return Some(d);
            }
            match self.device.poll_timeout() {
                Some(t) if t <= deadline => {
                    self.now = self.now.max(t);
                    let out = self.device.handle_timeout(self.now);
                    self.deliver(out);
                }
                _ => {
                    self.now = self.now.max(deadline);
                    return None;
                }
            }
        }
    }

    fn new_source(&mut self) {
        self.source = self.source.wrapping_add(1);
        self.inbox.clear();
    }

    /// The flood's sources are ports 20000 and up (clients of the case use 40000 and up);
    /// each datagram takes 100 µs of virtual time, then timers run through `quiet`.
    fn flood(
        &mut self,
        datagrams: &[Vec<u8>],
        sources: usize,
        quiet: Duration,
    ) -> Option<super::flood::FloodEcho> {
        use super::flood::{FloodEcho, SourceTally};
        const FIRST: u16 = 20000;
        let sources = sources.clamp(1, 512);
        let mut per = vec![SourceTally::default(); sources];
        let mut echo = FloodEcho {
            sources,
            ..Default::default()
        };
        let route = |out: Vec<(u16, Vec<u8>)>,
                     per: &mut [SourceTally],
                     inbox: &mut VecDeque<Vec<u8>>,
                     me: u16| {
            for (to, d) in out {
                match usize::from(to.wrapping_sub(FIRST)) {
                    k if to >= FIRST && k < per.len() => per[k].receive(&d),
                    _ if to == me => inbox.push_back(d),
                    _ => {}
                }
            }
        };
        for (i, d) in datagrams.iter().enumerate() {
            let k = i % sources;
            self.now = self.now + Duration::from_micros(100);
            let out = self.device.handle_datagram(self.now, FIRST + k as u16, d);
            route(out, &mut per, &mut self.inbox, self.source);
            per[k].sent += 1;
            echo.sent += 1;
            echo.sent_bytes += d.len();
        }
        let end = self.now + quiet;
        // Bounded: a device whose timer never moves cannot hold the harness here.
        let mut ticks = 0u32;
        while let Some(t) = self
            .device
            .poll_timeout()
            .filter(|t| *t <= end && ticks < 100_000)
        {
            ticks += 1;
            self.now = self.now.max(t);
            let out = self.device.handle_timeout(self.now);
            route(out, &mut per, &mut self.inbox, self.source);
        }
        self.now = self.now.max(end);
        echo.tally(&per);
        Some(echo)
    }
}

#[cfg(test)]
mod foreign_tests {
    use super::*;

    /// A datagram from a second address is not taken as the DUT's, and is reported.
    #[test]
    fn a_datagram_from_another_address_is_reported_not_dropped_in_silence() {
        let mut link = UdpServerLink::bind().expect("bind");
        let to = std::net::SocketAddr::from(([127, 0, 0, 1], link.port()));
        let dut = UdpSocket::bind("127.0.0.1:0").unwrap();
        let other = UdpSocket::bind("127.0.0.1:0").unwrap();
        dut.send_to(b"first", to).unwrap();
        let deadline = link.now() + Duration::from_secs(2);
        assert_eq!(link.recv(deadline).as_deref(), Some(&b"first"[..]));
        other.send_to(b"stray", to).unwrap();
        dut.send_to(b"second", to).unwrap();
        let deadline = link.now() + Duration::from_secs(2);
        assert_eq!(link.recv(deadline).as_deref(), Some(&b"second"[..]));
        let notes = link.take_foreign();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("5 bytes"), "{}", notes[0]);
        assert!(link.take_foreign().is_empty(), "reported once");
    }
}
