use async_trait::async_trait;

use crate::domain::*;
use crate::{OrgId, StoreError, WorkspaceId};

/// A workspace's event types and resources, as seen in its events and rules.
#[async_trait]
pub trait Catalog: Send + Sync + 'static {
    /// Adds keys to a workspace's catalog; keys already there keep their first-seen time.
    async fn add_to_catalog(&self, entries: &[CatalogEntry]) -> Result<(), StoreError>;

    /// A workspace's catalog, in key order.
    async fn catalog(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        kind: CatalogKind,
    ) -> Result<Vec<CatalogEntry>, StoreError>;
}
