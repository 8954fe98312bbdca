//! dicetest: a conformance and interoperability test suite for DTLS 1.2 (RFC 6347), the
//! RFC 7925 IoT profile and CoAP over DTLS (RFC 7252).
//!
//! At its heart is [`engine`], a sans-IO DTLS 1.2 endpoint that a test script can drive to
//! speak correct DTLS or to deviate on purpose. [`io`] connects it to real sockets and
//! clocks; [`vectors`] proves it against known answers.

pub mod cases;
pub mod cli;
pub mod coap;
pub mod dut;
pub mod engine;
pub mod farm;
pub mod fuzz;
pub mod interop;
pub mod interrupt;
pub mod io;
pub mod monitor;
pub mod reports;
pub mod runner;
pub mod shipped;
pub mod time;
pub mod vectors;

pub use dicetest_crypto as crypto;
pub use dicetest_wire as wire;
