//! Per-epoch state: one cipher state and sequence space per epoch (RFC 6347 §4.1).

use dicetest_crypto::RecordProtection;

use super::replay_window::ReplayWindow;

/// Largest sequence number a record can carry (48 bits, RFC 6347 §4.1).
pub const MAX_SEQUENCE_NUMBER: u64 = (1 << 48) - 1;

/// What we write with in one epoch.
pub struct WriteEpoch {
    pub epoch: u16,
    /// Next record sequence number; every record, retransmissions included, takes a new one.
    pub next_seq: u64,
    /// `None` in epoch 0: records go out in the clear.
    pub protection: Option<Box<dyn RecordProtection>>,
}

impl WriteEpoch {
    pub fn plaintext() -> Self {
        WriteEpoch {
            epoch: 0,
            next_seq: 0,
            protection: None,
        }
    }

    /// Takes the next sequence number.
    pub fn take_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq = (self.next_seq + 1).min(MAX_SEQUENCE_NUMBER);
        s
    }
}

/// What we read with in one epoch.
pub struct ReadEpoch {
    pub epoch: u16,
    pub protection: Option<Box<dyn RecordProtection>>,
    pub replay_window: ReplayWindow,
}

impl ReadEpoch {
    pub fn plaintext() -> Self {
        ReadEpoch {
            epoch: 0,
            protection: None,
            replay_window: ReplayWindow::new(),
        }
    }
}
