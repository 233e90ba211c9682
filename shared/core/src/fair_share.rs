//! Fair shares of a process's delivery slots: how many attempts one destination, one workspace
//! and one organization may have in flight at once, and when a destination counts as hanging.
//! A tenant whose endpoint is slow, or accepts and never answers, then holds only its own
//! share, and every other tenant keeps the rest. Pure: the caller keeps the state and passes
//! the time; an attempt refused here is deferred by the caller, not failed.

use std::collections::HashMap;
use std::time::Duration;

use time::OffsetDateTime;

use crate::{ConnectionId, OrgId, WorkspaceId};

/// Where an attempt goes: the keys its shares are counted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    pub org: OrgId,
    pub workspace: WorkspaceId,
    pub connection: ConnectionId,
}

/// The most attempts in flight at once, per key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shares {
    pub per_destination: usize,
    pub per_workspace: usize,
    pub per_organization: usize,
    /// An attempt in flight this long marks its destination as hanging: no more attempts go to
    /// it until one of those in flight ends.
    pub slow_after: Duration,
}

/// Attempts one destination may have in flight at once.
pub const DEFAULT_PER_DESTINATION: usize = 16;
/// In flight longer than this, an attempt's destination counts as hanging.
pub const DEFAULT_SLOW_AFTER: Duration = Duration::from_secs(5);

impl Default for Shares {
    /// Per destination only: where the process does not bound its slots itself (a Lambda
    /// invocation sees one batch of ten), only a destination's cap and the hang rule apply.
    fn default() -> Self {
        Self {
            per_destination: DEFAULT_PER_DESTINATION,
            per_workspace: usize::MAX,
            per_organization: usize::MAX,
            slow_after: DEFAULT_SLOW_AFTER,
        }
    }
}

impl Shares {
    /// The shares of `slots` attempts in flight: a workspace at most half of them, an
    /// organization at most three quarters (so two other tenants always find a quarter each
    /// free), a destination at most [`DEFAULT_PER_DESTINATION`] and never more than its
    /// workspace. At least one each.
    pub fn of(slots: usize) -> Self {
        let per_workspace = (slots / 2).max(1);
        Self {
            per_destination: DEFAULT_PER_DESTINATION.min(per_workspace),
            per_workspace,
            per_organization: (slots * 3 / 4).max(1),
            slow_after: DEFAULT_SLOW_AFTER,
        }
    }
}

/// Why an attempt may not start now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Its destination has its share in flight, the longest running since `oldest_started`
    /// (how slow the destination is: a place frees soon where that is a moment ago).
    Destination { oldest_started: OffsetDateTime },
    /// Its workspace has its share in flight (running, or holding places to wait at a
    /// destination), the longest running since `oldest_started` — `None` when all of them
    /// are waiting, which they do briefly.
    Workspace {
        oldest_started: Option<OffsetDateTime>,
    },
    /// Its organization has its share in flight.
    Organization,
    /// An attempt to its destination has been in flight longer than `slow_after`: wait until
    /// the first of those in flight there must have ended (its deadline), when a place is free
    /// and the breaker has heard how it went.
    Hanging { until: OffsetDateTime },
}

/// The soonest a refused attempt looks again after a hang.
const HANG_RECHECK: Duration = Duration::from_secs(1);

/// An admitted attempt's place; give it back with [`InFlight::release`].
#[derive(Debug, PartialEq, Eq)]
pub struct Slot {
    id: u64,
    target: Target,
}

impl Slot {
    pub fn target(&self) -> Target {
        self.target
    }
}

/// A place in a workspace's and an organization's shares held by an attempt that waits for
/// a place at its destination (see [`InFlight::hold`]); give it back with
/// [`InFlight::release_hold`], or turn it into a [`Slot`] with [`InFlight::admit_held`].
#[derive(Debug, PartialEq, Eq)]
pub struct Hold {
    target: Target,
}

#[derive(Debug)]
struct Running {
    id: u64,
    workspace: WorkspaceId,
    started: OffsetDateTime,
    /// When it ends at the latest (its timeout).
    deadline: OffsetDateTime,
}

/// The attempts in flight, counted by destination, workspace and organization.
#[derive(Debug, Default)]
pub struct InFlight {
    shares: Shares,
    next_id: u64,
    /// Per destination: each attempt in flight (at most `per_destination`).
    destinations: HashMap<ConnectionId, Vec<Running>>,
    workspaces: HashMap<WorkspaceId, usize>,
    organizations: HashMap<OrgId, usize>,
}

impl InFlight {
    pub fn new(shares: Shares) -> Self {
        Self {
            shares,
            ..Self::default()
        }
    }

    pub fn shares(&self) -> Shares {
        self.shares
    }

    /// Admits an attempt to `target` starting `now` and ending by `timeout` at the latest, or
    /// says why it must wait.
    pub fn admit(
        &mut self,
        target: Target,
        now: OffsetDateTime,
        timeout: Duration,
    ) -> Result<Slot, Refusal> {
        self.check_destination(&target, now)?;
        let hold = self.hold(target)?;
        Ok(self.start(hold, now, timeout))
    }

    /// Holds a place in `target`'s workspace and organization shares — not at its destination
    /// — for an attempt that waits for a place there: in the tenants' shares, the waiting
    /// count as much as the running, so they never crowd out another tenant's attempts.
    pub fn hold(&mut self, target: Target) -> Result<Hold, Refusal> {
        if count(&self.workspaces, &target.workspace) >= self.shares.per_workspace {
            return Err(Refusal::Workspace {
                oldest_started: self.oldest_started_in(target.workspace),
            });
        }
        if count(&self.organizations, &target.org) >= self.shares.per_organization {
            return Err(Refusal::Organization);
        }
        *self.workspaces.entry(target.workspace).or_default() += 1;
        *self.organizations.entry(target.org).or_default() += 1;
        Ok(Hold { target })
    }

    /// Admits the attempt holding `hold` at its destination, or gives the hold back with why
    /// it must wait there still.
    pub fn admit_held(
        &mut self,
        hold: Hold,
        now: OffsetDateTime,
        timeout: Duration,
    ) -> Result<Slot, (Hold, Refusal)> {
        match self.check_destination(&hold.target, now) {
            Ok(()) => Ok(self.start(hold, now, timeout)),
            Err(refusal) => Err((hold, refusal)),
        }
    }

    /// Starts the attempt holding `hold` at its destination.
    fn start(&mut self, hold: Hold, now: OffsetDateTime, timeout: Duration) -> Slot {
        self.next_id += 1;
        let id = self.next_id;
        self.destinations
            .entry(hold.target.connection)
            .or_default()
            .push(Running {
                id,
                workspace: hold.target.workspace,
                started: now,
                deadline: now + timeout,
            });
        Slot {
            id,
            target: hold.target,
        }
    }

    /// When the longest running of `workspace`'s attempts started. A scan of every attempt
    /// in flight (a process's slots, 64), made only when the workspace's share is full.
    fn oldest_started_in(&self, workspace: WorkspaceId) -> Option<OffsetDateTime> {
        self.destinations
            .values()
            .flatten()
            .filter(|r| r.workspace == workspace)
            .map(|r| r.started)
            .min()
    }

    /// Gives a hold back unused.
    pub fn release_hold(&mut self, hold: Hold) {
        decrement(&mut self.workspaces, hold.target.workspace);
        decrement(&mut self.organizations, hold.target.org);
    }

    /// Whether `target`'s destination has a place for an attempt starting `now`.
    fn check_destination(&self, target: &Target, now: OffsetDateTime) -> Result<(), Refusal> {
        let running = self
            .destinations
            .get(&target.connection)
            .map_or(&[][..], Vec::as_slice);
        if running
            .iter()
            .any(|r| now - r.started >= self.shares.slow_after)
        {
            let first_end = running.iter().map(|r| r.deadline).min().unwrap_or(now);
            return Err(Refusal::Hanging {
                until: first_end.max(now + HANG_RECHECK),
            });
        }
        if running.len() >= self.shares.per_destination {
            let oldest_started = running.iter().map(|r| r.started).min().unwrap_or(now);
            return Err(Refusal::Destination { oldest_started });
        }
        Ok(())
    }

    /// Corrects when an admitted attempt ends at the latest, once its own timeout is known.
    pub fn ends_by(&mut self, slot: &Slot, deadline: OffsetDateTime) {
        if let Some(running) = self.destinations.get_mut(&slot.target.connection)
            && let Some(r) = running.iter_mut().find(|r| r.id == slot.id)
        {
            r.deadline = deadline;
        }
    }

    /// Gives an admitted attempt's place back, whenever it ended.
    pub fn release(&mut self, slot: Slot) {
        let Target {
            org,
            workspace,
            connection,
        } = slot.target;
        if let Some(running) = self.destinations.get_mut(&connection) {
            running.retain(|r| r.id != slot.id);
            if running.is_empty() {
                self.destinations.remove(&connection);
            }
        }
        decrement(&mut self.workspaces, workspace);
        decrement(&mut self.organizations, org);
    }

    /// Whether `workspace`'s share has a place free (its organization's may still be full).
    pub fn workspace_has_room(&self, workspace: WorkspaceId) -> bool {
        count(&self.workspaces, &workspace) < self.shares.per_workspace
    }

    /// Attempts in flight to a destination, a workspace and an organization.
    pub fn counts(&self, target: &Target) -> (usize, usize, usize) {
        (
            self.destinations
                .get(&target.connection)
                .map_or(0, Vec::len),
            count(&self.workspaces, &target.workspace),
            count(&self.organizations, &target.org),
        )
    }
}

fn count<K: std::hash::Hash + Eq>(map: &HashMap<K, usize>, key: &K) -> usize {
    map.get(key).copied().unwrap_or(0)
}

fn decrement<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: K) {
    if let Some(n) = map.get_mut(&key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            map.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The attempts' timeout.
    const T: Duration = Duration::from_secs(30);

    fn t(ms: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
            + Duration::from_millis(ms as u64)
    }

    fn target(org: OrgId, workspace: WorkspaceId) -> Target {
        Target {
            org,
            workspace,
            connection: ConnectionId::new(),
        }
    }

    fn fill(slots: &mut InFlight, to: impl Fn() -> Target, n: usize) -> Vec<Slot> {
        (0..n)
            .map(|_| slots.admit(to(), t(0), T).unwrap())
            .collect()
    }

    #[test]
    fn shares_of_sixty_four_slots() {
        let s = Shares::of(64);
        assert_eq!(
            (s.per_destination, s.per_workspace, s.per_organization),
            (16, 32, 48)
        );
        let tiny = Shares::of(2);
        assert_eq!(
            (
                tiny.per_destination,
                tiny.per_workspace,
                tiny.per_organization
            ),
            (1, 1, 1)
        );
    }

    #[test]
    fn a_destination_holds_at_most_its_share() {
        let mut slots = InFlight::new(Shares::of(64));
        let one = target(OrgId::new(), WorkspaceId::new());
        let held = fill(&mut slots, || one, 16);
        assert_eq!(
            slots.admit(one, t(0), T),
            Err(Refusal::Destination {
                oldest_started: t(0)
            })
        );
        // Another destination of the same workspace still goes.
        let sibling = Target {
            connection: ConnectionId::new(),
            ..one
        };
        assert!(slots.admit(sibling, t(0), T).is_ok());
        let mut held = held.into_iter();
        slots.release(held.next().unwrap());
        assert!(
            slots.admit(one, t(0), T).is_ok(),
            "a place given back is free"
        );
    }

    #[test]
    fn a_workspace_holds_at_most_half_and_an_organization_three_quarters() {
        let mut slots = InFlight::new(Shares::of(64));
        let (org, ws) = (OrgId::new(), WorkspaceId::new());
        fill(&mut slots, || target(org, ws), 32);
        assert_eq!(
            slots.admit(target(org, ws), t(0), T),
            Err(Refusal::Workspace {
                oldest_started: Some(t(0))
            })
        );
        let ws2 = WorkspaceId::new();
        fill(&mut slots, || target(org, ws2), 16);
        assert_eq!(
            slots.admit(target(org, WorkspaceId::new()), t(0), T),
            Err(Refusal::Organization)
        );
        // Another organization finds its share free whatever this one holds.
        let other = OrgId::new();
        fill(&mut slots, || target(other, WorkspaceId::new()), 16);
        assert_eq!(slots.counts(&target(org, ws)), (0, 32, 48));
    }

    #[test]
    fn a_destination_with_an_attempt_in_flight_too_long_is_hanging_until_it_ends() {
        let mut slots = InFlight::new(Shares::of(64));
        let to = target(OrgId::new(), WorkspaceId::new());
        let stuck = slots.admit(to, t(0), T).unwrap();
        let quick = slots.admit(to, t(4_000), T).unwrap();
        slots.release(quick);
        assert!(slots.admit(to, t(4_999), T).is_ok(), "not slow yet");
        assert_eq!(
            slots.admit(to, t(5_000), T),
            Err(Refusal::Hanging { until: t(30_000) }),
            "until the stuck attempt's timeout at the latest"
        );
        // Its own timeout was shorter than assumed at admission.
        slots.ends_by(&stuck, t(10_000));
        assert_eq!(
            slots.admit(to, t(5_000), T),
            Err(Refusal::Hanging { until: t(10_000) })
        );
        // Other destinations of the same tenant are not affected.
        let sibling = Target {
            connection: ConnectionId::new(),
            ..to
        };
        assert!(slots.admit(sibling, t(5_000), T).is_ok());
        slots.release(stuck);
        let (in_flight, ..) = slots.counts(&to);
        assert_eq!(in_flight, 1, "the attempt admitted at 4.999 s");
    }

    #[test]
    fn released_places_leave_no_counts_behind() {
        let mut slots = InFlight::new(Shares::of(8));
        let to = target(OrgId::new(), WorkspaceId::new());
        let held = fill(&mut slots, || to, 4);
        for slot in held {
            slots.release(slot);
        }
        assert_eq!(slots.counts(&to), (0, 0, 0));
        assert!(slots.destinations.is_empty() && slots.workspaces.is_empty());
    }

    #[test]
    fn a_held_place_counts_in_the_tenants_shares_until_it_starts_or_is_given_back() {
        let mut slots = InFlight::new(Shares {
            per_destination: 1,
            per_workspace: 2,
            per_organization: 2,
            ..Shares::default()
        });
        let to = target(OrgId::new(), WorkspaceId::new());
        let running = slots.admit(to, t(0), T).unwrap();
        let hold = slots.hold(to).expect("the workspace has a second place");
        let sibling = Target {
            connection: ConnectionId::new(),
            ..to
        };
        assert_eq!(
            slots.admit(sibling, t(0), T),
            Err(Refusal::Workspace {
                oldest_started: Some(t(0))
            }),
            "the running attempt's start: the held place has none"
        );
        let (hold, refusal) = slots.admit_held(hold, t(0), T).unwrap_err();
        assert!(matches!(refusal, Refusal::Destination { .. }));
        slots.release(running);
        let started = slots.admit_held(hold, t(1), T).expect("the freed place");
        assert_eq!(slots.counts(&to), (1, 1, 1), "held and started count once");
        slots.release(started);
        let hold = slots.hold(to).unwrap();
        slots.release_hold(hold);
        assert_eq!(slots.counts(&to), (0, 0, 0));
        assert!(slots.workspaces.is_empty() && slots.organizations.is_empty());
    }

    #[test]
    fn a_full_workspace_says_since_when_its_oldest_attempt_runs() {
        let mut slots = InFlight::new(Shares {
            per_destination: 2,
            per_workspace: 3,
            per_organization: 8,
            ..Shares::default()
        });
        let (org, ws) = (OrgId::new(), WorkspaceId::new());
        let to = target(org, ws);
        // Another workspace's older attempt does not count.
        let _elsewhere = slots
            .admit(target(org, WorkspaceId::new()), t(0), T)
            .unwrap();
        let _one = slots.admit(to, t(5), T).unwrap();
        let _two = slots.admit(target(org, ws), t(7), T).unwrap();
        let _held = slots.hold(target(org, ws)).unwrap();
        assert_eq!(
            slots.admit(target(org, ws), t(9), T),
            Err(Refusal::Workspace {
                oldest_started: Some(t(5))
            })
        );
        let mut only_held = InFlight::new(Shares {
            per_workspace: 1,
            ..Shares::default()
        });
        let _held = only_held.hold(to).unwrap();
        assert_eq!(
            only_held.admit(target(org, ws), t(9), T),
            Err(Refusal::Workspace {
                oldest_started: None
            }),
            "a place held by a waiting attempt has no start"
        );
    }

    #[test]
    fn by_default_only_the_destination_is_bounded() {
        let mut slots = InFlight::new(Shares::default());
        let (org, ws) = (OrgId::new(), WorkspaceId::new());
        fill(&mut slots, || target(org, ws), 200);
        assert_eq!(slots.counts(&target(org, ws)).1, 200);
    }
}
