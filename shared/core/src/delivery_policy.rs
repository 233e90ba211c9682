//! What follows an attempt: the delivery's next status and what becomes of its message —
//! decided here without meeting a database, so the delivery handler only loads, calls,
//! records and acts on the answer.

use std::time::Duration;

use crate::domain::DeliveryStatus;
use crate::outcome::Outcome;
use crate::retry::RetryPolicy;

/// How one attempt ended, as far as the policy cares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AttemptEnd {
    pub outcome: Outcome,
    pub status_code: Option<u16>,
    /// The destination's own `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
}

/// The next step after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Delivered: `completed`, nothing more to send.
    Complete,
    /// `retrying`: the message goes back on the delivery queue to be attempted after this wait.
    RetryAfter(Duration),
    /// `failed` for good — retrying cannot help, or the schedule is spent: the message goes to
    /// the delivery DLQ, ready for redrive.
    DeadLetter,
}

impl Next {
    /// The status the delivery moves to.
    pub fn status(self) -> DeliveryStatus {
        match self {
            Self::Complete => DeliveryStatus::Completed,
            Self::RetryAfter(_) => DeliveryStatus::Retrying,
            Self::DeadLetter => DeliveryStatus::Failed,
        }
    }
}

/// The step after attempt number `made` of a delivery whose current schedule began after
/// `schedule_base` attempts (a redrive starts a fresh schedule). `unit_jitter` is in [-1, 1]:
/// random in production, fixed in tests.
pub fn after_attempt(
    end: AttemptEnd,
    made: u32,
    schedule_base: u32,
    policy: &RetryPolicy,
    unit_jitter: f64,
) -> Next {
    if end.outcome == Outcome::Delivered {
        return Next::Complete;
    }
    if !end.outcome.is_retryable(end.status_code) {
        return Next::DeadLetter;
    }
    let in_schedule = made.saturating_sub(schedule_base);
    match policy.next_delay(in_schedule, unit_jitter, end.retry_after) {
        Some(delay) => Next::RetryAfter(delay),
        None => Next::DeadLetter,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::MAX_RETRY_AFTER;
    use proptest::prelude::*;

    fn end(outcome: Outcome, status_code: Option<u16>) -> AttemptEnd {
        AttemptEnd {
            outcome,
            status_code,
            retry_after: None,
        }
    }

    #[test]
    fn a_server_error_walks_the_schedule_then_dead_letters() {
        let policy = RetryPolicy::default();
        let failing = end(Outcome::RejectedServerError, Some(503));
        let steps: Vec<Next> = (1..=policy.max_attempts())
            .map(|made| after_attempt(failing, made, 0, &policy, 0.0))
            .collect();
        let waits: Vec<u64> = steps
            .iter()
            .filter_map(|n| match n {
                Next::RetryAfter(d) => Some(d.as_secs()),
                _ => None,
            })
            .collect();
        assert_eq!(waits, [0, 5, 300, 1800, 7200, 18000, 36000, 36000]);
        assert_eq!(steps.last(), Some(&Next::DeadLetter));
    }

    #[test]
    fn a_redrive_starts_the_schedule_over() {
        let policy = RetryPolicy::default();
        let failing = end(Outcome::Timeout, None);
        assert_eq!(after_attempt(failing, 9, 0, &policy, 0.0), Next::DeadLetter);
        assert_eq!(
            after_attempt(failing, 10, 9, &policy, 0.0),
            Next::RetryAfter(Duration::ZERO)
        );
    }

    #[test]
    fn a_plain_client_error_fails_at_once_but_409_and_425_retry() {
        let policy = RetryPolicy::default();
        let rejected = |code| end(Outcome::RejectedClientError, Some(code));
        assert_eq!(
            after_attempt(rejected(404), 1, 0, &policy, 0.0),
            Next::DeadLetter
        );
        assert!(matches!(
            after_attempt(rejected(409), 1, 0, &policy, 0.0),
            Next::RetryAfter(_)
        ));
        assert!(matches!(
            after_attempt(rejected(425), 1, 0, &policy, 0.0),
            Next::RetryAfter(_)
        ));
    }

    #[test]
    fn retry_after_is_honoured_up_to_its_cap() {
        let policy = RetryPolicy::default();
        let limited = |secs| AttemptEnd {
            retry_after: Some(Duration::from_secs(secs)),
            ..end(Outcome::RateLimited, Some(429))
        };
        assert_eq!(
            after_attempt(limited(120), 1, 0, &policy, 0.0),
            Next::RetryAfter(Duration::from_secs(120))
        );
        assert_eq!(
            after_attempt(limited(1_000_000), 1, 0, &policy, 0.0),
            Next::RetryAfter(MAX_RETRY_AFTER)
        );
    }

    fn any_outcome() -> impl Strategy<Value = Outcome> {
        prop::sample::select(Outcome::ALL.to_vec())
    }

    proptest! {
        /// The status always agrees with the step, and delivered is always complete.
        #[test]
        fn status_follows_the_step(
            outcome in any_outcome(),
            code in prop::option::of(100u16..600),
            made in 1u32..40,
            base in 0u32..40,
            jitter in -1.0f64..=1.0,
        ) {
            let next = after_attempt(end(outcome, code), made, base.min(made - 1), &RetryPolicy::default(), jitter);
            prop_assert_eq!(next == Next::Complete, outcome == Outcome::Delivered);
            prop_assert_eq!(next.status().is_final(), !matches!(next, Next::RetryAfter(_)));
        }

        /// A wait stays within the jitter of its schedule entry, or honours `Retry-After`.
        #[test]
        fn waits_stay_within_the_jitter_or_the_destinations_request(
            made in 1u32..9,
            jitter in -1.0f64..=1.0,
            retry_after in prop::option::of(0u64..100_000),
        ) {
            let policy = RetryPolicy::default();
            let failing = AttemptEnd {
                retry_after: retry_after.map(Duration::from_secs),
                ..end(Outcome::NetworkError, None)
            };
            let Next::RetryAfter(wait) = after_attempt(failing, made, 0, &policy, jitter) else {
                return Err(TestCaseError::fail("a retryable attempt within the schedule retries"));
            };
            let base = policy.schedule[made as usize - 1].as_secs_f64();
            let jittered_low = base * (1.0 - policy.jitter) - 1e-6;
            let wanted = retry_after.map_or(0.0, |s| (s as f64).min(MAX_RETRY_AFTER.as_secs_f64()));
            prop_assert!(wait.as_secs_f64() >= jittered_low.min(wanted).max(0.0));
            prop_assert!(wait.as_secs_f64() <= (base * (1.0 + policy.jitter)).max(wanted) + 1e-6);
        }

        /// However a delivery fails, its schedule ends: no more than `max_attempts` per schedule.
        #[test]
        fn every_schedule_ends(outcome in any_outcome(), jitter in -1.0f64..=1.0) {
            let policy = RetryPolicy::default();
            let last = after_attempt(end(outcome, Some(503)), policy.max_attempts(), 0, &policy, jitter);
            prop_assert!(last.status().is_final());
        }
    }
}
