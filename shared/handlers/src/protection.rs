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

/// How soon an attempt turned away by a share looks again: soon, since a place frees as soon as
/// any attempt there ends (SQS rounds it up to a second).
const BUSY_RETRY: Duration = Duration::from_millis(250);

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
    /// to defer it.
    pub fn enter(
        &self,
        target: Target,
        now: OffsetDateTime,
        timeout: Duration,
    ) -> Result<Permit<'_>, OffsetDateTime> {
        let slot = self.with(|state| {
            let slot = state
                .in_flight
                .admit(target, now, timeout)
                .map_err(|refusal| {
                    tracing::debug!(?refusal, "over a share or hanging; attempt deferred");
                    match refusal {
                        Refusal::Hanging { until } => until,
                        Refusal::Destination | Refusal::Workspace | Refusal::Organization => {
                            now + BUSY_RETRY
                        }
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
        let stuck = protection.enter(hanging, t(0), T).unwrap();
        assert_eq!(protection.enter(hanging, t(5), T).err(), Some(t(30)));
        assert!(protection.enter(healthy, t(5), T).is_ok());
        // It timed out: its place is free, and the timeout counts against the destination.
        stuck.finish(t(30), Outcome::Timeout);
        assert!(protection.enter(hanging, t(30), T).is_ok());
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
            .enter(to, t(0), T)
            .unwrap()
            .finish(t(1), Outcome::NetworkError);
        assert_eq!(protection.enter(to, t(2), T).err(), Some(t(31)));
        assert_eq!(protection.enter(to, t(3), T).err(), Some(t(31)), "not busy");
        let probe = protection.enter(to, t(31), T).expect("the probe");
        probe.finish(t(32), Outcome::Delivered);
        assert!(protection.enter(to, t(32), T).is_ok());
    }
}
