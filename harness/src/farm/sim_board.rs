//! A simulated board: the reference firmware core as a `dut-sim` process on loopback.
//! Flash = choose the program it boots, reset = restart the process, log = its output,
//! health = a handshake. So the whole farm path runs where no board is attached.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::board::{Board, BoardError};
use super::inventory::BoardSpec;
use crate::dut::process::DutProcess;
use crate::dut::profile::{Credentials, StartSpec};
use crate::dut::Profile;

/// What dut-sim prints once its socket is bound.
const READY: &str = "stdout:dut-sim listening";

pub struct SimBoard {
    name: String,
    /// The start command is built on this profile (the firmware's, with the image's
    /// credentials and dut-sim's own options).
    profile: Profile,
    root: PathBuf,
    /// The board's address when the inventory fixes it.
    fixed: Option<String>,
    credentials: Credentials,
    process: Option<DutProcess>,
    /// How much of the current process's output was read.
    log_read: usize,
    /// Output of earlier boots not read yet.
    pending: String,
}

impl SimBoard {
    pub fn new(spec: &BoardSpec, firmware: &Profile, root: &Path) -> Result<Self, BoardError> {
        let mut profile = firmware.clone();
        profile.name = spec.name.clone();
        profile.kind = crate::dut::profile::DutKind::Process;
        // The key the simulated image holds: the inventory's, unless the board is
        // provisioned with another.
        profile.credentials = spec.credentials.clone();
        if let Some(k) = &spec.sim.image_psk_hex {
            profile.credentials.psk_hex = k.clone();
        }
        let listen = spec
            .address
            .clone()
            .unwrap_or_else(|| "127.0.0.1:{port}".into());
        let mut command: Vec<String> = vec![
            spec.image.clone().unwrap_or_else(|| "{bin:dut-sim}".into()),
            "--listen".into(),
            listen,
            // The key from a private file (dut/secret_file.rs), never on the command line.
            "--psk-file".into(),
            "{pskfile}".into(),
        ];
        if let Some(n) = spec.sim.hang_after_datagrams {
            command.extend(["--hang-after-datagrams".into(), n.to_string()]);
        }
        profile.start = Some(StartSpec {
            command,
            ready: READY.into(),
            restart: "per_run".into(),
            keep_stdin: false,
        });
        Ok(SimBoard {
            name: spec.name.clone(),
            profile,
            root: root.to_path_buf(),
            fixed: spec.address.clone(),
            credentials: spec.credentials.clone(),
            process: None,
            log_read: 0,
            pending: String::new(),
        })
    }

    fn boot(&mut self) -> Result<(), BoardError> {
        self.stop();
        // A free port is picked before dut-sim binds it, so another lane's board may take
        // it in between: try a few ports before calling the board dead.
        let mut last = String::new();
        for _ in 0..3 {
            match DutProcess::start(&self.profile, &self.root) {
                Ok(p) => {
                    self.process = Some(p);
                    self.log_read = 0;
                    return Ok(());
                }
                Err(e) => last = e,
            }
        }
        Err(BoardError::NotRunning(last))
    }

    /// Ends the process, keeping what it printed.
    fn stop(&mut self) {
        let rest = self.unread();
        self.pending.push_str(&rest);
        self.process = None;
    }

    fn unread(&mut self) -> String {
        let Some(p) = &self.process else {
            return String::new();
        };
        let log = p.log();
        let new = log.get(self.log_read..).unwrap_or_default().to_string();
        self.log_read = log.len();
        new
    }
}

impl Board for SimBoard {
    fn name(&self) -> &str {
        &self.name
    }

    fn flash(&mut self, image: &str) -> Result<(), BoardError> {
        if let Some(start) = self.profile.start.as_mut() {
            start.command[0] = image.to_string();
        }
        self.boot().map_err(|e| BoardError::Flash {
            image: image.to_string(),
            why: e.to_string(),
        })
    }

    fn reset(&mut self) -> Result<(), BoardError> {
        self.boot()
            .map_err(|e| BoardError::Reset(format!("restarting dut-sim: {e}")))
    }

    fn read_log(&mut self) -> String {
        let mut out = std::mem::take(&mut self.pending);
        out.push_str(&self.unread());
        out
    }

    fn health(&mut self, limit: Duration) -> Result<(), BoardError> {
        let addr = self
            .address()
            .ok_or_else(|| BoardError::NotRunning("dut-sim was not started".into()))?;
        super::health::handshake(addr, &self.credentials, limit)
            .map_err(|failure| BoardError::Handshake { addr, failure })
    }

    fn address(&self) -> Option<SocketAddr> {
        match &self.fixed {
            Some(a) => super::board::resolve(a).ok(),
            None => self
                .process
                .as_ref()
                .map(|p| SocketAddr::from(([127, 0, 0, 1], p.port))),
        }
    }
}
