//! Events in the history table, spread over an organization's event shards (`EV#<org>#<nn>`,
//! the shard from the id) and sorted by id there, so the history list is a merge of
//! descending Queries (`shards.rs`) and an event is a Query on its id. Small payloads
//! stay inline; large ones go to a separate item so that the routing update (which rewrites
//! the event item and is billed by its size) stays at one write unit.

use std::collections::BTreeMap;

use async_trait::async_trait;
use switchyard_core::domain::{Event, EventStatus};
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::{Deliveries, EventFilter, Events};
use switchyard_core::{EventId, OrgId, RuleId, StoreError};

use super::codec;
use super::item::{Item, s};
use super::keys::*;
use super::list::Query;
use super::rule_claims::{self, Claim};
use super::{DynamoStore, Table, absent};

/// Payloads up to this many bytes of JSON are kept in the event item: with the event's own
/// attributes and three rules' claims (~135 bytes each) it stays under the 1 KiB of one write
/// unit (a test below holds it).
pub(crate) const INLINE_PAYLOAD_MAX: usize = 320;

/// An event and its rules' claims on it, as one read of its item found them.
#[derive(Clone)]
pub(crate) struct StoredEvent {
    pub(super) event: Event,
    pub(super) claims: BTreeMap<RuleId, Claim>,
}

/// The memo key of an event this process marked routed.
pub(super) fn routed_key(org: OrgId, event: EventId) -> String {
    format!("{org}|{event}")
}

pub(super) fn is_sk(item: &Item, sk: &str) -> bool {
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
        Ok(self.stored_event(org, id, false).await?.map(|e| e.event))
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
    /// The event and its rules' claims, as read now — or, on the hot path unless `fresh`, as
    /// read up to a minute ago (an event never changes; its claims only grow).
    pub(super) async fn stored_event(
        &self,
        org: OrgId,
        id: EventId,
        fresh: bool,
    ) -> Result<Option<StoredEvent>, StoreError> {
        let Some(hot) = &self.hot else {
            return self.load_event(org, id).await;
        };
        let key = format!("{org}|{id}");
        if fresh {
            let read = self.load_event(org, id).await?;
            if read.is_some() {
                hot.events.put(key, read.clone());
            }
            return Ok(read);
        }
        // An absent one (not stored yet) is not kept.
        hot.events
            .get_or_load(key, |e| e.is_some(), || self.load_event(org, id))
            .await
    }

    /// The event item and its payload item (if any), in one Query.
    async fn load_event(&self, org: OrgId, id: EventId) -> Result<Option<StoredEvent>, StoreError> {
        let q = Query::new(Table::History, events_pk(org, id), event_sk(id));
        let items = self.query_all(&q, true).await?;
        let Some(item) = items.iter().find(|i| is_sk(i, &event_sk(id))) else {
            return Ok(None);
        };
        let payload = items.iter().find(|i| is_sk(i, &payload_sk(id)));
        if codec::payload_is_external(item) && payload.is_none() {
            return Err(StoreError::Backend("event payload item is missing".into()));
        }
        Ok(Some(StoredEvent {
            event: codec::event(org, item, payload)?,
            claims: rule_claims::claims(item),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::domain::{Delivery, DeliveryStatus, IntegrationType};
    use switchyard_core::trace::TraceId;
    use switchyard_core::{ConnectionId, DeliveryId, WorkspaceId};
    use time::OffsetDateTime;

    /// The routing claim rewrites the event item and is billed by its size: with an inline
    /// payload at the limit and three rules' claims, a typical event stays within one write
    /// unit.
    #[test]
    fn an_inline_payload_at_the_limit_and_three_claims_fit_one_write_unit() {
        let now = OffsetDateTime::now_utc();
        let payload = "x".repeat(INLINE_PAYLOAD_MAX - r#"{"data":""}"#.len());
        let e = Event {
            id: EventId::new(),
            org: OrgId::new(),
            workspace: WorkspaceId::new(),
            event: "invoice.payment_failed".into(),
            resource: "invoice".into(),
            resource_id: Some("in_1QxYz2AbCdEfGhIj".into()),
            payload: serde_json::json!({ "data": payload }),
            created_by: "publishable_key:web".into(),
            created_at: now,
            trace_id: Some(TraceId::random()),
        };
        let (mut item, external) = codec::event_items(&e, 1 << 40, INLINE_PAYLOAD_MAX).unwrap();
        assert!(external.is_none(), "the payload is inline");
        item.insert("rt".into(), super::super::yes());
        for _ in 0..3 {
            let d = Delivery {
                id: DeliveryId::new(),
                org: e.org,
                workspace: e.workspace,
                event: e.id,
                event_name: e.event.clone(),
                rule: RuleId::new(),
                connection: ConnectionId::new(),
                kind: IntegrationType::ActiveCampaign,
                status: DeliveryStatus::Pending,
                attempt_count: 0,
                schedule_base: 0,
                started_at: None,
                completed_at: None,
                next_attempt_at: None,
                last_error: None,
                created_at: now,
                updated_at: now,
            };
            item.insert(rule_attr(d.rule), rule_claims::claim_value(&d));
        }
        let size = super::super::item_size(&item);
        assert!(size <= 1024, "{size} bytes");
    }
}
