//! The hot path's per-process cache of keys, rules and connections: every ingest reads its
//! publishable key, every routing its event type's active rules, and every attempt its rule
//! and its connection, which change rarely. An entry serves only while no write through
//! this process's [`Db::call`](crate::Db::call) has committed since it was read (every write to
//! rules and connections goes there, so a change made through this process is seen at once),
//! and for at most [`TTL`] — the bound on how long a change made by another process sharing
//! the file (an operator command) can go unseen.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use switchyard_core::domain::{Connection, PublishableKey, Rule};
use switchyard_core::{ConnectionId, OrgId, RuleId, WorkspaceId};

/// The longest a cached entry is used: how stale another process's change can be.
pub(super) const TTL: Duration = Duration::from_secs(1);
/// Entries kept per kind before the cache starts over (a bound on memory).
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub(super) struct Caches {
    pub rules: Cache<(OrgId, RuleId), Rule>,
    /// A workspace's active rules for an event type, as routing reads them.
    pub active_rules: Cache<(OrgId, WorkspaceId, String), Vec<Rule>>,
    /// Publishable keys by their hash, as ingest finds its caller.
    pub publishable_keys: Cache<String, PublishableKey>,
    pub connections: Cache<(OrgId, ConnectionId), Connection>,
}

pub(super) struct Cache<K, V> {
    entries: Mutex<HashMap<K, Entry<V>>>,
}

struct Entry<V> {
    value: V,
    /// The database's write generation when the value was read.
    generation: u64,
    read_at: Instant,
}

impl<K, V> Default for Cache<K, V> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V: Clone> Cache<K, V> {
    /// The value read at `generation` (the current one), if read within [`TTL`].
    pub fn get<Q>(&self, key: &Q, generation: u64) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|e| e.generation == generation && e.read_at.elapsed() < TTL)
            .map(|e| e.value.clone())
    }

    /// Keeps `value`, read at `generation` (taken before the read began: a write that
    /// committed during the read makes the entry stale at once).
    pub fn put(&self, key: K, value: V, generation: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                value,
                generation,
                read_at: Instant::now(),
            },
        );
    }
}
