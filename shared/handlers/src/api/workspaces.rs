//! `/workspaces`: create, list, get, update.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use switchyard_core::validation;
use switchyard_core::{ValidationErrors, WorkspaceId};
use utoipa::ToSchema;

use super::auth::{Caller, Machine, Reader};
use super::body::{JsonBody, PathId};
use super::error::{ApiError, ApiResult};
use super::openapi::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, PlanLimitReached, Unauthorized,
};
use super::query::Params;
use super::schemas::PageParams;
use super::views::{List, PublishableKeyView, WorkspaceCreated, WorkspaceView};
use crate::{Deps, tenancy};
use switchyard_core::plan::Resource;

#[derive(Deserialize, ToSchema)]
pub struct CreateWorkspace {
    /// Unique in the organization.
    #[schema(min_length = 3, max_length = 50, pattern = "^[a-zA-Z0-9 _-]+$")]
    name: String,
    #[schema(max_length = 1024)]
    description: Option<String>,
}

/// The workspace id in the path.
const ID: &str = "Workspace id.";

/// Creates a workspace with its first publishable key (shown in the answer).
#[utoipa::path(
    post,
    path = "/api/v1/workspaces",
    operation_id = "createWorkspace",
    summary = "Create a workspace",
    description = "Creates a workspace with its first publishable key, shown in the answer.",
    tag = "workspaces",
    security(("machine_jwt" = [])),
    request_body = CreateWorkspace,
    responses(
        (status = 201, description = "Created.", body = WorkspaceCreated),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = PlanLimitReached),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
    ),
)]
pub async fn create(
    State(deps): State<Deps>,
    machine: Machine,
    JsonBody(body): JsonBody<CreateWorkspace>,
) -> ApiResult<(StatusCode, Json<WorkspaceCreated>)> {
    let mut errors = ValidationErrors::default();
    validation::workspace_name(&mut errors, "name", &body.name);
    if let Some(d) = &body.description {
        validation::description(&mut errors, "description", d);
    }
    errors.into_result(()).map_err(ApiError::validation)?;
    let limit = deps.settings.plan.of(Resource::Workspaces);
    let (workspace, key) =
        tenancy::create_workspace_within(&deps, machine.org, &body.name, body.description, limit)
            .await
            .map_err(|e| match e {
                switchyard_core::StoreError::Conflict(_) => {
                    ApiError::conflict("A workspace with this name already exists")
                }
                other => other.into(),
            })?
            .ok_or_else(|| {
                ApiError::from(crate::plan::PlanError::Resource {
                    resource: Resource::Workspaces,
                    limit: limit.unwrap_or_default(),
                })
            })?;
    let view = WorkspaceView::new(
        workspace,
        Some(PublishableKeyView {
            public_key: key,
            name: "default".into(),
        }),
    );
    Ok((
        StatusCode::CREATED,
        Json(WorkspaceCreated { workspace: view }),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/workspaces",
    operation_id = "listWorkspaces",
    summary = "List workspaces",
    tag = "workspaces",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of workspaces.", body = List<WorkspaceView>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    ),
)]
pub async fn list(
    State(deps): State<Deps>,
    caller: Reader,
    params: Params,
) -> ApiResult<Json<List<WorkspaceView>>> {
    let request = params.page()?;
    let page = match &*caller {
        Caller::Machine(m) => deps.workspaces().list_workspaces(m.org, request).await?,
        // A session's list is its one workspace.
        Caller::Session(s) => switchyard_core::page::Page {
            records: vec![caller.workspace(&deps, s.workspace).await?],
            limit: request.limit,
            next_cursor: None,
        },
    };
    Ok(Json(List::from_page(page, |w| WorkspaceView::new(w, None))))
}

/// A workspace, with its current publishable key.
#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{id}",
    operation_id = "getWorkspace",
    summary = "Get a workspace",
    description = "The workspace, with its current publishable key.",
    tag = "workspaces",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = ID)),
    responses(
        (status = 200, description = "The workspace.", body = WorkspaceView),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ),
)]
pub async fn get(
    State(deps): State<Deps>,
    caller: Reader,
    PathId(id): PathId<WorkspaceId>,
) -> ApiResult<Json<WorkspaceView>> {
    let workspace = caller.workspace(&deps, id).await?;
    let key = deps
        .tenants()
        .publishable_keys(caller.org(), id)
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

#[derive(Deserialize, ToSchema)]
pub struct UpdateWorkspace {
    #[schema(min_length = 3, max_length = 50, pattern = "^[a-zA-Z0-9 _-]+$")]
    name: String,
    /// Replaces the description (absent or `null` clears it).
    #[schema(max_length = 1024)]
    description: Option<String>,
}

#[utoipa::path(
    put,
    path = "/api/v1/workspaces/{id}",
    operation_id = "updateWorkspace",
    summary = "Update a workspace",
    tag = "workspaces",
    security(("machine_jwt" = [])),
    params(("id" = uuid::Uuid, Path, description = ID)),
    request_body = UpdateWorkspace,
    responses(
        (status = 200, description = "The updated workspace.", body = WorkspaceView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
    ),
)]
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
        .workspaces()
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
