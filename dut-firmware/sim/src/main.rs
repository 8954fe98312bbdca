//! `dut-sim`: the reference device behind a UDP socket.

use std::net::UdpSocket;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use dut_sim::{
    parse_hex, serve, Config, Faults, SimBoard, Variations, DEFAULT_IDENTITY, DEFAULT_PSK_HEX,
};

const USAGE: &str =
    "usage: dut-sim [--listen ADDR] [--psk-identity ID] [--psk-file FILE] [--fault NAME]...
               [--variation NAME]... [--rto-ms N] [--seed HEX] [--hang-after-datagrams N]

The reference DTLS 1.2 PSK + CoAP device (dicetest's dut-firmware core) on the host.
  --listen ADDR       UDP address to bind (default 127.0.0.1:5684)
  --psk-identity ID   PSK identity (default Client_identity, or the one of --psk-file)
  --psk-file FILE     read the PSK from FILE, one line: `IDENTITY:HEX` (what dicetest's
                      {pskfile} holds; its identity is used unless --psk-identity is
                      given) or just `HEX`
  DUT_SIM_PSK=HEX     (environment) the PSK in hex, when there is no --psk-file
                      Without either: 73656372657450534b (\"secretPSK\"). The key is never
                      taken from the command line, which every user can read (ps, /proc).
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
    let mut psk_file: Option<String> = None;
    let mut identity_given = false;
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
            "--psk-identity" => {
                identity = value()?;
                identity_given = true;
            }
            "--psk-file" => psk_file = Some(value()?),
            "--psk" => {
                return Err(
                    "--psk is gone: a key on the command line is visible to every \
                            user of the machine (ps, /proc/PID/cmdline); use --psk-file FILE \
                            or DUT_SIM_PSK=HEX"
                        .into(),
                )
            }
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
    let psk = match psk_file {
        Some(f) => {
            let text = std::fs::read_to_string(&f)
                .map_err(|e| format!("cannot read --psk-file {f}: {e}"))?;
            let (id, psk) = parse_psk_file(&text).map_err(|e| format!("--psk-file {f}: {e}"))?;
            if let (Some(id), false) = (id, identity_given) {
                identity = id;
            }
            psk
        }
        None => match std::env::var("DUT_SIM_PSK") {
            Ok(h) => parse_hex(h.trim()).ok_or("DUT_SIM_PSK is not hex")?,
            Err(_) => parse_hex(DEFAULT_PSK_HEX).ok_or("default PSK")?,
        },
    };
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

/// The first non-empty line of a key file: `IDENTITY:HEX` (the identity is what precedes
/// the last colon, so it may hold colons itself) or `HEX` alone. The error never quotes
/// the line: it holds the key.
fn parse_psk_file(text: &str) -> Result<(Option<String>, Vec<u8>), String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .ok_or("empty")?;
    let (id, hex) = match line.rsplit_once(':') {
        Some((id, hex)) => (Some(id.to_string()), hex),
        None => (None, line),
    };
    let psk = parse_hex(hex.trim())
        .filter(|k| !k.is_empty())
        .ok_or("not `IDENTITY:HEX` nor `HEX`")?;
    Ok((id, psk))
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

#[cfg(test)]
mod tests {
    use super::parse_psk_file;

    #[test]
    fn key_files_in_both_forms_and_bad_ones_refused_without_echo() {
        assert_eq!(
            parse_psk_file("Client_identity:73656372\n"),
            Ok((Some("Client_identity".into()), vec![0x73, 0x65, 0x63, 0x72]))
        );
        assert_eq!(
            parse_psk_file("\n  a:b:0102 \n"),
            Ok((Some("a:b".into()), vec![1, 2]))
        );
        assert_eq!(parse_psk_file("0102\n"), Ok((None, vec![1, 2])));
        for bad in ["", "\n\n", "id:", "id:zz99", "secretPSK"] {
            assert!(parse_psk_file(bad).is_err(), "{bad:?}");
        }
        let e = parse_psk_file("id:73656372657450534bz").unwrap_err();
        assert!(!e.contains("7365"), "{e}");
    }
}
