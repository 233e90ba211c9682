//! `POST /connections/{id}/test` (extension): the create-time check again, on the stored
//! connection — is its destination safe and answering, are its credentials accepted — without
//! sending an event.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use switchyard_core::ConnectionId;
use utoipa::ToSchema;

use super::auth::Writer;
use super::body::PathId;
use super::connections::unprocessable;
use super::error::{ApiError, ApiResult};
use super::openapi::{Forbidden, NotFound, Unauthorized, UnprocessableDestination};
use crate::Deps;

#[derive(Serialize, ToSchema)]
pub struct ConnectionTested {
    /// Always `true`: a failed check answers 422 with what failed.
    pub ok: bool,
    pub message: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/connections/{id}/test",
    operation_id = "testConnection",
    summary = "Test a connection",
    description = "**Extension**: checks the stored connection as its create did — the address \
        is allowed and answers (webhooks), or the provider accepts the credentials (one cheap \
        authenticated call for API-key types) — and sends no event. 422 \
        `UnprocessableDestination` says what failed; nothing is changed either way.",
    tag = "connections",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = "Connection id.")),
    responses(
        (status = 200, description = "The destination answered.", body = ConnectionTested),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = UnprocessableDestination),
    ),
)]
pub async fn test(
    State(deps): State<Deps>,
    caller: Writer,
    PathId(id): PathId<ConnectionId>,
) -> ApiResult<Json<ConnectionTested>> {
    let connection = caller.connection(&deps, id).await?;
    // As delivery reads it: the public part with every secret in force.
    let mut effective = connection.metadata.clone();
    effective.extend(
        connection
            .open_secrets(deps.keys.as_ref())
            .map_err(ApiError::internal)?,
    );
    deps.integrations
        .validate_destination(connection.kind, &effective)
        .await
        .map_err(unprocessable)?;
    Ok(Json(ConnectionTested {
        ok: true,
        message: format!("{} answered.", connection.name),
    }))
}
