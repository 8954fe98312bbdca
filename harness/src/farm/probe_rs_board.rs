//! A real board behind a debug probe, driven with probe-rs.
//!
//! - Local probes go through the probe-rs library: the probe is opened by its selector
//!   (`VID:PID[:SERIAL]`), the chip is looked up by name in probe-rs's built-in target
//!   database, the ELF image is flashed with probe-rs's flash loader, the core is reset
//!   through the debug port and the device log is read from its RTT up channel.
//! - Probes on other hosts go through probe-rs's own remote mode: `probe-rs serve` runs
//!   on the host the probe is plugged into, and this side runs the `probe-rs` program
//!   (probe-rs-tools built with its `remote` feature) with `--host ws://HOST:PORT` and the
//!   token in `PROBE_RS_REMOTE_TOKEN`, the environment variable its `--token` option reads,
//!   so the secret never shows in a process list. The remote client lives in the probe-rs
//!   command-line tool, not in the library. No agent of dicetest's own runs there.
//!
//! Not run against a physical board here: what is tested is everything up to the USB
//! wire, against probe-rs's own types (selector parsing, the nRF52840 entry of its target
//! database, RTT channel modes, the remote command lines, the behaviour with no probe).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use probe_rs::config::Registry;
use probe_rs::probe::list::Lister;
use probe_rs::probe::DebugProbeSelector;
use probe_rs::rtt::{ChannelMode, Rtt};
use probe_rs::{CoreStatus, Permissions, Session};

use super::board::{Board, BoardError};
use super::inventory::BoardSpec;
use crate::dut::profile::Credentials;

/// The environment variable that names the `probe-rs` program (default: `probe-rs` on PATH).
pub const PROBE_RS_PROGRAM_ENV: &str = "DICETEST_PROBE_RS";

/// How the device log is read over RTT: which up channel, and the mode the farm puts it
/// in. Never `BlockIfFull`: a firmware logging inside a critical section would freeze
/// whenever the host stops reading (probe-rs's own warning on that mode), and a frozen
/// board is exactly what the farm must not cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RttConfig {
    pub up_channel: usize,
    pub mode: ChannelMode,
}

impl Default for RttConfig {
    fn default() -> Self {
        // defmt-rtt writes its frames to up channel 0, named "defmt".
        RttConfig {
            up_channel: 0,
            mode: ChannelMode::NoBlockTrim,
        }
    }
}

impl RttConfig {
    /// `no_block_skip` or `no_block_trim` (probe-rs's names, in snake case).
    pub fn with_mode(self, name: &str) -> Result<Self, BoardError> {
        let mode = match name {
            "no_block_skip" => ChannelMode::NoBlockSkip,
            "no_block_trim" => ChannelMode::NoBlockTrim,
            "block_if_full" => {
                return Err(BoardError::Config(
                    "RTT mode block_if_full would freeze the firmware when nobody reads".into(),
                ))
            }
            other => return Err(BoardError::Config(format!("unknown RTT mode {other:?}"))),
        };
        Ok(RttConfig { mode, ..self })
    }
}

/// A probe on another host, reached through `probe-rs serve`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remote {
    pub host: String,
    pub token: String,
}

/// Parses an inventory's probe selector with probe-rs's own parser.
pub fn parse_selector(s: &str) -> Result<DebugProbeSelector, BoardError> {
    s.parse::<DebugProbeSelector>()
        .map_err(|e| BoardError::Config(format!("probe selector {s:?}: {e}")))
}

/// Checks the chip name against probe-rs's built-in target database; returns the
/// target's canonical name.
pub fn lookup_chip(name: &str) -> Result<probe_rs::Target, BoardError> {
    Registry::from_builtin_families()
        .get_target_by_name(name)
        .map_err(|e| BoardError::Config(format!("chip {name:?}: {e}")))
}

pub struct ProbeRsBoard {
    name: String,
    chip: String,
    selector: Option<DebugProbeSelector>,
    remote: Option<Remote>,
    image: PathBuf,
    address: String,
    credentials: Credentials,
    rtt: RttConfig,
    local: Option<Local>,
    /// Remote only: a `probe-rs attach` following the device log, and what it printed.
    follower: Option<Child>,
    remote_log: Arc<Mutex<String>>,
    remote_read: usize,
}

/// An attached local session and, once found, the RTT control block.
struct Local {
    session: Session,
    rtt: Option<Rtt>,
}

impl ProbeRsBoard {
    pub fn new(spec: &BoardSpec, root: &Path) -> Result<Self, BoardError> {
        let chip = spec
            .chip
            .as_deref()
            .ok_or_else(|| BoardError::Config("no chip".into()))?;
        let target = lookup_chip(chip)?;
        let selector = spec.probe.as_deref().map(parse_selector).transpose()?;
        let remote = match &spec.remote {
            None => None,
            Some(r) => Some(Remote {
                host: r.host.clone(),
                token: std::env::var(&r.token_env).map_err(|_| {
                    BoardError::Config(format!(
                        "the token of {} is read from ${}, which is not set",
                        r.host, r.token_env
                    ))
                })?,
            }),
        };
        let image = spec
            .image
            .as_deref()
            .map(|i| root.join(i))
            .ok_or_else(|| BoardError::Config("no image".into()))?;
        Ok(ProbeRsBoard {
            name: spec.name.clone(),
            chip: target.name,
            selector,
            remote,
            image,
            address: spec.address.clone().unwrap_or_default(),
            credentials: spec.credentials.clone(),
            rtt: RttConfig::default(),
            local: None,
            follower: None,
            remote_log: Arc::default(),
            remote_read: 0,
        })
    }

    /// The `probe-rs` command line for a remote board: `COMMAND --chip C [--probe S]
    /// --host H ARGS...` (the token goes in the environment: [`Self::remote_env`]).
    pub fn remote_args(&self, command: &str, args: &[&str]) -> Option<Vec<String>> {
        let r = self.remote.as_ref()?;
        let mut v = vec![command.to_string()];
        if command != "list" {
            v.extend(["--chip".into(), self.chip.clone()]);
            if let Some(s) = &self.selector {
                v.extend(["--probe".into(), s.to_string()]);
            }
        }
        v.extend(["--host".into(), r.host.clone()]);
        v.extend(args.iter().map(|a| a.to_string()));
        Some(v)
    }

    /// The environment of a remote `probe-rs`: its token.
    pub fn remote_env(&self) -> Option<(&'static str, &str)> {
        self.remote
            .as_ref()
            .map(|r| ("PROBE_RS_REMOTE_TOKEN", r.token.as_str()))
    }

    fn program() -> String {
        std::env::var(PROBE_RS_PROGRAM_ENV).unwrap_or_else(|_| "probe-rs".into())
    }

    /// Runs `probe-rs` against the remote server; its output on failure.
    fn run_remote(&self, command: &str, args: &[&str]) -> Result<String, String> {
        let argv = self
            .remote_args(command, args)
            .ok_or("not a remote board")?;
        let mut cmd = Command::new(Self::program());
        cmd.args(&argv).stdin(Stdio::null());
        if let Some((k, v)) = self.remote_env() {
            cmd.env(k, v);
        }
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run {}: {e}", Self::program()))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(text)
        } else {
            Err(format!(
                "probe-rs {command} ({}): {}",
                out.status,
                text.trim()
            ))
        }
    }

    /// Follows the device log of a remote board with `probe-rs attach` (which decodes
    /// defmt with the image's tables).
    fn follow_remote_log(&mut self) {
        if let Some(mut c) = self.follower.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let image = self.image.display().to_string();
        let Some(argv) = self.remote_args("attach", &[&image]) else {
            return;
        };
        let mut cmd = Command::new(Self::program());
        if let Some((k, v)) = self.remote_env() {
            cmd.env(k, v);
        }
        let Ok(mut child) = cmd
            .args(&argv)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
        else {
            return;
        };
        if let Some(out) = child.stdout.take() {
            let log = self.remote_log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        self.follower = Some(child);
    }

    /// The local session, attached on first use.
    fn local(&mut self) -> Result<&mut Local, BoardError> {
        if self.local.is_none() {
            let lister = Lister::new();
            let probe = match &self.selector {
                Some(s) => lister.open(s.clone()),
                None => match lister.list_all().first() {
                    Some(info) => info.open(),
                    None => {
                        return Err(BoardError::Probe(
                            "no debug probe is attached to this host".into(),
                        ))
                    }
                },
            }
            .map_err(|e| BoardError::Probe(format!("opening the probe: {e}")))?;
            let session = probe
                .attach(self.chip.as_str(), Permissions::default())
                .map_err(|e| BoardError::Probe(format!("attaching to {}: {e}", self.chip)))?;
            self.local = Some(Local { session, rtt: None });
        }
        self.local
            .as_mut()
            .ok_or_else(|| BoardError::Probe("no session".into()))
    }

    fn reset_local(&mut self) -> Result<(), BoardError> {
        let l = self.local().map_err(|e| BoardError::Reset(e.to_string()))?;
        // The control block is set up again by the firmware after reset.
        l.rtt = None;
        l.session
            .core(0)
            .and_then(|mut c| c.reset())
            .map_err(|e| BoardError::Reset(e.to_string()))
    }

    fn read_local_log(&mut self) -> Result<String, BoardError> {
        let cfg = self.rtt;
        let l = self.local()?;
        let mut core = l
            .session
            .core(0)
            .map_err(|e| BoardError::Probe(e.to_string()))?;
        if l.rtt.is_none() {
            let rtt = Rtt::attach(&mut core).map_err(|e| BoardError::Probe(format!("RTT: {e}")))?;
            l.rtt = Some(rtt);
        }
        let Some(rtt) = l.rtt.as_mut() else {
            return Ok(String::new());
        };
        let Some(ch) = rtt.up_channel(cfg.up_channel) else {
            return Err(BoardError::Probe(format!(
                "the firmware has no RTT up channel {}",
                cfg.up_channel
            )));
        };
        let _ = ch.set_mode(&mut core, cfg.mode);
        let defmt = ch.name() == Some("defmt");
        let mut bytes = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match ch.read(&mut core, &mut buf) {
                Ok(0) => break,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
                Err(e) => return Err(BoardError::Probe(format!("RTT read: {e}"))),
            }
        }
        Ok(render_log(&bytes, defmt))
    }
}

/// Device log bytes as text. defmt frames are binary (indices into the image's string
/// table), so they are kept as hex for `defmt-print -e IMAGE` to decode; other channels
/// are text.
pub fn render_log(bytes: &[u8], defmt: bool) -> String {
    if bytes.is_empty() {
        String::new()
    } else if defmt {
        format!(
            "defmt frames (decode with defmt-print -e IMAGE): {}\n",
            hex::encode(bytes)
        )
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

impl Board for ProbeRsBoard {
    fn name(&self) -> &str {
        &self.name
    }

    fn flash(&mut self, image: &str) -> Result<(), BoardError> {
        let flash_err = |why: String| BoardError::Flash {
            image: image.to_string(),
            why,
        };
        if self.remote.is_some() {
            self.run_remote("download", &[image]).map_err(flash_err)?;
            return self.reset();
        }
        let format = probe_rs::flashing::image_format("elf")
            .ok_or_else(|| flash_err("this probe-rs has no ELF loader".into()))?;
        let l = self.local().map_err(|e| flash_err(e.to_string()))?;
        probe_rs::flashing::download_file_with_options(
            &mut l.session,
            image,
            format.create_loader(None),
            probe_rs::flashing::DownloadOptions::default(),
        )
        .map_err(|e| flash_err(e.to_string()))?;
        self.reset()
    }

    fn reset(&mut self) -> Result<(), BoardError> {
        if self.remote.is_some() {
            self.run_remote("reset", &[]).map_err(BoardError::Reset)?;
            self.follow_remote_log();
            return Ok(());
        }
        self.reset_local()
    }

    fn read_log(&mut self) -> String {
        if self.remote.is_some() {
            let log = self
                .remote_log
                .lock()
                .map(|l| l.clone())
                .unwrap_or_default();
            let new = log.get(self.remote_read..).unwrap_or_default().to_string();
            self.remote_read = log.len();
            return new;
        }
        self.read_local_log()
            .unwrap_or_else(|e| format!("(no device log: {e})\n"))
    }

    fn health(&mut self, limit: Duration) -> Result<(), BoardError> {
        if self.remote.is_some() {
            let listed = self.run_remote("list", &[]).map_err(BoardError::Probe)?;
            if let Some(s) = &self.selector {
                let want = format!("{:04x}:{:04x}", s.vendor_id, s.product_id);
                if !listed.to_ascii_lowercase().contains(&want) {
                    return Err(BoardError::Probe(format!(
                        "the server does not list probe {s}"
                    )));
                }
            }
        } else {
            let l = self.local()?;
            let status = l
                .session
                .core(0)
                .and_then(|mut c| c.status())
                .map_err(|e| BoardError::Probe(format!("core status: {e}")))?;
            if matches!(status, CoreStatus::LockedUp) {
                return Err(BoardError::NotRunning("the core is locked up".into()));
            }
        }
        let addr = super::board::resolve(&self.address)?;
        super::health::handshake(addr, &self.credentials, limit)
            .map_err(|failure| BoardError::Handshake { addr, failure })
    }

    fn address(&self) -> Option<SocketAddr> {
        super::board::resolve(&self.address).ok()
    }
}

impl Drop for ProbeRsBoard {
    fn drop(&mut self) {
        if let Some(mut c) = self.follower.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::farm::inventory::parse_inventory;

    fn spec(extra: &str) -> BoardSpec {
        let text = format!(
            "name: t\nboards:\n  - name: nrf-a1\n    kind: probe-rs\n    chip: nRF52840_xxAA\n    address: 127.0.0.1:5684\n    image: fw.elf\n    credentials: {{ psk_hex: 73656372657450534b }}\n{extra}"
        );
        let inv = parse_inventory(&text, Path::new("t.yaml")).expect("inventory");
        inv.boards[0].value.clone()
    }

    #[test]
    fn selectors_parse_with_probe_rs() {
        let s = parse_selector("1366:1051:000683420125").expect("J-Link OB with serial");
        assert_eq!((s.vendor_id, s.product_id), (0x1366, 0x1051));
        assert_eq!(s.serial_number.as_deref(), Some("000683420125"));
        let s = parse_selector("0d28:0204").expect("CMSIS-DAP without serial");
        assert_eq!(s.serial_number, None);
        assert_eq!(s.to_string(), "0d28:0204");
        for bad in ["", "1366", "zz:1051", "1366:10510"] {
            assert!(
                matches!(parse_selector(bad), Err(BoardError::Config(_))),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn the_nrf52840_is_in_probe_rs_target_database() {
        let t = lookup_chip("nRF52840_xxAA").expect("nRF52840_xxAA known to probe-rs");
        assert_eq!(t.name, "nRF52840_xxAA");
        assert_eq!(t.cores.len(), 1);
        // 1 MiB of flash at 0 and 256 KiB of RAM at 0x2000_0000 (nRF52840 PS §4.2).
        use probe_rs::config::MemoryRegion;
        let flash: u64 = t
            .memory_map
            .iter()
            .filter_map(|r| match r {
                MemoryRegion::Nvm(n) if n.range.start < 0x10_0000 => {
                    Some(n.range.end - n.range.start)
                }
                _ => None,
            })
            .sum();
        assert_eq!(flash, 1024 * 1024);
        assert!(t.memory_map.iter().any(|r| matches!(r,
            MemoryRegion::Ram(m) if m.range.start == 0x2000_0000 && m.range.end - m.range.start == 256 * 1024)));
        assert!(
            !t.flash_algorithms.is_empty(),
            "no flash algorithm to program it"
        );
        assert!(matches!(
            lookup_chip("nRF52841_xxZZ"),
            Err(BoardError::Config(_))
        ));
    }

    #[test]
    fn rtt_never_blocks_the_firmware() {
        let c = RttConfig::default();
        assert_eq!((c.up_channel, c.mode), (0, ChannelMode::NoBlockTrim));
        assert_eq!(
            c.with_mode("no_block_skip").unwrap().mode,
            ChannelMode::NoBlockSkip
        );
        assert!(c.with_mode("block_if_full").is_err());
        assert!(c.with_mode("fast").is_err());
        assert_eq!(render_log(b"boot\n", false), "boot\n");
        assert!(render_log(&[0x01, 0xff], true).ends_with("01ff\n"));
    }

    #[test]
    fn remote_boards_use_probe_rs_serve_with_host_and_token() {
        // SAFETY (test only): no other test reads this variable.
        unsafe { std::env::set_var("DICETEST_TEST_FARM_TOKEN", "s3cret") };
        let b = ProbeRsBoard::new(
            &spec("    probe: 1366:1051:000683420125\n    remote: { host: ws://farm-host-2:3000, token_env: DICETEST_TEST_FARM_TOKEN }\n"),
            Path::new("/r"),
        )
        .expect("board");
        assert_eq!(
            b.remote_args("download", &["/r/fw.elf"]).unwrap(),
            [
                "download",
                "--chip",
                "nRF52840_xxAA",
                "--probe",
                "1366:1051:000683420125",
                "--host",
                "ws://farm-host-2:3000",
                "/r/fw.elf"
            ]
        );
        assert_eq!(
            b.remote_args("list", &[]).unwrap(),
            ["list", "--host", "ws://farm-host-2:3000"]
        );
        // The token never sits on the command line (a process list would show it).
        assert!(!b
            .remote_args("reset", &[])
            .unwrap()
            .iter()
            .any(|a| a.contains("s3cret")));
        assert_eq!(b.remote_env(), Some(("PROBE_RS_REMOTE_TOKEN", "s3cret")));
        let missing = ProbeRsBoard::new(
            &spec(
                "    remote: { host: ws://h:3000, token_env: DICETEST_TEST_FARM_NO_SUCH_TOKEN }\n",
            ),
            Path::new("/r"),
        );
        assert!(
            matches!(missing, Err(BoardError::Config(m)) if m.contains("DICETEST_TEST_FARM_NO_SUCH_TOKEN"))
        );
    }

    #[test]
    fn a_board_whose_probe_is_absent_fails_health_saying_so() {
        // No probe with this serial is attached to a CI machine: probe-rs's lister says so.
        let mut b = ProbeRsBoard::new(
            &spec("    probe: 1366:1051:999999999999\n"),
            Path::new("/r"),
        )
        .expect("board");
        assert!(b.remote_args("reset", &[]).is_none());
        match b.health(Duration::from_millis(100)) {
            Err(BoardError::Probe(m)) => assert!(m.contains("opening the probe"), "{m}"),
            other => panic!("health of an absent probe: {other:?}"),
        }
        assert!(b.read_log().starts_with("(no device log"));
    }
}
