//! A DUT that dicetest starts as a process: placeholders filled, readiness awaited, output
//! kept (bounded) as evidence, killed when done.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::profile::Profile;
use super::secret_file::{self, SecretFile};

const MAX_LOG: usize = 64 * 1024;

/// What `{text}` becomes when the caller gives no text (a suite case's DUT client).
pub const DEFAULT_TEXT: &str = "hello from dicetest";

pub struct DutProcess {
    child: Child,
    log: Arc<Mutex<String>>,
    pub port: u16,
    // Dropped (file and private directory removed) after the child is killed: see Drop.
    pskfile: Option<SecretFile>,
}

/// A UDP port free right now on loopback.
pub fn free_udp_port() -> std::io::Result<u16> {
    Ok(std::net::UdpSocket::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A port free right now on loopback whose neighbour below is free too, for both UDP and
/// TCP: for `{port-1}`, servers such as libcoap's that take plain CoAP on one port and
/// CoAP over DTLS on the next (RFC 7252 §6.2's 5683/5684 pair, shifted).
pub fn free_port_pair() -> std::io::Result<u16> {
    let free = |p: u16| {
        std::net::UdpSocket::bind(("127.0.0.1", p)).is_ok()
            && std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()
    };
    let mut last = std::io::Error::other("no free pair of neighbouring ports");
    for _ in 0..64 {
        match free_udp_port() {
            Ok(p) if p > 1024 && free(p) && free(p - 1) => return Ok(p),
            Ok(_) => {}
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn udp_port_bound(port: u16) -> bool {
    let needle = format!(":{port:04X}");
    ["/proc/net/udp", "/proc/net/udp6"].iter().any(|f| {
        std::fs::read_to_string(f)
            .map(|t| {
                t.lines().skip(1).any(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .is_some_and(|a| a.ends_with(&needle))
                })
            })
            .unwrap_or(false)
    })
}

/// A DUT process must not outlive dicetest, even when dicetest is killed with SIGKILL (a
/// stale gnutls-serv would hold its port and answer the next run).
#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no memory of ours;
    // it is the only call made between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_cmd: &mut Command) {}

/// `{bin:NAME}`: a program built in this workspace (dut-sim, ...), found next to the running
/// executable or in target/{debug,release}.
fn resolve_bin(arg: &str, root: &std::path::Path) -> String {
    let Some(start) = arg.find("{bin:") else {
        return arg.to_string();
    };
    let Some(len) = arg[start..].find('}') else {
        return arg.to_string();
    };
    let name = &arg[start + 5..start + len];
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.to_path_buf()));
    let mut candidates = Vec::new();
    if let Some(d) = exe_dir {
        candidates.push(d.join(name));
        if let Some(up) = d.parent() {
            candidates.push(up.join(name));
        }
    }
    candidates.push(root.join("target/debug").join(name));
    candidates.push(root.join("target/release").join(name));
    let found = candidates
        .into_iter()
        .find(|c| c.is_file())
        .map(|c| c.display().to_string())
        .unwrap_or_else(|| name.to_string());
    format!("{}{}{}", &arg[..start], found, &arg[start + len + 1..])
}

impl DutProcess {
    /// Starts the profile's server command on a free port and waits until it is ready.
    pub fn start(profile: &Profile, root: &std::path::Path) -> Result<DutProcess, String> {
        let start = profile
            .start
            .as_ref()
            .ok_or("the profile has no start command")?;
        let port = if start.command.iter().any(|a| a.contains("{port-1}")) {
            free_port_pair()
        } else {
            free_udp_port()
        }
        .map_err(|e| format!("no free UDP port: {e}"))?;
        Self::spawn(start, profile, root, port, true, &[])
    }

    /// Starts the profile's client command towards the harness listening on `port`.
    pub fn start_client(
        profile: &Profile,
        root: &std::path::Path,
        port: u16,
    ) -> Result<DutProcess, String> {
        let start = profile
            .client_start
            .as_ref()
            .ok_or("the profile has no client_start command")?;
        Self::spawn(start, profile, root, port, false, &[])
    }

    /// Like [`DutProcess::start_client`], with extra placeholders (`{text}` ...).
    pub fn start_client_with(
        profile: &Profile,
        root: &std::path::Path,
        port: u16,
        extra: &[(&str, String)],
    ) -> Result<DutProcess, String> {
        let start = profile
            .client_start
            .as_ref()
            .ok_or("the profile has no client_start command")?;
        Self::spawn(start, profile, root, port, false, extra)
    }

    /// Writes one line to the process's standard input (clients that send what they read).
    pub fn write_line(&mut self, line: &str) -> bool {
        use std::io::Write;
        match self.child.stdin.as_mut() {
            Some(s) => s
                .write_all(line.as_bytes())
                .and_then(|_| s.write_all(b"\n"))
                .and_then(|_| s.flush())
                .is_ok(),
            None => false,
        }
    }

    fn spawn(
        start: &super::profile::StartSpec,
        profile: &Profile,
        root: &std::path::Path,
        port: u16,
        wait_ready: bool,
        extra: &[(&str, String)],
    ) -> Result<DutProcess, String> {
        let psk_hex = &profile.credentials.psk_hex;
        let psk_ascii = String::from_utf8(profile.psk()).unwrap_or_default();
        // Key files of earlier runs killed with SIGKILL go before this one writes its own.
        secret_file::sweep_stale_once();
        let pskfile = if start.command.iter().any(|a| a.contains("{pskfile}")) {
            let line = format!("{}:{psk_hex}\n", profile.credentials.psk_identity);
            Some(
                SecretFile::create("psk", line.as_bytes())
                    .map_err(|e| format!("cannot write the key file: {e}"))?,
            )
        } else {
            None
        };
        let fill = |a: &str| {
            a.replace("{port}", &port.to_string())
                .replace("{port-1}", &port.saturating_sub(1).to_string())
                .replace("{psk_identity}", &profile.credentials.psk_identity)
                .replace("{psk_hex}", psk_hex)
                .replace("{psk_ascii}", &psk_ascii)
                .replace(
                    "{pskfile}",
                    pskfile
                        .as_ref()
                        .map(|f| f.path().to_str().unwrap_or_default())
                        .unwrap_or_default(),
                )
                .replace("{root}", root.to_str().unwrap_or("."))
        };
        let argv: Vec<String> = start
            .command
            .iter()
            .map(|a| extra.iter().fold(fill(a), |acc, (k, v)| acc.replace(k, v)))
            // `{text}` (what a client sends) where the caller has no text of its own.
            .map(|a| a.replace("{text}", DEFAULT_TEXT))
            .map(|a| resolve_bin(&a, root))
            .collect();
        let (prog, args) = argv.split_first().ok_or("empty start command")?;
        let mut cmd = Command::new(prog);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        die_with_parent(&mut cmd);
        let mut child = cmd.spawn().map_err(|e| {
            // A program of this workspace ({bin:NAME}) is built, not installed.
            let hint = match start.command.first().and_then(|c| c.strip_prefix("{bin:")) {
                Some(name) => format!(
                    "a program of this workspace: build it with `cargo build -p {}` (scripts/quickstart.sh builds it)",
                    name.trim_end_matches('}')
                ),
                None => "is it installed? scripts/install-peers.sh installs the peers the shipped profiles use".into(),
            };
            format!("cannot start {prog}: {e} ({hint})")
        })?;
        let log = Arc::new(Mutex::new(String::new()));
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
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
                    if l.len() < MAX_LOG {
                        l.push_str(&line);
                        l.push('\n');
                    }
                }
            });
        }
        if !start.keep_stdin {
            drop(child.stdin.take());
        }
        let mut p = DutProcess {
            child,
            log,
            port,
            pskfile,
        };
        let begin = Instant::now();
        if !wait_ready {
            return Ok(p);
        }
        loop {
            let ready = match start.ready.strip_prefix("stdout:") {
                Some(text) => p.log().contains(text),
                None => udp_port_bound(port),
            };
            if ready {
                return Ok(p);
            }
            if let Ok(Some(status)) = p.child.try_wait() {
                return Err(format!(
                    "{prog} exited ({status}) before it was ready:\n{}",
                    p.log()
                ));
            }
            if begin.elapsed() > Duration::from_secs(30) {
                return Err(format!(
                    "{prog} was not ready within 30 s ({}):\n{}",
                    start.ready,
                    p.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The key file `{pskfile}` became, while the process runs (removed on drop).
    pub fn pskfile(&self) -> Option<&std::path::Path> {
        self.pskfile.as_ref().map(SecretFile::path)
    }

    /// The process id of the DUT program.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for DutProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The key file goes only once nothing reads it any more.
        self.pskfile.take();
    }
}
