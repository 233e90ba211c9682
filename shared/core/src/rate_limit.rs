//! Token buckets for per-workspace ingest rate limits: a burst up to `capacity`, then a steady
//! `refill_per_sec`. Pure — the caller passes the time and keeps one bucket per workspace — so
//! the policy is tested with explicit instants and the answer carries everything the API needs
//! for `429`, `Retry-After` and the IETF `RateLimit-Limit` / `-Remaining` / `-Reset` headers.
//!
//! Tokens are counted in billionths and time in nanoseconds, so with a whole-number rate the
//! refill of any interval is exact integer arithmetic: no float drift, no token lost or minted
//! by calling often.
//!
//! Time is taken as given but never trusted to move forwards: a `now` earlier than one already
//! seen refills nothing and does not move the bucket's clock back, so a clock stepping back and
//! then forward again cannot earn the same interval twice. Until the clock is past the latest
//! instant seen, the waits reported include the remaining gap.

use std::time::Duration;

use time::OffsetDateTime;

/// Billionths of a token per token: one token per second is one unit per nanosecond.
const UNITS_PER_TOKEN: u128 = 1_000_000_000;

/// A token bucket; starts full.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    capacity: u32,
    refill_per_sec: u32,
    /// Tokens held, in billionths, as of `seen`.
    units: u128,
    /// The latest instant passed in; `None` until the first call.
    seen: Option<OffsetDateTime>,
}

/// The answer to one [`TokenBucket::try_take`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the tokens were taken. A denied request takes nothing.
    pub allowed: bool,
    /// The bucket's capacity: `RateLimit-Limit`.
    pub limit: u32,
    /// Whole tokens left after this decision: `RateLimit-Remaining`.
    pub remaining: u32,
    /// How long until the bucket is full again: `RateLimit-Reset`. `None` if it never will be
    /// (no refill).
    pub reset_after: Option<Duration>,
    /// How long until the same request would be allowed: zero when it was, `Retry-After` when
    /// it was not. `None` if it never will be — more tokens than the capacity, or no refill —
    /// which the caller should answer as a client error rather than a 429.
    pub retry_after: Option<Duration>,
}

impl Decision {
    /// [`Decision::reset_after`] in whole seconds, rounded up, as the header wants.
    pub fn reset_after_secs(&self) -> Option<u64> {
        self.reset_after.map(ceil_secs)
    }

    /// [`Decision::retry_after`] in whole seconds, rounded up so a client that waits exactly
    /// that long is not refused again.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after.map(ceil_secs)
    }
}

impl TokenBucket {
    /// A full bucket of `capacity` tokens regaining `refill_per_sec` tokens a second. A zero
    /// rate is a fixed allowance that never refills.
    pub fn new(capacity: u32, refill_per_sec: u32) -> Self {
        Self {
            capacity,
            refill_per_sec,
            units: u128::from(capacity) * UNITS_PER_TOKEN,
            seen: None,
        }
    }

    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    pub fn refill_per_sec(&self) -> u32 {
        self.refill_per_sec
    }

    /// Takes `n` tokens at `now` if the bucket holds them; otherwise takes nothing. `n = 0`
    /// is always allowed and reads the state.
    pub fn try_take(&mut self, now: OffsetDateTime, n: u32) -> Decision {
        self.refill(now);
        let wanted = u128::from(n) * UNITS_PER_TOKEN;
        let allowed = wanted <= self.units;
        if allowed {
            self.units -= wanted;
        }
        let retry_after = if allowed {
            Some(Duration::ZERO)
        } else if n > self.capacity {
            None
        } else {
            self.wait_until(wanted, now)
        };
        Decision {
            allowed,
            limit: self.capacity,
            remaining: u32::try_from(self.units / UNITS_PER_TOKEN).unwrap_or(u32::MAX),
            reset_after: self.wait_until(self.full(), now),
            retry_after,
        }
    }

    fn full(&self) -> u128 {
        u128::from(self.capacity) * UNITS_PER_TOKEN
    }

    /// Adds what accrued since the latest instant seen, if `now` is later.
    fn refill(&mut self, now: OffsetDateTime) {
        let Some(seen) = self.seen else {
            self.seen = Some(now);
            return;
        };
        if now <= seen {
            return;
        }
        let elapsed_ns = u128::try_from((now - seen).whole_nanoseconds()).unwrap_or(0);
        let gained = elapsed_ns.saturating_mul(u128::from(self.refill_per_sec));
        self.units = self.units.saturating_add(gained).min(self.full());
        self.seen = Some(now);
    }

    /// How long after `now` the bucket will hold `target` units, with no takes in between.
    fn wait_until(&self, target: u128, now: OffsetDateTime) -> Option<Duration> {
        let deficit = target.saturating_sub(self.units);
        if deficit == 0 {
            return Some(Duration::ZERO);
        }
        if self.refill_per_sec == 0 {
            return None;
        }
        // Refill resumes only once the clock is back past the latest instant seen.
        let gap = match self.seen {
            Some(seen) if seen > now => (seen - now).unsigned_abs(),
            _ => Duration::ZERO,
        };
        let ns = deficit.div_ceil(u128::from(self.refill_per_sec));
        let refill = Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX));
        Some(gap.saturating_add(refill))
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-22 12:00:00 UTC);

    fn at_ms(ms: i64) -> OffsetDateTime {
        T0 + time::Duration::milliseconds(ms)
    }

    fn ms(ms: u64) -> Option<Duration> {
        Some(Duration::from_millis(ms))
    }

    #[test]
    fn starts_full_and_allows_a_burst_of_capacity() {
        let mut b = TokenBucket::new(5, 1);
        for left in (0..5).rev() {
            let d = b.try_take(T0, 1);
            assert!(d.allowed);
            assert_eq!(d.remaining, left);
            assert_eq!(d.limit, 5);
            assert_eq!(d.retry_after, Some(Duration::ZERO));
        }
        let d = b.try_take(T0, 1);
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        assert_eq!(d.retry_after, ms(1000));
        assert_eq!(d.reset_after, ms(5000));
    }

    #[test]
    fn a_denied_request_takes_nothing() {
        let mut b = TokenBucket::new(10, 2);
        assert!(b.try_take(T0, 7).allowed);
        let d = b.try_take(T0, 4);
        assert!(!d.allowed);
        assert_eq!(d.remaining, 3, "the 3 tokens left are still there");
        assert!(b.try_take(T0, 3).allowed);
    }

    #[test]
    fn retry_after_is_the_wait_for_n_tokens() {
        let mut b = TokenBucket::new(10, 2);
        assert!(b.try_take(T0, 10).allowed);
        let d = b.try_take(T0, 3);
        assert!(!d.allowed);
        assert_eq!(d.retry_after, ms(1500));
        assert_eq!(d.reset_after, ms(5000));
        assert!(!b.try_take(at_ms(1499), 3).allowed);
        let d = b.try_take(at_ms(1500), 3);
        assert!(d.allowed);
        assert_eq!(d.remaining, 0);
        assert_eq!(d.reset_after, ms(5000));
    }

    #[test]
    fn refills_at_the_rate_and_never_above_capacity() {
        let mut b = TokenBucket::new(10, 4);
        assert!(b.try_take(T0, 10).allowed);
        assert_eq!(b.try_take(at_ms(1000), 0).remaining, 4);
        assert_eq!(b.try_take(at_ms(2250), 0).remaining, 9);
        let d = b.try_take(at_ms(60_000), 0);
        assert_eq!(d.remaining, 10);
        assert_eq!(d.reset_after, Some(Duration::ZERO));
        assert!(b.try_take(at_ms(60_000), 10).allowed);
        assert!(!b.try_take(at_ms(60_000), 1).allowed);
    }

    #[test]
    fn fractions_accrue_across_frequent_calls() {
        let mut b = TokenBucket::new(1, 1);
        assert!(b.try_take(T0, 1).allowed);
        for t in [300, 600, 900, 999] {
            assert!(!b.try_take(at_ms(t), 1).allowed, "at {t} ms");
        }
        let d = b.try_take(at_ms(999), 1);
        assert_eq!(d.retry_after, ms(1));
        assert!(b.try_take(at_ms(1000), 1).allowed);
    }

    #[test]
    fn header_seconds_round_up() {
        let mut b = TokenBucket::new(3, 2);
        assert!(b.try_take(T0, 3).allowed);
        let d = b.try_take(T0, 1);
        assert_eq!(d.retry_after, ms(500));
        assert_eq!(d.retry_after_secs(), Some(1));
        assert_eq!(d.reset_after, ms(1500));
        assert_eq!(d.reset_after_secs(), Some(2));
        let full = TokenBucket::new(3, 2).try_take(T0, 0);
        assert_eq!(full.reset_after_secs(), Some(0));
        assert_eq!(full.retry_after_secs(), Some(0));
    }

    #[test]
    fn clock_going_backwards_neither_panics_nor_mints_tokens() {
        let mut b = TokenBucket::new(10, 1);
        assert!(b.try_take(at_ms(10_000), 10).allowed);
        // The clock steps back 5 s: nothing accrues, and the wait includes the gap.
        let d = b.try_take(at_ms(5_000), 1);
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        assert_eq!(d.retry_after, ms(6_000));
        assert_eq!(d.reset_after, ms(15_000));
        // Back where it was: the interval already lived through is not earned again.
        assert!(!b.try_take(at_ms(10_000), 1).allowed);
        assert!(!b.try_take(at_ms(10_999), 1).allowed);
        assert!(b.try_take(at_ms(11_000), 1).allowed);
        // A step back far beyond the epoch still answers.
        let d = b.try_take(OffsetDateTime::UNIX_EPOCH, 1);
        assert!(!d.allowed);
        assert!(d.retry_after.unwrap() > Duration::from_secs(50 * 365 * 86_400));
    }

    #[test]
    fn the_first_call_anchors_the_clock_with_a_full_bucket() {
        let mut b = TokenBucket::new(2, 1);
        assert_eq!(b.try_take(at_ms(-1_000_000), 0).remaining, 2);
        assert!(b.try_take(at_ms(-1_000_000), 2).allowed);
        assert_eq!(b.try_take(at_ms(-999_000), 0).remaining, 1);
    }

    #[test]
    fn more_than_capacity_is_never_allowed() {
        let mut b = TokenBucket::new(100, 10);
        let d = b.try_take(T0, 101);
        assert!(!d.allowed);
        assert_eq!(d.retry_after, None);
        assert_eq!(d.remaining, 100, "nothing taken");
        assert!(b.try_take(T0, 100).allowed);
    }

    #[test]
    fn taking_zero_reads_the_state() {
        let mut b = TokenBucket::new(4, 1);
        assert!(b.try_take(T0, 3).allowed);
        let d = b.try_take(T0, 0);
        assert!(d.allowed);
        assert_eq!(d.remaining, 1);
        assert_eq!(d.retry_after, Some(Duration::ZERO));
        assert_eq!(d.reset_after, ms(3000));
    }

    #[test]
    fn a_zero_rate_is_a_fixed_allowance() {
        let mut b = TokenBucket::new(2, 0);
        assert!(b.try_take(T0, 2).allowed);
        let d = b.try_take(at_ms(86_400_000), 1);
        assert!(!d.allowed);
        assert_eq!(d.retry_after, None);
        assert_eq!(d.reset_after, None);
    }

    #[test]
    fn a_zero_capacity_refuses_everything_but_zero() {
        let mut b = TokenBucket::new(0, 5);
        assert!(b.try_take(T0, 0).allowed);
        let d = b.try_take(at_ms(10_000), 1);
        assert!(!d.allowed);
        assert_eq!(d.retry_after, None);
        assert_eq!(d.reset_after, Some(Duration::ZERO));
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let mut b = TokenBucket::new(u32::MAX, u32::MAX);
        let start = datetime!(-9999-01-01 0:00 UTC);
        let end = datetime!(9999-12-31 23:59:59.999_999_999 UTC);
        assert!(b.try_take(start, u32::MAX).allowed);
        let d = b.try_take(start, u32::MAX);
        assert_eq!(d.retry_after, ms(1000));
        assert_eq!(b.try_take(end, 0).remaining, u32::MAX);
        let mut slow = TokenBucket::new(u32::MAX, 1);
        assert!(slow.try_take(end, u32::MAX).allowed);
        let d = slow.try_take(start, u32::MAX);
        assert!(!d.allowed);
        assert!(d.retry_after.is_some());
    }
}
