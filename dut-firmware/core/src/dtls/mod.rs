//! DTLS 1.2 (RFC 6347), server side, PSK key exchange only.
//!
//! - `record.rs`: the record header (§4.1);
//! - `replay.rs`: the 64-record sliding window (§4.1.2.6);
//! - `cookie.rs`: stateless cookies with a rotating secret (§4.2.1);
//! - `messages.rs`: the handshake messages the server reads and writes (§4.2.2, §4.3.2);
//! - `reassembly.rs`: bounded reassembly of fragmented handshake messages (§4.2.3);
//! - `hello_reassembly.rs`: the small shared area where fragmented ClientHellos are put
//!   together before the cookie check (§4.2.1, §4.2.3);
//! - `early.rs`: next-epoch records kept until the peer's ChangeCipherSpec (§4.1);
//! - `held_plaintext.rs`: a fault's memory (plaintext data kept through the handshake);
//! - `session.rs`: one peer's association, from ClientHello to close_notify.

pub mod alert;
pub mod cookie;
pub mod early;
pub mod epoch;
pub mod held_plaintext;
pub mod hello;
pub mod hello_reassembly;
pub mod messages;
pub mod output;
pub mod reassembly;
pub mod record;
pub mod replay;
pub mod session;
