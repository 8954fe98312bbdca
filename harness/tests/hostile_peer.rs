//! A harness no device can crash: real cases of the suite run through `dicetest run` (the
//! normal runner path, a profile with an `address`) against a UDP peer on loopback that
//! answers everything with random, truncated, oversized, out-of-order and endless data at
//! a high rate.
//!
//! Every case must still end with a verdict of its own (pass, fail, inconclusive or
//! not_applicable; `error` means the harness broke), the process must exit normally (0 or
//! 1, no panic), its memory (VmRSS, sampled from /proc while it runs) must stay under a
//! ceiling, and the evidence it writes must stay bounded although the peer never stops.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Cases of every kind: cookie exchange, handshakes, fragmentation, records,
/// retransmission, replay, state machine, alerts, CoAP, resumption, abandoned handshakes.
const CASES: &[&str] = &[
    "CK-01", "CK-02", "CK-04", "HS-01", "HS-02", "FRAG-01", "FRAG-05", "REC-01", "REC-03",
    "RTX-01", "RPL-01", "SM-01", "SM-03", "ALRT-01", "COAPS-01", "COAPS-03", "RES-01", "EP-01",
    "DOS-02",
];

/// Resident memory the harness may reach while the peer floods it. Its own steady state
/// is a few tens of MB; a buffer that grows with what the peer sends crosses this within
/// the run (the peer sends well over 100 MB).
const RSS_CEILING_KIB: u64 = 256 * 1024;

/// Largest evidence file a case may leave behind (its trace is capped).
const EVIDENCE_CEILING: u64 = 2 * 1024 * 1024;
/// Largest capture of one case or session (2 MB of datagrams plus pcapng framing).
const CAPTURE_CEILING: u64 = 4 * 1024 * 1024;
/// Largest report file of the whole run (every case's bounded evidence, rendered).
const REPORT_CEILING: u64 = 48 * 1024 * 1024;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A small deterministic generator (xorshift64*): the peer's bytes are random but the same
/// on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    /// `min` to `min + below - 1` random bytes.
    fn some_bytes(&mut self, below: u64, min: usize) -> Vec<u8> {
        let n = self.below(below) as usize + min;
        self.bytes(n)
    }
}

/// A record header: content type, DTLS 1.2, epoch, sequence number, length.
fn header(ct: u8, epoch: u16, seq: u64, len: u16) -> Vec<u8> {
    let mut h = vec![ct, 0xfe, 0xfd];
    h.extend(epoch.to_be_bytes());
    h.extend(&seq.to_be_bytes()[2..]);
    h.extend(len.to_be_bytes());
    h
}

/// A handshake fragment header: type, length, message_seq, fragment_offset,
/// fragment_length (the last three may lie).
fn fragment(t: u8, len: u32, seq: u16, off: u32, flen: u32, body: &[u8]) -> Vec<u8> {
    let mut f = vec![t];
    f.extend(&len.to_be_bytes()[1..]);
    f.extend(seq.to_be_bytes());
    f.extend(&off.to_be_bytes()[1..]);
    f.extend(&flen.to_be_bytes()[1..]);
    f.extend(body);
    f
}

fn record(ct: u8, epoch: u16, seq: u64, payload: &[u8]) -> Vec<u8> {
    let mut r = header(ct, epoch, seq, payload.len() as u16);
    r.extend(payload);
    r
}

/// One hostile datagram, answering `got` (what the harness just sent, when known).
fn hostile(rng: &mut Rng, got: &[u8]) -> Vec<u8> {
    let seq = rng.below(1 << 20);
    match rng.below(12) {
        // Noise of any length, up to the largest UDP payload.
        0 => {
            let n = rng.below(1500) as usize;
            rng.bytes(n)
        }
        1 => rng.bytes(65_000),
        // A record whose length runs past the datagram.
        2 => {
            let mut d = header(22, 0, seq, 1000);
            d.extend(rng.bytes(10));
            d
        }
        // Handshake messages from anywhere in the handshake, out of order, with lying
        // fragment headers: huge lengths, offsets past the end, far-future message_seq.
        3 => {
            let t = [2u8, 3, 11, 12, 13, 14, 20, 0, 1, 4][rng.below(10) as usize];
            let body = rng.some_bytes(300, 0);
            let f = fragment(
                t,
                rng.below(1 << 24) as u32,
                rng.below(1 << 16) as u16,
                rng.below(1 << 24) as u32,
                body.len() as u32,
                &body,
            );
            record(22, 0, seq, &f)
        }
        // A HelloVerifyRequest with a maximal cookie, then a ServerHello, in one datagram.
        4 => {
            let mut hvr = vec![0xfe, 0xfd, 255];
            hvr.extend(rng.bytes(255));
            let mut d = record(22, 0, seq, &fragment(3, 258, 0, 0, 258, &hvr));
            let sh = rng.bytes(70);
            d.extend(record(22, 0, seq + 1, &fragment(2, 70, 1, 0, 70, &sh)));
            d
        }
        // Protected-looking records of any epoch: garbage that must fail authentication.
        5 => {
            let mut d = Vec::new();
            for _ in 0..rng.below(8) + 1 {
                let body = rng.some_bytes(200, 8);
                d.extend(record(
                    [20u8, 21, 22, 23][rng.below(4) as usize],
                    rng.below(4) as u16,
                    rng.next() & 0xffff_ffff_ffff,
                    &body,
                ));
            }
            d
        }
        // Alerts of any level and description, in the clear.
        6 => record(21, 0, seq, &[rng.below(4) as u8, rng.next() as u8]),
        // The harness's own datagram back, bit-flipped.
        7 if !got.is_empty() => {
            let mut d = got.to_vec();
            let i = rng.below(d.len() as u64) as usize;
            d[i] ^= 1 << rng.below(8);
            d
        }
        // Fragments of one message that overlap and disagree.
        8 => {
            let a = rng.bytes(100);
            let b = rng.bytes(100);
            let mut d = record(22, 0, seq, &fragment(2, 150, 1, 0, 100, &a));
            d.extend(record(22, 0, seq + 1, &fragment(2, 150, 1, 50, 100, &b)));
            d
        }
        // Hundreds of tiny records packed into one datagram.
        9 => {
            let mut d = Vec::new();
            for i in 0..400 {
                d.extend(record(22, 0, seq + i, &[]));
            }
            d
        }
        // Plaintext application data (CoAP-looking) in epoch 0 and 1.
        10 => {
            let mut coap = vec![0x60 | rng.below(9) as u8, 0x45, 0x10, 0x01];
            coap.extend(rng.some_bytes(64, 0));
            record(23, rng.below(2) as u16, seq, &coap)
        }
        // A zero-length datagram.
        _ => Vec::new(),
    }
}

/// The peer: answers every datagram with a burst of hostile ones and, from the first
/// datagram on, streams more to the latest clients without pause.
struct HostilePeer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl HostilePeer {
    fn start() -> HostilePeer {
        let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").expect("bind"));
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let addr = sock.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let clients: Arc<Mutex<Vec<SocketAddr>>> = Arc::new(Mutex::new(Vec::new()));
        let mut threads = Vec::new();
        {
            let (sock, stop, sent, clients) =
                (sock.clone(), stop.clone(), sent.clone(), clients.clone());
            threads.push(std::thread::spawn(move || {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
                let mut buf = vec![0u8; 65536];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((n, from)) = sock.recv_from(&mut buf) else {
                        continue;
                    };
                    {
                        let mut c = clients.lock().expect("clients");
                        if !c.contains(&from) {
                            c.push(from);
                            let k = c.len();
                            if k > 4 {
                                c.drain(..k - 4);
                            }
                        }
                    }
                    for _ in 0..rng.below(16) + 1 {
                        let d = hostile(&mut rng, &buf[..n]);
                        if sock.send_to(&d, from).is_ok() {
                            sent.fetch_add(d.len() as u64, Ordering::Relaxed);
                        }
                    }
                }
            }));
        }
        {
            let (sock, stop, sent) = (sock.clone(), stop.clone(), sent.clone());
            threads.push(std::thread::spawn(move || {
                let mut rng = Rng(0x2545_f491_4f6c_dd1d);
                while !stop.load(Ordering::Relaxed) {
                    let targets = clients.lock().expect("clients").clone();
                    if targets.is_empty() {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    // Endless: a batch to each recent client, then a breath of 1 ms.
                    for t in &targets {
                        for _ in 0..20 {
                            let d = hostile(&mut rng, &[]);
                            if sock.send_to(&d, t).is_ok() {
                                sent.fetch_add(d.len() as u64, Ordering::Relaxed);
                            }
                        }
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            }));
        }
        HostilePeer {
            addr,
            stop,
            sent,
            threads,
        }
    }
}

impl Drop for HostilePeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn resident_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[test]
fn no_hostile_peer_crashes_the_harness_or_makes_it_grow() {
    let peer = HostilePeer::start();
    let dir = std::env::temp_dir().join(format!("dicetest-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let profile = dir.join("hostile.yaml");
    std::fs::write(
        &profile,
        format!(
            "name: hostile\ndescription: a peer that answers with hostile data, endlessly\n\
             kind: address\naddress: \"{}\"\nroles: [server]\n\
             credentials: {{ psk_identity: Client_identity, psk_hex: 73656372657450534b }}\n\
             claims: [psk-ccm8, psk-cbc-sha256, ems, cookie_exchange, renegotiation_info, coap]\n\
             probe: coap\n\
             timers: {{ initial_retransmit_ms: 200, max_retransmit_ms: 800, response_ms: 400 }}\n",
            peer.addr
        ),
    )
    .expect("profile");
    let out = dir.join("out");
    let mut args = vec![
        "run".to_string(),
        "--dut".into(),
        profile.display().to_string(),
        // A hostile peer is judged from its very first datagram; it would fail a pre-flight.
        "--no-preflight".into(),
        "--jobs".into(),
        "2".into(),
        "--out".into(),
        out.display().to_string(),
    ];
    for c in CASES {
        args.extend(["--case".into(), (*c).into()]);
    }
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dicetest"))
        .current_dir(root())
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dicetest runs");
    let pid = child.id();
    // Output is read on threads so a full pipe never stalls the child.
    let mut so = child.stdout.take().expect("stdout");
    let mut se = child.stderr.take().expect("stderr");
    let so = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut so, &mut s);
        s
    });
    let se = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut se, &mut s);
        s
    });
    let mut peak = 0u64;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if let Some(k) = resident_kib(pid) {
            peak = peak.max(k);
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "dicetest run did not finish within 10 minutes"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let (stdout, stderr) = (so.join().unwrap_or_default(), se.join().unwrap_or_default());
    let peer_bytes = peer.sent.load(Ordering::Relaxed);
    drop(peer);
    let log = format!("{stdout}\n{stderr}");
    eprintln!(
        "{} cases in {:.1} s; the peer sent {} MB; peak VmRSS {} MB\n{stdout}",
        CASES.len(),
        started.elapsed().as_secs_f64(),
        peer_bytes >> 20,
        peak >> 10
    );

    assert!(!log.contains("panicked"), "the harness panicked:\n{log}");
    assert!(
        matches!(status.code(), Some(0 | 1)),
        "dicetest run ended with {status:?}:\n{log}"
    );
    assert!(
        peer_bytes > 20 << 20,
        "the peer sent only {peer_bytes} bytes: the test did not flood"
    );
    assert!(peak > 0, "VmRSS was never read");
    assert!(
        peak < RSS_CEILING_KIB,
        "peak VmRSS {} MB over the {} MB ceiling",
        peak >> 10,
        RSS_CEILING_KIB >> 10
    );

    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("report.json")).expect("report.json"),
    )
    .expect("report.json parses");
    let cases = report["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), CASES.len(), "every case has a result");
    for c in cases {
        let v = c["verdict"].as_str().unwrap_or_default();
        assert!(
            ["pass", "fail", "inconclusive", "not_applicable"].contains(&v),
            "{} ended with {v}: {}",
            c["id"],
            c["reason"]
        );
    }
    // Nothing the peer says is a conformant handshake: no case that needs one can pass.
    let hs = cases.iter().find(|c| c["id"] == "HS-01").expect("HS-01");
    assert_eq!(hs["verdict"], "fail", "{}", hs["reason"]);
    for e in std::fs::read_dir(out.join("evidence"))
        .expect("evidence")
        .flatten()
    {
        let len = e.metadata().map(|m| m.len()).unwrap_or(0);
        assert!(
            len < EVIDENCE_CEILING,
            "{} is {len} bytes: the trace is not capped",
            e.path().display()
        );
    }
    // Every report format is rendered from bounded evidence, so stays bounded too.
    for e in std::fs::read_dir(&out).expect("out").flatten() {
        let len = e.metadata().map(|m| m.len()).unwrap_or(0);
        eprintln!("{:>10} {}", len, e.path().display());
        assert!(
            len < REPORT_CEILING,
            "{} is {len} bytes",
            e.path().display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// An interop "server" that, once a datagram reaches it, answers with 1400-byte datagrams
/// of noise as fast as it can for five seconds.
const FLOODING_SERVER: &str = r#"
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
d, a = s.recvfrom(65535)
end = time.time() + 5
while time.time() < end:
    try:
        s.sendto(os.urandom(1400), a)
    except OSError:
        pass
time.sleep(30)
"#;

#[test]
fn an_implementation_that_floods_the_interop_relay_leaves_bounded_evidence() {
    let have_gnutls = Command::new("sh")
        .args(["-c", "command -v gnutls-cli"])
        .output()
        .is_ok_and(|o| o.status.success());
    // Never a silent skip: the test command installs the peers first.
    assert!(
        have_gnutls,
        "gnutls-cli is not installed: run scripts/install-peers.sh (Debian's gnutls-bin)"
    );
    let dir = std::env::temp_dir().join(format!("dicetest-hostile-interop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("suite")).expect("scratch dir");
    let script = dir.join("flood.py");
    std::fs::write(&script, FLOODING_SERVER).expect("script");
    let server = dir.join("flooder.yaml");
    std::fs::write(
        &server,
        format!(
            "name: flooder\ndescription: answers with endless noise\nkind: process\nroles: [server]\n\
             start: {{ command: [python3, \"{}\", \"{{port}}\"], ready: udp_port }}\n\
             credentials: {{ psk_identity: Client_identity, psk_hex: 73656372657450534b }}\n\
             claims: [psk-ccm8, ems]\n",
            script.display()
        ),
    )
    .expect("profile");
    // The EMS description, given 4 s instead of 20.
    let ems = std::fs::read_to_string(root().join("suites/interop/INT-EMS-01.yaml"))
        .expect("INT-EMS-01")
        .replace("within: 20s", "within: 4s");
    std::fs::write(dir.join("suite/INT-EMS-01.yaml"), ems).expect("case");
    let out = dir.join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dicetest"))
        .current_dir(root())
        .args([
            "interop",
            "--no-preflight",
            "--client",
            "gnutls",
            "--server",
        ])
        .arg(&server)
        .arg("--suite")
        .arg(dir.join("suite"))
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dicetest runs");
    let pid = child.id();
    let mut peak = 0u64;
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if let Some(k) = resident_kib(pid) {
            peak = peak.max(k);
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "interop hangs"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = child.wait_with_output().expect("output");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    eprintln!("peak VmRSS {} MB\n{log}", peak >> 10);
    assert!(!log.contains("panicked"), "{log}");
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{:?}: {log}",
        o.status
    );
    assert!(peak < RSS_CEILING_KIB, "peak VmRSS {} MB", peak >> 10);
    let mut files = vec![out.clone()];
    let mut biggest = (0u64, PathBuf::new());
    let mut saw_trace_note = false;
    while let Some(d) = files.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                files.push(p);
                continue;
            }
            let len = e.metadata().map(|m| m.len()).unwrap_or(0);
            if len > biggest.0 {
                biggest = (len, p.clone());
            }
            if p.extension().is_some_and(|x| x == "pcapng") {
                assert!(len < CAPTURE_CEILING, "{} is {len} bytes", p.display());
            }
            if p.extension().is_some_and(|x| x == "txt") {
                assert!(len < EVIDENCE_CEILING, "{} is {len} bytes", p.display());
                saw_trace_note |= std::fs::read_to_string(&p)
                    .unwrap_or_default()
                    .contains("more datagrams not shown");
            }
        }
    }
    assert!(
        biggest.0 < REPORT_CEILING,
        "{} is {} bytes",
        biggest.1.display(),
        biggest.0
    );
    // The flood really reached the trace's limit (so the bound, not a quiet peer, kept
    // the evidence small).
    assert!(saw_trace_note, "the trace never reached its limit");
    let _ = std::fs::remove_dir_all(&dir);
}
