//! The sans-IO DTLS 1.2 engine: correct by default, deliberately wrong on request.
//!
//! - `record/`: the record layer (epochs, sequence numbers, protection, replay window);
//! - `handshake/`: handshake framing (fragmentation, reassembly, transcript, retransmission);
//! - `connection.rs`: one association; `client.rs`/`server.rs`: the correct automata;
//! - `keys.rs`: negotiated parameters and key derivation.

pub mod client;
pub mod config;
pub mod connection;
pub mod error;
pub mod event;
pub mod handshake;
pub mod keys;
pub mod record;
pub mod server;

pub use config::{Config, PskCredentials, ResumableSession, Role, RpkCredentials, SessionCache};
pub use connection::{Connection, SendOptions, State};
pub use error::HandshakeFailure;
pub use event::{Direction, Event, RecordTrace};
pub use handshake::fragmenter::{FragmentLayout, FragmentSpec, HeaderOverrides};
pub use handshake::retransmit::TimerConfig;
pub use record::{DropReason, RecordOverrides};
