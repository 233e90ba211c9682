//! `/connections`: create, list, get. Secrets in metadata are sealed at rest and never shown.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use switchyard_core::domain::{Connection, IntegrationType};
use switchyard_core::signing::{
    SIGNING_SECRET, SigningSecret, new_signing_secret, rotate_signing_secret,
};
use switchyard_core::webhook::{WebhookConfig, split_secrets};
use switchyard_core::{ConnectionId, ValidationErrors, WorkspaceId, validation};

use super::auth::Machine;
use super::body::{JsonBody, OptionalJsonBody, PathId};
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
    // Only now, for the caller's own workspace: the endpoint is resolved and contacted.
    deps.integrations
        .validate_destination(kind, &body.metadata)
        .await
        .map_err(unprocessable)?;
    let mut metadata = body.metadata;
    // Webhooks are signed (Standard Webhooks) unless the caller brought its own secret; a
    // generated secret is shown in this response only.
    let generated = (kind == IntegrationType::Webhook && !metadata.contains_key(SIGNING_SECRET))
        .then(new_signing_secret);
    if let Some(secret) = &generated {
        metadata.insert(SIGNING_SECRET.into(), Value::from(secret.as_str()));
    }
    let (public, secret) = split_secrets(metadata);
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
    let mut view = serde_json::to_value(ConnectionView::from(connection)).expect("views serialise");
    if let Some(secret) = generated {
        view["signing_secret"] = Value::from(secret);
    }
    Ok((StatusCode::CREATED, Json(json!({ "connection": view }))))
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

#[derive(Deserialize)]
pub struct UpdateConnection {
    name: Option<String>,
    metadata: Option<Map<String, Value>>,
    hidden: Option<bool>,
}

/// `PUT /connections/{id}`: secret fields given replace the stored ones; secret fields left out
/// are kept, so a client that never saw a secret can still rename the connection.
pub async fn update(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<ConnectionId>,
    JsonBody(body): JsonBody<UpdateConnection>,
) -> ApiResult<Json<ConnectionView>> {
    let mut connection = deps
        .store
        .connection(machine.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Connection"))?;
    let mut errors = ValidationErrors::default();
    if let Some(name) = &body.name {
        validation::connection_name(&mut errors, "name", name);
    }
    if let Some(metadata) = body.metadata {
        let (public, secret) = split_secrets(metadata);
        let mut secrets = open_secrets(&deps, &connection)?;
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
        if connection.kind == IntegrationType::Webhook
            && let Err(e) = WebhookConfig::from_metadata(&effective, deps.settings.url_policy)
        {
            errors.0.extend(e.0);
        }
        connection.metadata = public;
        connection.secrets = (!secrets.is_empty()).then(|| {
            deps.keys
                .seal(&serde_json::to_vec(&secrets).expect("metadata serialises"))
        });
    }
    errors.into_result(()).map_err(ApiError::validation)?;
    if let Some(name) = body.name {
        connection.name = name.trim().to_owned();
    }
    if let Some(hidden) = body.hidden {
        connection.hidden = hidden;
    }
    connection.updated_at = deps.now();
    if !deps.store.update_connection(&connection).await? {
        return Err(ApiError::not_found("Connection"));
    }
    Ok(Json(connection.into()))
}

#[derive(Deserialize, Default)]
pub struct DeleteConnection {
    #[serde(default)]
    force_delete: bool,
}

/// `DELETE /connections/{id}`: refused with 409 while active rules use the connection, unless
/// `force_delete`, which deletes those rules too.
pub async fn delete(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<ConnectionId>,
    OptionalJsonBody(body): OptionalJsonBody<DeleteConnection>,
) -> ApiResult<Json<Value>> {
    let connection = deps
        .store
        .connection(machine.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Connection"))?;
    let filter = switchyard_core::domain::RuleFilter {
        connection: Some(id),
        ..Default::default()
    };
    let page = switchyard_core::page::PageRequest {
        limit: switchyard_core::page::MAX_LIMIT,
        cursor: None,
    };
    let active = deps
        .store
        .list_rules(machine.org, &filter, page)
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
    deps.store.delete_connection(machine.org, id).await?;
    tracing::info!(org = %machine.org, connection_id = %id, rules = active, "connection deleted");
    Ok(Json(
        json!({"id": id.to_string(), "type": connection.kind.as_str()}),
    ))
}

/// An endpoint that is unsafe or does not answer: the request was well formed, the
/// destination is not usable (422).
fn unprocessable(errors: ValidationErrors) -> ApiError {
    ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        name: "UnprocessableDestination",
        message: "The destination cannot be delivered to".into(),
        ..ApiError::validation(errors)
    }
}

/// The connection's sealed settings, opened. A seal that no longer opens is a server fault,
/// never silently an empty map (which would drop credentials on the next write).
fn open_secrets(deps: &Deps, connection: &Connection) -> ApiResult<Map<String, Value>> {
    let Some(sealed) = &connection.secrets else {
        return Ok(Map::new());
    };
    let bytes = deps.keys.open(sealed).map_err(ApiError::internal)?;
    serde_json::from_slice(&bytes).map_err(ApiError::internal)
}
