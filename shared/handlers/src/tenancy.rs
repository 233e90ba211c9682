//! Creating tenants and their credentials: organizations with a machine key, workspaces with a
//! publishable key. Used by first start-up and by the API.

use switchyard_core::credentials::{
    new_access_key, new_publishable_key, new_secret_key, publishable_key_hash,
};
use switchyard_core::domain::{MachineKey, Organization, PublishableKey, Workspace};
use switchyard_core::{OrgId, StoreError, WorkspaceId};

use crate::Deps;

/// A machine key as shown once, at creation.
pub struct IssuedMachineKey {
    pub access_key: String,
    pub secret_key: String,
}

/// Creates an organization and its first machine key.
pub async fn create_organization(
    deps: &Deps,
    name: &str,
) -> Result<(Organization, IssuedMachineKey), StoreError> {
    let now = deps.now();
    let org = Organization {
        id: OrgId::new(),
        name: name.to_owned(),
        created_at: now,
    };
    deps.store.create_organization(&org).await?;
    let key = issue_machine_key(deps, org.id, "default").await?;
    Ok((org, key))
}

/// Issues a machine key for an organization; the secret is sealed at rest and returned once.
pub async fn issue_machine_key(
    deps: &Deps,
    org: OrgId,
    name: &str,
) -> Result<IssuedMachineKey, StoreError> {
    let issued = IssuedMachineKey {
        access_key: new_access_key(),
        secret_key: new_secret_key(),
    };
    deps.store
        .put_machine_key(&MachineKey {
            access_key: issued.access_key.clone(),
            org,
            name: name.to_owned(),
            secret: deps.keys.seal_str(&issued.secret_key),
            created_at: deps.now(),
            revoked_at: None,
        })
        .await?;
    Ok(issued)
}

/// Creates a workspace and its publishable key; returns both (the key in clear).
pub async fn create_workspace(
    deps: &Deps,
    org: OrgId,
    name: &str,
    description: Option<String>,
) -> Result<(Workspace, String), StoreError> {
    let now = deps.now();
    let workspace = Workspace {
        id: WorkspaceId::new(),
        org,
        name: name.to_owned(),
        description,
        created_at: now,
        updated_at: now,
    };
    deps.store.create_workspace(&workspace).await?;
    let key = new_publishable_key(org, workspace.id);
    deps.store
        .put_publishable_key(&PublishableKey {
            key_hash: publishable_key_hash(&key),
            org,
            workspace: workspace.id,
            name: "default".to_owned(),
            key: deps.keys.seal_str(&key),
            created_at: now,
            expires_at: None,
        })
        .await?;
    Ok((workspace, key))
}
