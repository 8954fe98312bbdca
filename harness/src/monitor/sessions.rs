//! The sessions a monitor saw established, so it can follow a later abbreviated handshake
//! that resumes one of them: its keys come from the old master secret and the new randoms
//! (RFC 5246 §7.3, §8.1; RFC 6347 Figure 2), which only an observer of the first session
//! can know.

/// One established session: what the server may resume it by.
#[derive(Clone, Debug)]
struct Cached {
    /// The server's session id (RFC 5246 §7.4.1.3), empty when it issued a ticket instead.
    session_id: Vec<u8>,
    /// Tickets the server issued for it (RFC 5077 §3.3).
    tickets: Vec<Vec<u8>>,
    master: [u8; 48],
    extended: bool,
}

/// What a resumed session brings: its master secret and whether it was extended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resumable {
    pub master: [u8; 48],
    pub extended: bool,
}

/// Bounded: a monitor watches one interop session, a handful of handshakes.
const MAX_SESSIONS: usize = 64;

#[derive(Clone, Debug, Default)]
pub struct SessionCache {
    sessions: Vec<Cached>,
}

impl SessionCache {
    /// A full handshake established `master` under the server's `session_id`.
    pub fn established(&mut self, session_id: &[u8], master: [u8; 48], extended: bool) {
        if self.sessions.len() == MAX_SESSIONS {
            self.sessions.remove(0);
        }
        self.sessions.push(Cached {
            session_id: session_id.to_vec(),
            tickets: Vec::new(),
            master,
            extended,
        });
    }

    /// The server issued `ticket` for the session whose master secret is `master`.
    pub fn ticket_issued(&mut self, master: &[u8; 48], ticket: &[u8]) {
        if let Some(s) = self.sessions.iter_mut().rev().find(|s| s.master == *master) {
            if s.tickets.len() < MAX_SESSIONS {
                s.tickets.push(ticket.to_vec());
            }
        }
    }

    /// The session an abbreviated handshake resumes: the one whose ticket the client
    /// presented (RFC 5077 §3.4), else the one with that session id.
    pub fn find(&self, ticket: Option<&[u8]>, session_id: &[u8]) -> Option<Resumable> {
        let by_ticket = ticket.filter(|t| !t.is_empty()).and_then(|t| {
            self.sessions
                .iter()
                .rev()
                .find(|s| s.tickets.iter().any(|x| x == t))
        });
        let by_id = || {
            self.sessions
                .iter()
                .rev()
                .find(|s| !session_id.is_empty() && s.session_id == session_id)
        };
        by_ticket.or_else(by_id).map(|s| Resumable {
            master: s.master,
            extended: s.extended,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_by_ticket_then_by_id() {
        let mut c = SessionCache::default();
        c.established(&[1, 2], [7; 48], true);
        c.established(&[], [8; 48], false);
        c.ticket_issued(&[8; 48], &[0xaa]);
        assert_eq!(c.find(None, &[1, 2]).map(|r| r.master), Some([7; 48]));
        assert_eq!(
            c.find(Some(&[0xaa]), &[5, 5]),
            Some(Resumable {
                master: [8; 48],
                extended: false
            })
        );
        assert_eq!(c.find(Some(&[0xbb]), &[5, 5]), None);
        // An empty id matches nothing, even the ticket-only session's empty id.
        assert_eq!(c.find(None, &[]), None);
    }
}
