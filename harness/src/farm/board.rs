//! What the farm needs of a board, whatever drives it: put a firmware image on it, reset
//! it, read what the device printed, and check that it is healthy. The DTLS cases
//! themselves reach the board over the network at [`Board::address`], like any DUT.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use super::health::HandshakeFailure;
use super::inventory::{BoardKind, BoardSpec};
use crate::dut::Profile;

/// Why a board operation failed. Each names what was wrong, for the report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoardError {
    #[error("flashing {image} failed: {why}")]
    Flash { image: String, why: String },
    #[error("reset failed: {0}")]
    Reset(String),
    #[error("the debug probe: {0}")]
    Probe(String),
    #[error("the board does not run: {0}")]
    NotRunning(String),
    #[error("health handshake at {addr}: {failure}")]
    Handshake {
        addr: SocketAddr,
        failure: HandshakeFailure,
    },
    #[error("the inventory entry: {0}")]
    Config(String),
    #[error(
        "this dicetest was built without the `probe-rs` feature (cargo build --features probe-rs)"
    )]
    NotBuilt,
}

/// One board of the farm.
pub trait Board: Send {
    fn name(&self) -> &str;
    /// Puts the firmware image on the board and starts it (sim: the program it boots).
    fn flash(&mut self, image: &str) -> Result<(), BoardError>;
    /// Resets the board; when this returns Ok the firmware is booting again.
    fn reset(&mut self) -> Result<(), BoardError>;
    /// What the device printed since the last call (defmt over RTT; a process's output).
    fn read_log(&mut self) -> String;
    /// The board's own checks (probe attached, process alive), then a DTLS handshake at
    /// its address with its credentials.
    fn health(&mut self, limit: Duration) -> Result<(), BoardError>;
    /// Where the DUT answers DTLS now (a sim board's port changes when it restarts).
    fn address(&self) -> Option<SocketAddr>;
}

/// The board an inventory entry describes, with the DUT profile of its firmware. Images
/// are taken relative to `root`.
pub fn open(
    spec: &BoardSpec,
    profile: &Profile,
    root: &Path,
) -> Result<Box<dyn Board>, BoardError> {
    match spec.kind {
        BoardKind::Sim => Ok(Box::new(super::sim_board::SimBoard::new(
            spec, profile, root,
        )?)),
        BoardKind::ProbeRs => open_probe_rs(spec, root),
    }
}

#[cfg(feature = "probe-rs")]
fn open_probe_rs(spec: &BoardSpec, root: &Path) -> Result<Box<dyn Board>, BoardError> {
    Ok(Box::new(super::probe_rs_board::ProbeRsBoard::new(
        spec, root,
    )?))
}

#[cfg(not(feature = "probe-rs"))]
fn open_probe_rs(_spec: &BoardSpec, _root: &Path) -> Result<Box<dyn Board>, BoardError> {
    Err(BoardError::NotBuilt)
}

/// HOST:PORT of an inventory entry, resolved.
pub fn resolve(address: &str) -> Result<SocketAddr, BoardError> {
    use std::net::ToSocketAddrs;
    address
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| BoardError::Config(format!("cannot resolve the address {address:?}")))
}
