//! Plan usage: counts of what an organization has, its monthly event counter, and the purge
//! that enforces history retention on the embedded runtime (DynamoDB's TTL does it on AWS).

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use switchyard_core::plan::{Usage, UsagePeriod};
use switchyard_core::ports::Metering;
use switchyard_core::{OrgId, StoreError};
use time::OffsetDateTime;

use super::SqliteStore;
use super::rows::ms;

#[async_trait]
impl Metering for SqliteStore {
    async fn usage(
        &self,
        org: OrgId,
        period: Option<&switchyard_core::plan::UsagePeriod>,
    ) -> Result<switchyard_core::plan::Usage, StoreError> {
        let period = period.cloned();
        self.db.call(move |c| usage(c, org, period.as_ref())).await
    }

    async fn count_events(
        &self,
        org: OrgId,
        period: &str,
        n: u64,
        limit: u64,
    ) -> Result<Option<u64>, StoreError> {
        let period = period.to_owned();
        self.db
            .call(move |c| count_events(c, org, &period, n, limit))
            .await
    }
}

pub(super) fn usage(
    c: &Connection,
    org: OrgId,
    period: Option<&UsagePeriod>,
) -> rusqlite::Result<Usage> {
    let org = org.to_string();
    let count = |sql: &str| -> rusqlite::Result<u64> {
        c.prepare_cached(sql)?.query_row([&org], |r| r.get(0))
    };
    let mut usage = Usage {
        workspaces: count("SELECT COUNT(*) FROM workspaces WHERE org = ?1")?,
        connections: count("SELECT COUNT(*) FROM connections WHERE org = ?1")?,
        rules: count("SELECT COUNT(*) FROM rules WHERE org = ?1")?,
        ..Usage::default()
    };
    if let Some(period) = period {
        usage.events_counted = c
            .prepare_cached("SELECT events FROM usage_counters WHERE org = ?1 AND period = ?2")?
            .query_row(params![org, period.key], |r| r.get(0))
            .optional()?;
        // Ids are UUIDv7, minted as the event is received: the period is an id range, which
        // the (org, id) index reads alone instead of every event the organization holds.
        let from = switchyard_core::v7_floor(period.start)
            .hyphenated()
            .to_string();
        usage.events_stored = c
            .prepare_cached("SELECT COUNT(*) FROM events WHERE org = ?1 AND id >= ?2")?
            .query_row(params![org, from], |r| r.get(0))?;
    }
    Ok(usage)
}

/// One statement, so concurrent ingests cannot both slip under the limit.
pub(super) fn count_events(
    c: &Connection,
    org: OrgId,
    period: &str,
    n: u64,
    limit: u64,
) -> rusqlite::Result<Option<u64>> {
    if n > limit {
        return Ok(None);
    }
    c.prepare_cached(
        "INSERT INTO usage_counters (org, period, events) VALUES (?1, ?2, ?3)
         ON CONFLICT (org, period) DO UPDATE SET events = events + excluded.events
         WHERE events + excluded.events <= ?4
         RETURNING events",
    )?
    .query_row(params![org.to_string(), period, n, limit], |r| r.get(0))
    .optional()
}

/// Deletes events created before `before` with their deliveries and attempts; returns how
/// many events went.
pub fn purge_history(c: &mut Connection, before: OffsetDateTime) -> rusqlite::Result<usize> {
    let tx = c.transaction()?;
    let before = ms(before);
    tx.prepare_cached(
        "DELETE FROM attempts WHERE delivery IN (SELECT d.id FROM deliveries d
           JOIN events e ON e.id = d.event WHERE e.created_at < ?1)",
    )?
    .execute([before])?;
    tx.prepare_cached(
        "DELETE FROM deliveries WHERE event IN (SELECT id FROM events WHERE created_at < ?1)",
    )?
    .execute([before])?;
    let events = tx
        .prepare_cached("DELETE FROM events WHERE created_at < ?1")?
        .execute([before])?;
    tx.commit()?;
    Ok(events)
}
