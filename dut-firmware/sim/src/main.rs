//! `dut-sim`: the reference device behind a UDP socket.

use std::net::UdpSocket;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use dut_sim::{
    parse_hex, serve, Config, Faults, SimBoard, Variations, DEFAULT_IDENTITY, DEFAULT_PSK_HEX,
};

const USAGE: &str =
    "usage: dut-sim [--listen ADDR] [--psk-identity ID] [--psk HEX] [--fault NAME]...
               [--variation NAME]... [--rto-ms N] [--seed HEX] [--hang-after-datagrams N]

The reference DTLS 1.2 PSK + CoAP device (dicetest's dut-firmware core) on the host.
  --listen ADDR       UDP address to bind (default 127.0.0.1:5684)
  --psk-identity ID   PSK identity (default Client_identity)
  --psk HEX           PSK in hex (default 73656372657450534b, \"secretPSK\")
  --fault NAME        turn on a fault switch (repeatable); --fault list prints them
  --variation NAME    turn on a legal-variation switch (repeatable); --variation list
  --rto-ms N          initial retransmission timeout (default 1000)
  --seed HEX          32-byte seed of the device's random generator
  --hang-after-datagrams N
                      host only, for the board farm's tests: after N datagrams received,
                      stop answering (and retransmitting) but keep running with the port
                      bound, like a board whose firmware hung";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("dut-sim: {msg}");
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut listen = "127.0.0.1:5684".to_string();
    let mut identity = DEFAULT_IDENTITY.to_string();
    let mut psk_hex = DEFAULT_PSK_HEX.to_string();
    let mut faults = Faults::default();
    let mut variations = Variations::default();
    let mut rto: Option<u64> = None;
    let mut seed: Option<Vec<u8>> = None;
    let mut hang_after: Option<u64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--listen" => listen = value()?,
            "--psk-identity" => identity = value()?,
            "--psk" => psk_hex = value()?,
            "--fault" => {
                let name = value()?;
                if name == "list" {
                    for n in Faults::NAMES {
                        println!("{n}");
                    }
                    return Ok(());
                }
                if !faults.set_by_name(&name) {
                    return Err(format!("unknown fault {name:?} (try --fault list)"));
                }
            }
            "--variation" => {
                let name = value()?;
                if name == "list" {
                    for n in Variations::NAMES {
                        println!("{n}");
                    }
                    return Ok(());
                }
                if !variations.set_by_name(&name) {
                    return Err(format!("unknown variation {name:?} (try --variation list)"));
                }
            }
            "--rto-ms" => {
                rto = Some(value()?.parse().map_err(|_| "--rto-ms takes a number")?);
            }
            "--seed" => seed = Some(parse_hex(&value()?).ok_or("--seed takes hex")?),
            "--hang-after-datagrams" => {
                hang_after = Some(
                    value()?
                        .parse()
                        .map_err(|_| "--hang-after-datagrams takes a number")?,
                );
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let psk = parse_hex(&psk_hex).ok_or("--psk takes hex")?;
    let mut config =
        Config::new(identity.as_bytes(), &psk).map_err(|e| format!("credentials: {e:?}"))?;
    config.faults = faults;
    config.variations = variations;
    if let Some(ms) = rto {
        config.timers.initial_ms = ms;
    }
    if let Some(s) = seed {
        let n = s.len().min(32);
        config.seed = [0; 32];
        config.seed[..n].copy_from_slice(&s[..n]);
    } else {
        // Not reproducible on purpose outside tests: mix the clock into the seed.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        config.seed[..16].copy_from_slice(&t.to_be_bytes());
        config.seed[16..20].copy_from_slice(&std::process::id().to_be_bytes());
    }
    let socket = UdpSocket::bind(&listen).map_err(|e| format!("cannot bind {listen}: {e}"))?;
    let addr = socket.local_addr().map_err(|e| e.to_string())?;
    let on: Vec<&str> = config.faults.names_on().collect();
    if !on.is_empty() {
        eprintln!("dut-sim: fault switches on: {}", on.join(", "));
    }
    let on: Vec<&str> = config.variations.names_on().collect();
    if !on.is_empty() {
        eprintln!("dut-sim: legal variations on: {}", on.join(", "));
    }
    println!("dut-sim listening on {addr}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let board = SimBoard::new(config);
    match hang_after {
        None => serve(socket, board, Arc::new(AtomicBool::new(false))),
        Some(n) => serve_then_hang(socket, board, n),
    }
    .map_err(|e| format!("socket: {e}"))
}

/// Like [`serve`], but after `limit` datagrams the board goes silent for good: it still
/// holds its port (so a peer sees no ICMP port unreachable, only silence), reads and
/// drops whatever arrives, and never retransmits. That is what a hung firmware looks like
/// from the network, and what the board farm must detect and reset.
fn serve_then_hang(socket: UdpSocket, mut board: SimBoard, limit: u64) -> std::io::Result<()> {
    use std::io::ErrorKind;
    use std::time::{Duration, Instant};
    let start = Instant::now();
    let now_ms = || start.elapsed().as_millis() as u64;
    let mut buf = vec![0u8; 65535];
    let mut received = 0u64;
    loop {
        let hung = received >= limit;
        let wait = match (hung, board.poll_timeout()) {
            (false, Some(d)) => d.saturating_sub(now_ms()).clamp(1, 200),
            _ => 200,
        };
        socket.set_read_timeout(Some(Duration::from_millis(wait)))?;
        let mut out = match socket.recv_from(&mut buf) {
            Ok(_) if hung => Vec::new(),
            Ok((n, from)) => {
                received += 1;
                if received == limit {
                    eprintln!("dut-sim: hung after {limit} datagrams (--hang-after-datagrams)");
                }
                board.handle_datagram(now_ms(), from, &buf[..n])
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Vec::new(),
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => Vec::new(),
            Err(e) => return Err(e),
        };
        if !hung && board.poll_timeout().is_some_and(|d| d <= now_ms()) {
            out.extend(board.handle_timeout(now_ms()));
        }
        for (to, d) in out {
            let _ = socket.send_to(&d, to);
        }
    }
}
