//! The passive monitor follows an exchange it only watches: keys from the PSK, both
//! Finished verified, application data decrypted; and it notices a wrong PSK.

mod support;

use dicetest::engine::Connection;
use dicetest::monitor::{Monitor, MonitorEvent, Side};
use dicetest::time::Instant;
use support::*;

fn watch(c: &mut Connection, s: &mut Connection, m: &mut Monitor) -> Vec<MonitorEvent> {
    let mut seen = Vec::new();
    let mut counter = 0;
    let now = Instant::ZERO;
    c.start(now);
    let mut filter = |_: bool, _: usize, _: &[u8]| true;
    // Pump by hand so the monitor sees every datagram.
    for _ in 0..20 {
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
            break;
        }
    }
    let _ = pump(c, s, now, &mut filter, &mut counter);
    seen
}

#[test]
fn follows_a_psk_handshake_and_decrypts_the_data() {
    for suite in [0xC0A8u16, 0x00AE] {
        let (mut c, mut s) = psk_pair(&[suite]);
        let mut m = Monitor::new(Some(PSK.to_vec()), Vec::new());
        let mut seen = watch(&mut c, &mut s, &mut m);
        assert!(c.is_connected());
        c.send_application_data(b"GET /light");
        let d = c.poll_transmit().unwrap();
        seen.extend(m.on_datagram(Side::Client, &d));
        assert_eq!(m.handshakes_completed(), 1, "{seen:?}");
        assert_eq!(m.cipher_suite(), Some(suite));
        assert!(m.extended_master_secret());
        assert_eq!(
            m.master_secret().map(|x| x.to_vec()),
            c.params.master.map(|x| x.to_vec())
        );
        assert!(seen.contains(&MonitorEvent::ApplicationData {
            from: Side::Client,
            data: b"GET /light".to_vec()
        }));
        assert!(
            seen.iter()
                .filter(|e| matches!(e, MonitorEvent::Finished { verified: true, .. }))
                .count()
                == 2
        );
    }
}

#[test]
fn a_monitor_with_another_psk_cannot_verify_or_decrypt() {
    let (mut c, mut s) = psk_pair(&[0xC0A8]);
    let mut m = Monitor::new(Some(b"not the key".to_vec()), Vec::new());
    let seen = watch(&mut c, &mut s, &mut m);
    assert_eq!(m.handshakes_completed(), 0);
    assert!(
        seen.iter()
            .any(|e| matches!(e, MonitorEvent::Undecryptable { .. })),
        "{seen:?}"
    );
}
