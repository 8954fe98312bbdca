//! The retransmission timer of RFC 6347 §4.2.4 and §4.2.4.1.
//!
//! After sending a flight we wait; if the peer's next flight does not arrive before the timer
//! fires, the whole flight is sent again and the timer doubles, up to a maximum. RFC 6347
//! §4.2.4.1 recommends 1 s initially and at most 60 s; RFC 7925 §11 suggests a larger initial
//! value for constrained networks. The values come from the caller's configuration.

use std::time::Duration;

use crate::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerConfig {
    pub initial: Duration,
    pub max: Duration,
    /// Retransmissions of one flight before giving up.
    pub max_retransmissions: u32,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            max_retransmissions: 6,
        }
    }
}

/// What the caller must do when the timer is polled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerAction {
    Nothing,
    Retransmit,
    GiveUp,
}

#[derive(Clone, Debug)]
pub struct RetransmitTimer {
    config: TimerConfig,
    current: Duration,
    deadline: Option<Instant>,
    retransmissions: u32,
}

impl RetransmitTimer {
    pub fn new(config: TimerConfig) -> Self {
        RetransmitTimer {
            config,
            current: config.initial,
            deadline: None,
            retransmissions: 0,
        }
    }

    /// A new flight went out: start from the initial value.
    pub fn start(&mut self, now: Instant) {
        self.current = self.config.initial;
        self.retransmissions = 0;
        self.deadline = Some(now + self.current);
    }

    /// The peer's next flight arrived (or we reached a final state).
    pub fn stop(&mut self) {
        self.deadline = None;
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    pub fn retransmissions(&self) -> u32 {
        self.retransmissions
    }

    /// Called when `now` may have reached the deadline.
    pub fn on_timeout(&mut self, now: Instant) -> TimerAction {
        match self.deadline {
            Some(d) if now >= d => {
                if self.retransmissions >= self.config.max_retransmissions {
                    self.deadline = None;
                    return TimerAction::GiveUp;
                }
                self.retransmissions += 1;
                // Back off: double, capped (§4.2.4.1).
                self.current = (self.current * 2).min(self.config.max);
                self.deadline = Some(now + self.current);
                TimerAction::Retransmit
            }
            _ => TimerAction::Nothing,
        }
    }

    /// The peer retransmitted its previous flight: ours was lost, resend it now without
    /// waiting (§4.2.4) but keep the backoff.
    pub fn on_peer_retransmission(&mut self, now: Instant) {
        if self.deadline.is_some() {
            self.deadline = Some(now + self.current);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_maximum_then_gives_up() {
        let cfg = TimerConfig {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(3),
            max_retransmissions: 3,
        };
        let mut t = RetransmitTimer::new(cfg);
        let t0 = Instant::ZERO;
        t.start(t0);
        assert_eq!(t.deadline(), Some(Instant::from_millis(1000)));
        assert_eq!(
            t.on_timeout(Instant::from_millis(999)),
            TimerAction::Nothing
        );
        assert_eq!(
            t.on_timeout(Instant::from_millis(1000)),
            TimerAction::Retransmit
        );
        assert_eq!(t.deadline(), Some(Instant::from_millis(3000)));
        assert_eq!(
            t.on_timeout(Instant::from_millis(3000)),
            TimerAction::Retransmit
        );
        assert_eq!(t.deadline(), Some(Instant::from_millis(6000)));
        assert_eq!(
            t.on_timeout(Instant::from_millis(6000)),
            TimerAction::Retransmit
        );
        assert_eq!(
            t.on_timeout(Instant::from_millis(9000)),
            TimerAction::GiveUp
        );
        assert_eq!(t.deadline(), None);
    }
}
