//! Protection in the delivery handler, in this process's memory: fair shares of the attempts in
//! flight (per destination, workspace and organization, and the hang rule — see
//! [`switchyard_core::fair_share`]) and a circuit breaker per destination. An attempt the gate
//! turns away is deferred — its message re-enqueued for later — and is not counted as an
//! attempt, so a dead or hanging endpoint neither burns its deliveries' retry schedules nor
//! holds the slots every other tenant needs.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use switchyard_core::ConnectionId;
use switchyard_core::circuit::{Admission, BreakerPolicy, CircuitBreaker, Health};
use switchyard_core::fair_share::{InFlight, Refusal, Shares, Slot, Target};
use switchyard_core::outcome::Outcome;
use time::OffsetDateTime;

/// How soon an attempt turned away by a share looks again the first time: soon, since a place
/// frees as soon as any attempt there ends (SQS rounds it up to a second).
const BUSY_RETRY: Duration = Duration::from_millis(250);
/// The longest wait of an attempt turned away again and again. Each turn away costs a trip
/// through the queue (on SQLite, writes on the one writer every tenant shares), so a backlog
/// waiting on a slow destination looks again about every this often, not four times a
/// second per message.
const BUSY_RETRY_MAX: Duration = Duration::from_secs(8);

/// How long an attempt to a slow destination (one whose attempts in flight run longer than
/// [`BUSY_RETRY`]), turned away by its share `turned_away` times before, waits now: twice as
/// long each time, up to [`BUSY_RETRY_MAX`], less up to half of it at random (`spread`, in
/// 0..1), so a batch turned away together does not come back together. Where attempts end
/// quickly a place frees at every moment, and waiting longer would only leave it empty.
fn busy_retry(turned_away: u32, spread: f64) -> Duration {
    let full = BUSY_RETRY
        .saturating_mul(1 << turned_away.min(16))
        .min(BUSY_RETRY_MAX);
    full.mul_f64(1.0 - spread.clamp(0.0, 1.0) / 2.0)
}

#[derive(Debug)]
pub struct Protection {
    policy: BreakerPolicy,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    in_flight: InFlight,
    breakers: HashMap<ConnectionId, CircuitBreaker>,
}

impl Default for Protection {
    fn default() -> Self {
        Self::new(BreakerPolicy::default(), Shares::default())
    }
}

/// An admitted attempt. Report how it ended with [`Permit::finish`]; dropped unfinished (the
/// attempt never ran, or its task was cancelled), it only gives its place back.
#[must_use]
pub struct Permit<'a> {
    protection: &'a Protection,
    slot: Option<Slot>,
}

impl Protection {
    pub fn new(policy: BreakerPolicy, shares: Shares) -> Self {
        Self {
            policy,
            state: Mutex::new(State {
                in_flight: InFlight::new(shares),
                breakers: HashMap::new(),
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Admits an attempt to `target` that ends by `timeout` at the latest, or says until when
    /// to defer it (an attempt `turned_away` times already waits longer over a share).
    pub fn enter(
        &self,
        target: Target,
        now: OffsetDateTime,
        timeout: Duration,
        turned_away: u32,
    ) -> Result<Permit<'_>, OffsetDateTime> {
        let slot = self.with(|state| {
            let slot = state
                .in_flight
                .admit(target, now, timeout)
                .map_err(|refusal| {
                    tracing::debug!(?refusal, "over a share or hanging; attempt deferred");
                    match refusal {
                        Refusal::Hanging { until } => until,
                        Refusal::Destination { oldest_started }
                            if now - oldest_started >= BUSY_RETRY =>
                        {
                            now + busy_retry(turned_away, rand::random())
                        }
                        Refusal::Destination { .. }
                        | Refusal::Workspace
                        | Refusal::Organization => now + BUSY_RETRY,
                    }
                })?;
            // The breaker last: a probe it grants is then surely made.
            let breaker = state
                .breakers
                .entry(target.connection)
                .or_insert_with(|| CircuitBreaker::new(self.policy));
            match breaker.admit(now) {
                Admission::Go | Admission::Probe => Ok(slot),
                Admission::WaitUntil(until) => {
                    state.in_flight.release(slot);
                    Err(until)
                }
            }
        })?;
        Ok(Permit {
            protection: self,
            slot: Some(slot),
        })
    }
}

impl Permit<'_> {
    /// The attempt ends by `deadline` at the latest (known once its connection is loaded).
    pub fn ends_by(&self, deadline: OffsetDateTime) {
        if let Some(slot) = &self.slot {
            self.protection
                .with(|state| state.in_flight.ends_by(slot, deadline));
        }
    }

    /// Records the attempt's outcome with the breaker: a destination that timed out counts as
    /// hung; one that could not be reached, failed with a 5xx or is rate limiting as down.
    pub fn finish(self, now: OffsetDateTime, outcome: Outcome) {
        let health = match outcome {
            Outcome::Timeout => Health::Hung,
            Outcome::NetworkError | Outcome::RejectedServerError | Outcome::RateLimited => {
                Health::Down
            }
            _ => Health::Up,
        };
        if let Some(slot) = &self.slot {
            let connection = slot.target().connection;
            self.protection.with(|state| {
                if let Some(breaker) = state.breakers.get_mut(&connection) {
                    breaker.record(now, health);
                }
            });
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.protection.with(|state| state.in_flight.release(slot));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::{OrgId, WorkspaceId};

    const T: Duration = Duration::from_secs(30);

    fn t(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000 + secs).unwrap()
    }

    fn target() -> Target {
        Target {
            org: OrgId::new(),
            workspace: WorkspaceId::new(),
            connection: ConnectionId::new(),
        }
    }

    #[test]
    fn a_hanging_destination_is_deferred_while_others_go() {
        let protection = Protection::new(BreakerPolicy::default(), Shares::of(64));
        let (hanging, healthy) = (target(), target());
        let stuck = protection.enter(hanging, t(0), T, 0).unwrap();
        assert_eq!(protection.enter(hanging, t(5), T, 0).err(), Some(t(30)));
        assert!(protection.enter(healthy, t(5), T, 0).is_ok());
        // It timed out: its place is free, and the timeout counts against the destination.
        stuck.finish(t(30), Outcome::Timeout);
        assert!(protection.enter(hanging, t(30), T, 0).is_ok());
    }

    #[test]
    fn an_open_circuit_defers_without_holding_a_place() {
        let policy = BreakerPolicy {
            failure_threshold: 1,
            timeout_threshold: 1,
            cooldown: Duration::from_secs(30),
            max_cooldown: Duration::from_secs(60),
        };
        let protection = Protection::new(
            policy,
            Shares {
                per_destination: 1,
                ..Shares::default()
            },
        );
        let to = target();
        protection
            .enter(to, t(0), T, 0)
            .unwrap()
            .finish(t(1), Outcome::NetworkError);
        assert_eq!(protection.enter(to, t(2), T, 0).err(), Some(t(31)));
        assert_eq!(
            protection.enter(to, t(3), T, 0).err(),
            Some(t(31)),
            "not busy"
        );
        let probe = protection.enter(to, t(31), T, 0).expect("the probe");
        probe.finish(t(32), Outcome::Delivered);
        assert!(protection.enter(to, t(32), T, 0).is_ok());
    }

    #[test]
    fn an_attempt_turned_away_again_waits_twice_as_long_up_to_a_bound() {
        let full: Vec<_> = (0..9).map(|n| busy_retry(n, 0.0).as_millis()).collect();
        assert_eq!(full, [250, 500, 1000, 2000, 4000, 8000, 8000, 8000, 8000]);
        assert_eq!(busy_retry(u32::MAX, 0.0), BUSY_RETRY_MAX);
        // The spread takes off at most half.
        assert_eq!(busy_retry(2, 1.0), Duration::from_millis(500));
        assert_eq!(busy_retry(2, 0.5), Duration::from_millis(750));
    }

    #[test]
    fn over_a_slow_destinations_share_the_wait_grows_with_each_turn_away() {
        let shares = Shares {
            per_destination: 1,
            ..Shares::default()
        };
        let protection = Protection::new(BreakerPolicy::default(), shares);
        let to = target();
        let _busy = protection.enter(to, t(0), T, 0).unwrap();
        // Its attempt in flight has run a while: the destination is slow.
        for (turned_away, full) in [(0, 250), (3, 2000), (10, 8000)] {
            let until = protection.enter(to, t(1), T, turned_away).err().unwrap();
            let wait = (until - t(1)).whole_milliseconds();
            assert!(
                (full / 2..=full).contains(&wait),
                "{turned_away}: {wait} ms"
            );
        }
        // Where the attempt in flight has only just started, a place frees soon.
        let soon = t(0) + Duration::from_millis(100);
        let until = protection.enter(to, soon, T, 10).err().unwrap();
        assert_eq!(until - soon, BUSY_RETRY);
    }
}
