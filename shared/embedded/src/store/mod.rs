//! The `Store` port over the shared SQLite file.
//!
//! Every tenant read has `org = ?` in its WHERE clause next to the id, so another
//! organization's id reads as absent rather than being filtered after the fact. Writes that
//! must be atomic (deliveries of an event, an attempt and its delivery) run in one transaction.

mod intake;
mod list;
mod management;
mod mappings;
mod rows;
mod schema;
mod usage;

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, named_params};
use switchyard_core::domain::*;
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::{AttemptRecord, EventFilter, Store};
use switchyard_core::{ConnectionId, DeliveryId, EventId, OrgId, RuleId, StoreError, WorkspaceId};
use time::{Duration, OffsetDateTime};

use crate::db::Db;
pub(crate) use intake::accept;
use list::ListQuery;
use rows::{ms, ms_opt, to_json};

/// Organizations, credentials, configuration and delivery history in SQLite.
#[derive(Clone)]
pub struct SqliteStore {
    db: Db,
}

impl SqliteStore {
    /// Creates the store's tables, or brings an existing file's up to date; its data is kept.
    pub fn open(db: Db) -> Result<Self, StoreError> {
        db.call_sync(|c| Ok(schema::migrate(c)))?
            .map_err(StoreError::Backend)?;
        Ok(Self { db })
    }

    /// Deletes the history (events, their deliveries and attempts) of events created before
    /// `before`: retention on the embedded runtime. Returns how many events went.
    pub async fn purge_history(&self, before: OffsetDateTime) -> Result<usize, StoreError> {
        self.db.call(move |c| usage::purge_history(c, before)).await
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_organization(&self, org: &Organization) -> Result<(), StoreError> {
        let org = org.clone();
        self.db
            .call(move |c| {
                c.prepare_cached(
                    "INSERT INTO organizations (id, name, created_at)
                     VALUES (:id, :name, :created_at)",
                )?
                .execute(named_params! {
                    ":id": org.id.to_string(),
                    ":name": org.name,
                    ":created_at": ms(org.created_at),
                })
                .map(drop)
            })
            .await
    }

    async fn organization(&self, id: OrgId) -> Result<Option<Organization>, StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached("SELECT * FROM organizations WHERE id = ?1")?
                    .query_row([id.to_string()], rows::organization)
                    .optional()
            })
            .await
    }

    async fn put_machine_key(&self, key: &MachineKey) -> Result<(), StoreError> {
        let key = key.clone();
        let written = self
            .db
            .call(move |c| {
                // An upsert (revoking rewrites the key) that never moves a key to another org.
                c.prepare_cached("INSERT INTO machine_keys (access_key, org, name, secret, created_at, revoked_at)
                     VALUES (:access_key, :org, :name, :secret, :created_at, :revoked_at)
                     ON CONFLICT (access_key) DO UPDATE SET
                         name = excluded.name,
                         secret = excluded.secret,
                         created_at = excluded.created_at,
                         revoked_at = excluded.revoked_at
                     WHERE machine_keys.org = excluded.org")?.execute(
                    named_params! {
                        ":access_key": key.access_key,
                        ":org": key.org.to_string(),
                        ":name": key.name,
                        ":secret": key.secret.0,
                        ":created_at": ms(key.created_at),
                        ":revoked_at": ms_opt(key.revoked_at),
                    },
                )
            })
            .await?;
        if written == 0 {
            return Err(StoreError::Conflict(
                "machine key belongs to another organization".into(),
            ));
        }
        Ok(())
    }

    async fn machine_key(&self, access_key: &str) -> Result<Option<MachineKey>, StoreError> {
        let access_key = access_key.to_owned();
        self.db
            .call(move |c| {
                c.prepare_cached("SELECT * FROM machine_keys WHERE access_key = ?1")?
                    .query_row([access_key], rows::machine_key)
                    .optional()
            })
            .await
    }

    async fn machine_keys(&self, org: OrgId) -> Result<Vec<MachineKey>, StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached(
                    "SELECT * FROM machine_keys WHERE org = ?1 ORDER BY created_at, access_key",
                )?
                .query_map([org.to_string()], rows::machine_key)?
                .collect()
            })
            .await
    }

    async fn put_publishable_key(&self, key: &PublishableKey) -> Result<(), StoreError> {
        let key = key.clone();
        let written = self
            .db
            .call(move |c| {
                // An upsert (rotation sets `expires_at`) that never moves a key to another tenant.
                c.prepare_cached(
                    "INSERT INTO publishable_keys
                         (key_hash, org, workspace, name, key, created_at, expires_at)
                     VALUES (:key_hash, :org, :workspace, :name, :key, :created_at, :expires_at)
                     ON CONFLICT (key_hash) DO UPDATE SET
                         name = excluded.name,
                         key = excluded.key,
                         created_at = excluded.created_at,
                         expires_at = excluded.expires_at
                     WHERE publishable_keys.org = excluded.org
                       AND publishable_keys.workspace = excluded.workspace",
                )?
                .execute(named_params! {
                    ":key_hash": key.key_hash,
                    ":org": key.org.to_string(),
                    ":workspace": key.workspace.to_string(),
                    ":name": key.name,
                    ":key": key.key.0,
                    ":created_at": ms(key.created_at),
                    ":expires_at": ms_opt(key.expires_at),
                })
            })
            .await?;
        if written == 0 {
            return Err(StoreError::Conflict(
                "publishable key belongs to another workspace".into(),
            ));
        }
        Ok(())
    }

    async fn publishable_key(&self, key_hash: &str) -> Result<Option<PublishableKey>, StoreError> {
        let key_hash = key_hash.to_owned();
        self.db
            .call(move |c| {
                c.prepare_cached("SELECT * FROM publishable_keys WHERE key_hash = ?1")?
                    .query_row([key_hash], rows::publishable_key)
                    .optional()
            })
            .await
    }

    async fn publishable_keys(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
    ) -> Result<Vec<PublishableKey>, StoreError> {
        self.db
            .call(move |c| {
                // Key hashes are not time-ordered; rowid breaks ties of the same millisecond.
                c.prepare_cached(
                    "SELECT * FROM publishable_keys WHERE org = ?1 AND workspace = ?2
                     ORDER BY created_at DESC, rowid DESC",
                )?
                .query_map(
                    [org.to_string(), workspace.to_string()],
                    rows::publishable_key,
                )?
                .collect()
            })
            .await
    }

    async fn create_workspace(&self, workspace: &Workspace) -> Result<(), StoreError> {
        let ws = workspace.clone();
        // UNIQUE (org, name) turns a taken name into `Conflict` via `db::backend`.
        self.db.call(move |c| insert_workspace(c, &ws)).await
    }

    async fn create_workspace_within(
        &self,
        workspace: &Workspace,
        limit: u64,
    ) -> Result<bool, StoreError> {
        let ws = workspace.clone();
        self.db
            .call(move |c| {
                within_limit(c, "workspaces", ws.org, limit, |c| insert_workspace(c, &ws))
            })
            .await
    }

    async fn workspace(
        &self,
        org: OrgId,
        id: WorkspaceId,
    ) -> Result<Option<Workspace>, StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached("SELECT * FROM workspaces WHERE org = ?1 AND id = ?2")?
                    .query_row([org.to_string(), id.to_string()], rows::workspace)
                    .optional()
            })
            .await
    }

    async fn list_workspaces(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Page<Workspace>, StoreError> {
        self.db
            .call(move |c| {
                ListQuery::new("workspaces", org).page(c, page, rows::workspace, |w| w.id.0)
            })
            .await
    }

    async fn create_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        let conn = connection.clone();
        self.db.call(move |c| insert_connection(c, &conn)).await
    }

    async fn create_connection_within(
        &self,
        connection: &Connection,
        limit: u64,
    ) -> Result<bool, StoreError> {
        let conn = connection.clone();
        self.db
            .call(move |c| {
                within_limit(c, "connections", conn.org, limit, |c| {
                    insert_connection(c, &conn)
                })
            })
            .await
    }

    async fn connection(
        &self,
        org: OrgId,
        id: ConnectionId,
    ) -> Result<Option<Connection>, StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached("SELECT * FROM connections WHERE org = ?1 AND id = ?2")?
                    .query_row([org.to_string(), id.to_string()], rows::connection)
                    .optional()
            })
            .await
    }

    async fn list_connections(
        &self,
        org: OrgId,
        workspace: Option<WorkspaceId>,
        page: PageRequest,
    ) -> Result<Page<Connection>, StoreError> {
        self.db
            .call(move |c| {
                ListQuery::new("connections", org)
                    .filter("workspace", workspace.map(|w| w.to_string()))
                    .page(c, page, rows::connection, |x| x.id.0)
            })
            .await
    }

    async fn connection_mapping(
        &self,
        org: OrgId,
        connection: ConnectionId,
    ) -> Result<Option<switchyard_core::mapping::VersionedMapping>, StoreError> {
        self.db
            .call(move |c| mappings::connection_mapping(c, org, connection))
            .await
    }

    async fn put_connection_mapping(
        &self,
        org: OrgId,
        connection: ConnectionId,
        mapping: &switchyard_core::mapping::FieldMapping,
        expected_version: u64,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mapping = mapping.clone();
        self.db
            .call(move |c| {
                mappings::put_connection_mapping(c, org, connection, &mapping, expected_version, at)
            })
            .await?
            .ok_or_else(|| StoreError::Conflict("the mapping's version has moved".into()))
    }

    async fn create_rule(&self, rule: &Rule) -> Result<(), StoreError> {
        let rule = rule.clone();
        self.db.call(move |c| insert_rule(c, &rule)).await
    }

    async fn create_rule_within(&self, rule: &Rule, limit: u64) -> Result<bool, StoreError> {
        let rule = rule.clone();
        self.db
            .call(move |c| within_limit(c, "rules", rule.org, limit, |c| insert_rule(c, &rule)))
            .await
    }

    async fn rule(&self, org: OrgId, id: RuleId) -> Result<Option<Rule>, StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached("SELECT * FROM rules WHERE org = ?1 AND id = ?2")?
                    .query_row([org.to_string(), id.to_string()], rows::rule)
                    .optional()
            })
            .await
    }

    async fn list_rules(
        &self,
        org: OrgId,
        filter: &RuleFilter,
        page: PageRequest,
    ) -> Result<Page<Rule>, StoreError> {
        let query = ListQuery::new("rules", org)
            .filter("workspace", filter.workspace.map(|w| w.to_string()))
            .filter("connection", filter.connection.map(|c| c.to_string()))
            .filter("event", filter.event.clone())
            .filter("resource", filter.resource.clone())
            .filter("resource_id", filter.resource_id.clone());
        self.db
            .call(move |c| query.page(c, page, rows::rule, |r| r.id.0))
            .await
    }

    async fn active_rules(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        event: &str,
    ) -> Result<Vec<Rule>, StoreError> {
        let event = event.to_owned();
        self.db
            .call(move |c| {
                // Oldest first, so deliveries are created in the order the rules were.
                c.prepare_cached(
                    "SELECT * FROM rules
                     WHERE org = ?1 AND workspace = ?2 AND event = ?3 AND active = 1
                     ORDER BY id",
                )?
                .query_map([org.to_string(), workspace.to_string(), event], rows::rule)?
                .collect()
            })
            .await
    }

    async fn insert_event(&self, event: &Event) -> Result<(), StoreError> {
        let ev = event.clone();
        if self.db.call(move |c| insert_event_row(c, &ev)).await? {
            Ok(())
        } else {
            Err(StoreError::Conflict("event already exists".into()))
        }
    }

    async fn event(&self, org: OrgId, id: EventId) -> Result<Option<Event>, StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached("SELECT * FROM events WHERE org = ?1 AND id = ?2")?
                    .query_row([org.to_string(), id.to_string()], rows::event)
                    .optional()
            })
            .await
    }

    async fn list_events(
        &self,
        org: OrgId,
        filter: &EventFilter,
        page: PageRequest,
    ) -> Result<Page<Event>, StoreError> {
        let query = ListQuery::new("events", org)
            .filter("workspace", filter.workspace.map(|w| w.to_string()))
            .filter("event", filter.event.clone())
            .filter("resource", filter.resource.clone())
            .filter("resource_id", filter.resource_id.clone());
        self.db
            .call(move |c| query.page(c, page, rows::event, |e| e.id.0))
            .await
    }

    async fn mark_routed(&self, org: OrgId, id: EventId) -> Result<(), StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached("UPDATE events SET routed = 1 WHERE org = ?1 AND id = ?2")?
                    .execute([org.to_string(), id.to_string()])
                    .map(drop)
            })
            .await
    }

    async fn usage(
        &self,
        org: OrgId,
        period: Option<&switchyard_core::plan::UsagePeriod>,
    ) -> Result<switchyard_core::plan::Usage, StoreError> {
        let period = period.cloned();
        self.db
            .call(move |c| usage::usage(c, org, period.as_ref()))
            .await
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
            .call(move |c| usage::count_events(c, org, &period, n, limit))
            .await
    }

    async fn is_routed(&self, org: OrgId, id: EventId) -> Result<bool, StoreError> {
        let routed = self
            .db
            .call(move |c| {
                c.prepare_cached("SELECT routed FROM events WHERE org = ?1 AND id = ?2")?
                    .query_row([org.to_string(), id.to_string()], |r| r.get::<_, bool>(0))
                    .optional()
            })
            .await?;
        Ok(routed.unwrap_or(false))
    }

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
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                {
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
                    for d in &deliveries {
                        insert.execute(named_params! {
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
                }
                let all = deliveries_of_event(&tx, org, event)?;
                tx.commit()?;
                Ok(all)
            })
            .await
    }

    async fn delivery(&self, org: OrgId, id: DeliveryId) -> Result<Option<Delivery>, StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached("SELECT * FROM deliveries WHERE org = ?1 AND id = ?2")?
                    .query_row([org.to_string(), id.to_string()], rows::delivery)
                    .optional()
            })
            .await
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
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError> {
        self.db
            .call(move |c| {
                // `processing` is allowed again so a worker that died mid-attempt does not
                // strand the delivery; `started_at` keeps the first attempt's start.
                c.prepare_cached(
                    "UPDATE deliveries
                     SET status = 'processing',
                         started_at = COALESCE(started_at, :now),
                         updated_at = :now
                     WHERE org = :org AND id = :id
                       AND status IN ('pending', 'retrying', 'processing')
                     RETURNING *",
                )?
                .query_row(
                    named_params! {
                        ":now": ms(now),
                        ":org": org.to_string(),
                        ":id": id.to_string(),
                    },
                    rows::delivery,
                )
                .optional()
            })
            .await
    }

    async fn finish_attempt(
        &self,
        org: OrgId,
        record: &AttemptRecord,
    ) -> Result<Delivery, StoreError> {
        let record = record.clone();
        let updated = self
            .db
            .call(move |c| {
                let a = &record.attempt;
                let ended_at = a.started_at
                    + Duration::milliseconds(i64::try_from(a.duration_ms).unwrap_or(i64::MAX));
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                // SET expressions see the row as it was, so `status = 'canceled'` below is the
                // status before this attempt: a cancel that raced the attempt wins, and a
                // canceled delivery gets no next attempt time.
                let delivery = tx
                    .prepare_cached(
                        "UPDATE deliveries
                         SET status = CASE WHEN status = 'canceled' THEN 'canceled'
                                           ELSE :status END,
                             attempt_count = attempt_count + 1,
                             completed_at = CASE
                                 WHEN status <> 'canceled' AND :status IN ('completed', 'failed')
                                 THEN :ended_at ELSE completed_at END,
                             next_attempt_at = CASE WHEN status = 'canceled' THEN NULL
                                                    ELSE :next_attempt_at END,
                             last_error = :last_error,
                             updated_at = :ended_at
                         WHERE org = :org AND id = :id
                         RETURNING *",
                    )?
                    .query_row(
                        named_params! {
                            ":status": record.status.as_str(),
                            ":ended_at": ms(ended_at),
                            ":next_attempt_at": ms_opt(record.next_attempt_at),
                            ":last_error": record.last_error,
                            ":org": org.to_string(),
                            ":id": a.delivery.to_string(),
                        },
                        rows::delivery,
                    )
                    .optional()?;
                let Some(delivery) = delivery else {
                    // Dropping the transaction rolls back; nothing was written.
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
                tx.commit()?;
                Ok(Some(delivery))
            })
            .await?;
        updated.ok_or_else(|| StoreError::Backend("delivery not found".into()))
    }

    async fn attempts(&self, org: OrgId, delivery: DeliveryId) -> Result<Vec<Attempt>, StoreError> {
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
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached(
                    "UPDATE deliveries
                     SET status = 'canceled', next_attempt_at = NULL, updated_at = :now
                     WHERE org = :org AND id = :id
                       AND status NOT IN ('completed', 'failed', 'canceled')
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

    async fn restart_delivery(
        &self,
        org: OrgId,
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
                       AND status IN ('completed', 'failed', 'canceled', 'retrying')
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
                       AND status IN ('completed', 'failed', 'canceled', 'retrying')
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

    async fn update_workspace(&self, workspace: &Workspace) -> Result<bool, StoreError> {
        let ws = workspace.clone();
        self.db
            .call(move |c| management::update_workspace(c, &ws))
            .await
    }

    async fn update_connection(&self, connection: &Connection) -> Result<bool, StoreError> {
        let conn = connection.clone();
        self.db
            .call(move |c| management::update_connection(c, &conn))
            .await
    }

    async fn update_connection_if_unchanged(
        &self,
        connection: &Connection,
        expected_updated_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let conn = connection.clone();
        self.db
            .call(move |c| {
                management::update_connection_if_unchanged(c, &conn, expected_updated_at)
            })
            .await
    }

    async fn delete_connection(&self, org: OrgId, id: ConnectionId) -> Result<bool, StoreError> {
        self.db
            .call(move |c| management::delete_connection(c, org, id))
            .await
    }

    async fn delete_rule(&self, org: OrgId, id: RuleId) -> Result<bool, StoreError> {
        self.db
            .call(move |c| management::delete_rule(c, org, id))
            .await
    }

    async fn add_to_catalog(&self, entries: &[CatalogEntry]) -> Result<(), StoreError> {
        let entries = entries.to_vec();
        self.db
            .call(move |c| management::add_to_catalog(c, &entries))
            .await
    }

    async fn catalog(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        kind: CatalogKind,
    ) -> Result<Vec<CatalogEntry>, StoreError> {
        self.db
            .call(move |c| management::catalog(c, org, workspace, kind))
            .await
    }

    async fn consume_oauth_state(
        &self,
        org: OrgId,
        nonce: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let nonce = nonce.to_owned();
        self.db
            .call(move |c| {
                // One statement: the first use inserts, a later one changes nothing.
                c.prepare_cached(
                    "INSERT INTO oauth_states (org, nonce, expires_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (org, nonce) DO UPDATE SET expires_at = excluded.expires_at
                     WHERE oauth_states.expires_at <= ?4",
                )?
                .execute(rusqlite::params![
                    org.to_string(),
                    nonce,
                    ms(expires_at),
                    ms(now)
                ])
                .map(|changed| changed == 1)
            })
            .await
    }

    async fn claim_idempotency_key(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        key: &str,
        event: EventId,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Option<EventId>, StoreError> {
        let key = key.to_owned();
        self.db
            .call(move |c| {
                management::claim_idempotency_key(c, org, workspace, &key, event, now, expires_at)
            })
            .await
    }

    async fn idempotency_claim(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<Option<EventId>, StoreError> {
        let key = key.to_owned();
        self.db
            .call(move |c| management::held_claim(c, org, workspace, &key, now))
            .await
    }

    async fn release_idempotency_key(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        key: &str,
        event: EventId,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.db
            .call(move |c| management::release_idempotency_key(c, org, workspace, &key, event))
            .await
    }
}

/// Every delivery of an event, in creation order.
fn deliveries_of_event(
    c: &rusqlite::Connection,
    org: OrgId,
    event: EventId,
) -> rusqlite::Result<Vec<Delivery>> {
    c.prepare_cached("SELECT * FROM deliveries WHERE org = ?1 AND event = ?2 ORDER BY id")?
        .query_map([org.to_string(), event.to_string()], rows::delivery)?
        .collect()
}

/// Runs `insert` only while `org` has fewer than `limit` rows in `table`: the count and the
/// insert are one IMMEDIATE transaction, so concurrent creates (of any process sharing the
/// file) cannot both see room for one. `false` when at the limit, nothing written.
fn within_limit(
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

fn insert_workspace(c: &rusqlite::Connection, ws: &Workspace) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO workspaces (id, org, name, description, created_at, updated_at)
             VALUES (:id, :org, :name, :description, :created_at, :updated_at)",
    )?
    .execute(named_params! {
        ":id": ws.id.to_string(),
        ":org": ws.org.to_string(),
        ":name": ws.name,
        ":description": ws.description,
        ":created_at": ms(ws.created_at),
        ":updated_at": ms(ws.updated_at),
    })
    .map(drop)
}

fn insert_connection(c: &rusqlite::Connection, conn: &Connection) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO connections (id, org, workspace, kind, name, metadata, secrets,
                                      hidden, created_by, created_at, updated_at)
             VALUES (:id, :org, :workspace, :kind, :name, :metadata, :secrets,
                     :hidden, :created_by, :created_at, :updated_at)",
    )?
    .execute(named_params! {
        ":id": conn.id.to_string(),
        ":org": conn.org.to_string(),
        ":workspace": conn.workspace.to_string(),
        ":kind": conn.kind.as_str(),
        ":name": conn.name,
        ":metadata": to_json(&conn.metadata)?,
        ":secrets": conn.secrets.as_ref().map(|s| s.0.as_str()),
        ":hidden": conn.hidden,
        ":created_by": conn.created_by,
        ":created_at": ms(conn.created_at),
        ":updated_at": ms(conn.updated_at),
    })
    .map(drop)
}

fn insert_rule(c: &rusqlite::Connection, rule: &Rule) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO rules (id, org, workspace, connection, kind, event, resource,
                                resource_id, metadata, conditions, active, hidden,
                                created_by, created_at, updated_at)
             VALUES (:id, :org, :workspace, :connection, :kind, :event, :resource,
                     :resource_id, :metadata, :conditions, :active, :hidden,
                     :created_by, :created_at, :updated_at)",
    )?
    .execute(named_params! {
        ":id": rule.id.to_string(),
        ":org": rule.org.to_string(),
        ":workspace": rule.workspace.to_string(),
        ":connection": rule.connection.to_string(),
        ":kind": rule.kind.as_str(),
        ":event": rule.event,
        ":resource": rule.resource,
        ":resource_id": rule.resource_id,
        ":metadata": to_json(&rule.metadata)?,
        ":conditions": rule.conditions.as_ref().map(to_json).transpose()?,
        ":active": rule.active,
        ":hidden": rule.hidden,
        ":created_by": rule.created_by,
        ":created_at": ms(rule.created_at),
        ":updated_at": ms(rule.updated_at),
    })
    .map(drop)
}

/// Inserts an event row; `false` (and nothing written) when its id is already stored.
fn insert_event_row(c: &rusqlite::Connection, ev: &Event) -> rusqlite::Result<bool> {
    let inserted = c
        .prepare_cached(
            "INSERT INTO events (id, org, workspace, event, resource, resource_id,
                                 payload, created_by, created_at)
             VALUES (:id, :org, :workspace, :event, :resource, :resource_id,
                     :payload, :created_by, :created_at)
             ON CONFLICT (id) DO NOTHING",
        )?
        .execute(named_params! {
            ":id": ev.id.to_string(),
            ":org": ev.org.to_string(),
            ":workspace": ev.workspace.to_string(),
            ":event": ev.event,
            ":resource": ev.resource,
            ":resource_id": ev.resource_id,
            ":payload": to_json(&ev.payload)?,
            ":created_by": ev.created_by,
            ":created_at": ms(ev.created_at),
        })?;
    Ok(inserted == 1)
}
