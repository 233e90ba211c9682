//! Protection in the delivery handler, in this process's memory: fair shares of the attempts in
//! flight (per destination, workspace and organization, and the hang rule — see
//! [`switchyard_core::fair_share`]) and a circuit breaker per destination. An attempt the gate
//! turns away is deferred — its message re-enqueued for later — and is not counted as an
//! attempt, so a dead or hanging endpoint neither burns its deliveries' retry schedules nor
//! holds the slots every other tenant needs.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchyard_core::circuit::{Admission, BreakerPolicy, CircuitBreaker, Health};
use switchyard_core::fair_share::{Hold, InFlight, Refusal, Shares, Slot, Target};
use switchyard_core::outcome::Outcome;
use switchyard_core::{ConnectionId, WorkspaceId};
use time::OffsetDateTime;
use tokio::sync::Notify;

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

/// How many attempts turned away by a fast destination's full share may wait in memory for a
/// place there at once (a share's worth); more are deferred through the queue.
const WAITING_PER_DESTINATION: usize = 16;
/// How many attempts may wait in memory for a place in their workspace's share at once:
/// those turned away by the workspace's full share, or by a destination's full share whose
/// own line is full. They hold no place in any share, and give their delivery slots back
/// while they wait, so a burst of a few dozen waits here rather than on the queue.
const WAITING_PER_WORKSPACE: usize = 64;

#[derive(Debug)]
pub struct Protection {
    policy: BreakerPolicy,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    in_flight: InFlight,
    breakers: HashMap<ConnectionId, CircuitBreaker>,
    /// Attempts waiting for a place at a destination.
    waiting: Lines<ConnectionId>,
    /// Attempts waiting for a place in their workspace's share.
    waiting_in_workspace: Lines<WorkspaceId>,
}

/// Waiting lines by key (a destination, a workspace), each woken one by one as places there
/// free; a line is dropped when its last attempt leaves.
#[derive(Debug)]
struct Lines<K>(HashMap<K, Waiting>);

#[derive(Debug, Default)]
struct Waiting {
    count: usize,
    place_freed: Arc<Notify>,
}

impl<K: Hash + Eq + Copy> Lines<K> {
    fn new() -> Self {
        Self(HashMap::new())
    }

    /// Joins `key`'s line if fewer than `most` wait in it; what wakes the line.
    fn join(&mut self, key: K, most: usize) -> Option<Arc<Notify>> {
        if self.len_of(key) >= most {
            return None;
        }
        let line = self.0.entry(key).or_default();
        line.count += 1;
        Some(line.place_freed.clone())
    }

    /// Leaves `key`'s line; how many still wait in it.
    fn leave(&mut self, key: K) -> usize {
        let Some(line) = self.0.get_mut(&key) else {
            return 0;
        };
        line.count -= 1;
        let left = line.count;
        if left == 0 {
            self.0.remove(&key);
        }
        left
    }

    /// Wakes the next in `key`'s line, if any: a place there was freed.
    fn wake_next(&self, key: K) {
        if let Some(line) = self.0.get(&key) {
            line.place_freed.notify_one();
        }
    }

    fn len_of(&self, key: K) -> usize {
        self.0.get(&key).map_or(0, |line| line.count)
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Why an attempt was turned away: until when to defer it, and where a place is expected
/// soon (a share full of attempts that end quickly), if anywhere.
struct TurnedAway {
    until: OffsetDateTime,
    place_soon: Option<Line>,
}

/// The line an attempt may wait in for a place that frees soon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Line {
    Destination,
    Workspace,
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
                waiting: Lines::new(),
                waiting_in_workspace: Lines::new(),
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
        self.try_enter(target, now, timeout, turned_away)
            .map_err(|t| t.until)
    }

    /// [`Protection::enter`], except that an attempt turned away by a share full of attempts
    /// that end quickly waits here, up to [`BUSY_RETRY`] in all, for the place the next of
    /// them frees — instead of a quarter second on the queue and the two writes of going
    /// there — with its delivery slot given back meanwhile ([`crate::slot`]). Over its
    /// destination's share it waits in that destination's line (at most
    /// [`WAITING_PER_DESTINATION`], each holding its place in its workspace's and
    /// organization's shares, so waiting crowds out no other tenant); over its workspace's
    /// share, or with the destination's line full, in its workspace's line (at most
    /// [`WAITING_PER_WORKSPACE`], holding no place: a place it is woken for is still taken
    /// through every share). Any other refusal, and a full line, defer it as before.
    pub async fn enter_waiting(
        &self,
        target: Target,
        now: impl Fn() -> OffsetDateTime,
        timeout: Duration,
        turned_away: u32,
    ) -> Result<Permit<'_>, OffsetDateTime> {
        let turned = match self.try_enter(target, now(), timeout, turned_away) {
            Ok(permit) => return Ok(permit),
            Err(turned) => turned,
        };
        if turned.place_soon.is_none() {
            return Err(turned.until);
        }
        crate::slot::given_back_while(self.wait_for_place(
            target,
            turned,
            now,
            timeout,
            turned_away,
        ))
        .await
    }

    /// Waits in the line `turned` points to, and the workspace's when that one is full,
    /// until admitted, turned away for longer, or a quarter second has passed.
    async fn wait_for_place(
        &self,
        target: Target,
        mut turned: TurnedAway,
        now: impl Fn() -> OffsetDateTime,
        timeout: Duration,
        turned_away: u32,
    ) -> Result<Permit<'_>, OffsetDateTime> {
        let deadline = tokio::time::Instant::now() + BUSY_RETRY;
        // Kept through the next try after a wake-up, so that leaving the line passes on a
        // place this attempt did not take.
        let mut in_workspace_line: Option<WorkspacePlace<'_>> = None;
        loop {
            match turned.place_soon {
                None => return Err(turned.until),
                Some(Line::Destination) => {
                    if let Some(waiter) = self.wait_at(target) {
                        drop(in_workspace_line);
                        return self
                            .wait_in_line(waiter, deadline, now, timeout, turned_away)
                            .await;
                    }
                    // That line is full: wait for a place freed in the workspace instead.
                }
                Some(Line::Workspace) => {}
            }
            let place = match in_workspace_line.take() {
                Some(place) => place,
                None => match self.line_up_in_workspace(target) {
                    Some(place) => place,
                    None => return Err(turned.until),
                },
            };
            let freed = tokio::time::timeout_at(deadline, place.place_freed.notified()).await;
            if freed.is_err() {
                drop(place);
                return self.enter(target, now(), timeout, turned_away);
            }
            in_workspace_line = Some(place);
            turned = match self.try_enter(target, now(), timeout, turned_away) {
                Ok(permit) => return Ok(permit),
                Err(turned) => turned,
            };
        }
    }

    /// Waits in a destination's line, holding places in the tenants' shares, until admitted
    /// there, turned away for longer, or `deadline`.
    async fn wait_in_line<'a>(
        &'a self,
        mut waiter: Waiter<'a>,
        deadline: tokio::time::Instant,
        now: impl Fn() -> OffsetDateTime,
        timeout: Duration,
        turned_away: u32,
    ) -> Result<Permit<'a>, OffsetDateTime> {
        loop {
            let freed = tokio::time::timeout_at(deadline, waiter.place_freed.notified()).await;
            if freed.is_err() {
                let target = waiter.target;
                drop(waiter);
                return self.enter(target, now(), timeout, turned_away);
            }
            match waiter.admit(now(), timeout) {
                Admitted::Yes(permit) => return Ok(permit),
                Admitted::NotYet => {}
                Admitted::No(until) => return Err(until),
            }
        }
    }

    /// A place in `target`'s workspace's waiting line, if it has room.
    fn line_up_in_workspace(&self, target: Target) -> Option<WorkspacePlace<'_>> {
        let place_freed = self.with(|state| {
            state
                .waiting_in_workspace
                .join(target.workspace, WAITING_PER_WORKSPACE)
        })?;
        Some(WorkspacePlace {
            protection: self,
            workspace: target.workspace,
            place_freed,
        })
    }

    /// A place in `target`'s destination's waiting line, if it has room and the target's
    /// workspace and organization have a place in their shares to hold.
    fn wait_at(&self, target: Target) -> Option<Waiter<'_>> {
        let (hold, place_freed) = self.with(|state| {
            let place_freed = state
                .waiting
                .join(target.connection, WAITING_PER_DESTINATION)?;
            match state.in_flight.hold(target) {
                Ok(hold) => Some((hold, place_freed)),
                Err(_) => {
                    state.waiting.leave(target.connection);
                    None
                }
            }
        })?;
        Some(Waiter {
            protection: self,
            target,
            place_freed,
            hold: Some(hold),
        })
    }

    fn try_enter(
        &self,
        target: Target,
        now: OffsetDateTime,
        timeout: Duration,
        turned_away: u32,
    ) -> Result<Permit<'_>, TurnedAway> {
        let slot = self.with(|state| {
            let slot = state
                .in_flight
                .admit(target, now, timeout)
                .map_err(|refusal| {
                    tracing::debug!(?refusal, "over a share or hanging; attempt deferred");
                    let later = |until| TurnedAway {
                        until,
                        place_soon: None,
                    };
                    let soon = |line| TurnedAway {
                        until: now + BUSY_RETRY,
                        place_soon: Some(line),
                    };
                    match refusal {
                        Refusal::Hanging { until } => later(until),
                        Refusal::Destination { oldest_started }
                            if now - oldest_started >= BUSY_RETRY =>
                        {
                            later(now + busy_retry(turned_away, rand::random()))
                        }
                        Refusal::Destination { .. } => soon(Line::Destination),
                        Refusal::Workspace {
                            oldest_started: Some(oldest_started),
                        } if now - oldest_started >= BUSY_RETRY => later(now + BUSY_RETRY),
                        Refusal::Workspace { .. } => soon(Line::Workspace),
                        Refusal::Organization => later(now + BUSY_RETRY),
                    }
                })?;
            self.past_the_breaker(state, slot, now)
                .map_err(|until| TurnedAway {
                    until,
                    place_soon: None,
                })
        })?;
        Ok(Permit {
            protection: self,
            slot: Some(slot),
        })
    }

    /// The breaker last: a probe it grants is then surely made. A slot it refuses is given
    /// back, with until when to defer the attempt.
    fn past_the_breaker(
        &self,
        state: &mut State,
        slot: Slot,
        now: OffsetDateTime,
    ) -> Result<Slot, OffsetDateTime> {
        let breaker = state
            .breakers
            .entry(slot.target().connection)
            .or_insert_with(|| CircuitBreaker::new(self.policy));
        match breaker.admit(now) {
            Admission::Go | Admission::Probe => Ok(slot),
            Admission::WaitUntil(until) => {
                state.in_flight.release(slot);
                Err(until)
            }
        }
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
            let Target {
                connection,
                workspace,
                ..
            } = slot.target();
            self.protection.with(|state| {
                state.in_flight.release(slot);
                state.waiting.wake_next(connection);
                state.waiting_in_workspace.wake_next(workspace);
            });
        }
    }
}

/// An attempt in a destination's waiting line, holding its place in its tenants' shares;
/// leaves the line (giving back the hold, if unused) when dropped — admitted, timed out or
/// cancelled alike.
struct Waiter<'a> {
    protection: &'a Protection,
    target: Target,
    place_freed: Arc<Notify>,
    hold: Option<Hold>,
}

/// What a woken waiter found.
enum Admitted<'a> {
    Yes(Permit<'a>),
    /// Its destination's share is full again: wait on.
    NotYet,
    /// Turned away for longer (the destination hangs, or its breaker opened): defer until then.
    No(OffsetDateTime),
}

impl<'a> Waiter<'a> {
    fn admit(&mut self, now: OffsetDateTime, timeout: Duration) -> Admitted<'a> {
        let protection = self.protection;
        let Some(hold) = self.hold.take() else {
            return Admitted::No(now);
        };
        protection.with(
            |state| match state.in_flight.admit_held(hold, now, timeout) {
                Ok(slot) => match protection.past_the_breaker(state, slot, now) {
                    Ok(slot) => Admitted::Yes(Permit {
                        protection,
                        slot: Some(slot),
                    }),
                    Err(until) => Admitted::No(until),
                },
                Err((hold, Refusal::Destination { .. })) => {
                    self.hold = Some(hold);
                    Admitted::NotYet
                }
                Err((hold, refusal)) => {
                    state.in_flight.release_hold(hold);
                    Admitted::No(match refusal {
                        Refusal::Hanging { until } => until,
                        _ => now + BUSY_RETRY,
                    })
                }
            },
        )
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.protection.with(|state| {
            if let Some(hold) = self.hold.take() {
                state.in_flight.release_hold(hold);
                state.waiting_in_workspace.wake_next(self.target.workspace);
            }
            state.waiting.leave(self.target.connection);
        });
    }
}

/// An attempt in its workspace's waiting line. It holds no place in any share; leaving the
/// line (admitted, timed out or cancelled alike), it passes a wake-up it did not use on to
/// the next in line while the workspace has a place free.
struct WorkspacePlace<'a> {
    protection: &'a Protection,
    workspace: WorkspaceId,
    place_freed: Arc<Notify>,
}

impl Drop for WorkspacePlace<'_> {
    fn drop(&mut self) {
        self.protection.with(|state| {
            let left = state.waiting_in_workspace.leave(self.workspace);
            if left > 0 && state.in_flight.workspace_has_room(self.workspace) {
                state.waiting_in_workspace.wake_next(self.workspace);
            }
        });
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

    fn one_per_destination() -> Protection {
        Protection::new(
            BreakerPolicy::default(),
            Shares {
                per_destination: 1,
                ..Shares::default()
            },
        )
    }

    #[tokio::test]
    async fn over_a_fast_destinations_share_an_attempt_takes_the_next_freed_place() {
        let protection = one_per_destination();
        let to = target();
        let running = protection.enter(to, t(0), T, 0).unwrap();
        let (waited, ()) = tokio::join!(protection.enter_waiting(to, || t(0), T, 0), async {
            // Frees the place once the other attempt is in the line.
            while protection.with(|s| s.waiting.len_of(to.connection)) != 1 {
                tokio::task::yield_now().await;
            }
            drop(running);
        });
        assert!(waited.is_ok(), "admitted in the freed place");
        assert!(
            protection.with(|s| s.waiting.is_empty()),
            "the line is left"
        );
    }

    #[tokio::test]
    async fn over_a_slow_destinations_share_an_attempt_is_deferred_at_once() {
        let protection = one_per_destination();
        let to = target();
        let _running = protection.enter(to, t(0), T, 0).unwrap();
        // The attempt in flight started a second ago: places there free slowly.
        let turned = protection.enter_waiting(to, || t(1), T, 0).await;
        assert!(turned.is_err());
        assert!(protection.with(|s| s.waiting.is_empty()), "nobody waited");
    }

    #[test]
    fn a_destinations_waiting_line_holds_a_shares_worth() {
        let protection = one_per_destination();
        let to = target();
        let line: Vec<_> = (0..WAITING_PER_DESTINATION)
            .map(|_| protection.wait_at(to).expect("room"))
            .collect();
        assert!(protection.wait_at(to).is_none(), "full");
        assert!(protection.wait_at(target()).is_some(), "per destination");
        drop(line);
        assert!(protection.wait_at(to).is_some());
    }

    #[tokio::test]
    async fn waiting_attempts_hold_their_places_in_the_tenants_shares() {
        let protection = Protection::new(
            BreakerPolicy::default(),
            Shares {
                per_destination: 1,
                per_workspace: 2,
                per_organization: 2,
                ..Shares::default()
            },
        );
        let to = target();
        let running = protection.enter(to, t(0), T, 0).unwrap();
        let waiter = protection
            .wait_at(to)
            .expect("the workspace has a place to hold");
        let sibling = Target {
            connection: ConnectionId::new(),
            ..to
        };
        assert!(
            protection.enter(sibling, t(0), T, 0).is_err(),
            "the workspace's share is running or waiting"
        );
        assert!(
            protection.enter(target(), t(0), T, 0).is_ok(),
            "another tenant is not crowded out"
        );
        drop(waiter);
        drop(running);
        assert!(protection.enter(sibling, t(0), T, 0).is_ok());
        assert!(protection.with(|s| s.waiting.is_empty()));
    }

    /// A workspace of two places, its destinations one each: the workspace's share binds
    /// before a destination's.
    fn two_per_workspace() -> Protection {
        Protection::new(
            BreakerPolicy::default(),
            Shares {
                per_destination: 1,
                per_workspace: 2,
                per_organization: 3,
                ..Shares::default()
            },
        )
    }

    fn beside(to: Target) -> Target {
        Target {
            connection: ConnectionId::new(),
            ..to
        }
    }

    fn in_workspace_line(protection: &Protection, to: Target) -> usize {
        protection.with(|s| s.waiting_in_workspace.len_of(to.workspace))
    }

    #[tokio::test]
    async fn over_a_quick_workspaces_share_an_attempt_takes_the_next_freed_place() {
        let protection = two_per_workspace();
        let to = target();
        let first = protection.enter(to, t(0), T, 0).unwrap();
        let _second = protection.enter(beside(to), t(0), T, 0).unwrap();
        let third = beside(to);
        let (waited, ()) = tokio::join!(protection.enter_waiting(third, || t(0), T, 0), async {
            while in_workspace_line(&protection, to) != 1 {
                tokio::task::yield_now().await;
            }
            drop(first);
        });
        assert!(
            waited.is_ok(),
            "admitted in the place freed in its workspace"
        );
        assert!(
            protection.with(|s| s.waiting_in_workspace.is_empty()),
            "the line is left"
        );
    }

    #[tokio::test]
    async fn over_a_slow_workspaces_share_an_attempt_is_deferred_at_once() {
        let protection = two_per_workspace();
        let to = target();
        let _first = protection.enter(to, t(0), T, 0).unwrap();
        let _second = protection.enter(beside(to), t(0), T, 0).unwrap();
        // Its workspace's attempts have run a second: its places free slowly.
        let turned = protection.enter_waiting(beside(to), || t(1), T, 0).await;
        assert_eq!(turned.err(), Some(t(1) + BUSY_RETRY));
        assert_eq!(in_workspace_line(&protection, to), 0, "nobody waited");
    }

    #[tokio::test]
    async fn waiting_in_a_workspaces_line_holds_no_place_another_workspace_needs() {
        let protection = two_per_workspace();
        let to = target();
        let _first = protection.enter(to, t(0), T, 0).unwrap();
        let _second = protection.enter(beside(to), t(0), T, 0).unwrap();
        let waiting = protection.line_up_in_workspace(to).expect("room");
        let sibling_workspace = Target {
            workspace: WorkspaceId::new(),
            ..beside(to)
        };
        assert!(
            protection.enter(sibling_workspace, t(0), T, 0).is_ok(),
            "the organization's third place is not held by the waiting attempt"
        );
        drop(waiting);
        assert!(protection.with(|s| s.waiting_in_workspace.is_empty()));
    }

    #[test]
    fn a_workspaces_waiting_line_holds_a_bounded_number() {
        let protection = two_per_workspace();
        let to = target();
        let line: Vec<_> = (0..WAITING_PER_WORKSPACE)
            .map(|_| protection.line_up_in_workspace(to).expect("room"))
            .collect();
        assert!(protection.line_up_in_workspace(to).is_none(), "full");
        let other = target();
        assert!(
            protection.line_up_in_workspace(other).is_some(),
            "per workspace"
        );
        drop(line);
        assert!(protection.line_up_in_workspace(to).is_some());
    }

    #[tokio::test]
    async fn with_its_destinations_line_full_an_attempt_waits_in_its_workspaces() {
        let protection = one_per_destination();
        let to = target();
        let running = protection.enter(to, t(0), T, 0).unwrap();
        let line: Vec<_> = (0..WAITING_PER_DESTINATION)
            .map(|_| protection.wait_at(to).expect("room"))
            .collect();
        let (waited, ()) = tokio::join!(protection.enter_waiting(to, || t(0), T, 0), async {
            while in_workspace_line(&protection, to) != 1 {
                tokio::task::yield_now().await;
            }
            // The destination's line moves up: a place in it is free, and the workspace's
            // line is woken as the running attempt's place frees.
            drop(line);
            drop(running);
        });
        assert!(waited.is_ok(), "admitted once its destination had a place");
        assert!(protection.with(|s| s.waiting_in_workspace.is_empty()));
    }

    /// Real time: the line's quarter second passes with no place freed.
    #[tokio::test]
    async fn a_workspaces_line_gives_up_after_a_quarter_second() {
        let protection = two_per_workspace();
        let to = target();
        let _first = protection.enter(to, t(0), T, 0).unwrap();
        let _second = protection.enter(beside(to), t(0), T, 0).unwrap();
        let turned = protection.enter_waiting(beside(to), || t(0), T, 0).await;
        assert_eq!(turned.err(), Some(t(0) + BUSY_RETRY), "deferred as before");
        assert_eq!(in_workspace_line(&protection, to), 0);
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
