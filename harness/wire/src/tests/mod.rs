//! Crate-level tests: hand-assembled vectors, malformed lengths,
//! round-trips and no-panic properties.

mod malformed;
mod no_panic;
mod roundtrip;
mod vectors;
