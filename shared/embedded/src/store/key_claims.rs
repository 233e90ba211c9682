//! `Idempotency-Key` claims and spent OAuth states.

use async_trait::async_trait;
use rusqlite::OptionalExtension;
use switchyard_core::ports::KeyClaims;
use switchyard_core::{EventId, OrgId, StoreError, WorkspaceId};
use time::OffsetDateTime;

use super::SqliteStore;
use super::rows::ms;

#[async_trait]
impl KeyClaims for SqliteStore {
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
            .call(move |c| claim_idempotency_key(c, org, workspace, &key, event, now, expires_at))
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
            .call(move |c| held_claim(c, org, workspace, &key, now))
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
            .call(move |c| release_idempotency_key(c, org, workspace, &key, event))
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
}

/// Claims a key unless an unexpired claim exists; returns the existing claim's event.
pub(super) fn claim_idempotency_key(
    c: &mut rusqlite::Connection,
    org: OrgId,
    workspace: WorkspaceId,
    key: &str,
    event: EventId,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> rusqlite::Result<Option<EventId>> {
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let held = claim_in(&tx, org, workspace, key, event, now, expires_at)?;
    tx.commit()?;
    Ok(held)
}

/// The event an unexpired claim of `key` names, if any.
pub(super) fn held_claim(
    c: &rusqlite::Connection,
    org: OrgId,
    workspace: WorkspaceId,
    key: &str,
    now: OffsetDateTime,
) -> rusqlite::Result<Option<EventId>> {
    let existing: Option<(String, i64)> = c
        .prepare_cached(
            "SELECT event, expires_at FROM idempotency_keys
             WHERE org = ?1 AND workspace = ?2 AND key = ?3",
        )?
        .query_row(
            rusqlite::params![org.to_string(), workspace.to_string(), key],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    match existing {
        Some((held_by, until)) if until > ms(now) => held_by.parse().map(Some).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        }),
        _ => Ok(None),
    }
}

/// [`claim_idempotency_key`] inside the caller's (immediate) transaction.
pub(super) fn claim_in(
    c: &rusqlite::Connection,
    org: OrgId,
    workspace: WorkspaceId,
    key: &str,
    event: EventId,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> rusqlite::Result<Option<EventId>> {
    if let Some(held) = held_claim(c, org, workspace, key, now)? {
        return Ok(Some(held));
    }
    c.prepare_cached(
        "INSERT OR REPLACE INTO idempotency_keys (org, workspace, key, event, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(rusqlite::params![
        org.to_string(),
        workspace.to_string(),
        key,
        event.to_string(),
        ms(expires_at)
    ])?;
    Ok(None)
}

/// Releases a claim of `key` if `event` still holds it.
pub(super) fn release_idempotency_key(
    c: &rusqlite::Connection,
    org: OrgId,
    workspace: WorkspaceId,
    key: &str,
    event: EventId,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "DELETE FROM idempotency_keys WHERE org = ?1 AND workspace = ?2 AND key = ?3 AND event = ?4",
    )?
    .execute(rusqlite::params![
        org.to_string(),
        workspace.to_string(),
        key,
        event.to_string()
    ])
    .map(drop)
}
