//! A circuit breaker for one destination: after sustained failures — or fewer timeouts, since
//! a destination that hangs holds each attempt for a whole timeout — it opens and attempts wait
//! (deferred, not failed) until a cool-down passes; then one probe attempt decides whether it
//! closes again or stays open with a longer cool-down. Pure: the caller passes the time.
//!
//! This keeps a dead endpoint from holding delivery workers for a full timeout per attempt,
//! which would starve every other tenant's deliveries.

use std::time::Duration;

use time::OffsetDateTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Consecutive failed attempts that open the circuit.
    pub failure_threshold: u32,
    /// Timeouts among those consecutive failures that open it sooner.
    pub timeout_threshold: u32,
    /// The first cool-down; each failed probe doubles it, up to `max_cooldown`.
    pub cooldown: Duration,
    pub max_cooldown: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            timeout_threshold: 2,
            cooldown: Duration::from_secs(30),
            max_cooldown: Duration::from_secs(10 * 60),
        }
    }
}

/// What the breaker says about an attempt now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Closed: go ahead.
    Go,
    /// The cool-down is over: this attempt is the one probe.
    Probe,
    /// Open (or a probe is already out): defer the attempt until this instant.
    WaitUntil(OffsetDateTime),
}

/// How an admitted attempt found its destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// It answered in a way that says it is up (anything but the two below).
    Up,
    /// It could not be reached, failed with a 5xx or is rate limiting.
    Down,
    /// It did not answer within the attempt's timeout.
    Hung,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
        timeouts: u32,
    },
    Open {
        until: OffsetDateTime,
        cooldown: Duration,
    },
    HalfOpen {
        probe_started: OffsetDateTime,
        cooldown: Duration,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitBreaker {
    policy: BreakerPolicy,
    state: State,
}

/// How long an unanswered probe blocks others before another may go (its worker died).
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);
/// How soon an attempt deferred behind a probe looks again.
const RECHECK: Duration = Duration::from_secs(1);

impl CircuitBreaker {
    pub fn new(policy: BreakerPolicy) -> Self {
        Self {
            policy,
            state: State::Closed {
                failures: 0,
                timeouts: 0,
            },
        }
    }

    pub fn admit(&mut self, now: OffsetDateTime) -> Admission {
        match self.state {
            State::Closed { .. } => Admission::Go,
            State::Open { until, cooldown } if now >= until => {
                self.state = State::HalfOpen {
                    probe_started: now,
                    cooldown,
                };
                Admission::Probe
            }
            State::Open { until, .. } => Admission::WaitUntil(until),
            State::HalfOpen {
                probe_started,
                cooldown,
            } if now >= probe_started + PROBE_TIMEOUT => {
                self.state = State::HalfOpen {
                    probe_started: now,
                    cooldown,
                };
                Admission::Probe
            }
            // While the probe is out, look again shortly: it usually answers within a second.
            State::HalfOpen { probe_started, .. } => {
                Admission::WaitUntil((probe_started + PROBE_TIMEOUT).min(now + RECHECK))
            }
        }
    }

    /// Records how an admitted attempt ended.
    pub fn record(&mut self, now: OffsetDateTime, health: Health) {
        let hung = u32::from(health == Health::Hung);
        self.state = match (&self.state, health) {
            (_, Health::Up) => State::Closed {
                failures: 0,
                timeouts: 0,
            },
            (State::Closed { failures, timeouts }, _)
                if failures + 1 >= self.policy.failure_threshold
                    || timeouts + hung >= self.policy.timeout_threshold =>
            {
                State::Open {
                    until: now + self.policy.cooldown,
                    cooldown: self.policy.cooldown,
                }
            }
            (State::Closed { failures, timeouts }, _) => State::Closed {
                failures: failures + 1,
                timeouts: timeouts + hung,
            },
            // An attempt admitted before the circuit opened, ending late: already counted.
            (State::Open { .. }, _) => self.state.clone(),
            (State::HalfOpen { cooldown, .. }, _) => {
                let longer = (*cooldown * 2).min(self.policy.max_cooldown);
                State::Open {
                    until: now + longer,
                    cooldown: longer,
                }
            }
        };
    }

    pub fn is_open(&self) -> bool {
        !matches!(self.state, State::Closed { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000 + secs).unwrap()
    }

    fn breaker() -> CircuitBreaker {
        CircuitBreaker::new(BreakerPolicy {
            failure_threshold: 3,
            timeout_threshold: 2,
            cooldown: Duration::from_secs(30),
            max_cooldown: Duration::from_secs(100),
        })
    }

    #[test]
    fn opens_after_consecutive_failures_only() {
        let mut b = breaker();
        b.record(t(0), Health::Down);
        b.record(t(1), Health::Down);
        b.record(t(2), Health::Up);
        b.record(t(3), Health::Down);
        b.record(t(4), Health::Down);
        assert_eq!(b.admit(t(5)), Admission::Go, "a success resets the count");
        b.record(t(5), Health::Down);
        assert_eq!(b.admit(t(6)), Admission::WaitUntil(t(35)));
        assert!(b.is_open());
    }

    #[test]
    fn one_probe_after_the_cooldown_decides() {
        let mut b = breaker();
        for s in 0..3 {
            b.record(t(s), Health::Down);
        }
        assert_eq!(b.admit(t(32)), Admission::Probe);
        assert_eq!(
            b.admit(t(33)),
            Admission::WaitUntil(t(34)),
            "only one probe at a time"
        );
        b.record(t(34), Health::Up);
        assert_eq!(b.admit(t(35)), Admission::Go);
        assert!(!b.is_open());
    }

    #[test]
    fn failed_probes_double_the_cooldown_up_to_the_cap() {
        let mut b = breaker();
        for s in 0..3 {
            b.record(t(s), Health::Down);
        }
        assert_eq!(b.admit(t(32)), Admission::Probe);
        b.record(t(32), Health::Down);
        assert_eq!(b.admit(t(33)), Admission::WaitUntil(t(92)));
        assert_eq!(b.admit(t(92)), Admission::Probe);
        b.record(t(92), Health::Down);
        assert_eq!(
            b.admit(t(93)),
            Admission::WaitUntil(t(192)),
            "capped at 100 s"
        );
    }

    #[test]
    fn late_failures_of_attempts_admitted_before_opening_do_not_extend_the_cooldown() {
        let mut b = breaker();
        for s in 0..3 {
            b.record(t(s), Health::Down);
        }
        b.record(t(3), Health::Down);
        assert_eq!(b.admit(t(4)), Admission::WaitUntil(t(32)));
    }

    #[test]
    fn timeouts_open_it_sooner_than_failures() {
        let mut b = breaker();
        b.record(t(0), Health::Hung);
        assert_eq!(b.admit(t(1)), Admission::Go);
        b.record(t(1), Health::Down);
        b.record(t(2), Health::Up);
        b.record(t(3), Health::Hung);
        assert_eq!(
            b.admit(t(4)),
            Admission::Go,
            "an answer in between resets them"
        );
        b.record(t(31), Health::Hung);
        assert_eq!(b.admit(t(32)), Admission::WaitUntil(t(61)));
    }

    #[test]
    fn a_lost_probe_does_not_block_forever() {
        let mut b = breaker();
        for s in 0..3 {
            b.record(t(s), Health::Down);
        }
        assert_eq!(b.admit(t(40)), Admission::Probe);
        assert_eq!(
            b.admit(t(100)),
            Admission::Probe,
            "the first probe never reported"
        );
    }
}
