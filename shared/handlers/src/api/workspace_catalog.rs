//! `/workspaces/{id}/event-types` and `/resources`: the event types and resources a workspace
//! has seen in events and rules, each a bare JSON array as the contract has it.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use switchyard_core::WorkspaceId;
use switchyard_core::domain::CatalogKind;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::{Caller, Reader};
use super::body::PathId;
use super::error::ApiResult;
use super::openapi::{NotFound, Unauthorized};
use crate::Deps;

/// An event type or resource a workspace has seen.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "6f1c0d55-2a4b-8e31-9d2f-4c8e5a7b1f20", "key": "user.signup",
    "label": "User Signup", "description": null, "active": true, "created_by": null,
    "created_at": "2026-03-01T10:00:00Z", "updated_at": "2026-03-01T10:00:00Z"}))]
pub struct CatalogEntryView {
    /// Stable for the workspace, kind and key (a name-based UUID).
    id: uuid::Uuid,
    /// As events and rules name it: `user.signup`, `invoice`.
    key: String,
    /// The key in words: `user.signup` → "User Signup".
    label: String,
    /// None is kept yet: always `null`.
    #[schema(required = true)]
    description: Option<String>,
    /// Always `true`: a seen key stays in the catalog.
    active: bool,
    /// Keys are added by traffic, not by a person: always `null`.
    #[schema(required = true)]
    created_by: Option<String>,
    /// When the key was first seen.
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    /// The same as `created_at`: an entry does not change.
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

async fn workspace_catalog(
    deps: &Deps,
    caller: &Caller,
    workspace: WorkspaceId,
    kind: CatalogKind,
) -> ApiResult<Json<Vec<CatalogEntryView>>> {
    caller.workspace(deps, workspace).await?;
    let entries = deps
        .catalog()
        .catalog(caller.org(), workspace, kind)
        .await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| CatalogEntryView {
                id: e.id(),
                label: e.label(),
                description: None,
                active: true,
                created_by: None,
                created_at: e.created_at,
                updated_at: e.created_at,
                key: e.key,
            })
            .collect(),
    ))
}

/// The event types the workspace has seen (from events and rules).
#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{id}/event-types",
    operation_id = "listEventTypes",
    summary = "List a workspace's event types",
    description = "The event types the workspace has seen, in events and rules, in key order: \
        a bare JSON array (not the list envelope), unpaged.",
    tag = "catalog",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = "Workspace id.")),
    responses(
        (status = 200, description = "Every event type.", body = Vec<CatalogEntryView>),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ),
)]
pub async fn event_types(
    State(deps): State<Deps>,
    caller: Reader,
    PathId(workspace): PathId<WorkspaceId>,
) -> ApiResult<Json<Vec<CatalogEntryView>>> {
    workspace_catalog(&deps, &caller, workspace, CatalogKind::EventType).await
}

/// The resources the workspace has seen (from events and rules).
#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{id}/resources",
    operation_id = "listResources",
    summary = "List a workspace's resources",
    description = "The resources the workspace has seen, in events and rules, in key order: a \
        bare JSON array (not the list envelope), unpaged.",
    tag = "catalog",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = "Workspace id.")),
    responses(
        (status = 200, description = "Every resource.", body = Vec<CatalogEntryView>),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ),
)]
pub async fn resources(
    State(deps): State<Deps>,
    caller: Reader,
    PathId(workspace): PathId<WorkspaceId>,
) -> ApiResult<Json<Vec<CatalogEntryView>>> {
    workspace_catalog(&deps, &caller, workspace, CatalogKind::Resource).await
}
