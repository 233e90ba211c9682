//! `/connections`: create, list, get. Secrets in metadata are sealed at rest and never shown.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use switchyard_core::domain::{Connection, IntegrationType};
use switchyard_core::webhook::{WebhookConfig, split_secrets};
use switchyard_core::{ConnectionId, ValidationErrors, WorkspaceId, validation};

use super::auth::Machine;
use super::body::{JsonBody, PathId};
use super::error::{ApiError, ApiResult};
use super::query::Params;
use super::views::{ConnectionView, List};
use crate::Deps;

#[derive(Deserialize)]
pub struct CreateConnection {
    workspace: WorkspaceId,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    #[serde(default)]
    metadata: Map<String, Value>,
    #[serde(default)]
    hidden: bool,
}

pub async fn create(
    State(deps): State<Deps>,
    machine: Machine,
    JsonBody(body): JsonBody<CreateConnection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let mut errors = ValidationErrors::default();
    validation::connection_name(&mut errors, "name", &body.name);
    let kind = match body.kind.parse::<IntegrationType>() {
        Ok(k) if k.is_deliverable() => Some(k),
        Ok(k) => {
            errors.push(
                "type",
                format!("{k} connections are not available in this version yet"),
            );
            None
        }
        Err(()) => {
            errors.push("type", "is not a known integration type");
            None
        }
    };
    if kind == Some(IntegrationType::Webhook)
        && let Err(e) = WebhookConfig::from_metadata(&body.metadata, deps.settings.url_policy)
    {
        errors.0.extend(e.0);
    }
    errors.into_result(()).map_err(ApiError::validation)?;
    let kind = kind.expect("validated above");

    super::load_workspace(&deps, machine.org, body.workspace).await?;
    let (public, secret) = split_secrets(body.metadata);
    let secrets = (!secret.is_empty()).then(|| {
        deps.keys
            .seal(&serde_json::to_vec(&secret).expect("metadata serialises"))
    });
    let now = deps.now();
    let connection = Connection {
        id: ConnectionId::new(),
        org: machine.org,
        workspace: body.workspace,
        kind,
        name: body.name.trim().to_owned(),
        metadata: public,
        secrets,
        hidden: body.hidden,
        created_by: format!("machine_key:{}", machine.access_key),
        created_at: now,
        updated_at: now,
    };
    deps.store.create_connection(&connection).await?;
    tracing::info!(org = %machine.org, workspace = %connection.workspace, connection_id = %connection.id, "connection created");
    Ok((
        StatusCode::CREATED,
        Json(json!({ "connection": ConnectionView::from(connection) })),
    ))
}

pub async fn list(
    State(deps): State<Deps>,
    machine: Machine,
    params: Params,
) -> ApiResult<Json<List<ConnectionView>>> {
    let workspace = params.id::<WorkspaceId>("workspace")?;
    list_in(&deps, &machine, workspace, &params).await
}

pub async fn list_for_workspace(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(workspace): PathId<WorkspaceId>,
    params: Params,
) -> ApiResult<Json<List<ConnectionView>>> {
    super::load_workspace(&deps, machine.org, workspace).await?;
    list_in(&deps, &machine, Some(workspace), &params).await
}

async fn list_in(
    deps: &Deps,
    machine: &Machine,
    workspace: Option<WorkspaceId>,
    params: &Params,
) -> ApiResult<Json<List<ConnectionView>>> {
    let page = deps
        .store
        .list_connections(machine.org, workspace, params.page()?)
        .await?;
    Ok(Json(List::from_page(page, ConnectionView::from)))
}

pub async fn get(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<ConnectionId>,
) -> ApiResult<Json<ConnectionView>> {
    let connection = deps
        .store
        .connection(machine.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Connection"))?;
    Ok(Json(connection.into()))
}
