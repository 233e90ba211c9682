//! MCP tokens: long-lived, revocable credentials for an agent's static MCP configuration (a
//! machine JWT lives 60 s; an agent config cannot renew it). An MCP token *is* an embed
//! session of one workspace — same hashing, same role and scope checks, same store on both
//! backends, revoked like any session — minted by the operator CLI with a lifetime in days
//! and marked by its `external_user_id` (`mcp-token:<name>`).

use switchyard_core::credentials::{SessionTokenKind, new_session_token, session_token_hash};
use switchyard_core::domain::{Session, SessionRole, SessionType};
use switchyard_core::page::{MAX_LIMIT, PageRequest};
use switchyard_core::ports::SessionFilter;
use switchyard_core::{OrgId, SessionId, StoreError, WorkspaceId};
use time::Duration;

use crate::Deps;

/// The `external_user_id` prefix that marks a session as an MCP token.
pub const MARK: &str = "mcp-token:";
/// The longest lifetime a token may have (the session's TTL is a u32 of seconds).
pub const MAX_DAYS: u32 = 3650;

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("no workspace {0} in this organization")]
    NoWorkspace(WorkspaceId),
    #[error("days must be 1-{MAX_DAYS}")]
    Days,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new token for `workspace` acting as `role`; the token is returned once, only its hash
/// is kept.
pub async fn issue(
    deps: &Deps,
    org: OrgId,
    workspace: WorkspaceId,
    role: SessionRole,
    days: u32,
    name: &str,
) -> Result<(Session, String), IssueError> {
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(IssueError::Days);
    }
    if deps.workspaces().workspace(org, workspace).await?.is_none() {
        return Err(IssueError::NoWorkspace(workspace));
    }
    let id = SessionId::new();
    let token = new_session_token(SessionTokenKind::Access, org, id);
    // No launch: the launch token is never revealed and already expired.
    let launch = new_session_token(SessionTokenKind::Launch, org, id);
    let now = deps.now();
    let ttl_seconds = days * 86_400;
    let session = Session {
        id,
        org,
        workspace,
        session_type: SessionType::Workspace,
        role,
        resource: None,
        resource_id: None,
        external_user_id: Some(format!("{MARK}{name}")),
        scopes: Vec::new(),
        launch_page: None,
        allowed_origins: Vec::new(),
        token_hash: session_token_hash(&token),
        expires_at: now + Duration::seconds(i64::from(ttl_seconds)),
        ttl_seconds,
        launch_hash: session_token_hash(&launch),
        launch_expires_at: now,
        created_at: now,
        revoked_at: None,
        branding: None,
    };
    deps.sessions().create_session(&session).await?;
    tracing::info!(%org, %workspace, session_id = %id, %role, "MCP token issued");
    Ok((session, token))
}

/// The organization's MCP tokens (revoked ones too), newest first.
pub async fn list(deps: &Deps, org: OrgId) -> Result<Vec<Session>, StoreError> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = deps
            .sessions()
            .list_sessions(
                org,
                &SessionFilter::default(),
                PageRequest {
                    limit: MAX_LIMIT,
                    cursor,
                },
            )
            .await?;
        all.extend(page.records.into_iter().filter(is_mcp_token));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}

/// Revokes a token: it stops working at once. `false` when there is no such MCP token.
pub async fn revoke(deps: &Deps, org: OrgId, id: SessionId) -> Result<bool, StoreError> {
    match deps.sessions().session(org, id).await? {
        Some(session) if is_mcp_token(&session) => {
            deps.sessions().revoke_session(org, id, deps.now()).await
        }
        _ => Ok(false),
    }
}

fn is_mcp_token(session: &Session) -> bool {
    session
        .external_user_id
        .as_deref()
        .is_some_and(|u| u.starts_with(MARK))
}
