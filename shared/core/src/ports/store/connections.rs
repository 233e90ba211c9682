use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::*;
use crate::page::{Page, PageRequest};
use crate::{ConnectionId, OrgId, StoreError, WorkspaceId};

/// A workspace's destinations and their sealed credentials.
#[async_trait]
pub trait Connections: Send + Sync + 'static {
    async fn create_connection(&self, connection: &Connection) -> Result<(), StoreError>;

    /// As [`Connections::create_connection`], only while the organization has fewer than `limit`
    /// connections: `false` — nothing written — when it has `limit` already. Counting and writing
    /// are one atomic step, so concurrent creates never exceed the plan's limit.
    async fn create_connection_within(
        &self,
        connection: &Connection,
        limit: u64,
    ) -> Result<bool, StoreError>;

    async fn connection(
        &self,
        org: OrgId,
        id: ConnectionId,
    ) -> Result<Option<Connection>, StoreError>;

    /// Replaces name, metadata, secrets and hidden; `false` when absent.
    async fn update_connection(&self, connection: &Connection) -> Result<bool, StoreError>;

    /// As [`Connections::update_connection`], only while the stored `updated_at` is still
    /// `expected_updated_at` (nothing wrote the connection since it was read): `false` when it
    /// moved or the connection is absent. How two processes refreshing one OAuth token avoid
    /// overwriting each other.
    async fn update_connection_if_unchanged(
        &self,
        connection: &Connection,
        expected_updated_at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Deletes a connection and every rule that uses it; `false` when absent.
    async fn delete_connection(&self, org: OrgId, id: ConnectionId) -> Result<bool, StoreError>;

    async fn list_connections(
        &self,
        org: OrgId,
        workspace: Option<WorkspaceId>,
        page: PageRequest,
    ) -> Result<Page<Connection>, StoreError>;
}
