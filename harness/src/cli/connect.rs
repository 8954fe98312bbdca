//! `dicetest connect`: like `openssl s_client`, for DTLS 1.2 PSK devices.

use std::net::{ToSocketAddrs, UdpSocket};
use std::time::Duration;

use clap::Args;

use super::common::{suite_name, trace_line, PskArgs};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::engine::{Config, Connection, Event};
use crate::io::{DriveOutcome, Driver};

#[derive(Args, Debug)]
pub struct ConnectArgs {
    /// The DTLS server, HOST:PORT (CoAP over DTLS uses UDP 5684).
    pub target: String,
    #[command(flatten)]
    pub psk: PskArgs,
    /// Text to send as application data once connected; the reply is printed.
    #[arg(long, value_name = "TEXT")]
    pub send: Option<String>,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 20)]
    pub timeout: u64,
    /// Seconds to wait for a reply to --send.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub reply_timeout: u64,
}

pub fn run(a: ConnectArgs) -> i32 {
    let cfg = match a.psk.apply(Config::client()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dicetest connect: {e}");
            return EXIT_USAGE;
        }
    };
    let addr = match a.target.to_socket_addrs().ok().and_then(|mut it| it.next()) {
        Some(x) => x,
        None => {
            eprintln!(
                "dicetest connect: cannot resolve {:?} (expected HOST:PORT)",
                a.target
            );
            return EXIT_USAGE;
        }
    };
    let bind = if addr.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    };
    let socket = match UdpSocket::bind(bind).and_then(|s| s.connect(addr).map(|_| s)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dicetest connect: cannot open a UDP socket to {addr}: {e}");
            return EXIT_USAGE;
        }
    };
    let identity = cfg
        .psk
        .as_ref()
        .map(|p| p.identity.clone())
        .unwrap_or_default();
    println!(
        "connecting to {addr} (DTLS 1.2, identity {:?})",
        String::from_utf8_lossy(&identity)
    );
    let mut conn = Connection::new(cfg);
    conn.start(crate::time::Instant::ZERO);
    let mut d = Driver::new(socket, conn);
    let mut print = |e: &Event| {
        if let Some(l) = trace_line(e) {
            println!("{l}");
        }
    };
    let outcome = d.drive_until(Duration::from_secs(a.timeout), &mut print, &mut |c| {
        c.is_connected()
    });
    match outcome {
        Ok(DriveOutcome::Reached) => {}
        Ok(DriveOutcome::Finished) => {
            let hint = auth_hint(&d);
            let why = d
                .events
                .iter()
                .rev()
                .find_map(|e| match e {
                    Event::Failed(f) => Some(f.to_string()),
                    _ => None,
                })
                .unwrap_or_else(|| "the peer closed the association".into());
            eprintln!("handshake failed: {why}{hint}");
            return EXIT_FAILED;
        }
        Ok(DriveOutcome::TimedOut) => {
            eprintln!(
                "handshake failed: no complete handshake within {} s{}",
                a.timeout,
                auth_hint(&d)
            );
            return EXIT_FAILED;
        }
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            eprintln!("handshake failed: {addr} is unreachable (ICMP port unreachable: nothing listens on that UDP port)");
            return EXIT_FAILED;
        }
        Err(e) => {
            eprintln!("handshake failed: socket error: {e}");
            return EXIT_FAILED;
        }
    }
    if let (Some(path), Some(line)) = (&a.psk.keylog, d.conn.keylog_line()) {
        super::common::append_keylog(path, &line);
    }
    let suite = d.conn.cipher_suite().map(suite_name).unwrap_or_default();
    println!(
        "handshake complete: {suite}{}",
        if d.conn.params.extended_master_secret {
            ", extended master secret"
        } else {
            ""
        }
    );
    if let Some(text) = &a.send {
        d.conn.send_application_data(text.as_bytes());
        let got = std::cell::RefCell::new(None::<Vec<u8>>);
        let mut on_event = |e: &Event| {
            if let Some(l) = trace_line(e) {
                println!("{l}");
            }
            if let Event::ApplicationData(data) = e {
                got.borrow_mut()
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(data);
            }
        };
        let _ = d.drive_until(
            Duration::from_secs(a.reply_timeout),
            &mut on_event,
            &mut |_| got.borrow().is_some(),
        );
        let got = got.into_inner();
        match got {
            Some(data) => println!("received: {}", String::from_utf8_lossy(&data).trim_end()),
            None => println!("received: nothing within {} s", a.reply_timeout),
        }
    }
    d.conn.close();
    let _ = d.drive_until(Duration::from_millis(10), &mut |_| {}, &mut |_| true);
    EXIT_OK
}

/// Explains a silent failure: records that failed authentication, or a server that went
/// quiet after our Finished.
fn auth_hint(d: &Driver) -> String {
    if d.conn.state() == crate::engine::State::ClientWaitChangeCipherSpec {
        return "; the server stopped answering after our Finished: it could not verify it, most likely a wrong PSK (or an identity it does not know)".into();
    }
    let bad = d
        .events
        .iter()
        .filter(|e| matches!(e, Event::Record(r) if matches!(r.dropped, Some(crate::engine::record::DropReason::AuthenticationFailed(_)))))
        .count();
    if bad > 0 {
        format!("; {bad} record(s) from the peer failed authentication: the keys differ, most likely a wrong PSK")
    } else {
        String::new()
    }
}
