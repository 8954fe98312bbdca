//! Denial-of-service resilience (RFC 6347 §4.2.1): a flood of ClientHellos from many source
//! addresses, what came back to those addresses, and the DUT process's memory around it.
//!
//! §4.2.1 gives DTLS servers the cookie exchange so that a ClientHello from an address that
//! has not proven it receives costs the server nothing: it answers with a small
//! HelloVerifyRequest, keeps no state, and never sends anything on its own to that
//! address. A flood measures exactly that, per source: answers, bytes, and anything sent
//! beyond one answer per ClientHello (a retransmitted HelloVerifyRequest is state).

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant as WallInstant};

/// How long after the last ClientHello a DUT may still be answering the flood (its
/// receive queue); what arrives later is its own doing.
const SETTLE: Duration = Duration::from_millis(500);

/// Most answers a flood keeps for classification; beyond it only counts grow.
pub const MAX_KEPT_ANSWERS: usize = 20_000;

/// What came back to the flood's sources.
#[derive(Clone, Debug, Default)]
pub struct FloodEcho {
    /// Datagrams sent, and their bytes.
    pub sent: usize,
    pub sent_bytes: usize,
    /// Source addresses (ports) used.
    pub sources: usize,
    /// Every datagram that came back to a flood source (up to [`MAX_KEPT_ANSWERS`]).
    pub answers: Vec<Vec<u8>>,
    pub answered: usize,
    pub answer_bytes: usize,
    /// Datagrams a source received beyond one per ClientHello it sent: things the DUT
    /// sent on its own (retransmissions), counted over the flood and the quiet period.
    pub unsolicited: usize,
}

/// What one flood source sent and received.
#[derive(Clone, Debug, Default)]
pub struct SourceTally {
    pub sent: usize,
    pub received: usize,
    pub received_bytes: usize,
    /// Received once the DUT had time to answer the whole flood (`SETTLE` into the quiet
    /// period): on a real path some ClientHellos are lost, so "more answers than
    /// ClientHellos" alone would hide what a DUT sends on its own.
    pub late: usize,
    /// The first datagrams received, for classification.
    pub kept: Vec<Vec<u8>>,
}

impl SourceTally {
    pub fn receive(&mut self, d: &[u8]) {
        self.received += 1;
        self.received_bytes += d.len();
        if self.kept.len() < 64 {
            self.kept.push(d.to_vec());
        }
    }
}

impl FloodEcho {
    /// Adds up what every source received, given how many ClientHellos each sent.
    pub fn tally<'t>(&mut self, per_source: impl IntoIterator<Item = &'t SourceTally>) {
        for t in per_source {
            self.answered += t.received;
            self.answer_bytes += t.received_bytes;
            self.unsolicited += t.received.saturating_sub(t.sent).max(t.late);
            for d in &t.kept {
                if self.answers.len() < MAX_KEPT_ANSWERS {
                    self.answers.push(d.clone());
                }
            }
        }
    }
}

/// Floods `dut` over UDP: datagram i goes out from source `i % sources` (each source its
/// own socket on loopback or the unspecified address of `dut`'s family); then every
/// source listens for `quiet`. Sources are opened in groups so the run stays below the
/// process's file limit; a group's sockets stay open through the quiet period.
pub fn udp_flood(
    dut: SocketAddr,
    datagrams: &[Vec<u8>],
    sources: usize,
    quiet: Duration,
) -> io::Result<FloodEcho> {
    let sources = sources.clamp(1, 512);
    let bind = if dut.is_ipv6() {
        "[::1]:0"
    } else {
        "127.0.0.1:0"
    };
    let mut socks = Vec::with_capacity(sources);
    for _ in 0..sources {
        let s = UdpSocket::bind(bind)?;
        s.connect(dut)?;
        s.set_nonblocking(true)?;
        socks.push(s);
    }
    let mut per_source = vec![SourceTally::default(); sources];
    let mut echo = FloodEcho {
        sources,
        ..Default::default()
    };
    let mut buf = vec![0u8; 65536];
    let mut drain = |socks: &[UdpSocket], per: &mut [SourceTally]| {
        for (s, t) in socks.iter().zip(per.iter_mut()) {
            while let Ok(n) = s.recv(&mut buf) {
                t.receive(&buf[..n]);
            }
        }
    };
    for (i, d) in datagrams.iter().enumerate() {
        let k = i % sources;
        // A full socket buffer drops the datagram, as a flood on a real path would.
        let _ = socks[k].send(d);
        per_source[k].sent += 1;
        echo.sent += 1;
        echo.sent_bytes += d.len();
        if k == sources - 1 {
            drain(&socks, &mut per_source);
            // A little air between rounds: the flood is about state, not about
            // overrunning the kernel's buffers.
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    let quiet_start = WallInstant::now();
    let settled = quiet_start + SETTLE.min(quiet / 2);
    let end = quiet_start + quiet;
    let mut marked = false;
    while WallInstant::now() < end {
        if !marked && WallInstant::now() >= settled {
            drain(&socks, &mut per_source);
            // From here on, whatever arrives was sent by the DUT on its own.
            per_source.iter_mut().for_each(|t| t.late = t.received);
            marked = true;
        }
        drain(&socks, &mut per_source);
        std::thread::sleep(Duration::from_millis(5));
    }
    drain(&socks, &mut per_source);
    if marked {
        per_source
            .iter_mut()
            .for_each(|t| t.late = t.received - t.late);
    } else {
        per_source.iter_mut().for_each(|t| t.late = 0);
    }
    echo.tally(&per_source);
    Ok(echo)
}

/// The process that has `port` bound on UDP (loopback DUTs: started by dicetest or already
/// running), found through /proc: the socket's inode in /proc/net/udp{,6}, then the
/// process holding that inode. None where /proc says nothing (not Linux, no permission).
pub fn udp_port_owner(port: u16) -> Option<u32> {
    let needle = format!(":{port:04X}");
    let mut inodes = Vec::new();
    for f in ["/proc/net/udp", "/proc/net/udp6"] {
        let Ok(t) = std::fs::read_to_string(f) else {
            continue;
        };
        for l in t.lines().skip(1) {
            let cols: Vec<&str> = l.split_whitespace().collect();
            if cols.get(1).is_some_and(|a| a.ends_with(&needle)) {
                if let Some(inode) = cols.get(9) {
                    inodes.push(format!("socket:[{inode}]"));
                }
            }
        }
    }
    if inodes.is_empty() {
        return None;
    }
    let me = std::process::id();
    for p in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path()) {
                if inodes.iter().any(|i| target.as_os_str() == i.as_str()) {
                    return Some(pid);
                }
            }
        }
    }
    None
}

/// Resident memory of a process in KiB (VmRSS of /proc/PID/status).
pub fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// A size as case files write it: `512KB`, `4MB`, `1GB` or a number of bytes. In KiB.
pub fn parse_size_kib(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().ok()?;
    let k = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => n.div_ceil(1024),
        "KB" | "KIB" => n,
        "MB" | "MIB" => n.checked_mul(1024)?,
        "GB" | "GIB" => n.checked_mul(1024 * 1024)?,
        _ => return None,
    };
    Some(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_kib() {
        assert_eq!(parse_size_kib("4MB"), Some(4096));
        assert_eq!(parse_size_kib("512KB"), Some(512));
        assert_eq!(parse_size_kib("2048"), Some(2));
        assert_eq!(parse_size_kib("1 GB"), Some(1024 * 1024));
        assert_eq!(parse_size_kib("4 parsecs"), None);
        assert_eq!(parse_size_kib("MB"), None);
    }

    #[test]
    fn a_bound_port_is_traced_to_its_process_and_its_memory_read() {
        // A socket of a child process (this test's own sockets are skipped on purpose).
        let port = {
            let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
            s.local_addr().expect("addr").port()
        };
        let mut child = std::process::Command::new("python3")
            .args([
                "-c",
                &format!("import socket,time;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(('127.0.0.1',{port}));print('ok',flush=True);time.sleep(30)"),
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        use std::io::BufRead;
        let _ = std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
        let owner = udp_port_owner(port);
        let rss = owner.and_then(resident_kib);
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(owner, Some(child.id()));
        assert!(rss.is_some_and(|k| k > 0), "{rss:?}");
        assert_eq!(udp_port_owner(1), None);
    }

    #[test]
    fn a_udp_flood_counts_answers_and_what_the_dut_sends_on_its_own() {
        // A DUT that answers each datagram once, and the first source a second time.
        let dut = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let addr = dut.local_addr().expect("addr");
        let t = std::thread::spawn(move || {
            dut.set_read_timeout(Some(Duration::from_millis(500))).ok();
            let mut buf = [0u8; 2048];
            let mut first = None;
            while let Ok((n, from)) = dut.recv_from(&mut buf) {
                let _ = dut.send_to(&buf[..n.min(3)], from);
                if first.is_none() {
                    first = Some(from);
                    let _ = dut.send_to(b"again", from);
                }
            }
        });
        let grams: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 10]).collect();
        let e = udp_flood(addr, &grams, 8, Duration::from_millis(200)).expect("flood");
        t.join().expect("dut thread");
        assert_eq!((e.sent, e.sent_bytes, e.sources), (40, 400, 8));
        assert_eq!(e.answered, 41);
        assert_eq!(e.unsolicited, 1);
        assert_eq!(e.answer_bytes, 40 * 3 + 5);
    }
}
