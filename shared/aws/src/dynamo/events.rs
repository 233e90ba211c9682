//! Events in the history table: one partition per organization (`EV#<org>`), sorted by id, so
//! the history list is a descending Query and an event is a Query on its id. Small payloads
//! stay inline; large ones go to a separate item so that the routing update (which rewrites
//! the event item and is billed by its size) stays at one write unit.

use switchyard_core::domain::Event;
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::EventFilter;
use switchyard_core::{EventId, OrgId, StoreError};

use super::codec;
use super::expr::Expr;
use super::item::{Item, s};
use super::keys::*;
use super::list::Query;
use super::tenants::assemble;
use super::{DynamoStore, Table, absent, present, yes};

/// Payloads up to this many bytes of JSON are kept in the event item: with the event's own
/// attributes and three rules' delivery ids it stays under the 1 KiB of one write unit.
pub(crate) const INLINE_PAYLOAD_MAX: usize = 400;

impl DynamoStore {
    /// The payload item is written first: an event item is never visible without its payload.
    pub(super) async fn insert_event_items(&self, e: &Event) -> Result<(), StoreError> {
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
    pub(super) async fn event_items(
        &self,
        org: OrgId,
        id: EventId,
    ) -> Result<Option<Event>, StoreError> {
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

    pub(super) async fn list_event_items(
        &self,
        org: OrgId,
        f: &EventFilter,
        page: PageRequest,
    ) -> Result<Page<Event>, StoreError> {
        let q = Query::new(Table::History, events_pk(org), "")
            .equal("ws", f.workspace.map(|w| s(w.to_string())))
            .equal("name", f.event.as_deref().map(s))
            .equal("res", f.resource.as_deref().map(s))
            .equal("rid", f.resource_id.as_deref().map(s));
        let want = page.limit as usize + 1;
        let (items, resume) = self
            .query_page(&q, page.cursor, want, |i| !is_payload(i))
            .await?;
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
        Ok(assemble(records, page.limit, resume, |e| e.id.0))
    }

    /// A conditional put that succeeds when no claim exists or the existing one has expired;
    /// otherwise the holder is read back. The claim's TTL removes it once expired.
    pub(super) async fn claim_idempotency_item(
        &self,
        org: OrgId,
        ws: switchyard_core::WorkspaceId,
        key: &str,
        event: EventId,
        now: time::OffsetDateTime,
        expires_at: time::OffsetDateTime,
    ) -> Result<Option<EventId>, StoreError> {
        let pk = idempotency_pk(org, ws, key);
        let mut item = Item::new();
        item.insert(PK.into(), s(&pk));
        item.insert(SK.into(), s(IDEMPOTENCY_SK));
        item.insert("event".into(), s(event.to_string()));
        item.insert("exp".into(), super::item::ms(expires_at));
        item.insert(TTL.into(), super::item::n(expires_at.unix_timestamp()));
        let free = Expr::new("attribute_not_exists(#pk) OR #exp <= :now")
            .value(":now", super::item::ms(now));
        for _ in 0..2 {
            if self
                .put(Table::History, item.clone(), Some(free.clone()))
                .await?
            {
                return Ok(None);
            }
            if let Some(held) = self.get(Table::History, pk.clone(), IDEMPOTENCY_SK).await? {
                return super::item::Reader::new(&held, "idempotency key")
                    .parse("event")
                    .map(Some);
            }
            // Expired and removed between the put and the read: claim again.
        }
        Err(StoreError::Backend(
            "idempotency key changed hands twice; try again".into(),
        ))
    }

    /// The event an unexpired claim names (a strongly consistent read).
    pub(super) async fn idempotency_item(
        &self,
        org: OrgId,
        ws: switchyard_core::WorkspaceId,
        key: &str,
        now: time::OffsetDateTime,
    ) -> Result<Option<EventId>, StoreError> {
        let Some(held) = self
            .get(Table::History, idempotency_pk(org, ws, key), IDEMPOTENCY_SK)
            .await?
        else {
            return Ok(None);
        };
        let reader = super::item::Reader::new(&held, "idempotency key");
        if reader.time("exp")? <= now {
            return Ok(None);
        }
        reader.parse("event").map(Some)
    }

    /// Deletes the claim if `event` still holds it.
    pub(super) async fn release_idempotency_item(
        &self,
        org: OrgId,
        ws: switchyard_core::WorkspaceId,
        key: &str,
        event: EventId,
    ) -> Result<(), StoreError> {
        let held_by_us = Expr::new("#event = :event").value(":event", s(event.to_string()));
        self.delete_if(
            Table::History,
            idempotency_pk(org, ws, key),
            IDEMPOTENCY_SK,
            held_by_us,
        )
        .await
        .map(drop)
    }

    /// Sets `rt`; free when this process already set it (a re-routed event).
    pub(super) async fn mark_event_routed(
        &self,
        org: OrgId,
        id: EventId,
    ) -> Result<(), StoreError> {
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

    pub(super) async fn event_is_routed(
        &self,
        org: OrgId,
        id: EventId,
    ) -> Result<bool, StoreError> {
        Ok(self
            .get(Table::History, events_pk(org), &event_sk(id))
            .await?
            .is_some_and(|item| super::item::Reader::new(&item, "event").flag("rt")))
    }
}

fn is_sk(item: &Item, sk: &str) -> bool {
    matches!(item.get(SK), Some(aws_sdk_dynamodb::types::AttributeValue::S(v)) if v == sk)
}

fn is_payload(item: &Item) -> bool {
    matches!(item.get(SK), Some(aws_sdk_dynamodb::types::AttributeValue::S(v)) if v.ends_with("#P"))
}
