//! Per-direction epoch state (RFC 6347 §4.1): the epoch number, its keys (none in epoch
//! 0) and, for writing, the next sequence number; for reading, the replay window.

use core::ops::Range;

use super::replay::ReplayWindow;
use crate::crypto::protect::RecordContext;
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

/// Only with the `record_tag_not_checked` fault: the plaintext of a CCM-8 record whose tag
/// did not verify. CCM encrypts in counter mode, so sealing the ciphertext again under the
/// same nonce (epoch and sequence number, RFC 6655 §3) runs the same keystream over it and
/// gives the plaintext back; the tag is never looked at. `buf` holds a copy of the
/// fragment (explicit nonce, ciphertext, tag) and receives the result. None for CBC.
pub fn open_ignoring_tag(
    keys: &RecordKeys,
    ctx: &RecordContext,
    buf: &mut [u8],
) -> Option<Range<usize>> {
    if keys.prefix_len() != 8 {
        return None;
    }
    let n = buf.len().checked_sub(16)?;
    keys.seal(ctx, buf, n, &[0; 16]).ok()?;
    Some(8..8 + n)
}
