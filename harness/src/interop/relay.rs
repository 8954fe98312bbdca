//! The UDP relay between a real client and a real server: it forwards, impairs and shows
//! every datagram to the monitor.
//!
//! Each source address of the client is an association of its own with a socket of its own
//! towards the server, as a NAT would do: a client that reconnects from a new port to resume
//! its session (gnutls-cli --resume, s_client -reconnect) reaches the server as a new peer,
//! not as a stray ClientHello on the old association (RFC 6347 §4.2.8).

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use super::model::Impairments;
use crate::monitor::Side;

/// One datagram the relay handled.
#[derive(Clone, Debug)]
pub struct Relayed {
    pub number: u32,
    pub from: Side,
    /// Which association of the client (0 for its first source address, then 1, ...).
    pub association: usize,
    pub bytes: Vec<u8>,
    /// What the relay did with it.
    pub action: &'static str,
}

pub struct Relay {
    /// The socket clients talk to.
    front: UdpSocket,
    server: SocketAddr,
    /// Per association: the client's address and the socket that talks to the server for it.
    associations: Vec<(SocketAddr, UdpSocket)>,
    impair: Impairments,
    count: u32,
    held: Option<(Side, usize, Vec<u8>)>,
    buf: Vec<u8>,
    /// ICMP port-unreachable errors from the server's address: it was not listening.
    pub server_unreachable: u32,
}

/// A client that opens more associations than this is not one an interop case expects.
const MAX_ASSOCIATIONS: usize = 16;

impl Relay {
    pub fn new(server: SocketAddr, impair: Impairments) -> io::Result<Self> {
        let front = UdpSocket::bind("127.0.0.1:0")?;
        front.set_read_timeout(Some(Duration::from_millis(5)))?;
        Ok(Relay {
            front,
            server,
            associations: Vec::new(),
            impair,
            count: 0,
            held: None,
            buf: vec![0; 65536],
            server_unreachable: 0,
        })
    }

    /// The port clients are pointed at.
    pub fn port(&self) -> u16 {
        self.front.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// How many associations the client opened.
    pub fn associations(&self) -> usize {
        self.associations.len()
    }

    fn deliver(&mut self, to: Side, association: usize, bytes: &[u8]) {
        let Some((client, back)) = self.associations.get(association) else {
            return;
        };
        let sent = match to {
            Side::Server => back.send(bytes),
            Side::Client => self.front.send_to(bytes, client),
        };
        if to == Side::Server && sent.is_err_and(|e| e.kind() == io::ErrorKind::ConnectionRefused) {
            self.server_unreachable += 1;
        }
    }

    /// The association of a client address, opened on first sight.
    fn association_of(&mut self, from: SocketAddr) -> Option<usize> {
        if let Some(i) = self.associations.iter().position(|(a, _)| *a == from) {
            return Some(i);
        }
        if self.associations.len() == MAX_ASSOCIATIONS {
            return None;
        }
        let back = UdpSocket::bind("127.0.0.1:0").ok()?;
        back.connect(self.server).ok()?;
        back.set_nonblocking(true).ok()?;
        self.associations.push((from, back));
        Some(self.associations.len() - 1)
    }

    fn other(s: Side) -> Side {
        match s {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    /// Moves what is waiting (about 10 ms at most) and returns what it handled.
    pub fn step(&mut self) -> Vec<Relayed> {
        let mut out = Vec::new();
        let mut incoming = Vec::new();
        if let Ok((n, from)) = self.front.recv_from(&mut self.buf) {
            if let Some(a) = self.association_of(from) {
                incoming.push((Side::Client, a, self.buf[..n].to_vec()));
            }
        }
        for a in 0..self.associations.len() {
            loop {
                match self.associations[a].1.recv(&mut self.buf) {
                    Ok(n) => incoming.push((Side::Server, a, self.buf[..n].to_vec())),
                    // Seen, not ignored: the session's reason names it.
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                        self.server_unreachable += 1;
                    }
                    Err(_) => break,
                }
            }
        }
        for (from, association, bytes) in incoming {
            self.count += 1;
            let n = self.count;
            let to = Self::other(from);
            let too_big = self.impair.max_datagram.is_some_and(|m| bytes.len() > m);
            let action = if self.impair.drop.contains(&n) {
                "dropped"
            } else if too_big {
                "dropped (larger than the path MTU)"
            } else if self.impair.reorder.contains(&n) && self.held.is_none() {
                self.held = Some((to, association, bytes.clone()));
                "held back"
            } else {
                self.deliver(to, association, &bytes);
                if self.impair.duplicate.contains(&n) {
                    self.deliver(to, association, &bytes);
                }
                if let Some((hto, ha, h)) = self.held.take() {
                    self.deliver(hto, ha, &h);
                }
                if self.impair.duplicate.contains(&n) {
                    "duplicated"
                } else {
                    "forwarded"
                }
            };
            out.push(Relayed {
                number: n,
                from,
                association,
                bytes,
                action,
            });
        }
        out
    }
}
