//! Drives one [`Connection`] over a connected UDP socket.

use std::io;
use std::net::UdpSocket;
use std::time::Duration;

use crate::engine::{Connection, Event};
use crate::time::WallClock;

/// Why [`Driver::drive_until`] returned.
#[derive(Debug, PartialEq, Eq)]
pub enum DriveOutcome {
    /// The condition became true.
    Reached,
    /// The connection failed or closed first.
    Finished,
    /// The overall time limit ran out.
    TimedOut,
}

pub struct Driver {
    pub socket: UdpSocket,
    pub clock: WallClock,
    pub conn: Connection,
    /// Every event seen, in order (evidence for the caller).
    pub events: Vec<Event>,
    buf: Vec<u8>,
}

impl Driver {
    pub fn new(socket: UdpSocket, conn: Connection) -> Self {
        Driver {
            socket,
            clock: WallClock::start(),
            conn,
            events: Vec::new(),
            buf: vec![0; 65536],
        }
    }

    fn send_pending(&mut self) -> io::Result<()> {
        while let Some(d) = self.conn.poll_transmit() {
            match self.socket.send(&d) {
                Ok(_) => {}
                // An ICMP port-unreachable from an earlier send surfaces here; the peer is
                // not (yet) there. Keep going: the retransmission timer decides.
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn collect_events(&mut self, on_event: &mut dyn FnMut(&Event)) {
        while let Some(e) = self.conn.poll_event() {
            on_event(&e);
            self.events.push(e);
        }
    }

    /// Runs the connection until `done` holds, it finishes, or `limit` passes.
    pub fn drive_until(
        &mut self,
        limit: Duration,
        on_event: &mut dyn FnMut(&Event),
        done: &mut dyn FnMut(&Connection) -> bool,
    ) -> io::Result<DriveOutcome> {
        let give_up = self.clock.now() + limit;
        let mut refused = false;
        loop {
            self.send_pending()?;
            self.collect_events(on_event);
            if done(&self.conn) {
                return Ok(DriveOutcome::Reached);
            }
            if self.conn.is_finished() {
                return Ok(DriveOutcome::Finished);
            }
            let now = self.clock.now();
            if now >= give_up {
                return Ok(DriveOutcome::TimedOut);
            }
            let deadline = self
                .conn
                .poll_timeout()
                .map(|d| d.min(give_up))
                .unwrap_or(give_up);
            let wait = self.clock.until(deadline).max(Duration::from_millis(1));
            self.socket.set_read_timeout(Some(wait))?;
            match self.socket.recv(&mut self.buf) {
                Ok(n) => {
                    let now = self.clock.now();
                    let data = self.buf[..n].to_vec();
                    self.conn.handle_datagram(now, &data);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    let now = self.clock.now();
                    self.conn.handle_timeout(now);
                }
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    // Nothing listens on the port (ICMP port unreachable).
                    if refused {
                        return Err(e);
                    }
                    refused = true;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Waits up to `limit` for the first datagram on an unconnected `socket`, then serves that
/// one client: the socket is connected to it and the connection (built from `config`, with
/// cookies bound to the client's address) has already taken the first datagram.
pub fn accept_one(
    socket: UdpSocket,
    mut config: crate::engine::Config,
    limit: Duration,
) -> io::Result<Driver> {
    let clock = WallClock::start();
    let mut buf = vec![0u8; 65536];
    socket.set_read_timeout(Some(limit))?;
    let (n, peer) = socket.recv_from(&mut buf)?;
    socket.connect(peer)?;
    config.cookie_context = peer.to_string().into_bytes();
    let mut conn = Connection::new(config);
    conn.handle_datagram(clock.now(), &buf[..n]);
    let mut d = Driver::new(socket, conn);
    d.clock = clock;
    Ok(d)
}
