//! `switchyard mcp` (the MCP tools over stdio, calling a running API as a machine key) and
//! `switchyard mcp-token` (long-lived workspace tokens for `/mcp` over HTTP).

use std::sync::Arc;

use anyhow::Context;
use serde_json::json;
use switchyard_core::domain::SessionRole;
use switchyard_core::{SessionId, WorkspaceId};
use switchyard_handlers::mcp_token;
use switchyard_mcp::{Credentials as McpCredentials, Remote, SwitchyardMcp};

use crate::admin::{deps, org, print};
use crate::cli::{McpArgs, TargetArg};
use crate::credentials_file::{self, Credentials};
use crate::token;

/// A machine JWT lives 30 s; one is minted per tool call.
const TOKEN_SECS: i64 = 30;

pub async fn serve_stdio(args: McpArgs) -> anyhow::Result<()> {
    let creds = credentials(&args)?;
    let api = Remote::new(&creds.api_url)?;
    let mint: switchyard_mcp::TokenSource = Arc::new(move || token::mint(&creds, TOKEN_SECS));
    let server = SwitchyardMcp::new(Arc::new(api), McpCredentials::Fixed(mint));
    switchyard_mcp::serve_stdio(server).await
}

/// Flags and environment first; whatever they leave unset, from credentials.json.
fn credentials(args: &McpArgs) -> anyhow::Result<Credentials> {
    let all_given = args.url.is_some()
        && args.org_id.is_some()
        && args.access_key.is_some()
        && args.secret_key.is_some();
    let file = if all_given {
        None
    } else {
        Some(credentials_file::read(&args.data.data_dir).context(
            "no credentials: set SWITCHYARD_URL, SWITCHYARD_ORG_ID, SWITCHYARD_ACCESS_KEY and \
             SWITCHYARD_SECRET_KEY, or run `switchyard serve` in this directory first",
        )?)
    };
    let pick = |given: &Option<String>, from_file: fn(&Credentials) -> &String| {
        given
            .clone()
            .or_else(|| file.as_ref().map(|f| from_file(f).clone()))
            .unwrap_or_default()
    };
    Ok(Credentials {
        api_url: pick(&args.url, |c| &c.api_url),
        org_id: pick(&args.org_id, |c| &c.org_id),
        access_key: pick(&args.access_key, |c| &c.access_key),
        secret_key: pick(&args.secret_key, |c| &c.secret_key),
        workspace_id: String::new(),
        publishable_key: String::new(),
    })
}

pub async fn create_token(
    data: &TargetArg,
    org_id: Option<String>,
    workspace: &str,
    role: &str,
    days: u32,
    name: &str,
) -> anyhow::Result<()> {
    let deps = deps(data).await?;
    let org = org(data, org_id)?;
    let workspace: WorkspaceId = workspace
        .parse()
        .with_context(|| format!("{workspace} is not a workspace id"))?;
    let role: SessionRole = role
        .parse()
        .map_err(|_| anyhow::anyhow!("role must be member, admin or owner"))?;
    let (session, token) = mcp_token::issue(&deps, org, workspace, role, days, name).await?;
    print(json!({
        "id": session.id.to_string(),
        "workspace_id": workspace.to_string(),
        "role": role.as_str(),
        "expires_at": session.expires_at.format(&time::format_description::well_known::Rfc3339)?,
        "token": token,
    }));
    Ok(())
}

pub async fn list_tokens(data: &TargetArg, org_id: Option<String>) -> anyhow::Result<()> {
    let deps = deps(data).await?;
    let org = org(data, org_id)?;
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    let mut list = Vec::new();
    for s in mcp_token::list(&deps, org).await? {
        list.push(json!({
            "id": s.id.to_string(),
            "name": s.external_user_id.as_deref().unwrap_or_default()
                .trim_start_matches(mcp_token::MARK),
            "workspace_id": s.workspace.to_string(),
            "role": s.role.as_str(),
            "expires_at": s.expires_at.format(rfc3339)?,
            "revoked": s.revoked_at.is_some(),
        }));
    }
    print(json!(list));
    Ok(())
}

pub async fn revoke_token(
    data: &TargetArg,
    org_id: Option<String>,
    id: &str,
) -> anyhow::Result<()> {
    let deps = deps(data).await?;
    let org = org(data, org_id)?;
    let session: SessionId = id
        .parse()
        .with_context(|| format!("{id} is not a token id"))?;
    anyhow::ensure!(
        mcp_token::revoke(&deps, org, session).await?,
        "organization {org} has no MCP token {id}"
    );
    print(json!({"id": id, "revoked": true}));
    Ok(())
}
