//! `dicetest serve`: a DTLS 1.2 PSK echo server, like `openssl s_server`.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use clap::Args;

use super::common::{suite_name, trace_line, PskArgs};
use super::{EXIT_OK, EXIT_USAGE};
use crate::engine::{Config, Connection, Event};
use crate::time::WallClock;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on, ADDR:PORT.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:5684")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub psk: PskArgs,
    /// Skip the HelloVerifyRequest cookie exchange (RFC 6347 §4.2.1 says a server SHOULD do it).
    #[arg(long)]
    pub no_cookie: bool,
    /// Exit after the first association ends (handy in scripts and tests).
    #[arg(long)]
    pub once: bool,
    /// Most associations kept at once; the oldest is dropped beyond it.
    #[arg(long, default_value_t = 64)]
    pub max_sessions: usize,
}

pub fn run(a: ServeArgs) -> i32 {
    let base = match a.psk.apply(Config::server()) {
        Ok(mut c) => {
            c.cookie_exchange = !a.no_cookie;
            // Sessions can be resumed by id (RFC 5246 §7.3), across clients of this server.
            c.session_cache = Some(Default::default());
            c
        }
        Err(e) => {
            eprintln!("dicetest serve: {e}");
            return EXIT_USAGE;
        }
    };
    let socket = match UdpSocket::bind(a.listen) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dicetest serve: cannot listen on {}: {e}", a.listen);
            return EXIT_USAGE;
        }
    };
    let local = socket
        .local_addr()
        .map(|x| x.to_string())
        .unwrap_or_default();
    println!("listening on {local} (DTLS 1.2 PSK echo server)");
    let clock = WallClock::start();
    let mut sessions: HashMap<SocketAddr, (Connection, u64)> = HashMap::new();
    let mut counter = 0u64;
    let mut buf = vec![0u8; 65536];
    let verbose = a.psk.verbose;
    loop {
        // Sleep until the earliest retransmission deadline, or 1 s.
        let next = sessions
            .values()
            .filter_map(|(c, _)| c.poll_timeout())
            .min();
        let wait = next
            .map(|d| clock.until(d))
            .unwrap_or(Duration::from_secs(1))
            .clamp(Duration::from_millis(1), Duration::from_secs(1));
        let _ = socket.set_read_timeout(Some(wait));
        let now_in = clock.now();
        match socket.recv_from(&mut buf) {
            Ok((n, peer)) => {
                let entry = sessions.entry(peer).or_insert_with(|| {
                    let mut cfg = base.clone();
                    cfg.seed = base.seed.wrapping_add(counter);
                    // Bind cookies to the client's transport address (RFC 6347 §4.2.1).
                    cfg.cookie_context = peer.to_string().into_bytes();
                    counter += 1;
                    (Connection::new(cfg), counter)
                });
                entry.0.handle_datagram(now_in, &buf[..n]);
            }
            Err(_) => {
                let now = clock.now();
                for (c, _) in sessions.values_mut() {
                    c.handle_timeout(now);
                }
            }
        }
        let mut ended = Vec::new();
        for (peer, (c, _)) in sessions.iter_mut() {
            while let Some(e) = c.poll_event() {
                if verbose {
                    if let Some(l) = trace_line(&e) {
                        println!("{peer} {l}");
                    }
                }
                match e {
                    Event::Connected {
                        cipher_suite,
                        resumed,
                        ..
                    } => {
                        if let (Some(path), Some(line)) = (&a.psk.keylog, c.keylog_line()) {
                            super::common::append_keylog(path, &line);
                        }
                        println!(
                            "{peer}: handshake complete: {}{}",
                            suite_name(cipher_suite),
                            if resumed { " (resumed session)" } else { "" }
                        )
                    }
                    Event::ApplicationData(data) => {
                        println!("{peer}: echo {} bytes", data.len());
                        c.send_application_data(&data);
                    }
                    Event::Failed(f) => println!("{peer}: handshake failed: {f}"),
                    Event::Closed => println!("{peer}: closed"),
                    _ => {}
                }
            }
            while let Some(d) = c.poll_transmit() {
                let _ = socket.send_to(&d, peer);
            }
            if c.is_finished() {
                ended.push(*peer);
            }
        }
        let any_ended = !ended.is_empty();
        for p in ended {
            sessions.remove(&p);
        }
        // Stateless cookie exchange: a peer that only got a HelloVerifyRequest leaves no
        // state behind worth keeping beyond the cap.
        if sessions.len() > a.max_sessions {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, (_, n))| *n)
                .map(|(p, _)| *p)
            {
                sessions.remove(&oldest);
            }
        }
        if a.once && any_ended {
            return EXIT_OK;
        }
    }
}
