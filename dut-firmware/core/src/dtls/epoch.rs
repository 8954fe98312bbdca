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

/// Only with the `record_tag_not_checked` fault: the plaintext of a CCM-8 record, its tag
/// never looked at. CCM encrypts in counter mode, so sealing the ciphertext again under the
/// record's own nonce (the salt and the explicit nonce it carries, RFC 6655 §3) runs the
/// same keystream over it and gives the plaintext back: the same plaintext a verified
/// record would give, and a forged one's too. `buf` is the fragment (explicit nonce,
/// ciphertext, tag), decrypted in place. None for CBC, `buf` untouched.
pub fn open_ignoring_tag(
    keys: &RecordKeys,
    ctx: &RecordContext,
    buf: &mut [u8],
) -> Option<Range<usize>> {
    if keys.prefix_len() != 8 {
        return None;
    }
    let n = buf.len().checked_sub(16)?;
    // seal() writes epoch || sequence number as the explicit nonce: give it the record's.
    let explicit = buf.get(..8)?;
    let own = RecordContext {
        epoch: u16::from_be_bytes([explicit[0], explicit[1]]),
        seq: explicit[2..]
            .iter()
            .fold(0u64, |acc, &b| acc << 8 | u64::from(b)),
        ..*ctx
    };
    keys.seal(&own, buf, n, &[0; 16]).ok()?;
    Some(8..8 + n)
}
