//! Starting real third-party DTLS peers (installed by scripts/install-peers.sh) on loopback.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const PSK_HEX: &str = "73656372657450534b";

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A peer program, found on PATH or in peers/build/bin; a missing one fails the test with
/// the fix, never a silent skip.
pub fn program(name: &str) -> PathBuf {
    let local = root().join("peers/build/bin").join(name);
    if local.exists() {
        return local;
    }
    if let Some(p) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.exists())
    }) {
        return p;
    }
    panic!("peer program {name} is not installed: run scripts/install-peers.sh");
}

/// A UDP port nobody uses right now.
pub fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Whether something listens on UDP `port` (IPv4 or IPv6), read from /proc.
pub fn udp_port_bound(port: u16) -> bool {
    let needle = format!(":{port:04X} ");
    ["/proc/net/udp", "/proc/net/udp6"].iter().any(|f| {
        std::fs::read_to_string(f)
            .map(|t| {
                t.lines().skip(1).any(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .is_some_and(|a| format!("{a} ").contains(&needle))
                })
            })
            .unwrap_or(false)
    })
}

pub fn wait_for_port(port: u16, limit: Duration) {
    let start = Instant::now();
    while !udp_port_bound(port) {
        assert!(
            start.elapsed() < limit,
            "peer did not bind UDP port {port} within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running peer; killed when dropped. Its stdout and stderr are collected (bounded).
pub struct Peer {
    child: Child,
    pub stdin: Option<ChildStdin>,
    output: Arc<Mutex<String>>,
}

const MAX_OUTPUT: usize = 256 * 1024;

impl Peer {
    pub fn spawn(program: PathBuf, args: &[&str]) -> Peer {
        let mut child = Command::new(&program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let out = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    let mut o = out.lock().unwrap();
                    // gnutls-serv can print one line forever after a failure: keep a bounded log.
                    if o.len() < MAX_OUTPUT {
                        o.push_str(&line);
                        o.push('\n');
                    }
                }
            });
        }
        let stdin = child.stdin.take();
        Peer {
            child,
            stdin,
            output,
        }
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    pub fn write_line(&mut self, line: &str) {
        if let Some(s) = self.stdin.as_mut() {
            let _ = s.write_all(line.as_bytes());
            let _ = s.write_all(b"\n");
            let _ = s.flush();
        }
    }

    /// Waits until the output contains `needle`.
    pub fn wait_output(&self, needle: &str, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.output().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo key in a file, as dicetest's `--psk-file` reads it (`IDENTITY:HEX`), so the
/// tests put no key on a command line of the project's own programs.
pub fn key_file() -> String {
    static F: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo-psk");
        std::fs::write(&p, format!("Client_identity:{PSK_HEX}\n")).expect("key file");
        p.display().to_string()
    })
    .clone()
}

/// A file with GnuTLS's PSK password format (identity:hexkey).
pub fn gnutls_psk_file() -> tempfile_path::TempPath {
    let p = tempfile_path::TempPath::new("psk");
    std::fs::write(&p.0, format!("Client_identity:{PSK_HEX}\n")).unwrap();
    p
}

pub mod tempfile_path {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicU32, Ordering};

    static N: AtomicU32 = AtomicU32::new(0);

    /// A file path in the target dir, removed on drop.
    pub struct TempPath(pub PathBuf);

    impl TempPath {
        pub fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir().join("dicetest-tests");
            let _ = std::fs::create_dir_all(&dir);
            let n = N.fetch_add(1, Ordering::SeqCst);
            TempPath(dir.join(format!("{tag}-{}-{n}", std::process::id())))
        }
        pub fn as_str(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}
