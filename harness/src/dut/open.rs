//! Opening a DUT: the one place that turns a profile's [`DutKind`] and the role a case gives
//! the DUT into a path to it (a [`Link`]) and, where dicetest starts it, its process.

use std::path::Path;
use std::time::Duration;

use super::engine_device::{EngineClientDevice, EngineDevice};
use super::process::DutProcess;
use super::profile::DutKind;
use super::{Link, Profile, SimLink, UdpLink, UdpServerLink};
use crate::cases::DutRole;
use crate::engine::Config;

/// A DUT ready for a conversation. Dropping it stops the process dicetest started.
pub struct OpenDut {
    pub link: Box<dyn Link>,
    /// The DUT's process, when dicetest started one (its log is evidence).
    pub process: Option<DutProcess>,
}

impl OpenDut {
    pub fn log(&self) -> String {
        self.process.as_ref().map(|p| p.log()).unwrap_or_default()
    }
}

/// Opens the DUT of `profile` in `role`; `seed` seeds an in-process DUT's randomness.
/// The error says what could not be set up, for a verdict of `error` or a pre-flight.
pub fn open(profile: &Profile, role: DutRole, seed: u64, root: &Path) -> Result<OpenDut, String> {
    let link: Box<dyn Link> = match (role, profile.kind) {
        (DutRole::Client, DutKind::EngineSim) => {
            Box::new(SimLink::new(Box::new(EngineClientDevice::with_deviations(
                engine_client_config(profile, seed),
                &profile.faults,
            )?)))
        }
        (DutRole::Client, DutKind::Process) => {
            let l = UdpServerLink::bind().map_err(|e| format!("cannot open a socket: {e}"))?;
            let p = DutProcess::start_client(profile, root, l.port())
                .map_err(|e| format!("DUT client setup failed: {e}"))?;
            return Ok(OpenDut {
                link: Box::new(l),
                process: Some(p),
            });
        }
        (DutRole::Client, k) => {
            return Err(format!(
                "a DUT client of kind {k} cannot be started by dicetest"
            ))
        }
        (DutRole::Server, DutKind::Sim | DutKind::EngineSim) => Box::new(SimLink::new(
            sim_device(profile, seed).map_err(|e| format!("simulated DUT setup failed: {e}"))?,
        )),
        (DutRole::Server, DutKind::Process) => {
            let p =
                DutProcess::start(profile, root).map_err(|e| format!("DUT setup failed: {e}"))?;
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], p.port));
            let l = UdpLink::new(addr).map_err(|e| format!("cannot open a socket: {e}"))?;
            return Ok(OpenDut {
                link: Box::new(l),
                process: Some(p),
            });
        }
        (DutRole::Server, DutKind::Address) => {
            let addr = profile.address.as_deref().unwrap_or_default();
            let a = addr
                .parse()
                .map_err(|e| format!("cannot reach {addr}: {e}"))?;
            Box::new(UdpLink::new(a).map_err(|e| format!("cannot reach {addr}: {e}"))?)
        }
    };
    Ok(OpenDut {
        link,
        process: None,
    })
}

/// The in-process device of a profile: the reference board (`sim`) or dicetest's own
/// engine as a server (`engine-sim`, all suites, for testing the runner itself).
pub fn sim_device(profile: &Profile, seed: u64) -> Result<Box<dyn super::SimDevice>, String> {
    if profile.kind == DutKind::Sim {
        return Ok(Box::new(
            super::reference_board::ReferenceBoard::from_profile(profile, seed)?,
        ));
    }
    let mut cfg = Config::server()
        .with_psk(profile.credentials.psk_identity.as_bytes(), &profile.psk())
        .with_seed(seed);
    if let Some(suites) = claimed_suites(profile) {
        cfg.cipher_suites = suites;
    }
    cfg.cookie_exchange = profile.claims("cookie_exchange");
    cfg.extended_master_secret = profile.claims("ems");
    cfg.timers.initial = Duration::from_millis(profile.timers.initial_retransmit_ms);
    cfg.timers.max = Duration::from_millis(profile.timers.max_retransmit_ms);
    Ok(Box::new(EngineDevice::new(cfg)))
}

/// dicetest's engine as a simulated DUT client, configured from the profile.
fn engine_client_config(profile: &Profile, seed: u64) -> Config {
    let mut cfg = Config::client()
        .with_psk(profile.credentials.psk_identity.as_bytes(), &profile.psk())
        .with_seed(seed ^ 0x5eed);
    if let Some(suites) = claimed_suites(profile) {
        cfg.cipher_suites = suites;
    }
    cfg.extended_master_secret = profile.claims("ems");
    cfg.timers.initial = Duration::from_millis(profile.timers.initial_retransmit_ms);
    cfg.timers.max = Duration::from_millis(profile.timers.max_retransmit_ms);
    cfg
}

/// The cipher suites a profile claims, if it names any.
pub fn claimed_suites(profile: &Profile) -> Option<Vec<u16>> {
    let suites: Vec<u16> = profile
        .claims
        .iter()
        .filter_map(|c| dicetest_crypto::suite_by_name(c))
        .map(|s| s.id)
        .collect();
    (!suites.is_empty()).then_some(suites)
}
