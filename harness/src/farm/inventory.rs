//! The farm inventory: which boards there are, how each is reached, flashed and reset, and
//! the reset policy. Data, not code; loaded strictly, every error with file:line:column.
//!
//! ```yaml
//! name: nightly
//! reset: per_case            # per_case | per_suite | after_failure
//! hang_resets: 1             # resets a hung board gets before its remaining cases are given up
//! boards:
//!   - name: nrf-a1
//!     kind: probe-rs
//!     farm_host: farm-host-1   # the CI runner label of the machine that drives it
//!     probe: "1366:1051:000683420125"
//!     chip: nRF52840_xxAA
//!     address: 192.0.2.21:5684
//!     image: dut-firmware/boards/nrf52840/target/thumbv7em-none-eabihf/release/dut-nrf52840
//!     credentials: { psk_identity: Client_identity, psk_hex: 73656372657450534b }
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::cases::load::LoadError;
use crate::dut::profile::Credentials;

/// When a board is reset between cases (a hung board is always reset).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResetPolicy {
    /// Before every case: each case meets a freshly booted board.
    #[default]
    PerCase,
    /// Before the first case of each suite folder (handshake/, cookie/, ...).
    PerSuite,
    /// Only after a case whose verdict was not pass or not_applicable.
    AfterFailure,
}

impl ResetPolicy {
    pub fn name(self) -> &'static str {
        match self {
            ResetPolicy::PerCase => "per_case",
            ResetPolicy::PerSuite => "per_suite",
            ResetPolicy::AfterFailure => "after_failure",
        }
    }
}

/// How a board is driven.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BoardKind {
    /// A `dut-sim` process on this machine (reset = restart, log = its output).
    Sim,
    /// A real board behind a debug probe, local or through `probe-rs serve` on another host.
    ProbeRs,
}

/// A probe on another host, served by `probe-rs serve` (probe-rs's own remote mode).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteProbe {
    /// The server's address as probe-rs takes it: `ws://farm-host-2:3000`.
    pub host: String,
    /// Name of the environment variable that holds the server's token (a token never
    /// sits in the inventory, which is committed).
    pub token_env: String,
}

/// What only a simulated board has.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SimOptions {
    /// The PSK (hex) the simulated image was built with, when it is not the one under
    /// `credentials`: a board provisioned with another key, which fails its health check.
    pub image_psk_hex: Option<String>,
    /// The board hangs after this many datagrams (dut-sim --hang-after-datagrams): it
    /// keeps its port but never answers again until it is reset.
    pub hang_after_datagrams: Option<u64>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BoardSpec {
    /// Unique in the inventory; the DUT's name in the report.
    pub name: String,
    pub kind: BoardKind,
    /// The CI runner label of the machine this board is attached to
    /// (`dicetest farm run --farm-host LABEL` takes only its boards).
    #[serde(default)]
    pub farm_host: Option<String>,
    /// probe-rs: the probe selector, `VID:PID` or `VID:PID:SERIAL`.
    #[serde(default)]
    pub probe: Option<String>,
    /// probe-rs: a probe on another host.
    #[serde(default)]
    pub remote: Option<RemoteProbe>,
    /// probe-rs: the target name in probe-rs's database (`nRF52840_xxAA`).
    #[serde(default)]
    pub chip: Option<String>,
    /// Where the DUT answers DTLS: HOST:PORT. Sim boards take a free loopback port when
    /// this is left out.
    #[serde(default)]
    pub address: Option<String>,
    /// The firmware image (ELF) to flash before the run. Sim boards: the dut-sim program
    /// (default `{bin:dut-sim}`).
    #[serde(default)]
    pub image: Option<String>,
    /// The PSK the harness uses with this board.
    pub credentials: Credentials,
    /// The DUT profile that says what the firmware claims, its timers and its expected
    /// deviations (the baseline): a shipped name or a file. Default `dut-sim`.
    #[serde(default = "default_profile")]
    pub profile: String,
    #[serde(default)]
    pub sim: SimOptions,
}

fn default_profile() -> String {
    "dut-sim".into()
}

fn default_hang_resets() -> u32 {
    1
}

fn default_health_ms() -> u64 {
    5000
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub reset: ResetPolicy,
    /// How many times one board may hang and be reset in a run; after one more hang its
    /// remaining cases are inconclusive, naming the hang.
    #[serde(default = "default_hang_resets")]
    pub hang_resets: u32,
    /// How long a health handshake may take before the board counts as not answering.
    #[serde(default = "default_health_ms")]
    pub health_timeout_ms: u64,
    pub boards: Vec<Spanned<BoardSpec>>,
}

impl Inventory {
    pub fn boards(&self) -> impl Iterator<Item = &BoardSpec> {
        self.boards.iter().map(|b| &b.value)
    }
}

/// Loads and checks an inventory; paths in it (images) are taken relative to `root`
/// by the boards, not here.
pub fn load_inventory(path: &Path) -> Result<Inventory, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::unreadable(path, &e))?;
    parse_inventory(&text, path)
}

pub fn parse_inventory(text: &str, path: &Path) -> Result<Inventory, LoadError> {
    let inv: Inventory = serde_saphyr::from_str(text).map_err(|e| {
        let hint = "see farm/sim-farm.yaml and farm/nightly.example.yaml";
        LoadError::yaml(path, &e, Some(hint.into()))
    })?;
    check(&inv, path)?;
    Ok(inv)
}

/// What the types cannot say: names unique, each kind with what it needs.
fn check(inv: &Inventory, path: &Path) -> Result<(), LoadError> {
    let at = |b: &Spanned<BoardSpec>, message: String| LoadError {
        file: PathBuf::from(path),
        line: b.referenced.line(),
        column: b.referenced.column(),
        message,
        hint: None,
    };
    if inv.boards.is_empty() {
        return Err(LoadError {
            file: path.to_path_buf(),
            line: 1,
            column: 1,
            message: "the inventory lists no boards".into(),
            hint: None,
        });
    }
    let mut names = BTreeSet::new();
    for b in &inv.boards {
        let s = &b.value;
        if s.name.is_empty() || !names.insert(s.name.as_str()) {
            return Err(at(
                b,
                format!("board name {:?} is empty or used twice", s.name),
            ));
        }
        if hex::decode(&s.credentials.psk_hex).is_err() {
            return Err(at(b, format!("{}: credentials.psk_hex is not hex", s.name)));
        }
        if let Some(a) = &s.address {
            if a.rsplit_once(':')
                .and_then(|(_, p)| p.parse::<u16>().ok())
                .is_none()
            {
                return Err(at(b, format!("{}: address {a:?} is not HOST:PORT", s.name)));
            }
        }
        match s.kind {
            BoardKind::ProbeRs => {
                if s.chip.is_none() || s.address.is_none() || s.image.is_none() {
                    return Err(at(
                        b,
                        format!("{}: a probe-rs board needs chip, address and image", s.name),
                    ));
                }
                if s.sim.image_psk_hex.is_some() || s.sim.hang_after_datagrams.is_some() {
                    return Err(at(
                        b,
                        format!("{}: sim options on a probe-rs board", s.name),
                    ));
                }
            }
            BoardKind::Sim => {
                if s.probe.is_some() || s.remote.is_some() || s.chip.is_some() {
                    return Err(at(
                        b,
                        format!("{}: probe, remote and chip are for probe-rs boards", s.name),
                    ));
                }
                if let Some(k) = &s.sim.image_psk_hex {
                    if hex::decode(k).is_err() {
                        return Err(at(b, format!("{}: sim.image_psk_hex is not hex", s.name)));
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "name: t
reset: after_failure
boards:
  - name: a
    kind: sim
    credentials: { psk_hex: 73656372657450534b }
  - name: b
    kind: probe-rs
    farm_host: host-1
    probe: 1366:1051
    chip: nRF52840_xxAA
    address: 192.0.2.1:5684
    image: fw.elf
    remote: { host: ws://h:3000, token_env: T }
    credentials: { psk_identity: me, psk_hex: 0102 }
";

    #[test]
    fn reads_a_good_inventory() {
        let inv = parse_inventory(GOOD, Path::new("i.yaml")).expect("loads");
        assert_eq!(inv.reset, ResetPolicy::AfterFailure);
        assert_eq!(inv.hang_resets, 1);
        let b: Vec<&BoardSpec> = inv.boards().collect();
        assert_eq!(b[0].kind, BoardKind::Sim);
        assert_eq!(b[0].profile, "dut-sim");
        assert_eq!(b[0].credentials.psk_identity, "Client_identity");
        assert_eq!(b[1].kind, BoardKind::ProbeRs);
        assert_eq!(b[1].remote.as_ref().unwrap().token_env, "T");
        assert_eq!(b[1].farm_host.as_deref(), Some("host-1"));
    }

    #[test]
    fn errors_name_the_line() {
        let unknown = GOOD.replace("    farm_host: host-1", "    farm_hots: host-1");
        let e = parse_inventory(&unknown, Path::new("i.yaml")).unwrap_err();
        assert_eq!(e.line, 9, "{e}");
        assert!(e.to_string().starts_with("i.yaml:9:"), "{e}");

        let dup = GOOD.replace("name: b", "name: a");
        let e = parse_inventory(&dup, Path::new("i.yaml")).unwrap_err();
        assert_eq!(e.line, 7, "{e}");
        assert!(e.message.contains("used twice"), "{e}");

        let no_chip = GOOD.replace("    chip: nRF52840_xxAA\n", "");
        let e = parse_inventory(&no_chip, Path::new("i.yaml")).unwrap_err();
        assert_eq!(e.line, 7, "{e}");
        assert!(e.message.contains("needs chip"), "{e}");

        let bad_kind = GOOD.replace("kind: sim", "kind: jtag");
        let e = parse_inventory(&bad_kind, Path::new("i.yaml")).unwrap_err();
        assert_eq!(e.line, 5, "{e}");

        let bad_addr = GOOD.replace("192.0.2.1:5684", "192.0.2.1");
        let e = parse_inventory(&bad_addr, Path::new("i.yaml")).unwrap_err();
        assert!(e.message.contains("HOST:PORT"), "{e}");
    }
}
