//! `POST /connections/{id}/replay` (extension, organization scope): after an outage, re-queue
//! every failed delivery of a connection created in a time range — a bounded stretch per call,
//! with a cursor to go on.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use switchyard_core::{ConnectionId, DeliveryId, ValidationErrors};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::Machine;
use super::body::{JsonBody, PathId};
use super::error::{ApiError, ApiResult};
use super::openapi::{BadRequest, Forbidden, NotFound, PayloadTooLarge, Unauthorized};
use crate::{Deps, bulk_replay};

/// Deliveries one call looks at, at most (and by default).
const MAX_LIMIT: u32 = 200;
const DEFAULT_LIMIT: u32 = 100;

/// Which deliveries a bulk replay re-queues: failed ones (the only choice so far).
#[derive(Deserialize, ToSchema, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum ReplayStatus {
    #[default]
    Failed,
}

#[derive(Deserialize, ToSchema)]
pub struct ReplayRange {
    /// Deliveries created at or after this time (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    from: OffsetDateTime,
    /// … and before this one.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    to: OffsetDateTime,
    /// Default `failed`.
    #[serde(default)]
    status: ReplayStatus,
    /// The previous answer's `next_cursor`, to go on.
    #[serde(default)]
    cursor: Option<String>,
    /// Deliveries to look at in this call: 1–200, default 100.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct ReplayCounts {
    /// Failed deliveries re-queued now, each on a fresh retry schedule.
    requeued: u64,
    /// Found failed, but re-queued meanwhile by another replay or a redrive: left alone.
    skipped: u64,
    /// Pass as `cursor` to go on; `null` when the range is done.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/connections/{id}/replay",
    operation_id = "replayConnection",
    summary = "Re-queue a connection's failed deliveries in a time range (extension)",
    tag = "deliveries",
    description = "**Extension**, for operators after an outage: re-queues every delivery of \
        the connection that failed and was created in `[from, to)`, each on a fresh retry \
        schedule (its attempts kept). One call looks at up to `limit` deliveries and answers \
        `next_cursor` while more remain; a delivery already re-queued is never re-queued \
        twice, so a call can be repeated safely. Machine keys only: a session token gets 403.",
    security(("machine_jwt" = [])),
    params(("id" = uuid::Uuid, Path, description = "Connection id.")),
    request_body = ReplayRange,
    responses(
        (status = 200, description = "What this call re-queued.", body = ReplayCounts),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
    ),
)]
pub async fn replay(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<ConnectionId>,
    JsonBody(body): JsonBody<ReplayRange>,
) -> ApiResult<Json<ReplayCounts>> {
    let mut errors = ValidationErrors::default();
    if body.to <= body.from {
        errors.push("to", "must be after `from`");
    }
    let limit = body.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        errors.push("limit", format!("must be an integer from 1 to {MAX_LIMIT}"));
    }
    let after = match body.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => match raw.parse::<DeliveryId>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push("cursor", "is not a cursor this API returned");
                None
            }
        },
    };
    errors.into_result(()).map_err(ApiError::validation)?;
    let ReplayStatus::Failed = body.status;
    super::load_connection(&deps, machine.org, id).await?;
    let done =
        bulk_replay::replay_failed(&deps, machine.org, id, (body.from, body.to), after, limit)
            .await?;
    Ok(Json(ReplayCounts {
        requeued: done.requeued,
        skipped: done.skipped,
        next_cursor: done.next.map(|d| d.to_string()),
    }))
}
