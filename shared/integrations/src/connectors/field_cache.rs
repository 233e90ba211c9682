//! The last answer of each connection's provider listings (rule targets, field catalog), kept
//! a few minutes so that opening a rule editor or a mapping does not call the provider every
//! time. Keyed by the connection and its `updated_at`, so an edited connection is listed
//! afresh; bounded in entries.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use switchyard_core::ConnectionId;
use time::OffsetDateTime;

const TTL: Duration = Duration::from_secs(5 * 60);
const MAX_ENTRIES: usize = 1024;

type Key = (ConnectionId, OffsetDateTime);

pub(crate) struct FieldCache<V> {
    entries: Mutex<HashMap<Key, (Instant, V)>>,
}

impl<V> Default for FieldCache<V> {
    fn default() -> Self {
        Self {
            entries: Mutex::default(),
        }
    }
}

impl<V: Clone> FieldCache<V> {
    pub fn get(&self, key: Key) -> Option<V> {
        let entries = self.entries.lock().expect("field cache lock");
        entries
            .get(&key)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, fields)| fields.clone())
    }

    pub fn put(&self, key: Key, fields: V) {
        let mut entries = self.entries.lock().expect("field cache lock");
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (at, _)| at.elapsed() < TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), fields));
    }
}
