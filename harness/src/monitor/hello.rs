//! The few hello fields a passive monitor needs, read by hand from handshake bodies so the
//! monitor depends on no parser of ours that it is meant to check. Every read is bounds
//! checked: a short or lying body gives `None`, never a panic.

/// extended_master_secret (RFC 7627 §5.1).
pub const EXTENDED_MASTER_SECRET: u16 = 23;
/// SessionTicket (RFC 5077 §3.2).
pub const SESSION_TICKET: u16 = 35;

/// What a ClientHello offers (RFC 6347 §4.2.1, RFC 5246 §7.4.1.2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHelloSeen {
    pub session_id: Vec<u8>,
    /// The SessionTicket extension's content, when the client presents a ticket.
    pub ticket: Option<Vec<u8>>,
    pub extended_master_secret: bool,
}

/// What a ServerHello chose (RFC 5246 §7.4.1.3).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerHelloSeen {
    pub session_id: Vec<u8>,
    pub cipher_suite: u16,
    pub extended_master_secret: bool,
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|s| u16::from_be_bytes([s[0], s[1]]))
    }
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
    /// The extensions block, if any: (type, data) pairs. A hello may end before it
    /// (RFC 5246 §7.4.1.2: extensions are optional).
    fn extensions(&mut self) -> Option<Vec<(u16, &'a [u8])>> {
        if self.at == self.b.len() {
            return Some(Vec::new());
        }
        let mut r = Reader {
            b: self.vec16()?,
            at: 0,
        };
        let mut out = Vec::new();
        while r.at < r.b.len() {
            let t = r.u16()?;
            out.push((t, r.vec16()?));
        }
        Some(out)
    }
}

pub fn client_hello(body: &[u8]) -> Option<ClientHelloSeen> {
    let mut r = Reader { b: body, at: 0 };
    r.take(2 + 32)?;
    let session_id = r.vec8()?.to_vec();
    // DTLS adds the cookie after the session id (RFC 6347 §4.2.1).
    r.vec8()?;
    r.vec16()?;
    r.vec8()?;
    let ext = r.extensions()?;
    Some(ClientHelloSeen {
        session_id,
        ticket: ext
            .iter()
            .find(|(t, _)| *t == SESSION_TICKET)
            .map(|(_, d)| d.to_vec()),
        extended_master_secret: ext.iter().any(|(t, _)| *t == EXTENDED_MASTER_SECRET),
    })
}

pub fn server_hello(body: &[u8]) -> Option<ServerHelloSeen> {
    let mut r = Reader { b: body, at: 0 };
    r.take(2 + 32)?;
    let session_id = r.vec8()?.to_vec();
    let cipher_suite = r.u16()?;
    r.u8()?;
    // A ServerHello cut short after its fixed part still names the suite.
    let ext = r.extensions().unwrap_or_default();
    Some(ServerHelloSeen {
        session_id,
        cipher_suite,
        extended_master_secret: ext.iter().any(|(t, _)| *t == EXTENDED_MASTER_SECRET),
    })
}

/// The ticket of a NewSessionTicket body (RFC 5077 §3.3: lifetime hint, then the ticket).
pub fn new_session_ticket(body: &[u8]) -> Option<Vec<u8>> {
    let mut r = Reader { b: body, at: 0 };
    r.take(4)?;
    Some(r.vec16()?.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_hello_body(sid: &[u8], ext: &[(u16, &[u8])]) -> Vec<u8> {
        let mut b = vec![0xfe, 0xfd];
        b.extend([1u8; 32]);
        b.push(sid.len() as u8);
        b.extend(sid);
        b.extend([2, 0xaa, 0xbb]); // cookie
        b.extend([0, 2, 0xc0, 0xa8]);
        b.extend([1, 0]);
        let mut e = Vec::new();
        for (t, d) in ext {
            e.extend(t.to_be_bytes());
            e.extend((d.len() as u16).to_be_bytes());
            e.extend(*d);
        }
        if !ext.is_empty() {
            b.extend((e.len() as u16).to_be_bytes());
            b.extend(e);
        }
        b
    }

    #[test]
    fn reads_session_id_ticket_and_ems() {
        let b = client_hello_body(&[9, 9], &[(23, &[]), (35, &[5, 6, 7])]);
        let ch = client_hello(&b).unwrap();
        assert_eq!(ch.session_id, vec![9, 9]);
        assert_eq!(ch.ticket.as_deref(), Some(&[5u8, 6, 7][..]));
        assert!(ch.extended_master_secret);
        let plain = client_hello(&client_hello_body(&[], &[])).unwrap();
        assert_eq!(plain, ClientHelloSeen::default());
    }

    #[test]
    fn short_or_lying_bodies_give_none() {
        let b = client_hello_body(&[9, 9], &[(23, &[])]);
        for n in 0..b.len() - 1 {
            // Every cut either fails or loses the extension; none panics.
            if let Some(ch) = client_hello(&b[..n]) {
                assert!(!ch.extended_master_secret, "cut at {n}");
            }
        }
        let mut lying = b.clone();
        lying[34] = 200; // session id longer than the body
        assert_eq!(client_hello(&lying), None);
        assert_eq!(server_hello(&[0xfe]), None);
        assert_eq!(new_session_ticket(&[0, 0, 0, 1, 0, 9, 1]), None);
        assert_eq!(
            new_session_ticket(&[0, 0, 0, 1, 0, 2, 7, 8]),
            Some(vec![7, 8])
        );
    }

    #[test]
    fn server_hello_fields() {
        let mut b = vec![0xfe, 0xfd];
        b.extend([3u8; 32]);
        b.extend([1, 0x42, 0xc0, 0xa8, 0]);
        b.extend([0, 4, 0, 23, 0, 0]);
        let sh = server_hello(&b).unwrap();
        assert_eq!(sh.session_id, vec![0x42]);
        assert_eq!(sh.cipher_suite, 0xc0a8);
        assert!(sh.extended_master_secret);
        b.truncate(39);
        let sh = server_hello(&b).unwrap();
        assert!(!sh.extended_master_secret);
    }
}
