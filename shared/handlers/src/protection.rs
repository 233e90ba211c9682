//! Per-destination protection in the delivery handler: a circuit breaker and a cap on attempts
//! in flight, per connection, in this process's memory. An attempt the gate turns away is
//! deferred — its message re-enqueued for later — and is not counted as an attempt, so a dead
//! endpoint neither burns its deliveries' retry schedules nor holds the workers every other
//! tenant needs.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use switchyard_core::ConnectionId;
use switchyard_core::circuit::{Admission, BreakerPolicy, CircuitBreaker};
use switchyard_core::outcome::Outcome;
use time::OffsetDateTime;

/// Attempts one connection may have in flight at once in this process.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 16;
/// How soon an attempt turned away by the in-flight cap tries again.
const BUSY_RETRY: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Protection {
    policy: BreakerPolicy,
    max_in_flight: usize,
    destinations: Mutex<HashMap<ConnectionId, Destination>>,
}

#[derive(Debug)]
struct Destination {
    breaker: CircuitBreaker,
    in_flight: usize,
}

impl Default for Protection {
    fn default() -> Self {
        Self::new(BreakerPolicy::default(), DEFAULT_MAX_IN_FLIGHT)
    }
}

/// An admitted attempt. Report how it ended with [`Permit::finish`]; dropped unfinished (the
/// attempt never ran), it only gives its in-flight place back.
#[must_use]
pub struct Permit<'a> {
    protection: &'a Protection,
    connection: ConnectionId,
}

impl Protection {
    pub fn new(policy: BreakerPolicy, max_in_flight: usize) -> Self {
        Self {
            policy,
            max_in_flight: max_in_flight.max(1),
            destinations: Mutex::default(),
        }
    }

    fn with<T>(&self, connection: ConnectionId, f: impl FnOnce(&mut Destination) -> T) -> T {
        let mut all = self.destinations.lock().unwrap_or_else(|p| p.into_inner());
        let destination = all.entry(connection).or_insert_with(|| Destination {
            breaker: CircuitBreaker::new(self.policy),
            in_flight: 0,
        });
        f(destination)
    }

    /// Admits an attempt to `connection` now, or says until when to defer it.
    pub fn enter(
        &self,
        connection: ConnectionId,
        now: OffsetDateTime,
    ) -> Result<Permit<'_>, OffsetDateTime> {
        self.with(connection, |d| {
            if d.in_flight >= self.max_in_flight {
                return Err(now + BUSY_RETRY);
            }
            match d.breaker.admit(now) {
                Admission::Go | Admission::Probe => {
                    d.in_flight += 1;
                    Ok(())
                }
                Admission::WaitUntil(until) => Err(until),
            }
        })?;
        Ok(Permit {
            protection: self,
            connection,
        })
    }
}

impl Permit<'_> {
    /// Records the attempt's outcome with the breaker: a destination that timed out, could not
    /// be reached, failed with a 5xx or is rate limiting counts as unhealthy.
    pub fn finish(self, now: OffsetDateTime, outcome: Outcome) {
        let healthy = !matches!(
            outcome,
            Outcome::Timeout
                | Outcome::NetworkError
                | Outcome::RejectedServerError
                | Outcome::RateLimited
        );
        self.protection
            .with(self.connection, |d| d.breaker.record(now, healthy));
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.protection.with(self.connection, |d| {
            d.in_flight = d.in_flight.saturating_sub(1)
        });
    }
}
