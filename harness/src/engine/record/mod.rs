//! The DTLS 1.2 record layer (RFC 6347 §4.1): epochs, 48-bit sequence numbers, protection,
//! the anti-replay window, and the freedom to write any record a test script asks for.

pub mod epoch;
pub mod layer;
pub mod replay_window;

pub use epoch::{ReadEpoch, WriteEpoch};
pub use layer::{DropReason, ReceivedRecord, RecordLayer, RecordOverrides};
pub use replay_window::{ReplayVerdict, ReplayWindow};
