//! Durations in case files: fixed (`500ms`, `2s`, `1m`) or relative to the timers the DUT
//! profile declares (`1.5 x initial_retransmit`), so that a case checking retransmission
//! judges each DUT by the timer values it claims (RFC 6347 §4.2.4.1 leaves the initial
//! value to the implementation; RFC 7925 §11 suggests a larger one for constrained
//! networks) instead of one figure written into the case.

use std::time::Duration;

use crate::dut::profile::Timers;

/// A timer a profile declares (`timers:` in profiles/*.yaml).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileTimer {
    /// `initial_retransmit`: the first retransmission timeout.
    InitialRetransmit,
    /// `max_retransmit`: the largest retransmission timeout.
    MaxRetransmit,
    /// `response`: how long the DUT may take to answer at all.
    Response,
}

impl ProfileTimer {
    pub const NAMES: [&'static str; 3] = ["initial_retransmit", "max_retransmit", "response"];

    fn parse(s: &str) -> Option<Self> {
        match s {
            "initial_retransmit" => Some(ProfileTimer::InitialRetransmit),
            "max_retransmit" => Some(ProfileTimer::MaxRetransmit),
            "response" => Some(ProfileTimer::Response),
            _ => None,
        }
    }

    fn millis(self, t: &Timers) -> u64 {
        match self {
            ProfileTimer::InitialRetransmit => t.initial_retransmit_ms,
            ProfileTimer::MaxRetransmit => t.max_retransmit_ms,
            ProfileTimer::Response => t.response_ms,
        }
    }
}

/// A duration as a case writes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DurationSpec {
    Fixed(Duration),
    /// `factor x timer`.
    Timer {
        factor: f64,
        timer: ProfileTimer,
    },
}

impl DurationSpec {
    /// `500ms`, `2s`, `1.5s`, `1m`, or `FACTOR x TIMER` (`1.5 x initial_retransmit`,
    /// `2x response`).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Some((factor, timer)) = s.split_once('x') {
            let timer = ProfileTimer::parse(timer.trim())?;
            let factor: f64 = factor.trim().parse().ok()?;
            if !(0.0..=1000.0).contains(&factor) {
                return None;
            }
            return Some(DurationSpec::Timer { factor, timer });
        }
        parse_fixed(s).map(DurationSpec::Fixed)
    }

    /// The duration for a DUT with these timers.
    pub fn resolve(&self, timers: &Timers) -> Duration {
        match *self {
            DurationSpec::Fixed(d) => d,
            DurationSpec::Timer { factor, timer } => {
                Duration::from_secs_f64(timer.millis(timers) as f64 * factor / 1000.0)
            }
        }
    }
}

/// Parses "500ms", "2s", "1.5s", "1m": fixed durations only.
pub fn parse_fixed(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| c.is_ascii_alphabetic())
        .map(|i| s.split_at(i))?;
    let n: f64 = num.trim().parse().ok()?;
    if !(0.0..=86_400.0).contains(&n) {
        return None;
    }
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timers(initial: u64) -> Timers {
        Timers {
            initial_retransmit_ms: initial,
            max_retransmit_ms: 60_000,
            response_ms: 3_000,
        }
    }

    #[test]
    fn fixed_durations() {
        assert_eq!(parse_fixed("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_fixed("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_fixed("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_fixed("2"), None);
        assert_eq!(parse_fixed("-1s"), None);
        assert_eq!(parse_fixed("2h"), None);
    }

    #[test]
    fn timer_relative_durations_follow_the_profile() {
        let d = DurationSpec::parse("1.5 x initial_retransmit").unwrap();
        assert_eq!(d.resolve(&timers(1000)), Duration::from_millis(1500));
        assert_eq!(d.resolve(&timers(9000)), Duration::from_millis(13_500));
        let r = DurationSpec::parse("2x response").unwrap();
        assert_eq!(r.resolve(&timers(1)), Duration::from_secs(6));
        assert_eq!(
            DurationSpec::parse("2s").unwrap().resolve(&timers(9000)),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn malformed_relative_durations_are_refused() {
        for bad in [
            "x initial_retransmit",
            "1.5 x",
            "1.5 x rto",
            "-1 x response",
            "1e9 x response",
            "two x response",
        ] {
            assert_eq!(DurationSpec::parse(bad), None, "{bad}");
        }
    }
}
