//! The I/O edge: a real UDP socket and the wall clock around a sans-IO [`Connection`].
//!
//! Everything protocol-related stays in the engine; this module only moves datagrams and
//! turns deadlines into socket timeouts.

pub mod udp;

pub use udp::{DriveOutcome, Driver};
