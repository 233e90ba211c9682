//! Updates, deletes and catalogs: the management writes of the store, as plain SQL over one
//! connection (the `Store` impl runs them on the blocking pool).

use rusqlite::{Connection, OptionalExtension, named_params};
use switchyard_core::domain::{CatalogEntry, CatalogKind, Workspace};
use switchyard_core::{ConnectionId, EventId, OrgId, RuleId, WorkspaceId};
use time::OffsetDateTime;

use switchyard_core::clock::from_epoch_millis as from_ms;

use super::rows::{ms, to_json};

pub(super) fn update_workspace(c: &Connection, ws: &Workspace) -> rusqlite::Result<bool> {
    let changed = c.prepare_cached("UPDATE workspaces SET name = :name, description = :description, updated_at = :updated_at
         WHERE org = :org AND id = :id")?.execute(
        named_params! {
            ":name": ws.name,
            ":description": ws.description,
            ":updated_at": ms(ws.updated_at),
            ":org": ws.org.to_string(),
            ":id": ws.id.to_string(),
        },
    )?;
    Ok(changed == 1)
}

pub(super) fn update_connection(
    c: &Connection,
    conn: &switchyard_core::domain::Connection,
) -> rusqlite::Result<bool> {
    let changed = c
        .prepare_cached(
            "UPDATE connections SET name = :name, metadata = :metadata, secrets = :secrets,
                                hidden = :hidden, updated_at = :updated_at
         WHERE org = :org AND id = :id",
        )?
        .execute(named_params! {
            ":name": conn.name,
            ":metadata": to_json(&conn.metadata)?,
            ":secrets": conn.secrets.as_ref().map(|s| s.0.clone()),
            ":hidden": conn.hidden,
            ":updated_at": ms(conn.updated_at),
            ":org": conn.org.to_string(),
            ":id": conn.id.to_string(),
        })?;
    Ok(changed == 1)
}

/// [`update_connection`] only while `updated_at` is still `expected` (a compare-and-set).
pub(super) fn update_connection_if_unchanged(
    c: &Connection,
    conn: &switchyard_core::domain::Connection,
    expected: OffsetDateTime,
) -> rusqlite::Result<bool> {
    let changed = c
        .prepare_cached(
            "UPDATE connections SET name = :name, metadata = :metadata, secrets = :secrets,
                                hidden = :hidden, updated_at = :updated_at
         WHERE org = :org AND id = :id AND updated_at = :expected",
        )?
        .execute(named_params! {
            ":name": conn.name,
            ":metadata": to_json(&conn.metadata)?,
            ":secrets": conn.secrets.as_ref().map(|s| s.0.clone()),
            ":hidden": conn.hidden,
            ":updated_at": ms(conn.updated_at),
            ":org": conn.org.to_string(),
            ":id": conn.id.to_string(),
            ":expected": ms(expected),
        })?;
    Ok(changed == 1)
}

/// Deletes the connection, its rules and its field mapping in one transaction.
pub(super) fn delete_connection(
    c: &mut Connection,
    org: OrgId,
    id: ConnectionId,
) -> rusqlite::Result<bool> {
    let tx = c.transaction()?;
    tx.prepare_cached("DELETE FROM rules WHERE org = ?1 AND connection = ?2")?
        .execute([org.to_string(), id.to_string()])?;
    tx.prepare_cached("DELETE FROM connection_mappings WHERE org = ?1 AND connection = ?2")?
        .execute([org.to_string(), id.to_string()])?;
    let deleted = tx
        .prepare_cached("DELETE FROM connections WHERE org = ?1 AND id = ?2")?
        .execute([org.to_string(), id.to_string()])?;
    tx.commit()?;
    Ok(deleted == 1)
}

pub(super) fn delete_rule(c: &Connection, org: OrgId, id: RuleId) -> rusqlite::Result<bool> {
    let deleted = c
        .prepare_cached("DELETE FROM rules WHERE org = ?1 AND id = ?2")?
        .execute([org.to_string(), id.to_string()])?;
    Ok(deleted == 1)
}

pub(super) fn add_to_catalog(c: &mut Connection, entries: &[CatalogEntry]) -> rusqlite::Result<()> {
    let tx = c.transaction()?;
    insert_catalog(&tx, entries)?;
    tx.commit()
}

/// Adds catalog keys inside the caller's transaction; keys already there keep their time.
pub(super) fn insert_catalog(c: &Connection, entries: &[CatalogEntry]) -> rusqlite::Result<()> {
    let mut insert = c.prepare_cached(
        "INSERT OR IGNORE INTO catalog (org, workspace, kind, key, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for e in entries {
        insert.execute(rusqlite::params![
            e.org.to_string(),
            e.workspace.to_string(),
            e.kind.as_str(),
            e.key,
            ms(e.created_at),
        ])?;
    }
    Ok(())
}

pub(super) fn catalog(
    c: &Connection,
    org: OrgId,
    workspace: WorkspaceId,
    kind: CatalogKind,
) -> rusqlite::Result<Vec<CatalogEntry>> {
    c.prepare_cached(
        "SELECT key, created_at FROM catalog
         WHERE org = ?1 AND workspace = ?2 AND kind = ?3 ORDER BY key",
    )?
    .query_map(
        rusqlite::params![org.to_string(), workspace.to_string(), kind.as_str()],
        |row| {
            Ok(CatalogEntry {
                org,
                workspace,
                kind,
                key: row.get(0)?,
                created_at: from_ms(row.get(1)?),
            })
        },
    )?
    .collect()
}

/// Claims a key unless an unexpired claim exists; returns the existing claim's event.
pub(super) fn claim_idempotency_key(
    c: &mut Connection,
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
    c: &Connection,
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
    c: &Connection,
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
    c: &Connection,
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
