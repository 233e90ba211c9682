//! Events in the history table: one partition per organization (`EV#<org>`), sorted by id, so
//! the history list is a descending Query and an event is a Query on its id. Small payloads
//! stay inline; large ones go to a separate item so that the routing update (which rewrites
//! the event item and is billed by its size) stays at one write unit.

use async_trait::async_trait;
use switchyard_core::domain::{Event, EventStatus};
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::{Deliveries, EventFilter, Events};
use switchyard_core::{EventId, OrgId, StoreError};

use super::codec;
use super::expr::Expr;
use super::item::{Item, s};
use super::keys::*;
use super::list::Query;
use super::list::assemble;
use super::{DynamoStore, Table, absent, present, yes};

/// Payloads up to this many bytes of JSON are kept in the event item: with the event's own
/// attributes and three rules' delivery ids it stays under the 1 KiB of one write unit.
pub(crate) const INLINE_PAYLOAD_MAX: usize = 400;

fn is_sk(item: &Item, sk: &str) -> bool {
    matches!(item.get(SK), Some(aws_sdk_dynamodb::types::AttributeValue::S(v)) if v == sk)
}

pub(super) fn is_payload(item: &Item) -> bool {
    matches!(item.get(SK), Some(aws_sdk_dynamodb::types::AttributeValue::S(v)) if v.ends_with("#P"))
}

#[async_trait]
impl Events for DynamoStore {
    /// The payload item is written first: an event item is never visible without its payload.
    async fn insert_event(&self, e: &Event) -> Result<(), StoreError> {
        let (item, payload) = codec::event_items(e, self.expiry(e.created_at), INLINE_PAYLOAD_MAX)?;
        if let Some(p) = payload {
            self.put(Table::History, p, None).await?;
        }
        if self.put(Table::History, item, Some(absent())).await? {
            Ok(())
        } else {
            Err(StoreError::Conflict("event already exists".into()))
        }
    }

    /// The event item and its payload item (if any), in one Query.
    async fn event(&self, org: OrgId, id: EventId) -> Result<Option<Event>, StoreError> {
        let q = Query::new(Table::History, events_pk(org), event_sk(id));
        let items = self.query_all(&q, true).await?;
        let Some(item) = items.iter().find(|i| is_sk(i, &event_sk(id))) else {
            return Ok(None);
        };
        let payload = items.iter().find(|i| is_sk(i, &payload_sk(id)));
        if codec::payload_is_external(item) && payload.is_none() {
            return Err(StoreError::Backend("event payload item is missing".into()));
        }
        codec::event(org, item, payload).map(Some)
    }

    /// The time range is a sort-key range (ids are UUIDv7); the other filters are filter
    /// expressions. A status filter derives each candidate's status from its deliveries, at
    /// most [`STATUS_SCAN`] candidates a page (a short page then carries a cursor).
    async fn list_events(
        &self,
        org: OrgId,
        f: &EventFilter,
        page: PageRequest,
    ) -> Result<Page<Event>, StoreError> {
        let (lower, upper) = f.id_bounds();
        let q = Query::new(Table::History, events_pk(org), "")
            .equal("ws", f.workspace.map(|w| s(w.to_string())))
            .equal("name", f.event.as_deref().map(s))
            .equal("res", f.resource.as_deref().map(s))
            .equal("rid", f.resource_id.as_deref().map(s))
            .at_least(lower.map(|l| l.hyphenated().to_string()));
        let cursor = match (page.cursor, upper) {
            (Some(c), Some(u)) => Some(c.min(u)),
            (c, u) => c.or(u),
        };
        if let (Some(l), Some(c)) = (lower, cursor)
            && l >= c
        {
            return Ok(Page {
                records: Vec::new(),
                limit: page.limit,
                next_cursor: None,
            });
        }
        let Some(status) = f.status else {
            return self.event_page(org, &q, cursor, page.limit).await;
        };
        let mut kept = Vec::new();
        let mut examined = 0;
        let mut cursor = cursor;
        loop {
            let batch = self.event_page(org, &q, cursor, 50).await?;
            for event in batch.records {
                if self.derived_status(org, event.id).await? == status {
                    kept.push(event);
                    if kept.len() > page.limit as usize {
                        return Ok(Page::from_overfetch(kept, page.limit, |e| e.id.0));
                    }
                }
            }
            examined += 50;
            match batch.next_cursor {
                Some(next) if examined < STATUS_SCAN => cursor = Some(next),
                next => {
                    return Ok(Page {
                        records: kept,
                        limit: page.limit,
                        next_cursor: next,
                    });
                }
            }
        }
    }

    /// Sets `rt`; free when this process already set it (a re-routed event).
    async fn mark_routed(&self, org: OrgId, id: EventId) -> Result<(), StoreError> {
        let key = format!("{org}|{id}");
        if self.routed.contains(&key) {
            return Ok(());
        }
        // Conditional so that another organization's id creates nothing.
        let set = Expr::new("SET #rt = :yes").value(":yes", yes());
        if self
            .update(
                Table::History,
                events_pk(org),
                &event_sk(id),
                set,
                Some(present()),
            )
            .await?
            .is_some()
        {
            self.routed.insert(key);
        }
        Ok(())
    }

    async fn is_routed(&self, org: OrgId, id: EventId) -> Result<bool, StoreError> {
        Ok(self
            .get(Table::History, events_pk(org), &event_sk(id))
            .await?
            .is_some_and(|item| super::item::Reader::new(&item, "event").flag("rt")))
    }
}

/// Candidate events a status-filtered page examines before it returns what it found.
const STATUS_SCAN: usize = 200;

impl DynamoStore {
    /// One newest-first page of events older than `cursor`, with their payloads.
    async fn event_page(
        &self,
        org: OrgId,
        q: &Query,
        cursor: Option<uuid::Uuid>,
        limit: u32,
    ) -> Result<Page<Event>, StoreError> {
        let want = limit as usize + 1;
        let (items, resume) = self.query_page(q, cursor, want, |i| !is_payload(i)).await?;
        // Newest first: a payload item (`<id>#P`) comes just before its event item.
        let mut records = Vec::new();
        let mut payload: Option<&Item> = None;
        for item in &items {
            if is_payload(item) {
                payload = Some(item);
                continue;
            }
            let p = payload.take().filter(|_| codec::payload_is_external(item));
            records.push(codec::event(org, item, p)?);
        }
        Ok(assemble(records, limit, resume, |e| e.id.0))
    }

    /// The event's status as the API derives it: from its routing mark and deliveries.
    async fn derived_status(&self, org: OrgId, id: EventId) -> Result<EventStatus, StoreError> {
        let deliveries = self.deliveries_for_event(org, id).await?;
        let statuses: Vec<_> = deliveries.iter().map(|d| d.status).collect();
        Ok(EventStatus::derive(
            &statuses,
            self.is_routed(org, id).await?,
        ))
    }
}
