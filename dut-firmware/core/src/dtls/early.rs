//! Records of the peer's next epoch that arrive before its ChangeCipherSpec.
//!
//! Datagrams may be reordered, so the client's Finished (the first record of its new
//! epoch) can overtake the ChangeCipherSpec that announces the epoch. RFC 6347 §4.1 lets a
//! receiver keep such records until the epoch changes instead of dropping them; doing so
//! spares the peer a retransmission timeout (§4.2.4). The device keeps very few, small
//! ones: a Finished fits, and a flood of forged next-epoch records costs at most this much
//! memory and is discarded when it fails to authenticate after the change.

use super::record::RecordHeader;

/// Records kept per session.
pub const EARLY_RECORDS: usize = 2;
/// Largest fragment kept: a Finished protected with CBC-SHA256 (IV 16, message 24, MAC
/// 32, padding) is 80 bytes, with CCM-8 (explicit nonce 8, message 24, tag 8) 40; 8 bytes
/// of margin for CCM-8 alone, the suite RFC 7925 §4.2 asks for.
#[cfg(feature = "cbc")]
pub const EARLY_RECORD_BUF: usize = 96;
#[cfg(not(feature = "cbc"))]
pub const EARLY_RECORD_BUF: usize = 48;

#[derive(Clone, Copy, Debug)]
pub struct EarlyRecord {
    pub header: RecordHeader,
    len: usize,
    bytes: [u8; EARLY_RECORD_BUF],
}

impl EarlyRecord {
    pub fn fragment(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The fragment, to be decrypted where it is kept.
    pub fn fragment_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[..self.len]
    }
}

/// Why a record was not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EarlyRecordError {
    /// Every slot is taken.
    Full,
    /// The fragment is longer than [`EARLY_RECORD_BUF`].
    TooLong(usize),
    /// A record with this epoch and sequence number is already kept.
    Duplicate,
}

#[derive(Clone, Debug, Default)]
pub struct EarlyRecords {
    slots: [Option<EarlyRecord>; EARLY_RECORDS],
}

impl EarlyRecords {
    /// Keeps a copy of the record, in arrival order.
    pub fn keep(&mut self, header: &RecordHeader, fragment: &[u8]) -> Result<(), EarlyRecordError> {
        if fragment.len() > EARLY_RECORD_BUF {
            return Err(EarlyRecordError::TooLong(fragment.len()));
        }
        let same = |r: &EarlyRecord| r.header.epoch == header.epoch && r.header.seq == header.seq;
        if self.slots.iter().flatten().any(same) {
            return Err(EarlyRecordError::Duplicate);
        }
        let slot = self
            .slots
            .iter_mut()
            .find(|s| s.is_none())
            .ok_or(EarlyRecordError::Full)?;
        let mut bytes = [0u8; EARLY_RECORD_BUF];
        bytes[..fragment.len()].copy_from_slice(fragment);
        *slot = Some(EarlyRecord {
            header: *header,
            len: fragment.len(),
            bytes,
        });
        Ok(())
    }

    /// Hands the kept records over (in arrival order) and forgets them.
    pub fn take(&mut self) -> EarlyRecords {
        core::mem::take(self)
    }

    pub fn iter(&self) -> impl Iterator<Item = &EarlyRecord> {
        self.slots.iter().flatten()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut EarlyRecord> {
        self.slots.iter_mut().flatten()
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(seq: u64) -> RecordHeader {
        RecordHeader {
            content_type: 22,
            version: super::super::record::DTLS1_2,
            epoch: 1,
            seq,
        }
    }

    #[test]
    fn records_are_kept_in_order_up_to_the_bound() {
        let mut e = EarlyRecords::default();
        assert_eq!(e.keep(&header(5), &[1, 2, 3]), Ok(()));
        assert_eq!(
            e.keep(&header(5), &[1, 2, 3]),
            Err(EarlyRecordError::Duplicate)
        );
        assert_eq!(e.keep(&header(2), &[4]), Ok(()));
        assert_eq!(e.keep(&header(9), &[5]), Err(EarlyRecordError::Full));
        let big = [0u8; EARLY_RECORD_BUF + 1];
        assert_eq!(
            e.keep(&header(1), &big),
            Err(EarlyRecordError::TooLong(EARLY_RECORD_BUF + 1))
        );
        let kept = e.take();
        assert!(e.is_empty(), "taking empties the buffer");
        let got: std::vec::Vec<(u64, &[u8])> =
            kept.iter().map(|r| (r.header.seq, r.fragment())).collect();
        assert_eq!(got, std::vec![(5, &[1u8, 2, 3][..]), (2, &[4u8][..])]);
    }
}
