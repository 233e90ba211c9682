//! Catalogs: the integrations this server knows (`/integrations`), a connection's actions and
//! fields, and a workspace's event types and resources.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use switchyard_core::domain::{CatalogKind, IntegrationType};
use switchyard_core::integration_catalog::{self, ActionSpec};
use switchyard_core::{ConnectionId, WorkspaceId};

use super::auth::Machine;
use super::body::PathId;
use super::error::{ApiError, ApiResult};
use crate::Deps;

pub fn actions(kind: IntegrationType) -> &'static [ActionSpec] {
    integration_catalog::spec(kind).actions
}

fn action_views(kind: IntegrationType) -> Vec<Value> {
    actions(kind)
        .iter()
        .map(|a| json!({"action": a.action, "name": a.name, "description": a.description}))
        .collect()
}

/// `GET /integrations`: every type, how it authenticates, its actions, and whether this build
/// can deliver to it yet (`available`, an extension).
pub async fn integrations(_machine: Machine) -> Json<Value> {
    let records: Vec<Value> = integration_catalog::all()
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "type": s.kind.as_str(),
                "authentication": {"type": s.auth.as_str(), "fields": s.auth_fields},
                "actions": action_views(s.kind),
                "available": s.kind.is_deliverable(),
            })
        })
        .collect();
    Json(
        json!({"count": records.len(), "limit": records.len(), "next_cursor": null, "records": records}),
    )
}

pub async fn connection_actions(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<ConnectionId>,
) -> ApiResult<Json<Value>> {
    let connection = deps
        .store
        .connection(machine.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Connection"))?;
    Ok(Json(
        json!({"type": connection.kind.as_str(), "actions": action_views(connection.kind)}),
    ))
}

/// Destination fields (lists, tags, properties) come from the provider's API; a webhook has
/// none.
pub async fn connection_fields(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<ConnectionId>,
) -> ApiResult<Json<Value>> {
    let connection = deps
        .store
        .connection(machine.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Connection"))?;
    Ok(Json(
        json!({"type": connection.kind.as_str(), "fields": []}),
    ))
}

async fn workspace_catalog(
    deps: &Deps,
    machine: &Machine,
    workspace: WorkspaceId,
    kind: CatalogKind,
) -> ApiResult<Json<Value>> {
    super::load_workspace(deps, machine.org, workspace).await?;
    let records: Vec<Value> = deps
        .store
        .catalog(machine.org, workspace, kind)
        .await?
        .into_iter()
        .map(|e| {
            let at = e
                .created_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            json!({
                "id": format!("{}:{}", kind.as_str(), e.key),
                "key": e.key,
                "label": e.key,
                "description": null,
                "active": true,
                "created_by": null,
                "created_at": at,
                "updated_at": at,
            })
        })
        .collect();
    Ok(Json(
        json!({"count": records.len(), "limit": records.len(), "next_cursor": null, "records": records}),
    ))
}

pub async fn event_types(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(workspace): PathId<WorkspaceId>,
) -> ApiResult<Json<Value>> {
    workspace_catalog(&deps, &machine, workspace, CatalogKind::EventType).await
}

pub async fn resources(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(workspace): PathId<WorkspaceId>,
) -> ApiResult<Json<Value>> {
    workspace_catalog(&deps, &machine, workspace, CatalogKind::Resource).await
}
