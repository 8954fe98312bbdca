//! The anti-replay sliding window of RFC 6347 §4.1.2.6 (after RFC 4303 §3.4.3): the
//! highest sequence number seen and a bitmap of the 64 before it.
//!
//! Checking and marking are separate on purpose: a record is checked before it is
//! decrypted, but the window moves only once the record authenticated, so a forged record
//! cannot push the window past the genuine ones (§4.1.2.6).

pub const WINDOW: u64 = 64;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayWindow {
    /// Highest sequence number marked; meaningful once `started`.
    top: u64,
    /// Bit i set: `top - i` was received.
    bits: u64,
    started: bool,
}

impl ReplayWindow {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `seq` may be new: not seen yet and not left behind the window.
    pub fn check(&self, seq: u64) -> bool {
        if !self.started || seq > self.top {
            return true;
        }
        let age = self.top - seq;
        age < WINDOW && self.bits & (1 << age) == 0
    }

    /// Records `seq` as received (call only after the record authenticated).
    pub fn mark(&mut self, seq: u64) {
        if !self.started {
            self.started = true;
            self.top = seq;
            self.bits = 1;
        } else if seq > self.top {
            let shift = seq - self.top;
            self.bits = if shift >= WINDOW {
                0
            } else {
                self.bits << shift
            };
            self.bits |= 1;
            self.top = seq;
        } else {
            let age = self.top - seq;
            if age < WINDOW {
                self.bits |= 1 << age;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_refused_reordering_within_the_window_is_not() {
        let mut w = ReplayWindow::new();
        assert!(w.check(5));
        w.mark(5);
        assert!(!w.check(5));
        assert!(w.check(3), "older but inside the window and unseen");
        w.mark(3);
        assert!(!w.check(3));
        assert!(w.check(6));
    }

    #[test]
    fn the_window_is_64_records_wide() {
        let mut w = ReplayWindow::new();
        w.mark(100);
        assert!(w.check(100 - 63));
        assert!(!w.check(100 - 64), "just behind the window");
        w.mark(100 + 64); // moves the window past everything seen
        assert!(w.check(101));
        assert!(!w.check(100));
        assert!(!w.check(164));
    }

    #[test]
    fn check_alone_never_moves_the_window() {
        let mut w = ReplayWindow::new();
        w.mark(1);
        assert!(w.check(1_000_000));
        assert!(
            w.check(2),
            "checking a far-ahead number must not shift the window"
        );
    }

    #[test]
    fn the_largest_sequence_numbers_do_not_overflow() {
        let mut w = ReplayWindow::new();
        w.mark(crate::dtls::record::MAX_SEQ);
        assert!(!w.check(crate::dtls::record::MAX_SEQ));
        assert!(w.check(crate::dtls::record::MAX_SEQ - 1));
        w.mark(0);
    }
}
