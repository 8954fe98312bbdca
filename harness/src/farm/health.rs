//! The network half of a board's health check: a whole DTLS 1.2 PSK handshake with the
//! board's credentials at its address (RFC 6347 §4.2; RFC 7925 §4.2's mandatory
//! TLS_PSK_WITH_AES_128_CCM_8 is in the client's offer). A board that completes one is up,
//! holds the key the inventory says, and its firmware's DTLS stack is alive.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use crate::dut::profile::Credentials;
use crate::engine::{Config, Connection, Event};
use crate::io::{DriveOutcome, Driver};

/// Why the handshake of a health check did not complete.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeFailure {
    #[error("no complete handshake within {0} ms{1}")]
    Silent(u64, String),
    #[error("the handshake failed: {0}")]
    Refused(String),
    #[error("{0} is unreachable (ICMP port unreachable: nothing listens on that UDP port)")]
    Unreachable(SocketAddr),
    #[error("socket error: {0}")]
    Socket(String),
}

/// Handshakes with the board at `addr`, then closes the association.
pub fn handshake(
    addr: SocketAddr,
    credentials: &Credentials,
    limit: Duration,
) -> Result<(), HandshakeFailure> {
    let psk = hex::decode(&credentials.psk_hex).unwrap_or_default();
    let cfg = Config::client().with_psk(credentials.psk_identity.as_bytes(), &psk);
    let bind = if addr.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    };
    let socket = UdpSocket::bind(bind)
        .and_then(|s| s.connect(addr).map(|_| s))
        .map_err(|e| HandshakeFailure::Socket(e.to_string()))?;
    let mut conn = Connection::new(cfg);
    conn.start(crate::time::Instant::ZERO);
    let mut d = Driver::new(socket, conn);
    let outcome = d.drive_until(limit, &mut |_| {}, &mut |c| c.is_connected());
    let result = match outcome {
        Ok(DriveOutcome::Reached) => Ok(()),
        Ok(DriveOutcome::Finished) => Err(HandshakeFailure::Refused(
            d.events
                .iter()
                .rev()
                .find_map(|e| match e {
                    Event::Failed(f) => Some(f.to_string()),
                    _ => None,
                })
                .unwrap_or_else(|| "the board closed the association".into()),
        )),
        Ok(DriveOutcome::TimedOut) => Err(HandshakeFailure::Silent(
            limit.as_millis() as u64,
            silent_hint(&d),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err(HandshakeFailure::Unreachable(addr))
        }
        Err(e) => Err(HandshakeFailure::Socket(e.to_string())),
    };
    if result.is_ok() {
        // Free the board's session slot at once (RFC 6347 §4.2.8 close_notify).
        d.conn.close();
        let _ = d.drive_until(Duration::from_millis(5), &mut |_| {}, &mut |_| true);
    }
    result
}

/// What a silence says: nothing at all came back, or the board went quiet after our
/// Finished (it could not verify it: another PSK).
fn silent_hint(d: &Driver) -> String {
    if d.conn.state() == crate::engine::State::ClientWaitChangeCipherSpec {
        "; the board went quiet after our Finished: it could not verify it (another PSK, or an identity it does not know), or it stopped answering".into()
    } else if !d.events.iter().any(|e| matches!(e, Event::Record(_))) {
        "; not one record came back".into()
    } else {
        String::new()
    }
}
