//! Operator commands on a data directory's backend or a deployed stack (`--stack`):
//! organizations, machine keys, workspaces. They print JSON, so scripts can read them; secrets
//! are printed once, at creation.

use anyhow::Context;
use serde_json::json;
use switchyard_core::page::{MAX_LIMIT, PageRequest};
use switchyard_core::{OrgId, WorkspaceId};
use switchyard_handlers::{Deps, tenancy};

use crate::cli::TargetArg;
use crate::{backend, credentials_file, embedded};

pub(crate) async fn deps(target: &TargetArg) -> anyhow::Result<Deps> {
    Ok(backend::open_target(target).await?.backend.deps)
}

/// `--org`, or the organization of credentials.json.
pub(crate) fn org(target: &TargetArg, org: Option<String>) -> anyhow::Result<OrgId> {
    let raw = match org {
        Some(o) => o,
        None => credentials_file::read(&target.data.data_dir)?.org_id,
    };
    raw.parse()
        .with_context(|| format!("{raw} is not an organization id"))
}

pub(crate) fn print(value: serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(&value).expect("JSON"));
}

/// A new organization with a machine key and a `default` workspace. On a deployed stack, the
/// credentials are also saved in the data directory (unless it has some), so `switchyard token`
/// and `env` serve the stack's API.
pub async fn create_org(target: &TargetArg, name: &str) -> anyhow::Result<()> {
    let backend::Target { backend, stack_url } = backend::open_target(target).await?;
    let deps = backend.deps;
    let (org, key) = tenancy::create_organization(&deps, name).await?;
    let (ws, publishable_key) = tenancy::create_workspace(&deps, org.id, "default", None).await?;
    let data_dir = &target.data.data_dir;
    if let Some(api_url) = stack_url
        && !credentials_file::path(data_dir).exists()
    {
        embedded::create_data_dir(data_dir)?;
        credentials_file::write(
            data_dir,
            &credentials_file::Credentials {
                api_url,
                org_id: org.id.to_string(),
                access_key: key.access_key.clone(),
                secret_key: key.secret_key.clone(),
                workspace_id: ws.id.to_string(),
                publishable_key: publishable_key.clone(),
            },
        )?;
        eprintln!("saved in {}", credentials_file::path(data_dir).display());
    }
    print(json!({
        "org_id": org.id.to_string(),
        "access_key": key.access_key,
        "secret_key": key.secret_key,
        "workspace_id": ws.id.to_string(),
        "publishable_key": publishable_key,
    }));
    Ok(())
}

pub async fn create_key(
    target: &TargetArg,
    org_id: Option<String>,
    name: &str,
) -> anyhow::Result<()> {
    let deps = deps(target).await?;
    let org = org(target, org_id)?;
    anyhow::ensure!(
        deps.tenants().organization(org).await?.is_some(),
        "no organization {org}"
    );
    let key = tenancy::issue_machine_key(&deps, org, name).await?;
    print(
        json!({"org_id": org.to_string(), "access_key": key.access_key, "secret_key": key.secret_key}),
    );
    Ok(())
}

pub async fn list_keys(target: &TargetArg, org_id: Option<String>) -> anyhow::Result<()> {
    let deps = deps(target).await?;
    let org = org(target, org_id)?;
    let now = deps.now();
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    let keys: Vec<_> = deps.tenants()
        .machine_keys(org)
        .await?
        .into_iter()
        .map(|k| json!({"access_key": k.access_key, "name": k.name, "revoked": k.is_revoked(now), "expires_at": k.expires_at(now).map(|at| at.format(rfc3339).unwrap_or_default())}))
        .collect();
    print(json!(keys));
    Ok(())
}

pub async fn revoke_key(
    target: &TargetArg,
    org_id: Option<String>,
    access_key: &str,
) -> anyhow::Result<()> {
    let deps = deps(target).await?;
    let org = org(target, org_id)?;
    tenancy::revoke_machine_key(&deps, org, access_key)
        .await?
        .with_context(|| format!("organization {org} has no machine key {access_key}"))?;
    print(json!({"access_key": access_key, "revoked": true}));
    Ok(())
}

pub async fn create_workspace(
    target: &TargetArg,
    org_id: Option<String>,
    name: &str,
) -> anyhow::Result<()> {
    let deps = deps(target).await?;
    let org = org(target, org_id)?;
    let (ws, key) = tenancy::create_workspace(&deps, org, name, None).await?;
    print(json!({"workspace_id": ws.id.to_string(), "name": ws.name, "publishable_key": key}));
    Ok(())
}

pub async fn list_workspaces(target: &TargetArg, org_id: Option<String>) -> anyhow::Result<()> {
    let deps = deps(target).await?;
    let org = org(target, org_id)?;
    let page = PageRequest {
        limit: MAX_LIMIT,
        cursor: None,
    };
    let list: Vec<_> = deps
        .workspaces()
        .list_workspaces(org, page)
        .await?
        .records
        .into_iter()
        .map(|w| json!({"workspace_id": w.id.to_string(), "name": w.name}))
        .collect();
    print(json!(list));
    Ok(())
}

pub async fn rotate_key(
    target: &TargetArg,
    org_id: Option<String>,
    workspace: &str,
    grace_seconds: i64,
) -> anyhow::Result<()> {
    let deps = deps(target).await?;
    let org = org(target, org_id)?;
    let ws: WorkspaceId = workspace
        .parse()
        .with_context(|| format!("{workspace} is not a workspace id"))?;
    anyhow::ensure!(
        deps.workspaces().workspace(org, ws).await?.is_some(),
        "no workspace {ws} in {org}"
    );
    let grace = time::Duration::seconds(
        grace_seconds.clamp(0, tenancy::MAX_ROTATION_GRACE.whole_seconds()),
    );
    let (key, expires) = tenancy::rotate_publishable_key(&deps, org, ws, grace).await?;
    print(
        json!({"workspace_id": ws.to_string(), "publishable_key": key, "previous_key_expires_at": expires.to_string()}),
    );
    Ok(())
}

/// `switchyard console`: a one-time login link for the organization's web console.
pub async fn console_link(
    target: &TargetArg,
    org_id: Option<String>,
    url: Option<String>,
) -> anyhow::Result<()> {
    let org = org(target, org_id)?;
    let backend::Target { backend, stack_url } = backend::open_target(target).await?;
    let base = match url.or(stack_url) {
        Some(url) => url,
        None => credentials_file::read(&target.data.data_dir)?.api_url,
    };
    let code = switchyard_handlers::console::login::issue(&backend.deps, org).await?;
    println!("{}/console/#login={code}", base.trim_end_matches('/'));
    Ok(())
}
