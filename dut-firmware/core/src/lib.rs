//! The reference lightweight device of dicetest: a DTLS 1.2 (RFC 6347) server with
//! pre-shared keys (RFC 4279, RFC 7925) and a CoAP server (RFC 7252) on top of it.
//!
//! `no_std`, no heap: every buffer is a fixed array sized at compile time, the clock is a
//! number of milliseconds the caller passes in, randomness comes from a seed the caller
//! provides. The device never does I/O itself ("sans-IO"): datagrams go in through
//! [`Device::handle_datagram`], datagrams come out through the caller's closure, and the
//! caller fires [`Device::handle_timeout`] when [`Device::poll_timeout`] says so.
//!
//! This is the device *under test*: it shares no protocol code with the dicetest harness,
//! so that one misreading of an RFC cannot hide in both. [`Faults`] switches make it break
//! one requirement at a time, the way real stacks have, for the suite's self-test;
//! [`Variations`] switches make it choose, one at a time, what the RFCs leave open.
//!
//! Layout: `codec` (bounds-checked reading/writing), `crypto/` (PRF, record protection,
//! DRBG), `dtls/` (records, replay window, cookies, handshake messages, reassembly, the
//! per-peer session), `coap/` (message codec, resources, duplicate cache), `device.rs`
//! (the session table tying both together).

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod coap;
pub mod codec;
pub mod config;
pub mod crypto;
pub mod device;
pub mod dtls;
pub mod faults;
pub mod peer;
pub mod variations;

pub use config::{Config, ConfigError, Timers};
pub use device::Device;
pub use faults::{Fault, Faults};
pub use peer::PeerAddr;
pub use variations::{Variation, Variations};
