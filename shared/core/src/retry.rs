//! The retry schedule: when the next attempt happens after a failed one.
//!
//! Svix's proven schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — each with
//! ±20 % jitter so a destination coming back is not hit by every delivery at the same second.

use std::time::Duration;

/// Delays before attempt 2, 3, … (attempt 1 is immediate on routing).
const SCHEDULE: [Duration; 8] = [
    Duration::ZERO,
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// The longest `Retry-After` we honour; a destination cannot park a delivery for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10 * 3600);

#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    pub schedule: Vec<Duration>,
    /// Fraction of each delay that jitter may add or remove (0.2 = ±20 %).
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            schedule: SCHEDULE.to_vec(),
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// The total number of attempts a delivery gets: the first plus one per schedule entry.
    pub fn max_attempts(&self) -> u32 {
        self.schedule.len() as u32 + 1
    }

    /// The wait after `attempts_made` failed attempts, or `None` when the schedule is spent.
    /// `unit_jitter` is a number in [-1, 1] (random in production, fixed in tests);
    /// `retry_after` is the destination's own request, honoured up to [`MAX_RETRY_AFTER`].
    pub fn next_delay(
        &self,
        attempts_made: u32,
        unit_jitter: f64,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let index = attempts_made.checked_sub(1)? as usize;
        let base = *self.schedule.get(index)?;
        let factor = 1.0 + self.jitter * unit_jitter.clamp(-1.0, 1.0);
        let jittered = base.mul_f64(factor.max(0.0));
        Some(match retry_after {
            Some(wanted) => jittered.max(wanted.min(MAX_RETRY_AFTER)),
            None => jittered,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_schedule_without_jitter() {
        let p = RetryPolicy::default();
        assert_eq!(p.next_delay(1, 0.0, None), Some(Duration::ZERO));
        assert_eq!(p.next_delay(2, 0.0, None), Some(Duration::from_secs(5)));
        assert_eq!(p.next_delay(3, 0.0, None), Some(Duration::from_secs(300)));
        assert_eq!(p.next_delay(8, 0.0, None), Some(Duration::from_secs(36000)));
        assert_eq!(p.next_delay(9, 0.0, None), None);
        assert_eq!(p.max_attempts(), 9);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let p = RetryPolicy::default();
        assert_eq!(p.next_delay(2, 1.0, None), Some(Duration::from_secs(6)));
        assert_eq!(p.next_delay(2, -1.0, None), Some(Duration::from_secs(4)));
        assert_eq!(p.next_delay(2, 7.0, None), Some(Duration::from_secs(6)));
    }

    #[test]
    fn retry_after_is_honoured_but_clamped() {
        let p = RetryPolicy::default();
        let wanted = Duration::from_secs(60);
        assert_eq!(p.next_delay(2, 0.0, Some(wanted)), Some(wanted));
        let absurd = Duration::from_secs(30 * 24 * 3600);
        assert_eq!(p.next_delay(2, 0.0, Some(absurd)), Some(MAX_RETRY_AFTER));
    }
}
