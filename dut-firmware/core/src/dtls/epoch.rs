//! Per-direction epoch state (RFC 6347 §4.1): the epoch number, its keys (none in epoch
//! 0) and, for writing, the next sequence number; for reading, the replay window.

use super::replay::ReplayWindow;
use crate::crypto::RecordKeys;

#[derive(Clone, Debug, Default)]
pub struct WriteState {
    pub epoch: u16,
    /// Next record sequence number in this epoch.
    pub seq: u64,
    pub keys: Option<RecordKeys>,
}

#[derive(Clone, Debug, Default)]
pub struct ReadState {
    pub epoch: u16,
    pub keys: Option<RecordKeys>,
    /// One window per epoch: a new epoch starts with an empty one (§4.1.2.6).
    pub window: ReplayWindow,
}
