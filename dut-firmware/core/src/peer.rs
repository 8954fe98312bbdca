//! Who a datagram came from: the device keys sessions, cookies and the CoAP duplicate
//! cache on it.

/// An IP address and UDP port as plain bytes: 16 bytes of IPv6 address (IPv4 as
/// IPv4-mapped `::ffff:a.b.c.d`, RFC 4291 §2.5.5.2) then the port, big-endian.
/// Plain bytes so the core needs no IP stack types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct PeerAddr(pub [u8; 18]);

impl PeerAddr {
    pub fn from_ipv4(ip: [u8; 4], port: u16) -> Self {
        let mut b = [0u8; 18];
        b[10] = 0xff;
        b[11] = 0xff;
        b[12..16].copy_from_slice(&ip);
        b[16..18].copy_from_slice(&port.to_be_bytes());
        PeerAddr(b)
    }

    pub fn from_ipv6(ip: [u8; 16], port: u16) -> Self {
        let mut b = [0u8; 18];
        b[..16].copy_from_slice(&ip);
        b[16..18].copy_from_slice(&port.to_be_bytes());
        PeerAddr(b)
    }

    /// The IPv4 address, if this is an IPv4-mapped address.
    pub fn ipv4(&self) -> Option<[u8; 4]> {
        let b = &self.0;
        if b[..10].iter().all(|&x| x == 0) && b[10] == 0xff && b[11] == 0xff {
            Some([b[12], b[13], b[14], b[15]])
        } else {
            None
        }
    }

    pub fn ipv6(&self) -> [u8; 16] {
        let mut ip = [0u8; 16];
        ip.copy_from_slice(&self.0[..16]);
        ip
    }

    pub fn port(&self) -> u16 {
        u16::from_be_bytes([self.0[16], self.0[17]])
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_round_trips_through_the_mapped_form() {
        let p = PeerAddr::from_ipv4([127, 0, 0, 1], 5684);
        assert_eq!(p.ipv4(), Some([127, 0, 0, 1]));
        assert_eq!(p.port(), 5684);
        let v6 = PeerAddr::from_ipv6([0x20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 1);
        assert_eq!(v6.ipv4(), None);
    }
}
