//! The last listing of each connection's destination fields, kept a few minutes so that
//! opening a rule editor does not call the provider every time. Keyed by the connection and its
//! `updated_at`, so an edited connection is listed afresh; bounded in entries.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use switchyard_core::ConnectionId;
use time::OffsetDateTime;

const TTL: Duration = Duration::from_secs(5 * 60);
const MAX_ENTRIES: usize = 1024;

type Key = (ConnectionId, OffsetDateTime);

#[derive(Default)]
pub(crate) struct FieldCache {
    entries: Mutex<HashMap<Key, (Instant, Vec<Value>)>>,
}

impl FieldCache {
    pub fn get(&self, key: Key) -> Option<Vec<Value>> {
        let entries = self.entries.lock().expect("field cache lock");
        entries
            .get(&key)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, fields)| fields.clone())
    }

    pub fn put(&self, key: Key, fields: Vec<Value>) {
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
