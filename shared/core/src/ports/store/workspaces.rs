use async_trait::async_trait;

use crate::domain::*;
use crate::page::{Page, PageRequest};
use crate::{OrgId, StoreError, WorkspaceId};

/// An organization's workspaces.
#[async_trait]
pub trait Workspaces: Send + Sync + 'static {
    /// Fails with `Conflict` when the organization already has a workspace of that name.
    async fn create_workspace(&self, workspace: &Workspace) -> Result<(), StoreError>;

    /// As [`Workspaces::create_workspace`], only while the organization has fewer than `limit`
    /// workspaces: `false` — nothing written — when it has `limit` already. Counting and writing
    /// are one atomic step, so concurrent creates never exceed the plan's limit.
    async fn create_workspace_within(
        &self,
        workspace: &Workspace,
        limit: u64,
    ) -> Result<bool, StoreError>;

    async fn workspace(&self, org: OrgId, id: WorkspaceId)
    -> Result<Option<Workspace>, StoreError>;

    /// Replaces name and description; `false` when absent. `Conflict` on a taken name.
    async fn update_workspace(&self, workspace: &Workspace) -> Result<bool, StoreError>;

    async fn list_workspaces(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Page<Workspace>, StoreError>;
}
