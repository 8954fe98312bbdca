//! The board farm: many boards, each a DUT, run in parallel lanes and reported together.
//!
//! - [`inventory`]: the farm file (boards, how each is reached, reset policy);
//! - [`board`]: what the farm needs of a board (flash, reset, log, health), implemented by
//!   [`sim_board`] (dut-sim processes) and, with the `probe-rs` feature, `probe_rs_board`
//!   (debug probes, local or through `probe-rs serve`);
//! - [`health`]: the handshake every health check ends with;
//! - [`lane`]: one board's run (health, reset policy, hang handling);
//! - [`run`]: all lanes, the merged report and the farm summary ([`summary`]);
//! - [`shard`]: `--shard K/N`.

pub mod board;
pub mod health;
pub mod inventory;
pub mod lane;
#[cfg(feature = "probe-rs")]
pub mod probe_rs_board;
pub mod run;
pub mod shard;
pub mod sim_board;
pub mod summary;

pub use board::{Board, BoardError};
pub use inventory::{load_inventory, BoardKind, BoardSpec, Inventory, ResetPolicy};
pub use run::{run_farm, FarmOptions, FarmOutcome};
pub use shard::Shard;
