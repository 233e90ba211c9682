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
    deps.tenants().create_organization(&org).await?;
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
    deps.tenants()
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
    create_workspace_within(deps, org, name, description, None)
        .await
        .map(|created| created.expect("no limit to reach"))
}

/// As [`create_workspace`], only while the organization has fewer than `limit` workspaces
/// (counted atomically with the create); `None` at the limit, nothing written.
pub async fn create_workspace_within(
    deps: &Deps,
    org: OrgId,
    name: &str,
    description: Option<String>,
    limit: Option<u64>,
) -> Result<Option<(Workspace, String)>, StoreError> {
    let now = deps.now();
    let workspace = Workspace {
        id: WorkspaceId::new(),
        org,
        name: name.to_owned(),
        description,
        created_at: now,
        updated_at: now,
    };
    match limit {
        None => deps.workspaces().create_workspace(&workspace).await?,
        Some(limit) => {
            if !deps
                .workspaces()
                .create_workspace_within(&workspace, limit)
                .await?
            {
                return Ok(None);
            }
        }
    }
    let key = new_publishable_key(org, workspace.id);
    deps.tenants()
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
    Ok(Some((workspace, key)))
}

/// The longest grace period a rotated-out publishable key may keep working.
pub const MAX_ROTATION_GRACE: time::Duration = time::Duration::days(30);
/// The default grace period: long enough to roll a deploy, short enough to matter.
pub const DEFAULT_ROTATION_GRACE: time::Duration = time::Duration::hours(24);

/// Issues a new publishable key for a workspace; the current one keeps working for `grace`,
/// then stops. Returns the new key (in clear) and when the old one expires.
pub async fn rotate_publishable_key(
    deps: &Deps,
    org: OrgId,
    workspace: WorkspaceId,
    grace: time::Duration,
) -> Result<(String, time::OffsetDateTime), StoreError> {
    let now = deps.now();
    let expires_at = now + grace;
    for mut old in deps.tenants().publishable_keys(org, workspace).await? {
        // Keys already on their way out keep their earlier end.
        if old.expires_at.is_none_or(|at| at > expires_at) {
            old.expires_at = Some(expires_at);
            deps.tenants().put_publishable_key(&old).await?;
        }
    }
    let key = new_publishable_key(org, workspace);
    deps.tenants()
        .put_publishable_key(&PublishableKey {
            key_hash: publishable_key_hash(&key),
            org,
            workspace,
            name: "default".to_owned(),
            key: deps.keys.seal_str(&key),
            created_at: now,
            expires_at: None,
        })
        .await?;
    tracing::info!(org = %org, workspace = %workspace, "publishable key rotated");
    Ok((key, expires_at))
}

/// Revokes a machine key of the organization; `None` when it has no such key.
pub async fn revoke_machine_key(
    deps: &Deps,
    org: OrgId,
    access_key: &str,
) -> Result<Option<MachineKey>, StoreError> {
    let Some(mut key) = deps.tenants().machine_key(access_key).await? else {
        return Ok(None);
    };
    if key.org != org {
        return Ok(None);
    }
    // A console session's key carries its session's end: revoking ends it now.
    let now = deps.now();
    if !key.is_revoked(now) {
        key.revoked_at = Some(now);
        deps.tenants().put_machine_key(&key).await?;
        tracing::info!(org = %org, access_key, "machine key revoked");
    }
    Ok(Some(key))
}
