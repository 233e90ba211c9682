//! Connections with their sealed secrets; deleting one deletes its rules and mapping.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, named_params};
use switchyard_core::domain::*;
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::Connections;
use switchyard_core::{ConnectionId, OrgId, StoreError, WorkspaceId};
use time::OffsetDateTime;

use super::list::ListQuery;
use super::rows::{self, ms, to_json};
use super::{SqliteStore, within_limit};

#[async_trait]
impl Connections for SqliteStore {
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
        let generation = self.db.generation();
        if let Some(connection) = self.cache.connections.get(&(org, id), generation) {
            return Ok(Some(connection));
        }
        let connection = self
            .db
            .read(move |c| {
                c.prepare_cached("SELECT * FROM connections WHERE org = ?1 AND id = ?2")?
                    .query_row([org.to_string(), id.to_string()], rows::connection)
                    .optional()
            })
            .await?;
        if let Some(connection) = &connection {
            self.cache
                .connections
                .put((org, id), connection.clone(), generation);
        }
        Ok(connection)
    }

    async fn update_connection(&self, connection: &Connection) -> Result<bool, StoreError> {
        let conn = connection.clone();
        self.db.call(move |c| update_connection(c, &conn)).await
    }

    async fn update_connection_if_unchanged(
        &self,
        connection: &Connection,
        expected_updated_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let conn = connection.clone();
        self.db
            .call(move |c| update_connection_if_unchanged(c, &conn, expected_updated_at))
            .await
    }

    async fn delete_connection(&self, org: OrgId, id: ConnectionId) -> Result<bool, StoreError> {
        self.db.call(move |c| delete_connection(c, org, id)).await
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
}

pub(super) fn insert_connection(
    c: &rusqlite::Connection,
    conn: &Connection,
) -> rusqlite::Result<()> {
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

pub(super) fn update_connection(
    c: &rusqlite::Connection,
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
    c: &rusqlite::Connection,
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
    c: &mut rusqlite::Connection,
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
