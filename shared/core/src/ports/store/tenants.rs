use async_trait::async_trait;

use crate::domain::*;
use crate::{OrgId, StoreError, WorkspaceId};

/// Organizations and their credentials: machine keys and publishable keys. The key lookups run before the tenant is known (they are how it becomes known).
#[async_trait]
pub trait Tenants: Send + Sync + 'static {
    async fn create_organization(&self, org: &Organization) -> Result<(), StoreError>;

    async fn organization(&self, id: OrgId) -> Result<Option<Organization>, StoreError>;

    async fn put_machine_key(&self, key: &MachineKey) -> Result<(), StoreError>;

    /// Looks a machine key up by its public access key (the JWT `kid`), before the tenant is known.
    async fn machine_key(&self, access_key: &str) -> Result<Option<MachineKey>, StoreError>;

    /// The organization's machine keys (revoked ones included), oldest first.
    async fn machine_keys(&self, org: OrgId) -> Result<Vec<MachineKey>, StoreError>;

    /// Deletes the organization's machine key `access_key`; `false` when the organization has
    /// no such key (another organization's is never touched).
    async fn delete_machine_key(&self, org: OrgId, access_key: &str) -> Result<bool, StoreError>;

    async fn put_publishable_key(&self, key: &PublishableKey) -> Result<(), StoreError>;

    /// Looks a publishable key up by its hash, before the tenant is known.
    async fn publishable_key(&self, key_hash: &str) -> Result<Option<PublishableKey>, StoreError>;

    /// The workspace's keys, newest first.
    async fn publishable_keys(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
    ) -> Result<Vec<PublishableKey>, StoreError>;
}
