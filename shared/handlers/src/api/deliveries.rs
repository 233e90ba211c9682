//! `/events/{e}/rules/{r}/…` and `/events/{e}/cancel`: one delivery's attempts and response,
//! replay (retry) and cancel.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use switchyard_core::domain::{Access, Attempt, Delivery, Event};
use switchyard_core::{AttemptId, EventId, RuleId};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::{Caller, Reader, Writer};
use super::body::{PathId, PathIds};
use super::error::{ApiError, ApiResult};
use super::openapi::{Conflict, Forbidden, NotFound, TooEarly, Unauthorized};
use super::schemas::OutcomeName;
use super::views::{EventDetailView, RuleEventView};
use crate::Deps;
use crate::replay::{self, Replay};

/// One delivery attempt: what was sent where, and how the destination answered.
#[derive(Serialize, ToSchema)]
pub struct AttemptView {
    #[schema(format = Uuid)]
    id: String,
    /// Always `attempt`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// The delivery (`rule_events[].id`).
    #[schema(format = Uuid)]
    rule_event: String,
    /// 1 for the first attempt.
    number: u32,
    #[schema(value_type = OutcomeName)]
    outcome: &'static str,
    /// The destination's HTTP status, when it answered.
    #[schema(required = true)]
    status_code: Option<u16>,
    /// `METHOD scheme://host/path` (no query string, no credentials).
    request: String,
    /// The start of the destination's answer (at most 4 KiB); `null` for a session without
    /// `events.payload:read`, since destinations often echo what they were sent.
    #[schema(required = true)]
    response_body: Option<String>,
    #[schema(required = true)]
    error: Option<String>,
    duration_ms: u64,
    #[serde(with = "time::serde::rfc3339")]
    started_at: OffsetDateTime,
}

impl AttemptView {
    /// The attempt as the caller may see it.
    fn for_caller(a: Attempt, caller: &Caller) -> Self {
        let response_body = a
            .response_body
            .filter(|_| caller.permits(Access::ReadPayload));
        Self {
            id: a.id.to_string(),
            kind: "attempt",
            rule_event: a.delivery.to_string(),
            number: a.number,
            outcome: a.outcome.as_str(),
            status_code: a.status_code,
            request: a.request,
            response_body,
            error: a.error,
            duration_ms: a.duration_ms,
            started_at: a.started_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AttemptList {
    count: usize,
    records: Vec<AttemptView>,
}

/// The event and its delivery through the rule, or 404 (also outside the caller's reach).
async fn load(
    deps: &Deps,
    caller: &Caller,
    event: EventId,
    rule: RuleId,
) -> ApiResult<(Event, Delivery)> {
    let event = caller.event(deps, event).await?;
    let delivery = deps
        .deliveries()
        .deliveries_for_event(caller.org(), event.id)
        .await?
        .into_iter()
        .find(|d| d.rule == rule)
        .ok_or_else(|| ApiError::not_found("Rule event"))?;
    Ok((event, delivery))
}

/// Every attempt of the event's delivery through the rule, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/events/{event}/rules/{rule}/attempts",
    operation_id = "listAttempts",
    summary = "List a delivery's attempts",
    description = "Every attempt of the event's delivery through the rule, oldest first. Meshes \
        has this route but does not publish its response shape; this body is Switchyard's \
        (**extension**).",
    tag = "deliveries",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(
        ("event" = uuid::Uuid, Path, description = "Event id."),
        ("rule" = uuid::Uuid, Path, description = "Rule id."),
    ),
    responses(
        (status = 200, description = "The attempts.", body = AttemptList),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ),
)]
pub async fn attempts(
    State(deps): State<Deps>,
    caller: Reader,
    PathIds((event, rule)): PathIds<(EventId, RuleId)>,
) -> ApiResult<Json<AttemptList>> {
    let (_, delivery) = load(&deps, &caller, event, rule).await?;
    let records: Vec<AttemptView> = deps
        .deliveries()
        .attempts(caller.org(), delivery.event, delivery.id)
        .await?
        .into_iter()
        .map(|a| AttemptView::for_caller(a, &caller))
        .collect();
    Ok(Json(AttemptList {
        count: records.len(),
        records,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{event}/rules/{rule}/attempts/{attempt}",
    operation_id = "getAttempt",
    summary = "Get one attempt",
    description = "One attempt: what was sent where, and how the destination answered. Meshes \
        has this route but does not publish its response shape; this body is Switchyard's \
        (**extension**).",
    tag = "deliveries",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(
        ("event" = uuid::Uuid, Path, description = "Event id."),
        ("rule" = uuid::Uuid, Path, description = "Rule id."),
        ("attempt" = uuid::Uuid, Path, description = "Attempt id."),
    ),
    responses(
        (status = 200, description = "The attempt.", body = AttemptView),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ),
)]
pub async fn attempt(
    State(deps): State<Deps>,
    caller: Reader,
    PathIds((event, rule, id)): PathIds<(EventId, RuleId, AttemptId)>,
) -> ApiResult<Json<AttemptView>> {
    let (_, delivery) = load(&deps, &caller, event, rule).await?;
    deps.deliveries()
        .attempts(caller.org(), delivery.event, delivery.id)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .map(|a| Json(AttemptView::for_caller(a, &caller)))
        .ok_or_else(|| ApiError::not_found("Attempt"))
}

/// The destination's latest answer (status and truncated body).
#[utoipa::path(
    get,
    path = "/api/v1/events/{event}/rules/{rule}/response-details",
    operation_id = "getResponseDetails",
    summary = "Get the destination's latest answer",
    tag = "deliveries",
    description = "The latest attempt: the destination's status and the start of its answer. \
        404 until a first attempt was made. Meshes has this route but does not publish its \
        response shape; this body is Switchyard's (**extension**).",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(
        ("event" = uuid::Uuid, Path, description = "Event id."),
        ("rule" = uuid::Uuid, Path, description = "Rule id."),
    ),
    responses(
        (status = 200, description = "The latest attempt.", body = AttemptView),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ),
)]
pub async fn response_details(
    State(deps): State<Deps>,
    caller: Reader,
    PathIds((event, rule)): PathIds<(EventId, RuleId)>,
) -> ApiResult<Json<AttemptView>> {
    let (_, delivery) = load(&deps, &caller, event, rule).await?;
    deps.deliveries()
        .attempts(caller.org(), delivery.event, delivery.id)
        .await?
        .into_iter()
        .last()
        .map(|a| Json(AttemptView::for_caller(a, &caller)))
        .ok_or_else(|| ApiError::not_found("Response details"))
}

/// Replays one delivery now, on a fresh retry schedule.
#[utoipa::path(
    post,
    path = "/api/v1/events/{event}/rules/{rule}/retry",
    operation_id = "retryDelivery",
    summary = "Retry a delivery",
    tag = "deliveries",
    description = "Replays the event's delivery through the rule now, on a fresh retry \
        schedule, whatever its status. 425 when a retry is already in progress or imminent, \
        or another retry of it was accepted in the last 5 s (of concurrent retries one wins). \
        **Extension**: the answer is the delivery as queued again (Meshes does not publish \
        one).",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(
        ("event" = uuid::Uuid, Path, description = "Event id."),
        ("rule" = uuid::Uuid, Path, description = "Rule id."),
    ),
    responses(
        (status = 200, description = "The delivery, queued again.", body = RuleEventView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 425, response = TooEarly),
    ),
)]
pub async fn retry(
    State(deps): State<Deps>,
    caller: Writer,
    PathIds((event, rule)): PathIds<(EventId, RuleId)>,
) -> ApiResult<Json<RuleEventView>> {
    let (event, delivery) = load(&deps, &caller, event, rule).await?;
    match replay::replay(&deps, caller.org(), delivery.event, delivery.id).await? {
        Replay::Queued(d) => Ok(Json(RuleEventView::new(*d, &event))),
        Replay::AlreadyImminent => Err(ApiError::new(
            StatusCode::TOO_EARLY,
            "TooEarly",
            "A retry of this delivery is already in progress or imminent",
        )),
        Replay::NotFound => Err(ApiError::not_found("Rule event")),
    }
}

/// Cancels one delivery that has not ended.
#[utoipa::path(
    post,
    path = "/api/v1/events/{event}/rules/{rule}/cancel",
    operation_id = "cancelDelivery",
    summary = "Cancel a delivery",
    tag = "deliveries",
    description = "Cancels the event's delivery through the rule: no further attempt is made. \
        409 when it has already ended (completed, failed or canceled). **Extension**: the \
        answer is the canceled delivery (Meshes does not publish one).",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(
        ("event" = uuid::Uuid, Path, description = "Event id."),
        ("rule" = uuid::Uuid, Path, description = "Rule id."),
    ),
    responses(
        (status = 200, description = "The canceled delivery.", body = RuleEventView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
)]
pub async fn cancel(
    State(deps): State<Deps>,
    caller: Writer,
    PathIds((event, rule)): PathIds<(EventId, RuleId)>,
) -> ApiResult<Json<RuleEventView>> {
    let (event, delivery) = load(&deps, &caller, event, rule).await?;
    match replay::cancel(&deps, caller.org(), delivery.event, delivery.id).await? {
        Some(d) => Ok(Json(RuleEventView::new(d, &event))),
        None => Err(ApiError::conflict(format!(
            "The delivery is already {}",
            delivery.status
        ))),
    }
}

/// Cancels every delivery of the event that has not ended; answers the event.
#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/cancel",
    operation_id = "cancelEvent",
    summary = "Cancel an event's pending deliveries",
    description = "Cancels every delivery of the event that has not ended, and answers the \
        event. Meshes has this route but does not publish its response shape; this body is \
        Switchyard's (**extension**).",
    tag = "deliveries",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = "Event id.")),
    responses(
        (status = 200, description = "The event, with its deliveries.", body = EventDetailView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
)]
pub async fn cancel_event(
    State(deps): State<Deps>,
    caller: Writer,
    PathId(id): PathId<EventId>,
) -> ApiResult<Json<EventDetailView>> {
    let org = caller.org();
    let event = caller.event(&deps, id).await?;
    for delivery in deps.deliveries().deliveries_for_event(org, id).await? {
        if !delivery.status.is_final() {
            replay::cancel(&deps, org, delivery.event, delivery.id).await?;
        }
    }
    let deliveries = deps.deliveries().deliveries_for_event(org, id).await?;
    let routed = deps.events().is_routed(org, id).await?;
    Ok(Json(super::events::detail(
        &caller, event, deliveries, routed,
    )))
}
