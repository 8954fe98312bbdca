//! Handshake-layer framing of RFC 6347 §4.2: message_seq, fragments, flights.

pub mod fragmenter;
pub mod reassembly;
pub mod retransmit;
pub mod transcript;
