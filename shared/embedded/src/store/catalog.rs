//! A workspace's event types and resources; a key keeps its first-seen time.

use async_trait::async_trait;
use switchyard_core::clock::from_epoch_millis as from_ms;
use switchyard_core::domain::*;
use switchyard_core::ports::Catalog;
use switchyard_core::{OrgId, StoreError, WorkspaceId};

use super::SqliteStore;
use super::rows::ms;

#[async_trait]
impl Catalog for SqliteStore {
    async fn add_to_catalog(&self, entries: &[CatalogEntry]) -> Result<(), StoreError> {
        let entries = entries.to_vec();
        self.db.call(move |c| add_to_catalog(c, &entries)).await
    }

    async fn catalog(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        kind: CatalogKind,
    ) -> Result<Vec<CatalogEntry>, StoreError> {
        self.db
            .call(move |c| catalog(c, org, workspace, kind))
            .await
    }
}

pub(super) fn add_to_catalog(
    c: &mut rusqlite::Connection,
    entries: &[CatalogEntry],
) -> rusqlite::Result<()> {
    let tx = c.transaction()?;
    insert_catalog(&tx, entries)?;
    tx.commit()
}

/// Adds catalog keys inside the caller's transaction; keys already there keep their time.
pub(super) fn insert_catalog(
    c: &rusqlite::Connection,
    entries: &[CatalogEntry],
) -> rusqlite::Result<()> {
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
    c: &rusqlite::Connection,
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
