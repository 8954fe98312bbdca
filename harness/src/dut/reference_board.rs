//! The `sim` DUT: the reference firmware's core (`dut-firmware/`, crate dut-sim) run
//! in-process on the harness's virtual clock. It is an independent implementation (it shares
//! no protocol code with the harness), so a verdict against it is a real verdict.

use std::net::SocketAddr;

use dut_sim::{Config, SimBoard};

use super::link::SimDevice;
use super::profile::Profile;
use crate::time::Instant;

pub struct ReferenceBoard {
    board: SimBoard,
}

fn ms(t: Instant) -> u64 {
    t.as_micros() / 1000
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

impl ReferenceBoard {
    /// A board configured from the profile: credentials, timers, fault and legal-variation
    /// switches.
    pub fn from_profile(profile: &Profile, seed: u64) -> Result<Self, String> {
        let mut cfg = Config::new(profile.credentials.psk_identity.as_bytes(), &profile.psk())
            .map_err(|e| format!("{e:?}"))?;
        let timers = profile.sim_board_timers.as_ref().unwrap_or(&profile.timers);
        cfg.timers.initial_ms = timers.initial_retransmit_ms;
        cfg.timers.max_ms = timers.max_retransmit_ms;
        cfg.seed = [0; 32];
        cfg.seed[..8].copy_from_slice(&seed.to_le_bytes());
        for f in &profile.faults {
            if !cfg.faults.set_by_name(f) {
                return Err(format!(
                    "unknown fault switch {f:?} (known: {})",
                    dut_sim::Faults::NAMES.join(", ")
                ));
            }
        }
        for v in &profile.variations {
            if !cfg.variations.set_by_name(v) {
                return Err(format!(
                    "unknown variation switch {v:?} (known: {})",
                    dut_sim::Variations::NAMES.join(", ")
                ));
            }
        }
        Ok(ReferenceBoard {
            board: SimBoard::new(cfg),
        })
    }
}

fn ports(out: Vec<(SocketAddr, Vec<u8>)>) -> Vec<(u16, Vec<u8>)> {
    out.into_iter().map(|(a, d)| (a.port(), d)).collect()
}

impl SimDevice for ReferenceBoard {
    fn handle_datagram(&mut self, now: Instant, from: u16, datagram: &[u8]) -> Vec<(u16, Vec<u8>)> {
        ports(self.board.handle_datagram(ms(now), addr(from), datagram))
    }

    fn handle_timeout(&mut self, now: Instant) -> Vec<(u16, Vec<u8>)> {
        ports(self.board.handle_timeout(ms(now)))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.board.poll_timeout().map(Instant::from_millis)
    }
}
