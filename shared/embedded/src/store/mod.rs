//! The `Store` port over the shared SQLite file.
//!
//! Every tenant read has `org = ?` in its WHERE clause next to the id, so another
//! organization's id reads as absent rather than being filtered after the fact. Writes that
//! must be atomic (deliveries of an event, an attempt and its delivery) run in one transaction.

mod cache;
mod catalog;
mod connections;
mod deliveries;
mod events;
mod intake;
mod key_claims;
mod list;
mod mappings;
mod metering;
#[cfg(test)]
mod query_plans;
mod rows;
mod rules;
mod schema;
mod sessions;
mod tenants;
mod workspaces;

use rusqlite::TransactionBehavior;
use switchyard_core::{OrgId, StoreError};
use time::OffsetDateTime;

use crate::db::Db;
pub(crate) use intake::accept;

/// Organizations, credentials, configuration and delivery history in SQLite.
#[derive(Clone)]
pub struct SqliteStore {
    db: Db,
    /// Rules and connections, as the delivery path reads them (cache.rs).
    cache: std::sync::Arc<cache::Caches>,
}

impl SqliteStore {
    /// Creates the store's tables, or brings an existing file's up to date; its data is kept.
    pub fn open(db: Db) -> Result<Self, StoreError> {
        db.call_sync(|c| Ok(schema::migrate(c)))?
            .map_err(StoreError::Backend)?;
        Ok(Self {
            db,
            cache: Default::default(),
        })
    }

    /// Deletes the history (events, their deliveries and attempts) of events created before
    /// `before`: retention on the embedded runtime. Returns how many events went.
    pub async fn purge_history(&self, before: OffsetDateTime) -> Result<usize, StoreError> {
        self.db
            .call(move |c| metering::purge_history(c, before))
            .await
    }
}

/// Runs `insert` only while `org` has fewer than `limit` rows in `table`: the count and the
/// insert are one IMMEDIATE transaction, so concurrent creates (of any process sharing the
/// file) cannot both see room for one. `false` when at the limit, nothing written.
pub(super) fn within_limit(
    c: &mut rusqlite::Connection,
    table: &'static str,
    org: OrgId,
    limit: u64,
    insert: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<()>,
) -> rusqlite::Result<bool> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let count: u64 = tx
        .prepare_cached(&format!("SELECT COUNT(*) FROM {table} WHERE org = ?1"))?
        .query_row([org.to_string()], |r| r.get(0))?;
    if count >= limit {
        return Ok(false);
    }
    insert(&tx)?;
    tx.commit()?;
    Ok(true)
}
