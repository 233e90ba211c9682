//! Catalogs: the integrations this server knows (`/integrations`), a connection's actions and
//! fields.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;
use switchyard_core::domain::IntegrationType;
use switchyard_core::integration_catalog::{self, ActionSpec};
use switchyard_core::{ConnectionId, ValidationErrors};
use utoipa::ToSchema;

use super::auth::Machine;
use super::body::PathId;
use super::error::{ApiError, ApiResult};
use super::openapi::{BadRequest, NotFound, Unauthorized, UnprocessableDestination};
use super::query::Params;
use super::schemas::{AuthTypeName, IntegrationTypeName};
use super::views::List;
use crate::Deps;

/// One integration of the catalog.
#[derive(Serialize, ToSchema)]
pub struct IntegrationView {
    name: &'static str,
    #[serde(rename = "type")]
    #[schema(value_type = IntegrationTypeName)]
    kind: &'static str,
    authentication: AuthenticationView,
    actions: Vec<ActionView>,
    /// Extension: whether this version can deliver to the type (connections of other types
    /// are refused on create).
    available: bool,
}

#[derive(Serialize, ToSchema)]
pub struct AuthenticationView {
    #[serde(rename = "type")]
    #[schema(value_type = AuthTypeName)]
    kind: &'static str,
    /// The connection metadata fields the authentication needs.
    fields: &'static [&'static str],
}

/// An action a rule on this type of connection may take.
#[derive(Serialize, ToSchema)]
pub struct ActionView {
    /// The value of a rule's `metadata.action`.
    action: &'static str,
    name: &'static str,
    description: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct ConnectionActions {
    #[serde(rename = "type")]
    #[schema(value_type = IntegrationTypeName)]
    kind: &'static str,
    actions: Vec<ActionView>,
}

#[derive(Serialize, ToSchema)]
pub struct ConnectionFields {
    #[serde(rename = "type")]
    #[schema(value_type = IntegrationTypeName)]
    kind: &'static str,
    /// The destination's fields (lists, tags, properties); a webhook has none.
    #[schema(value_type = Vec<Object>)]
    fields: Vec<Value>,
}

pub fn actions(kind: IntegrationType) -> &'static [ActionSpec] {
    integration_catalog::spec(kind).actions
}

fn action_views(kind: IntegrationType) -> Vec<ActionView> {
    actions(kind)
        .iter()
        .map(|a| ActionView {
            action: a.action,
            name: a.name,
            description: a.description,
        })
        .collect()
}

/// `GET /integrations`: every type, how it authenticates, its actions, and whether this build
/// can deliver to it yet (`available`, an extension).
#[utoipa::path(
    get,
    path = "/api/v1/integrations",
    operation_id = "listIntegrations",
    summary = "List the integrations catalog",
    description = "Every integration type, how it authenticates, and its actions. **Extension**: \
        `available` says whether this version can deliver to the type.",
    tag = "catalog",
    security(("machine_jwt" = [])),
    responses(
        (status = 200, description = "Every integration type (unpaged).",
            body = List<IntegrationView>),
        (status = 401, response = Unauthorized),
    ),
)]
pub async fn integrations(_machine: Machine) -> Json<List<IntegrationView>> {
    let records = integration_catalog::all()
        .iter()
        .map(|s| IntegrationView {
            name: s.name,
            kind: s.kind.as_str(),
            authentication: AuthenticationView {
                kind: s.auth.as_str(),
                fields: s.auth_fields,
            },
            actions: action_views(s.kind),
            available: s.kind.is_deliverable(),
        })
        .collect();
    Json(List::all(records))
}

#[utoipa::path(
    get,
    path = "/api/v1/connections/{id}/actions",
    operation_id = "listConnectionActions",
    summary = "List a connection's actions",
    description = "The actions rules on this connection may take (`metadata.action`). Meshes has \
        this route but does not publish its response shape; this body is Switchyard's \
        (**extension**).",
    tag = "catalog",
    security(("machine_jwt" = [])),
    params(("id" = uuid::Uuid, Path, description = "Connection id.")),
    responses(
        (status = 200, description = "The actions rules on this connection may take.",
            body = ConnectionActions),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ),
)]
pub async fn connection_actions(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<ConnectionId>,
) -> ApiResult<Json<ConnectionActions>> {
    let connection = super::load_connection(&deps, machine.org, id).await?;
    Ok(Json(ConnectionActions {
        kind: connection.kind.as_str(),
        actions: action_views(connection.kind),
    }))
}

/// Destination fields (lists, tags, channels, properties …) come from the provider's API,
/// answered from a short-lived cache unless `refresh=true`; a webhook has none.
#[utoipa::path(
    get,
    path = "/api/v1/connections/{id}/fields",
    operation_id = "listConnectionFields",
    summary = "List a connection's destination fields",
    description = "The destination's fields (lists, tags, channels, properties …) from the \
        provider's API, each `{kind, id, name}` where `id` is what a rule's `metadata.id` takes; \
        a webhook has none. Listed entries are kept a few minutes; `refresh=true` asks the \
        provider again. A provider that refuses or fails the listing gets 422. Meshes has this \
        route but does not publish its response shape; this body is Switchyard's \
        (**extension**).",
    tag = "catalog",
    security(("machine_jwt" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Connection id."),
        ("refresh" = Option<bool>, Query,
            description = "Ask the provider again instead of a cached list (no effect for a \
                webhook, which has no fields)."),
    ),
    responses(
        (status = 200, description = "The destination's fields.", body = ConnectionFields),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 422, response = UnprocessableDestination),
    ),
)]
pub async fn connection_fields(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<ConnectionId>,
    params: Params,
) -> ApiResult<Json<ConnectionFields>> {
    let refresh = matches!(params.get("refresh").as_deref(), Some("true" | "1"));
    let connection = super::load_connection(&deps, machine.org, id).await?;
    let secrets = connection
        .open_secrets(deps.keys.as_ref())
        .map_err(ApiError::internal)?;
    // OAuth connections list with a fresh access token, as deliveries do.
    let fields = match crate::oauth::FreshToken::prepare(&deps, &connection, secrets).await {
        Ok(token) => {
            deps.integrations
                .destination_fields(&connection, token.secrets(), refresh)
                .await
        }
        Err(failed) => Err(failed.error.unwrap_or_else(|| failed.outcome.to_string())),
    }
    .map_err(|why| ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        name: "UnprocessableDestination",
        message: "The provider did not list the destination's fields".into(),
        ..ApiError::validation(ValidationErrors::single("connection", why))
    })?;
    Ok(Json(ConnectionFields {
        kind: connection.kind.as_str(),
        fields,
    }))
}
