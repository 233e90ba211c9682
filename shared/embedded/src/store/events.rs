//! Events with their payloads, and whether the router has expanded them.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, named_params};
use switchyard_core::domain::*;
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::{EventFilter, Events};
use switchyard_core::{EventId, OrgId, StoreError};

use super::SqliteStore;
use super::list::ListQuery;
use super::rows::{self, ms, to_json};

#[async_trait]
impl Events for SqliteStore {
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
            .read(move |c| {
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
        // Each filter has an index (schema.rs, EVENT_FILTERS) ending in `id`, so a page
        // reads only its own rows.
        let bounds = filter.id_bounds();
        let query = ListQuery::new("events", org)
            .filter("workspace", filter.workspace.map(|w| w.to_string()))
            .filter("event", filter.event.clone())
            .filter("resource", filter.resource.clone())
            .filter("resource_id", filter.resource_id.clone())
            .filter("status", filter.status.map(|s| s.as_str().to_owned()))
            .ids_within(bounds.0, bounds.1);
        self.db
            .call(move |c| query.page(c, page, rows::event, |e| e.id.0))
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
}

/// Inserts an event row not yet routed; `false` (and nothing written) when its id is already
/// stored.
pub(super) fn insert_event_row(c: &rusqlite::Connection, ev: &Event) -> rusqlite::Result<bool> {
    insert_row(c, ev, false, EventStatus::Pending)
}

/// Inserts an event row routed already — its deliveries written just before, in the same
/// transaction — with the status they give it; `false` as [`insert_event_row`].
pub(super) fn insert_routed_event_row(
    c: &rusqlite::Connection,
    ev: &Event,
    status: EventStatus,
) -> rusqlite::Result<bool> {
    insert_row(c, ev, true, status)
}

fn insert_row(
    c: &rusqlite::Connection,
    ev: &Event,
    routed: bool,
    status: EventStatus,
) -> rusqlite::Result<bool> {
    let inserted = c
        .prepare_cached(
            "INSERT INTO events (id, org, workspace, event, resource, resource_id,
                                 payload, created_by, created_at, trace_id, routed, status)
             VALUES (:id, :org, :workspace, :event, :resource, :resource_id,
                     :payload, :created_by, :created_at, :trace_id, :routed, :status)
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
            ":trace_id": ev.trace_id.map(|t| t.to_string()),
            ":routed": routed,
            ":status": status.as_str(),
        })?;
    Ok(inserted == 1)
}

/// Whether an event of this id is stored.
pub(super) fn event_stored(c: &rusqlite::Connection, id: EventId) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT EXISTS (SELECT 1 FROM events WHERE id = ?1)")?
        .query_row([id.to_string()], |r| r.get(0))
}
