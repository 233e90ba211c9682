//! `/connections`: create, list, get, update, delete. Secrets in metadata are sealed at rest
//! and never shown.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};
use switchyard_core::domain::{Connection, IntegrationType};
use switchyard_core::signing::{
    SIGNING_SECRET, SigningSecret, new_signing_secret, rotate_signing_secret,
};
use switchyard_core::webhook::{self, WebhookConfig, split_secrets};
use switchyard_core::{
    ConnectionId, ValidationErrors, WorkspaceId, integration_catalog, validation,
};
use utoipa::ToSchema;

use super::auth::{Caller, Reader, Writer};
use super::body::{JsonBody, OptionalJsonBody, PathId};
use super::error::{ApiError, ApiResult};
use super::openapi::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, PlanLimitReached, Unauthorized,
    UnprocessableDestination,
};
use super::query::Params;
use super::schemas::{ConnectionFilters, DeliverableTypeName, PageParams, WebhookMetadata};
use super::views::{ConnectionCreated, ConnectionDeleted, ConnectionView, List, NewConnectionView};
use crate::Deps;
use switchyard_core::plan::Resource;

#[derive(Deserialize, ToSchema)]
pub struct CreateConnection {
    #[schema(value_type = uuid::Uuid)]
    workspace: WorkspaceId,
    #[serde(rename = "type")]
    #[schema(value_type = DeliverableTypeName)]
    kind: String,
    #[schema(min_length = 1, max_length = 128)]
    name: String,
    #[serde(default)]
    #[schema(value_type = WebhookMetadata)]
    metadata: Map<String, Value>,
    /// Hidden connections are not shown in Meshes' dashboard lists.
    #[serde(default)]
    hidden: bool,
}

/// The connection id in the path.
const ID: &str = "Connection id.";

/// Creates a connection. The destination is validated and, for a webhook, probed before it is
/// stored; a webhook gets a generated signing secret (extension) unless it brings one.
#[utoipa::path(
    post,
    path = "/api/v1/connections",
    operation_id = "createConnection",
    summary = "Create a connection",
    description = "Creates a connection. The destination is checked before it is stored: webhook \
        settings are validated, then the endpoint is resolved and probed — an unsafe address \
        (private, loopback without `--allow-loopback-http`) or an endpoint that does not answer \
        gets 422. **Extension**: a webhook is signed with Standard Webhooks by default; when the \
        request brings no `metadata.signing_secret`, a generated one is returned once as \
        `signing_secret`.",
    tag = "connections",
    security(("machine_jwt" = []), ("session_token" = [])),
    request_body = CreateConnection,
    responses(
        (status = 201, description = "Created.", body = ConnectionCreated),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = PlanLimitReached),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = UnprocessableDestination),
    ),
)]
pub async fn create(
    State(deps): State<Deps>,
    caller: Writer,
    JsonBody(body): JsonBody<CreateConnection>,
) -> ApiResult<(StatusCode, Json<ConnectionCreated>)> {
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
    // Webhooks are signed (Standard Webhooks) unless the caller brought its own secret; a
    // generated secret is shown in this response only. It is generated before validation so
    // settings that need a secret (`signature_algorithm`) are judged with it.
    let mut metadata = body.metadata;
    let generated = (kind == Some(IntegrationType::Webhook)
        && !metadata.contains_key(SIGNING_SECRET))
    .then(new_signing_secret);
    if let Some(secret) = &generated {
        metadata.insert(SIGNING_SECRET.into(), Value::from(secret.as_str()));
    }
    if kind == Some(IntegrationType::Webhook) {
        webhook::check_url_length(&metadata).map_err(unprocessable)?;
    }
    if kind == Some(IntegrationType::Webhook)
        && let Err(e) = WebhookConfig::from_metadata(&metadata, deps.settings.url_policy)
    {
        errors.0.extend(e.0);
    }
    // The fields the catalog's connection form marks required (those the webhook check
    // above already reported are not repeated).
    if let Some(kind) = kind {
        for key in
            integration_catalog::missing_auth_fields(integration_catalog::spec(kind), &metadata)
        {
            let param = format!("metadata.{key}");
            if !errors.0.iter().any(|e| e.param == param) {
                errors.push(param, "is required");
            }
        }
    }
    errors.into_result(()).map_err(ApiError::validation)?;
    let kind = kind.expect("validated above");

    caller.workspace(&deps, body.workspace).await?;
    crate::plan::check_room(&deps, caller.org(), Resource::Connections).await?;
    // Only now, for the caller's own workspace: the endpoint is resolved and contacted.
    deps.integrations
        .validate_destination(kind, &metadata)
        .await
        .map_err(unprocessable)?;
    let (public, secret) = split_secrets(metadata);
    let secrets =
        (!secret.is_empty()).then(|| Connection::seal_secrets(deps.keys.as_ref(), &secret));
    let now = deps.now();
    let connection = Connection {
        id: ConnectionId::new(),
        org: caller.org(),
        workspace: body.workspace,
        kind,
        name: body.name.trim().to_owned(),
        metadata: public,
        secrets,
        hidden: body.hidden,
        created_by: caller.actor(),
        created_at: now,
        updated_at: now,
    };
    crate::plan::create_connection(&deps, &connection).await?;
    tracing::info!(org = %caller.org(), workspace = %connection.workspace, connection_id = %connection.id, "connection created");
    let connection = NewConnectionView {
        connection: connection.into(),
        signing_secret: generated,
    };
    Ok((StatusCode::CREATED, Json(ConnectionCreated { connection })))
}

#[utoipa::path(
    get,
    path = "/api/v1/connections",
    operation_id = "listConnections",
    summary = "List connections",
    tag = "connections",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(ConnectionFilters, PageParams),
    responses(
        (status = 200, description = "A page of connections.", body = List<ConnectionView>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    ),
)]
pub async fn list(
    State(deps): State<Deps>,
    caller: Reader,
    params: Params,
) -> ApiResult<Json<List<ConnectionView>>> {
    let workspace = caller.list_workspace(params.id::<WorkspaceId>("workspace")?)?;
    list_in(&deps, &caller, workspace, &params).await
}

#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{id}/connections",
    operation_id = "listWorkspaceConnections",
    summary = "List a workspace's connections",
    tag = "connections",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = "Workspace id."), PageParams),
    responses(
        (status = 200, description = "A page of the workspace's connections.",
            body = List<ConnectionView>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ),
)]
pub async fn list_for_workspace(
    State(deps): State<Deps>,
    caller: Reader,
    PathId(workspace): PathId<WorkspaceId>,
    params: Params,
) -> ApiResult<Json<List<ConnectionView>>> {
    caller.workspace(&deps, workspace).await?;
    list_in(&deps, &caller, Some(workspace), &params).await
}

async fn list_in(
    deps: &Deps,
    caller: &Caller,
    workspace: Option<WorkspaceId>,
    params: &Params,
) -> ApiResult<Json<List<ConnectionView>>> {
    let page = deps
        .connections()
        .list_connections(caller.org(), workspace, params.page()?)
        .await?;
    Ok(Json(List::from_page(page, ConnectionView::from)))
}

#[utoipa::path(
    get,
    path = "/api/v1/connections/{id}",
    operation_id = "getConnection",
    summary = "Get a connection",
    tag = "connections",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = ID)),
    responses(
        (status = 200, description = "The connection.", body = ConnectionView),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ),
)]
pub async fn get(
    State(deps): State<Deps>,
    caller: Reader,
    PathId(id): PathId<ConnectionId>,
) -> ApiResult<Json<ConnectionView>> {
    let connection = caller.connection(&deps, id).await?;
    Ok(Json(connection.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateConnection {
    #[schema(min_length = 1, max_length = 128)]
    name: Option<String>,
    /// Replaces the public metadata; secret fields given replace the stored ones, secret
    /// fields left out are kept. A new `signing_secret` rotates (extension).
    #[schema(value_type = Option<WebhookMetadata>)]
    metadata: Option<Map<String, Value>>,
    hidden: Option<bool>,
}

/// `PUT /connections/{id}`: secret fields given replace the stored ones; secret fields left out
/// are kept, so a client that never saw a secret can still rename the connection.
#[utoipa::path(
    put,
    path = "/api/v1/connections/{id}",
    operation_id = "updateConnection",
    summary = "Update a connection",
    description = "Updates name, metadata or `hidden`. Secret metadata fields given replace the \
        stored ones; secret fields left out are kept, so a client that never saw a secret can \
        still rename the connection. **Extension**: a new `metadata.signing_secret` rotates the \
        signing secret — the old one keeps signing alongside for 24 h.",
    tag = "connections",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = ID)),
    request_body = UpdateConnection,
    responses(
        (status = 200, description = "The updated connection.", body = ConnectionView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = UnprocessableDestination),
    ),
)]
pub async fn update(
    State(deps): State<Deps>,
    caller: Writer,
    PathId(id): PathId<ConnectionId>,
    JsonBody(body): JsonBody<UpdateConnection>,
) -> ApiResult<Json<ConnectionView>> {
    let mut connection = caller.connection(&deps, id).await?;
    let mut errors = ValidationErrors::default();
    if let Some(name) = &body.name {
        validation::connection_name(&mut errors, "name", name);
    }
    if let Some(metadata) = body.metadata {
        let (public, secret) = split_secrets(metadata);
        let mut secrets = connection
            .open_secrets(deps.keys.as_ref())
            .map_err(ApiError::internal)?;
        let now = deps.now();
        for (key, value) in secret {
            match (key.as_str(), value.as_str().map(SigningSecret::parse)) {
                // A new signing secret rotates: the old one keeps signing for 24 h.
                (SIGNING_SECRET, Some(Ok(new))) => rotate_signing_secret(&mut secrets, &new, now),
                (SIGNING_SECRET, _) => {
                    errors.push("metadata.signing_secret", "is not a signing secret")
                }
                _ => {
                    secrets.insert(key, value);
                }
            }
        }
        // Validated as delivery will read it: the new public part with every secret in force.
        let mut effective = public.clone();
        effective.extend(secrets.clone());
        if connection.kind == IntegrationType::Webhook {
            webhook::check_url_length(&effective).map_err(unprocessable)?;
        }
        if connection.kind == IntegrationType::Webhook
            && let Err(e) = WebhookConfig::from_metadata(&effective, deps.settings.url_policy)
        {
            errors.0.extend(e.0);
        }
        connection.metadata = public;
        connection.secrets =
            (!secrets.is_empty()).then(|| Connection::seal_secrets(deps.keys.as_ref(), &secrets));
    }
    errors.into_result(()).map_err(ApiError::validation)?;
    if let Some(name) = body.name {
        connection.name = name.trim().to_owned();
    }
    if let Some(hidden) = body.hidden {
        connection.hidden = hidden;
    }
    connection.updated_at = deps.now();
    if !deps.connections().update_connection(&connection).await? {
        return Err(ApiError::not_found("Connection"));
    }
    Ok(Json(connection.into()))
}

#[derive(Deserialize, Default, ToSchema)]
pub struct DeleteConnection {
    /// Delete the rules that use the connection too, instead of answering 409.
    #[serde(default)]
    force_delete: bool,
}

/// `DELETE /connections/{id}`: refused with 409 while active rules use the connection, unless
/// `force_delete`, which deletes those rules too.
#[utoipa::path(
    delete,
    path = "/api/v1/connections/{id}",
    operation_id = "deleteConnection",
    summary = "Delete a connection",
    description = "Deletes a connection. 409 while active rules use it, unless `force_delete`, \
        which deletes those rules too.",
    tag = "connections",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = ID)),
    request_body(content = Option<DeleteConnection>, description = "Optional; an empty body \
        means `{\"force_delete\": false}`."),
    responses(
        (status = 200, description = "Deleted.", body = ConnectionDeleted),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
    ),
)]
pub async fn delete(
    State(deps): State<Deps>,
    caller: Writer,
    PathId(id): PathId<ConnectionId>,
    OptionalJsonBody(body): OptionalJsonBody<DeleteConnection>,
) -> ApiResult<Json<ConnectionDeleted>> {
    let connection = caller.connection(&deps, id).await?;
    let filter = switchyard_core::domain::RuleFilter {
        connection: Some(id),
        ..Default::default()
    };
    let page = switchyard_core::page::PageRequest {
        limit: switchyard_core::page::MAX_LIMIT,
        cursor: None,
    };
    let active = deps
        .rules()
        .list_rules(caller.org(), &filter, page)
        .await?
        .records
        .iter()
        .filter(|r| r.active)
        .count();
    if active > 0 && !body.force_delete {
        return Err(ApiError::conflict(format!(
            "The connection is used by {active} active rule(s); delete them first or pass force_delete"
        )));
    }
    deps.connections()
        .delete_connection(caller.org(), id)
        .await?;
    tracing::info!(org = %caller.org(), connection_id = %id, rules = active, "connection deleted");
    Ok(Json(ConnectionDeleted {
        id: id.to_string(),
        kind: connection.kind.as_str(),
    }))
}

/// An endpoint that is unsafe or does not answer: the request was well formed, the
/// destination is not usable (422).
pub(super) fn unprocessable(errors: ValidationErrors) -> ApiError {
    ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        name: "UnprocessableDestination",
        message: "The destination cannot be delivered to".into(),
        ..ApiError::validation(errors)
    }
}
