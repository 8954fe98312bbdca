//! The monitor follows a full handshake and then an abbreviated one that resumes it, on a
//! new association (dicetest's engine at both ends, in memory).

use super::*;
use crate::engine::{Config, Connection};
use crate::time::Instant;

const PSK: &[u8] = b"secretPSK";

fn client(seed: u64) -> Config {
    Config::client()
        .with_psk(b"Client_identity", PSK)
        .with_suites(&[0xC0A8])
        .with_seed(seed)
}

/// Moves datagrams both ways through the monitor until nothing moves.
fn watch(c: &mut Connection, s: &mut Connection, m: &mut Monitor) -> Vec<MonitorEvent> {
    let now = Instant::ZERO;
    let mut seen = Vec::new();
    c.start(now);
    loop {
        let mut moved = false;
        while let Some(d) = c.poll_transmit() {
            seen.extend(m.on_datagram(Side::Client, &d));
            s.handle_datagram(now, &d);
            moved = true;
        }
        while let Some(d) = s.poll_transmit() {
            seen.extend(m.on_datagram(Side::Server, &d));
            c.handle_datagram(now, &d);
            moved = true;
        }
        if !moved {
            return seen;
        }
    }
}

/// Full handshake, then a resumption from a second client; returns both monitors' events
/// and the second association's monitor (`fresh`: one that did not see the first session).
fn resume(fresh: bool) -> (Monitor, Vec<MonitorEvent>, bool) {
    let mut scfg = Config::server()
        .with_psk(b"Client_identity", PSK)
        .with_suites(&[0xC0A8])
        .with_seed(2);
    scfg.session_cache = Some(Default::default());
    let (mut c, mut s) = (Connection::new(client(1)), Connection::new(scfg.clone()));
    let mut first = Monitor::new(Some(PSK.to_vec()), Vec::new());
    watch(&mut c, &mut s, &mut first);
    assert_eq!(first.handshakes_completed(), 1);
    assert_eq!(first.resumptions_completed(), 0);
    let session = c.resumable_session().expect("the server gave a session id");
    let mut ccfg = client(3);
    ccfg.resume = Some(session);
    let (mut c2, mut s2) = (Connection::new(ccfg), Connection::new(scfg.with_seed(4)));
    let mut second = if fresh {
        Monitor::new(Some(PSK.to_vec()), Vec::new())
    } else {
        first.next_association()
    };
    let mut seen = watch(&mut c2, &mut s2, &mut second);
    let resumed = c2.resumed;
    c2.send_application_data(b"after resumption");
    if let Some(d) = c2.poll_transmit() {
        seen.extend(second.on_datagram(Side::Client, &d));
    }
    (second, seen, resumed)
}

#[test]
fn follows_a_resumption_on_a_new_association() {
    let (m, seen, resumed) = resume(false);
    assert!(resumed, "the engine pair did not resume");
    assert!(
        seen.contains(&MonitorEvent::Resumption { known: true }),
        "{seen:?}"
    );
    assert_eq!(m.handshakes_completed(), 1);
    assert_eq!(m.resumptions_completed(), 1);
    assert!(m.extended_master_secret() && m.client_offered_ems());
    assert!(seen.contains(&MonitorEvent::ApplicationData {
        from: Side::Client,
        data: b"after resumption".to_vec()
    }));
}

#[test]
fn a_resumption_of_a_session_it_never_saw_stays_unverified() {
    let (m, seen, resumed) = resume(true);
    assert!(resumed);
    assert!(
        seen.contains(&MonitorEvent::Resumption { known: false }),
        "{seen:?}"
    );
    assert_eq!(m.handshakes_completed(), 0);
    assert!(seen
        .iter()
        .any(|e| matches!(e, MonitorEvent::Undecryptable { .. })));
}
