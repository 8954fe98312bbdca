//! The UDP relay between a real client and a real server: it forwards, impairs and shows
//! every datagram to the monitor.

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
    pub bytes: Vec<u8>,
    /// What the relay did with it.
    pub action: &'static str,
}

pub struct Relay {
    /// The socket clients talk to.
    front: UdpSocket,
    /// The socket that talks to the server.
    back: UdpSocket,
    client: Option<SocketAddr>,
    impair: Impairments,
    count: u32,
    held: Option<(Side, Vec<u8>)>,
    buf: Vec<u8>,
}

impl Relay {
    pub fn new(server: SocketAddr, impair: Impairments) -> io::Result<Self> {
        let front = UdpSocket::bind("127.0.0.1:0")?;
        let back = UdpSocket::bind("127.0.0.1:0")?;
        back.connect(server)?;
        front.set_read_timeout(Some(Duration::from_millis(5)))?;
        back.set_read_timeout(Some(Duration::from_millis(5)))?;
        Ok(Relay {
            front,
            back,
            client: None,
            impair,
            count: 0,
            held: None,
            buf: vec![0; 65536],
        })
    }

    /// The port clients are pointed at.
    pub fn port(&self) -> u16 {
        self.front.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    fn deliver(&mut self, to: Side, bytes: &[u8]) {
        match to {
            Side::Server => {
                let _ = self.back.send(bytes);
            }
            Side::Client => {
                if let Some(c) = self.client {
                    let _ = self.front.send_to(bytes, c);
                }
            }
        }
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
            // The first source is the client under test; others are ignored.
            if *self.client.get_or_insert(from) == from {
                incoming.push((Side::Client, self.buf[..n].to_vec()));
            }
        }
        if let Ok(n) = self.back.recv(&mut self.buf) {
            incoming.push((Side::Server, self.buf[..n].to_vec()));
        }
        for (from, bytes) in incoming {
            self.count += 1;
            let n = self.count;
            let to = Self::other(from);
            let too_big = self.impair.max_datagram.is_some_and(|m| bytes.len() > m);
            let action = if self.impair.drop.contains(&n) {
                "dropped"
            } else if too_big {
                "dropped (larger than the path MTU)"
            } else if self.impair.reorder.contains(&n) && self.held.is_none() {
                self.held = Some((to, bytes.clone()));
                "held back"
            } else {
                self.deliver(to, &bytes);
                if self.impair.duplicate.contains(&n) {
                    self.deliver(to, &bytes);
                }
                if let Some((hto, h)) = self.held.take() {
                    self.deliver(hto, &h);
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
                bytes,
                action,
            });
        }
        out
    }
}
