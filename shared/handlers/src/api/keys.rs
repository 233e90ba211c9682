//! Credentials (extension routes): machine keys of the organization — create (the secret is
//! shown once), list, revoke — and rotation of a workspace's publishable key.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchyard_core::domain::MachineKey;
use switchyard_core::{ValidationErrors, WorkspaceId};
use time::OffsetDateTime;

use super::auth::Machine;
use super::body::{JsonBody, OptionalJsonBody, PathId};
use super::error::{ApiError, ApiResult};
use crate::{Deps, tenancy};

#[derive(Serialize)]
pub struct MachineKeyView {
    access_key: String,
    name: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
}

impl From<MachineKey> for MachineKeyView {
    fn from(k: MachineKey) -> Self {
        Self {
            access_key: k.access_key,
            name: k.name,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Deserialize)]
pub struct CreateMachineKey {
    name: String,
}

pub async fn create(
    State(deps): State<Deps>,
    machine: Machine,
    JsonBody(body): JsonBody<CreateMachineKey>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let mut errors = ValidationErrors::default();
    switchyard_core::validation::connection_name(&mut errors, "name", &body.name);
    errors.into_result(()).map_err(ApiError::validation)?;
    let issued = tenancy::issue_machine_key(&deps, machine.org, body.name.trim()).await?;
    let key = deps
        .store
        .machine_key(&issued.access_key)
        .await?
        .ok_or_else(|| ApiError::internal("machine key vanished after creation"))?;
    let mut view = serde_json::to_value(MachineKeyView::from(key)).expect("views serialise");
    // Shown once: only its sealed form is kept.
    view["secret_key"] = Value::String(issued.secret_key);
    Ok((StatusCode::CREATED, Json(json!({ "machine_key": view }))))
}

pub async fn list(State(deps): State<Deps>, machine: Machine) -> ApiResult<Json<Value>> {
    let records: Vec<MachineKeyView> = deps
        .store
        .machine_keys(machine.org)
        .await?
        .into_iter()
        .map(MachineKeyView::from)
        .collect();
    Ok(Json(
        json!({"count": records.len(), "limit": records.len(), "next_cursor": null, "records": records}),
    ))
}

pub async fn revoke(
    State(deps): State<Deps>,
    machine: Machine,
    Path(access_key): Path<String>,
) -> ApiResult<Json<MachineKeyView>> {
    tenancy::revoke_machine_key(&deps, machine.org, &access_key)
        .await?
        .map(|k| Json(k.into()))
        .ok_or_else(|| ApiError::not_found("Machine key"))
}

#[derive(Deserialize, Default)]
pub struct Rotate {
    /// Seconds the current key keeps working (default 24 h, at most 30 days).
    grace_period_seconds: Option<i64>,
}

pub async fn rotate_publishable_key(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(workspace): PathId<WorkspaceId>,
    OptionalJsonBody(body): OptionalJsonBody<Rotate>,
) -> ApiResult<Json<Value>> {
    super::load_workspace(&deps, machine.org, workspace).await?;
    let grace = match body.grace_period_seconds {
        None => tenancy::DEFAULT_ROTATION_GRACE,
        Some(s) if (0..=tenancy::MAX_ROTATION_GRACE.whole_seconds()).contains(&s) => {
            time::Duration::seconds(s)
        }
        Some(_) => {
            return Err(ApiError::validation(ValidationErrors::single(
                "grace_period_seconds",
                format!(
                    "must be from 0 to {}",
                    tenancy::MAX_ROTATION_GRACE.whole_seconds()
                ),
            )));
        }
    };
    let (key, previous_expires_at) =
        tenancy::rotate_publishable_key(&deps, machine.org, workspace, grace).await?;
    let expires = previous_expires_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    Ok(Json(json!({
        "publishable_key": {"public_key": key, "name": "default"},
        "previous_key_expires_at": expires,
    })))
}
