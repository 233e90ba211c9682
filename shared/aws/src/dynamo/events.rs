//! Events in the history table, spread over an organization's event shards (`EV#<org>#<nn>`,
//! the shard from the id) and sorted by id there, so the history list is a merge of
//! descending Queries (`shards.rs`) and an event is a Query on its id. Small payloads
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

    /// Payload items in one batch write first, then the event items in another: an event item
    /// is never visible without its payload. Fresh ids need no condition.
    async fn insert_new_events(&self, events: &[Event]) -> Result<(), StoreError> {
        let mut items = Vec::with_capacity(events.len());
        let mut payloads = Vec::new();
        for e in events {
            let (item, payload) =
                codec::event_items(e, self.expiry(e.created_at), INLINE_PAYLOAD_MAX)?;
            items.push(item);
            payloads.extend(payload);
        }
        self.batch_put(Table::History, payloads).await?;
        self.batch_put(Table::History, items).await
    }

    /// On the hot path, read once per instance (`HotPath`).
    async fn event(&self, org: OrgId, id: EventId) -> Result<Option<Event>, StoreError> {
        match &self.hot {
            // Stored events never change; an absent one (not stored yet) is not kept.
            Some(hot) => {
                hot.events
                    .get_or_load(
                        format!("{org}|{id}"),
                        |e| e.is_some(),
                        || self.load_event(org, id),
                    )
                    .await
            }
            None => self.load_event(org, id).await,
        }
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
        let queries = || {
            (0..EVENT_SHARDS)
                .map(|shard| {
                    Query::new(Table::History, event_shard_pk(org, shard), "")
                        .equal("ws", f.workspace.map(|w| s(w.to_string())))
                        .equal("name", f.event.as_deref().map(s))
                        .equal("res", f.resource.as_deref().map(s))
                        .equal("rid", f.resource_id.as_deref().map(s))
                        .at_least(lower.map(|l| l.hyphenated().to_string()))
                })
                .collect()
        };
        let Some(status) = f.status else {
            let page = PageRequest {
                limit: page.limit,
                cursor,
            };
            return self.event_page(org, queries(), page).await;
        };
        let mut kept = Vec::new();
        let mut examined = 0;
        let mut cursor = cursor;
        loop {
            let batch = self
                .event_page(org, queries(), PageRequest { limit: 50, cursor })
                .await?;
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
                events_pk(org, id),
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
            .get(Table::History, events_pk(org, id), &event_sk(id))
            .await?
            .is_some_and(|item| super::item::Reader::new(&item, "event").flag("rt")))
    }
}

/// Candidate events a status-filtered page examines before it returns what it found.
const STATUS_SCAN: usize = 200;

impl DynamoStore {
    /// One newest-first page of events over the organization's shards (`queries`, one per
    /// shard), with their payloads.
    async fn event_page(
        &self,
        org: OrgId,
        queries: Vec<Query>,
        page: PageRequest,
    ) -> Result<Page<Event>, StoreError> {
        let decode = |items: &[Item]| {
            // Newest first: a payload item (`<id>#P`) comes just before its event item.
            let mut records = Vec::new();
            let mut payload: Option<&Item> = None;
            for item in items {
                if is_payload(item) {
                    payload = Some(item);
                    continue;
                }
                let p = payload.take().filter(|_| codec::payload_is_external(item));
                records.push(codec::event(org, item, p)?);
            }
            Ok(records)
        };
        self.merged_page(
            queries,
            page,
            |i| !is_payload(i),
            decode,
            |e: &Event| e.id.0,
        )
        .await
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

    /// The event item and its payload item (if any), in one Query.
    async fn load_event(&self, org: OrgId, id: EventId) -> Result<Option<Event>, StoreError> {
        let q = Query::new(Table::History, events_pk(org, id), event_sk(id));
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
}
