//! `Idempotency-Key` claims and spent OAuth states: one item each in the history table, written
//! on the condition that none is there (or the one there has expired), and removed by
//! DynamoDB's TTL when it expires.

use async_trait::async_trait;
use switchyard_core::ports::KeyClaims;
use switchyard_core::{EventId, OrgId, StoreError};
use time::OffsetDateTime;

use super::expr::Expr;
use super::item::{Item, ms, n, s};
use super::keys::*;
use super::{DynamoStore, Table};

const STATE_SK: &str = "S";

#[async_trait]
impl KeyClaims for DynamoStore {
    /// A conditional put that succeeds when no claim exists or the existing one has expired;
    /// otherwise the holder is read back. The claim's TTL removes it once expired.
    async fn claim_idempotency_key(
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
    async fn idempotency_claim(
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
    async fn release_idempotency_key(
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

    async fn consume_oauth_state(
        &self,
        org: OrgId,
        nonce: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut item = Item::new();
        item.insert(PK.into(), s(oauth_state_pk(org, nonce)));
        item.insert(SK.into(), s(STATE_SK));
        item.insert("exp".into(), ms(expires_at));
        item.insert(TTL.into(), n(expires_at.unix_timestamp()));
        let unused = Expr::new("attribute_not_exists(#pk) OR #exp <= :now").value(":now", ms(now));
        self.put(Table::History, item, Some(unused)).await
    }
}
