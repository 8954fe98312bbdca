//! CoAP (RFC 7252) over the DTLS session: a strict message codec and the device's
//! resources.
//!
//! - `message.rs`: the message format (§3) with option delta encoding (§3.1);
//! - `server.rs`: request handling, resources, and the duplicate cache (§4.5).

pub mod message;
pub mod server;

pub use server::{CoapServer, Sensors};
