//! `/workspaces`: create, list, get.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_core::validation;
use switchyard_core::{ValidationErrors, WorkspaceId};

use super::auth::Machine;
use super::body::{JsonBody, PathId};
use super::error::{ApiError, ApiResult};
use super::query::Params;
use super::views::{List, PublishableKeyView, WorkspaceView};
use crate::{Deps, tenancy};

#[derive(Deserialize)]
pub struct CreateWorkspace {
    name: String,
    description: Option<String>,
}

pub async fn create(
    State(deps): State<Deps>,
    machine: Machine,
    JsonBody(body): JsonBody<CreateWorkspace>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let mut errors = ValidationErrors::default();
    validation::workspace_name(&mut errors, "name", &body.name);
    if let Some(d) = &body.description {
        validation::description(&mut errors, "description", d);
    }
    errors.into_result(()).map_err(ApiError::validation)?;
    let (workspace, key) =
        tenancy::create_workspace(&deps, machine.org, &body.name, body.description)
            .await
            .map_err(|e| match e {
                switchyard_core::StoreError::Conflict(_) => {
                    ApiError::conflict("A workspace with this name already exists")
                }
                other => other.into(),
            })?;
    let view = WorkspaceView::new(
        workspace,
        Some(PublishableKeyView {
            public_key: key,
            name: "default".into(),
        }),
    );
    Ok((StatusCode::CREATED, Json(json!({ "workspace": view }))))
}

pub async fn list(
    State(deps): State<Deps>,
    machine: Machine,
    params: Params,
) -> ApiResult<Json<List<WorkspaceView>>> {
    let page = deps
        .store
        .list_workspaces(machine.org, params.page()?)
        .await?;
    Ok(Json(List::from_page(page, |w| WorkspaceView::new(w, None))))
}

pub async fn get(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<WorkspaceId>,
) -> ApiResult<Json<WorkspaceView>> {
    let workspace = super::load_workspace(&deps, machine.org, id).await?;
    let key = deps
        .store
        .publishable_keys(machine.org, id)
        .await?
        .into_iter()
        .find(|k| k.expires_at.is_none());
    let key_view = match key {
        Some(k) => Some(PublishableKeyView {
            public_key: deps.keys.open_string(&k.key).map_err(ApiError::internal)?,
            name: k.name,
        }),
        None => None,
    };
    Ok(Json(WorkspaceView::new(workspace, key_view)))
}

#[derive(Deserialize)]
pub struct UpdateWorkspace {
    name: String,
    description: Option<String>,
}

pub async fn update(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<WorkspaceId>,
    JsonBody(body): JsonBody<UpdateWorkspace>,
) -> ApiResult<Json<WorkspaceView>> {
    let mut errors = ValidationErrors::default();
    validation::workspace_name(&mut errors, "name", &body.name);
    if let Some(d) = &body.description {
        validation::description(&mut errors, "description", d);
    }
    errors.into_result(()).map_err(ApiError::validation)?;
    let mut workspace = super::load_workspace(&deps, machine.org, id).await?;
    workspace.name = body.name;
    workspace.description = body.description;
    workspace.updated_at = deps.now();
    let updated = deps
        .store
        .update_workspace(&workspace)
        .await
        .map_err(|e| match e {
            switchyard_core::StoreError::Conflict(_) => {
                ApiError::conflict("A workspace with this name already exists")
            }
            other => other.into(),
        })?;
    if !updated {
        return Err(ApiError::not_found("Workspace"));
    }
    Ok(Json(WorkspaceView::new(workspace, None)))
}
