//! Credentials (extension routes): machine keys of the organization — create (the secret is
//! shown once), list, revoke — and rotation of a workspace's publishable key.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchyard_core::domain::MachineKey;
use switchyard_core::{ValidationErrors, WorkspaceId};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::Machine;
use super::body::{JsonBody, OptionalJsonBody, PathId};
use super::error::{ApiError, ApiResult};
use super::openapi::{BadRequest, Forbidden, NotFound, PayloadTooLarge, Unauthorized};
use super::views::{List, PublishableKeyView};
use crate::{Deps, tenancy};

/// A machine key, without its secret.
#[derive(Serialize, ToSchema)]
pub struct MachineKeyView {
    /// The JWT `kid`.
    #[schema(pattern = "^mk_[A-Za-z0-9_-]{22,}$")]
    access_key: String,
    name: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    /// When the key was revoked; `null` while it works.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(required = true)]
    revoked_at: Option<OffsetDateTime>,
    /// When a working key stops by itself (a console session's key, at its session's end);
    /// `null` for a key that works until revoked.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(required = true)]
    expires_at: Option<OffsetDateTime>,
}

/// A machine key as its create answers it: with the secret, shown this once.
#[derive(Serialize, ToSchema)]
pub struct NewMachineKeyView {
    #[serde(flatten)]
    key: MachineKeyView,
    /// Signs the key's JWTs (HS256). Shown once; only its sealed form is kept.
    #[schema(pattern = "^[a-zA-Z0-9_=\\-/]+$")]
    secret_key: String,
}

#[derive(Serialize, ToSchema)]
pub struct MachineKeyCreated {
    machine_key: NewMachineKeyView,
}

/// A workspace's new publishable key, and until when the previous one keeps working.
#[derive(Serialize, ToSchema)]
pub struct RotatedKey {
    publishable_key: PublishableKeyView,
    #[schema(format = DateTime)]
    previous_key_expires_at: String,
}

impl MachineKeyView {
    fn at(k: MachineKey, now: OffsetDateTime) -> Self {
        Self {
            expires_at: k.expires_at(now),
            revoked_at: k.revoked_at.filter(|_| k.is_revoked(now)),
            access_key: k.access_key,
            name: k.name,
            created_at: k.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CreateMachineKey {
    #[schema(min_length = 1, max_length = 128)]
    name: String,
}

/// Issues a machine key of the caller's organization; the secret is shown once.
#[utoipa::path(
    post,
    path = "/api/v1/machine-keys",
    operation_id = "createMachineKey",
    summary = "Issue a machine key (extension)",
    tag = "credentials",
    description = "**Extension.** Issues a machine key of the caller's organization. The \
        answer carries `secret_key`, shown this once (it is kept sealed).",
    security(("machine_jwt" = [])),
    request_body = CreateMachineKey,
    responses(
        (status = 201, description = "Issued.", body = MachineKeyCreated),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
    ),
)]
pub async fn create(
    State(deps): State<Deps>,
    machine: Machine,
    JsonBody(body): JsonBody<CreateMachineKey>,
) -> ApiResult<(StatusCode, Json<MachineKeyCreated>)> {
    let mut errors = ValidationErrors::default();
    switchyard_core::validation::connection_name(&mut errors, "name", &body.name);
    errors.into_result(()).map_err(ApiError::validation)?;
    let issued = tenancy::issue_machine_key(&deps, machine.org, body.name.trim()).await?;
    let key = deps
        .tenants()
        .machine_key(&issued.access_key)
        .await?
        .ok_or_else(|| ApiError::internal("machine key vanished after creation"))?;
    // Shown once: only its sealed form is kept.
    let machine_key = NewMachineKeyView {
        key: MachineKeyView::at(key, deps.now()),
        secret_key: issued.secret_key,
    };
    Ok((StatusCode::CREATED, Json(MachineKeyCreated { machine_key })))
}

#[utoipa::path(
    get,
    path = "/api/v1/machine-keys",
    operation_id = "listMachineKeys",
    summary = "List machine keys (extension)",
    tag = "credentials",
    description = "**Extension.** The organization's machine keys, revoked ones included \
        (unpaged).",
    security(("machine_jwt" = [])),
    responses(
        (status = 200, description = "Every machine key.", body = List<MachineKeyView>),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ),
)]
pub async fn list(
    State(deps): State<Deps>,
    machine: Machine,
) -> ApiResult<Json<List<MachineKeyView>>> {
    let now = deps.now();
    let records: Vec<MachineKeyView> = deps
        .tenants()
        .machine_keys(machine.org)
        .await?
        .into_iter()
        .map(|k| MachineKeyView::at(k, now))
        .collect();
    Ok(Json(List::all(records)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/machine-keys/{access_key}",
    operation_id = "revokeMachineKey",
    summary = "Revoke a machine key (extension)",
    tag = "credentials",
    description = "**Extension.** Revokes a machine key: its tokens stop working at once.",
    security(("machine_jwt" = [])),
    params(("access_key" = String, Path, description = "The key's access key.")),
    responses(
        (status = 200, description = "The revoked key.", body = MachineKeyView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
)]
pub async fn revoke(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(access_key): PathId<String>,
) -> ApiResult<Json<MachineKeyView>> {
    tenancy::revoke_machine_key(&deps, machine.org, &access_key)
        .await?
        .map(|k| Json(MachineKeyView::at(k, deps.now())))
        .ok_or_else(|| ApiError::not_found("Machine key"))
}

#[derive(Deserialize, Default, ToSchema)]
pub struct Rotate {
    /// Seconds the current key keeps working (default 24 h, at most 30 days).
    #[schema(minimum = 0, maximum = 2592000)]
    grace_period_seconds: Option<i64>,
}

#[utoipa::path(
    post,
    path = "/api/v1/workspaces/{id}/publishable-key/rotate",
    operation_id = "rotatePublishableKey",
    summary = "Rotate a workspace's publishable key (extension)",
    tag = "credentials",
    description = "**Extension.** Issues a new publishable key for the workspace. The current \
        key keeps working for the grace period (default 24 h, at most 30 days), then stops.",
    security(("machine_jwt" = [])),
    params(("id" = uuid::Uuid, Path, description = "Workspace id.")),
    request_body(content = Option<Rotate>, description = "Optional; an empty body means the \
        default grace period."),
    responses(
        (status = 200, description = "The new key.", body = RotatedKey),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
    ),
)]
pub async fn rotate_publishable_key(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(workspace): PathId<WorkspaceId>,
    OptionalJsonBody(body): OptionalJsonBody<Rotate>,
) -> ApiResult<Json<RotatedKey>> {
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
    Ok(Json(RotatedKey {
        publishable_key: PublishableKeyView {
            public_key: key,
            name: "default".into(),
        },
        previous_key_expires_at: expires,
    }))
}
