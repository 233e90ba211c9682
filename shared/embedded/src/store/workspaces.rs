//! Workspaces; a name is unique within its organization.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, named_params};
use switchyard_core::domain::*;
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::Workspaces;
use switchyard_core::{OrgId, StoreError, WorkspaceId};

use super::list::ListQuery;
use super::rows::{self, ms};
use super::{SqliteStore, within_limit};

#[async_trait]
impl Workspaces for SqliteStore {
    async fn create_workspace(&self, workspace: &Workspace) -> Result<(), StoreError> {
        let ws = workspace.clone();
        // UNIQUE (org, name) turns a taken name into `Conflict` via `db::backend`.
        self.db.call(move |c| insert_workspace(c, &ws)).await
    }

    async fn create_workspace_within(
        &self,
        workspace: &Workspace,
        limit: u64,
    ) -> Result<bool, StoreError> {
        let ws = workspace.clone();
        self.db
            .call(move |c| {
                within_limit(c, "workspaces", ws.org, limit, |c| insert_workspace(c, &ws))
            })
            .await
    }

    async fn workspace(
        &self,
        org: OrgId,
        id: WorkspaceId,
    ) -> Result<Option<Workspace>, StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached("SELECT * FROM workspaces WHERE org = ?1 AND id = ?2")?
                    .query_row([org.to_string(), id.to_string()], rows::workspace)
                    .optional()
            })
            .await
    }

    async fn update_workspace(&self, workspace: &Workspace) -> Result<bool, StoreError> {
        let ws = workspace.clone();
        self.db.call(move |c| update_workspace(c, &ws)).await
    }

    async fn list_workspaces(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Page<Workspace>, StoreError> {
        self.db
            .call(move |c| {
                ListQuery::new("workspaces", org).page(c, page, rows::workspace, |w| w.id.0)
            })
            .await
    }
}

pub(super) fn insert_workspace(c: &rusqlite::Connection, ws: &Workspace) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO workspaces (id, org, name, description, created_at, updated_at)
             VALUES (:id, :org, :name, :description, :created_at, :updated_at)",
    )?
    .execute(named_params! {
        ":id": ws.id.to_string(),
        ":org": ws.org.to_string(),
        ":name": ws.name,
        ":description": ws.description,
        ":created_at": ms(ws.created_at),
        ":updated_at": ms(ws.updated_at),
    })
    .map(drop)
}

pub(super) fn update_workspace(c: &rusqlite::Connection, ws: &Workspace) -> rusqlite::Result<bool> {
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
