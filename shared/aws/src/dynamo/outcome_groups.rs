//! Which successful first attempts of one event a delivery function's instance writes together.
//! The router enqueues an event's deliveries side by side, so a batch often holds several of
//! them, attempted concurrently; the outcomes of those that succeed wait for the others still
//! running here and go out in one update of the event's outcomes item (`outcomes.rs`) — one
//! write unit where each delivery's item cost one. Nothing waits on another batch or another
//! event, the HTTP calls are never delayed (only their record), and a sibling that never ends
//! (its attempt failed before recording) holds the group at most [`LONGEST_WAIT`]. The Lambda
//! invocation lasts until its slowest record anyway, so the wait is not billed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use switchyard_core::{EventId, OrgId, StoreError};
use tokio::sync::oneshot;

/// The longest an outcome waits for its event's other first attempts.
pub(crate) const LONGEST_WAIT: Duration = Duration::from_secs(1);

/// Groups kept past this many are dropped when nothing waits in them: only attempts that
/// failed before recording leave a group behind.
const MOST_GROUPS: usize = 1024;

pub(crate) type GroupKey = (OrgId, EventId);

/// An outcome waiting for its group's write, and where to answer.
pub(crate) struct Waiting {
    pub(crate) attribute: (String, AttributeValue),
    pub(crate) ttl: i64,
    /// Whether the group was written (`false`: too large for one item, nothing written).
    pub(crate) answer: oneshot::Sender<Result<bool, StoreError>>,
}

/// What a joining outcome sets off.
pub(crate) enum Joined {
    /// It was the last one running: write the group now.
    Write(Vec<Waiting>),
    /// It opened the group: write whatever waits after [`LONGEST_WAIT`].
    StartClock,
    /// Others run on; one of them, or the clock, writes it.
    Wait,
}

#[derive(Default)]
struct Group {
    /// First attempts of the event begun here and not yet ended.
    running: usize,
    waiting: Vec<Waiting>,
}

#[derive(Default)]
pub(crate) struct OutcomeGroups {
    groups: Mutex<HashMap<GroupKey, Group>>,
}

impl OutcomeGroups {
    /// A first attempt of the event begins.
    pub(crate) fn started(&self, key: GroupKey) {
        let mut groups = self.groups.lock().expect("outcome groups");
        if groups.len() >= MOST_GROUPS {
            groups.retain(|_, g| !g.waiting.is_empty());
        }
        groups.entry(key).or_default().running += 1;
    }

    /// A first attempt of the event ended with nothing to write here (it did not succeed):
    /// what waited only for it is due.
    pub(crate) fn ended(&self, key: GroupKey) -> Vec<Waiting> {
        let mut groups = self.groups.lock().expect("outcome groups");
        let Some(group) = groups.get_mut(&key) else {
            return Vec::new();
        };
        group.running = group.running.saturating_sub(1);
        if group.running > 0 {
            return Vec::new();
        }
        groups.remove(&key).map(|g| g.waiting).unwrap_or_default()
    }

    /// A first attempt of the event succeeded: its outcome joins the group.
    pub(crate) fn join(&self, key: GroupKey, waiting: Waiting) -> Joined {
        let mut groups = self.groups.lock().expect("outcome groups");
        let group = groups.entry(key).or_default();
        group.running = group.running.saturating_sub(1);
        group.waiting.push(waiting);
        if group.running == 0 {
            return Joined::Write(groups.remove(&key).map(|g| g.waiting).unwrap_or_default());
        }
        if group.waiting.len() == 1 {
            Joined::StartClock
        } else {
            Joined::Wait
        }
    }

    /// The clock ran out: whatever waits is due, and the group is forgotten (a sibling that
    /// ends later writes its own).
    pub(crate) fn due(&self, key: GroupKey) -> Vec<Waiting> {
        let mut groups = self.groups.lock().expect("outcome groups");
        groups.remove(&key).map(|g| g.waiting).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(name: &str) -> (Waiting, oneshot::Receiver<Result<bool, StoreError>>) {
        let (answer, rx) = oneshot::channel();
        let attribute = (name.to_owned(), AttributeValue::Null(true));
        (
            Waiting {
                attribute,
                ttl: 0,
                answer,
            },
            rx,
        )
    }

    fn names(w: &[Waiting]) -> Vec<&str> {
        w.iter().map(|w| w.attribute.0.as_str()).collect()
    }

    #[test]
    fn the_last_of_an_events_running_attempts_writes_them_all() {
        let groups = OutcomeGroups::default();
        let key = (OrgId::new(), EventId::new());
        for _ in 0..3 {
            groups.started(key);
        }
        assert!(matches!(
            groups.join(key, waiting("a").0),
            Joined::StartClock
        ));
        assert!(matches!(groups.join(key, waiting("b").0), Joined::Wait));
        let Joined::Write(due) = groups.join(key, waiting("c").0) else {
            panic!("the last one writes");
        };
        assert_eq!(names(&due), ["a", "b", "c"]);
        assert!(groups.due(key).is_empty(), "the group is gone");
    }

    /// Two first attempts of one event running, and one of them done: `a` waits.
    fn one_waiting_one_running() -> (OutcomeGroups, GroupKey) {
        let groups = OutcomeGroups::default();
        let key = (OrgId::new(), EventId::new());
        groups.started(key);
        groups.started(key);
        assert!(matches!(
            groups.join(key, waiting("a").0),
            Joined::StartClock
        ));
        (groups, key)
    }

    #[test]
    fn a_failed_sibling_releases_the_group_and_a_lone_outcome_writes_at_once() {
        let (groups, key) = one_waiting_one_running();
        assert_eq!(names(&groups.ended(key)), ["a"]);

        // Never begun here (a test's direct call): nothing to wait for.
        let other = (OrgId::new(), EventId::new());
        assert!(matches!(groups.join(other, waiting("b").0), Joined::Write(w) if w.len() == 1));
    }

    #[test]
    fn the_clock_takes_what_waits_and_a_later_sibling_writes_alone() {
        let (groups, key) = one_waiting_one_running();
        assert_eq!(names(&groups.due(key)), ["a"]);
        assert!(matches!(groups.join(key, waiting("b").0), Joined::Write(w) if w.len() == 1));
    }
}
