//! The receive-side anti-replay window of RFC 6347 §4.1.2.6.
//!
//! A bitmap of the last [`WINDOW`] sequence numbers seen in one epoch, right-anchored at the
//! highest sequence number that has *authenticated*. The RFC requires the window to move only
//! after the record's MAC/tag has been verified, so checking ([`ReplayWindow::check`]) and
//! moving ([`ReplayWindow::mark`]) are two separate steps; the record layer calls `mark` only
//! after `open` succeeded (a forged record far to the right must not shift the window:
//! the shape of OpenSSL CVE-2016-2181).

/// Window size. RFC 6347 §4.1.2.6 requires at least 32 and recommends 64.
pub const WINDOW: u64 = 64;

/// Why a record was refused by the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayVerdict {
    /// Not seen before and inside or right of the window.
    Fresh,
    /// Already received.
    Duplicate,
    /// Left of the window: too old to tell, so discarded.
    TooOld,
}

#[derive(Clone, Debug, Default)]
pub struct ReplayWindow {
    /// Highest authenticated sequence number, if any record was accepted yet.
    right_edge: Option<u64>,
    /// Bit i set: `right_edge - i` was received.
    bitmap: u64,
}

impl ReplayWindow {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn check(&self, seq: u64) -> ReplayVerdict {
        let Some(right) = self.right_edge else {
            return ReplayVerdict::Fresh;
        };
        if seq > right {
            return ReplayVerdict::Fresh;
        }
        let offset = right - seq;
        if offset >= WINDOW {
            ReplayVerdict::TooOld
        } else if self.bitmap & (1u64 << offset) != 0 {
            ReplayVerdict::Duplicate
        } else {
            ReplayVerdict::Fresh
        }
    }

    /// Records `seq` as received. Call only after the record authenticated.
    pub fn mark(&mut self, seq: u64) {
        match self.right_edge {
            None => {
                self.right_edge = Some(seq);
                self.bitmap = 1;
            }
            Some(right) if seq > right => {
                let shift = seq - right;
                self.bitmap = if shift >= WINDOW {
                    0
                } else {
                    self.bitmap << shift
                };
                self.bitmap |= 1;
                self.right_edge = Some(seq);
            }
            Some(right) => {
                let offset = right - seq;
                if offset < WINDOW {
                    self.bitmap |= 1u64 << offset;
                }
            }
        }
    }

    pub fn right_edge(&self) -> Option<u64> {
        self.right_edge
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_old_records_are_refused() {
        let mut w = ReplayWindow::new();
        assert_eq!(w.check(5), ReplayVerdict::Fresh);
        w.mark(5);
        assert_eq!(w.check(5), ReplayVerdict::Duplicate);
        assert_eq!(w.check(4), ReplayVerdict::Fresh);
        w.mark(100);
        assert_eq!(w.check(5), ReplayVerdict::TooOld);
        assert_eq!(w.check(37), ReplayVerdict::Fresh);
        assert_eq!(w.check(36), ReplayVerdict::TooOld);
        w.mark(37);
        assert_eq!(w.check(37), ReplayVerdict::Duplicate);
        assert_eq!(w.check(100), ReplayVerdict::Duplicate);
    }

    #[test]
    fn checking_alone_never_moves_the_window() {
        let mut w = ReplayWindow::new();
        w.mark(10);
        // A forged record far to the right is only checked, never marked (tag failed).
        assert_eq!(w.check(10_000), ReplayVerdict::Fresh);
        assert_eq!(w.check(11), ReplayVerdict::Fresh);
        assert_eq!(w.right_edge(), Some(10));
    }

    #[test]
    fn large_gaps_clear_the_bitmap() {
        let mut w = ReplayWindow::new();
        for s in 0..64 {
            w.mark(s);
        }
        w.mark(1 << 40);
        assert_eq!(w.check(63), ReplayVerdict::TooOld);
        assert_eq!(w.check((1 << 40) - 1), ReplayVerdict::Fresh);
        assert_eq!(w.check((1 << 40) - 64), ReplayVerdict::TooOld);
        assert_eq!(w.check((1 << 40) - 63), ReplayVerdict::Fresh);
    }
}
