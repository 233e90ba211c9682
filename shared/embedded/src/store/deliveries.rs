//! Deliveries and their attempts: an attempt and its delivery's new state commit together.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, named_params};
use switchyard_core::domain::*;
use switchyard_core::ports::{AttemptRecord, Deliveries, DeliveryCounts, FailedPage};
use switchyard_core::{
    ConnectionId, DeliveryId, EventId, OrgId, StoreError, WorkspaceId, v7_floor,
};
use time::{Duration, OffsetDateTime};

use super::SqliteStore;
use super::rows::{self, ms, ms_opt};

#[async_trait]
impl Deliveries for SqliteStore {
    async fn insert_deliveries(
        &self,
        org: OrgId,
        event: EventId,
        deliveries: &[Delivery],
    ) -> Result<Vec<Delivery>, StoreError> {
        // The result is read back by (org, event), so a stray delivery would be written but
        // not returned: refuse the batch instead.
        if deliveries.iter().any(|d| d.org != org || d.event != event) {
            return Err(StoreError::Backend(
                "delivery does not belong to the event being routed".into(),
            ));
        }
        let deliveries = deliveries.to_vec();
        self.db
            .write(move |tx| insert_routed(tx, org, event, &deliveries))
            .await
    }

    async fn delivery(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        let found = self.db.read(move |c| delivery_row(c, org, id)).await?;
        Ok(found.filter(|d| d.event == event))
    }

    async fn deliveries_for_event(
        &self,
        org: OrgId,
        event: EventId,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.db
            .call(move |c| deliveries_of_event(c, org, event))
            .await
    }

    async fn begin_attempt(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError> {
        self.db
            .write(move |c| {
                // `processing` is allowed again so a worker that died mid-attempt does not
                // strand the delivery; `started_at` keeps the first attempt's start.
                c.prepare_cached(
                    "UPDATE deliveries
                     SET status = 'processing',
                         started_at = COALESCE(started_at, :now),
                         updated_at = :now
                     WHERE org = :org AND id = :id AND event = :event
                       -- Not `IN (…)`: three constants make it a temporary table.
                       AND (status = 'pending' OR status = 'retrying'
                            OR status = 'processing')
                     RETURNING *",
                )?
                .query_row(
                    named_params! {
                        ":now": ms(now),
                        ":org": org.to_string(),
                        ":id": id.to_string(),
                        ":event": event.to_string(),
                    },
                    rows::delivery,
                )
                .optional()
            })
            .await
    }

    /// The handler's attempts store nothing at their start ([`Deliveries::begin_attempt_of`]):
    /// one still running after a while is shown `processing` here. Not once its record is in
    /// (its number counted) — a late mark never moves a recorded delivery.
    async fn show_attempt_under_way(
        &self,
        attempted: &Delivery,
        number: u32,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let (org, id) = (attempted.org, attempted.id);
        self.db
            .write(move |c| {
                c.prepare_cached(
                    "UPDATE deliveries
                     SET status = 'processing',
                         started_at = COALESCE(started_at, :now),
                         updated_at = :now
                     WHERE org = :org AND id = :id AND attempt_count < :number
                       AND (status = 'pending' OR status = 'retrying')",
                )?
                .execute(named_params! {
                    ":now": ms(now),
                    ":org": org.to_string(),
                    ":id": id.to_string(),
                    ":number": number,
                })?;
                Ok(())
            })
            .await
    }

    async fn finish_attempt(
        &self,
        attempted: &Delivery,
        record: &AttemptRecord,
    ) -> Result<Delivery, StoreError> {
        record.ensure_of(attempted)?;
        let org = attempted.org;
        let record = record.clone();
        let updated = self
            .db
            .write(move |tx| {
                let a = &record.attempt;
                let ended_at = a.started_at
                    + Duration::milliseconds(i64::try_from(a.duration_ms).unwrap_or(i64::MAX));
                // SET expressions see the row as it was, so `status = 'canceled'` below is the
                // status before this attempt: a cancel that raced the attempt wins, and a
                // canceled delivery gets no next attempt time. Read back by key, not with
                // `RETURNING`: SQLite runs that as a trigger whose rows go through a temporary
                // table, which cost more than the read (docs/benchmarks.md).
                tx.prepare_cached(
                    "UPDATE deliveries
                     SET status = CASE WHEN status = 'canceled' THEN 'canceled'
                                       ELSE :status END,
                         attempt_count = :number,
                         started_at = COALESCE(started_at, :started_at),
                         completed_at = CASE
                             WHEN status <> 'canceled' AND :status IN ('completed', 'failed')
                             THEN :ended_at ELSE completed_at END,
                         next_attempt_at = CASE WHEN status = 'canceled' THEN NULL
                                                ELSE :next_attempt_at END,
                         last_error = :last_error,
                         updated_at = :ended_at
                     WHERE org = :org AND id = :id AND attempt_count < :number",
                )?
                .execute(named_params! {
                    ":status": record.status.as_str(),
                    ":ended_at": ms(ended_at),
                    ":next_attempt_at": ms_opt(record.next_attempt_at),
                    ":last_error": record.last_error,
                    ":org": org.to_string(),
                    ":id": a.delivery.to_string(),
                    ":number": a.number,
                    ":started_at": ms(a.started_at),
                })?;
                // Unmoved (no row updated) when this attempt's number is already counted — a
                // duplicate (its message came twice and both ran), or an attempt its own retry
                // overtook (the retry's message goes out first). It is recorded and moves
                // nothing.
                let Some(delivery) = delivery_row(tx, org, a.delivery)? else {
                    return Ok(None);
                };
                tx.prepare_cached(
                    "INSERT INTO attempts (id, org, delivery, number, outcome, status_code,
                                           request, response_body, error, duration_ms, started_at)
                     VALUES (:id, :org, :delivery, :number, :outcome, :status_code,
                             :request, :response_body, :error, :duration_ms, :started_at)",
                )?
                .execute(named_params! {
                    ":id": a.id.to_string(),
                    ":org": org.to_string(),
                    ":delivery": a.delivery.to_string(),
                    ":number": a.number,
                    ":outcome": a.outcome.as_str(),
                    ":status_code": a.status_code,
                    ":request": a.request,
                    ":response_body": a.response_body,
                    ":error": a.error,
                    ":duration_ms": i64::try_from(a.duration_ms).unwrap_or(i64::MAX),
                    ":started_at": ms(a.started_at),
                })?;
                Ok(Some(delivery))
            })
            .await?;
        updated.ok_or_else(|| StoreError::Backend("delivery not found".into()))
    }

    /// An attempt row names its delivery, which alone finds them.
    async fn attempts(
        &self,
        org: OrgId,
        _event: EventId,
        delivery: DeliveryId,
    ) -> Result<Vec<Attempt>, StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached(
                    "SELECT * FROM attempts WHERE org = ?1 AND delivery = ?2
                     ORDER BY number, id",
                )?
                .query_map([org.to_string(), delivery.to_string()], rows::attempt)?
                .collect()
            })
            .await
    }

    async fn cancel_delivery(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached(
                    "UPDATE deliveries
                     SET status = 'canceled', next_attempt_at = NULL, updated_at = :now
                     WHERE org = :org AND id = :id AND event = :event
                       AND status <> 'completed' AND status <> 'failed'
                       AND status <> 'canceled'
                     RETURNING *",
                )?
                .query_row(
                    named_params! {
                        ":now": ms(now),
                        ":org": org.to_string(),
                        ":id": id.to_string(),
                        ":event": event.to_string(),
                    },
                    rows::delivery,
                )
                .optional()
            })
            .await
    }

    async fn restart_delivery(
        &self,
        org: OrgId,
        _event: EventId,
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError> {
        self.db
            .call(move |c| {
                // A fresh schedule counts from the attempts made so far.
                c.prepare_cached(
                    "UPDATE deliveries
                     SET status = 'pending', schedule_base = attempt_count,
                         completed_at = NULL, next_attempt_at = NULL, updated_at = :now
                     WHERE org = :org AND id = :id
                       AND (status = 'completed' OR status = 'failed'
                            OR status = 'canceled' OR status = 'retrying')
                     RETURNING *",
                )?
                .query_row(
                    named_params! {":now": ms(now), ":org": org.to_string(), ":id": id.to_string()},
                    rows::delivery,
                )
                .optional()
            })
            .await
    }

    async fn replay_delivery(
        &self,
        org: OrgId,
        _event: EventId,
        id: DeliveryId,
        now: OffsetDateTime,
        since: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached(
                    "UPDATE deliveries
                     SET status = 'pending', schedule_base = attempt_count,
                         completed_at = NULL, next_attempt_at = NULL, updated_at = :now,
                         replayed_at = :now
                     WHERE org = :org AND id = :id
                       AND (status = 'completed' OR status = 'failed'
                            OR status = 'canceled' OR status = 'retrying')
                       AND (replayed_at IS NULL OR replayed_at <= :since)
                     RETURNING *",
                )?
                .query_row(
                    named_params! {":now": ms(now), ":since": ms(since),
                    ":org": org.to_string(), ":id": id.to_string()},
                    rows::delivery,
                )
                .optional()
            })
            .await
    }

    /// One pass over `deliveries_by_time` (a covering index: the table is not read).
    async fn delivery_counts(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        since_ms: u64,
        bucket_ms: u64,
    ) -> Result<DeliveryCounts, StoreError> {
        let bucket = i64::try_from(bucket_ms.max(1)).unwrap_or(i64::MAX);
        let since = i64::try_from(since_ms).unwrap_or(i64::MAX);
        let rows = self
            .db
            .call(move |c| {
                c.prepare_cached(
                    "SELECT (created_at / :bucket) * :bucket AS start, status, COUNT(*)
                     FROM deliveries
                     WHERE org = :org AND workspace = :workspace AND created_at >= :since
                     GROUP BY start, status ORDER BY start",
                )?
                .query_map(
                    named_params! {":bucket": bucket, ":since": since,
                    ":org": org.to_string(), ":workspace": workspace.to_string()},
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                        ))
                    },
                )?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
        let counts = rows
            .into_iter()
            .filter_map(|(start, status, n)| {
                Some((
                    u64::try_from(start).ok()?,
                    status.parse().ok()?,
                    u64::try_from(n).ok()?,
                ))
            })
            .collect();
        Ok(DeliveryCounts {
            counts,
            complete: true,
        })
    }

    async fn failed_deliveries(
        &self,
        org: OrgId,
        connection: ConnectionId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        after: Option<DeliveryId>,
        limit: u32,
    ) -> Result<FailedPage, StoreError> {
        // v7 ids as text sort by time: the range is an id range.
        let lower = match after {
            Some(id) => id.0.max(v7_floor(from)),
            None => v7_floor(from),
        };
        let deliveries: Vec<Delivery> = self
            .db
            .call(move |c| {
                // `status = 'failed'` literally, so the partial index serves it.
                c.prepare_cached(
                    "SELECT * FROM deliveries
                     WHERE org = :org AND connection = :connection AND status = 'failed'
                       AND id > :lower AND id < :upper
                     ORDER BY id
                     LIMIT :limit",
                )?
                .query_map(
                    named_params! {
                        ":org": org.to_string(),
                        ":connection": connection.to_string(),
                        ":lower": lower.hyphenated().to_string(),
                        ":upper": v7_floor(to).hyphenated().to_string(),
                        ":limit": limit,
                    },
                    rows::delivery,
                )?
                .collect()
            })
            .await?;
        let next = (deliveries.len() == limit as usize)
            .then(|| deliveries.last().map(|d| d.id))
            .flatten();
        Ok(FailedPage { deliveries, next })
    }
}

/// One delivery, if it is the organization's.
fn delivery_row(
    c: &rusqlite::Connection,
    org: OrgId,
    id: DeliveryId,
) -> rusqlite::Result<Option<Delivery>> {
    c.prepare_cached("SELECT * FROM deliveries WHERE org = ?1 AND id = ?2")?
        .query_row([org.to_string(), id.to_string()], rows::delivery)
        .optional()
}

/// Every delivery of an event, in creation order.
pub(super) fn deliveries_of_event(
    c: &rusqlite::Connection,
    org: OrgId,
    event: EventId,
) -> rusqlite::Result<Vec<Delivery>> {
    c.prepare_cached("SELECT * FROM deliveries WHERE org = ?1 AND event = ?2 ORDER BY id")?
        .query_map([org.to_string(), event.to_string()], rows::delivery)?
        .collect()
}

/// Writes an event's deliveries and marks it routed, in the caller's transaction (the
/// router's): its deliveries as stored after.
pub(crate) fn insert_routed(
    tx: &rusqlite::Connection,
    org: OrgId,
    event: EventId,
    deliveries: &[Delivery],
) -> rusqlite::Result<Vec<Delivery>> {
    let inserted = insert_delivery_rows(tx, deliveries)?;
    // Routed in the same transaction: the router needs no second one.
    tx.prepare_cached("UPDATE events SET routed = 1 WHERE org = ?1 AND id = ?2 AND routed = 0")?
        .execute([org.to_string(), event.to_string()])?;
    // The common case, an event routed once: what was written is all there is, and counting
    // (from the (event, rule) index alone) is cheaper than reading it back.
    let stored: usize = tx
        .prepare_cached("SELECT COUNT(*) FROM deliveries WHERE event = ?1")?
        .query_row([event.to_string()], |r| r.get(0))?;
    if inserted == deliveries.len() && stored == inserted {
        let mut written = deliveries.to_vec();
        written.sort_by_key(|d| d.id);
        return Ok(written);
    }
    deliveries_of_event(tx, org, event)
}

/// Writes deliveries, but none of an (event, rule) already stored; returns how many it wrote.
pub(crate) fn insert_delivery_rows(
    tx: &rusqlite::Connection,
    deliveries: &[Delivery],
) -> rusqlite::Result<usize> {
    // OR IGNORE: UNIQUE (event, rule) makes re-routing an event a no-op.
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO deliveries
             (id, org, workspace, event, event_name, rule, connection, kind,
              status, attempt_count, schedule_base, started_at, completed_at,
              next_attempt_at, last_error, created_at, updated_at)
         VALUES (:id, :org, :workspace, :event, :event_name, :rule, :connection,
                 :kind, :status, :attempt_count, :schedule_base, :started_at, :completed_at,
                 :next_attempt_at, :last_error, :created_at, :updated_at)",
    )?;
    let mut inserted = 0;
    for d in deliveries {
        inserted += insert.execute(named_params! {
            ":id": d.id.to_string(),
            ":org": d.org.to_string(),
            ":workspace": d.workspace.to_string(),
            ":event": d.event.to_string(),
            ":event_name": d.event_name,
            ":rule": d.rule.to_string(),
            ":connection": d.connection.to_string(),
            ":kind": d.kind.as_str(),
            ":status": d.status.as_str(),
            ":attempt_count": d.attempt_count,
            ":schedule_base": d.schedule_base,
            ":started_at": ms_opt(d.started_at),
            ":completed_at": ms_opt(d.completed_at),
            ":next_attempt_at": ms_opt(d.next_attempt_at),
            ":last_error": d.last_error,
            ":created_at": ms(d.created_at),
            ":updated_at": ms(d.updated_at),
        })?;
    }
    Ok(inserted)
}
