//! `/events`: ingest (publishable or machine key), list, get with deliveries, payload.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use serde_json::Value;
use switchyard_core::domain::{Access, Delivery, Event, EventStatus};
use switchyard_core::ports::EventFilter;
use switchyard_core::{EventId, ValidationErrors, WorkspaceId};
use tracing::Instrument;

use super::auth::{Caller, EventSender, PayloadReader, Reader};
use super::body::{PathId, parse_json, read_bytes};
use super::error::{ApiError, ApiResult};
use super::openapi::{BadRequest, Forbidden, NotFound, PayloadTooLarge, RateLimited, Unauthorized};
use super::query::Params;
use super::rate_limit;
use super::schemas::{EventBatch, EventFilters, EventInput, PageParams};
use super::views::{
    BulkAccepted, BulkItem, BulkItemError, BulkPartial, EventCreated, EventDetailView, EventView,
    List,
};
use crate::Deps;
use crate::ingest::{self, NewEvent, Sender};
use crate::trace::RequestTrace;

/// `POST /events`. With an `Idempotency-Key` header (extension), a repeat within 24 h answers
/// the first event again, marked `Idempotent-Replayed: true`, and nothing is stored or sent.
#[utoipa::path(
    post,
    path = "/api/v1/events",
    operation_id = "createEvent",
    summary = "Send an event",
    tag = "events",
    description = "Sends an event: it is stored before the answer, then routed by the \
        workspace's rules and delivered asynchronously (at least once). With a publishable key \
        the workspace is the key's; with a machine key the body names it.\n\n\
        **Extension**: `Idempotency-Key` — the same key within 24 h answers the first event \
        again (`Idempotent-Replayed: true`) and sends nothing twice. **Extension**: per-workspace \
        ingest rate limits — `RateLimit-*` headers on every answer when a limit is configured, \
        and 429 with `Retry-After` when it is spent.",
    security(("publishable_key" = []), ("machine_jwt" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
            pattern = r"^[\x21-\x7e]+$",
            description = "Extension: a client-chosen key of 1–255 visible ASCII characters \
                that makes retries of this request safe for 24 h."),
    ),
    request_body = EventInput,
    responses(
        (status = 201, description = "Accepted and stored.", body = EventCreated, headers(
            ("Idempotent-Replayed" = String,
                description = "Extension: `true` when this answers an earlier request with \
                    the same Idempotency-Key."),
            ("RateLimit-Limit" = u32, description = "Extension: the workspace's bucket size."),
            ("RateLimit-Remaining" = u32, description = "Extension: events that may follow now."),
            ("RateLimit-Reset" = u64, description = "Extension: seconds until the bucket is full."),
        )),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
    ),
)]
pub async fn create(
    State(deps): State<Deps>,
    EventSender(sender): EventSender,
    request: Request,
) -> ApiResult<(StatusCode, HeaderMap, Json<EventCreated>)> {
    let trace = RequestTrace::from_headers(request.headers(), false);
    let span = trace.request_span();
    async move {
        let key = idempotency_key(request.headers())?;
        let bytes = read_bytes(request, &deps).await?;
        let body: Value = parse_json(&bytes)?;
        let input = NewEvent::from_json(&body)?;
        let mut headers = rate_limit::check(&deps, target_workspace(&sender, input.workspace)?, 1)?;
        let (event, replayed) =
            ingest::accept(&deps, &sender, input, key.as_deref(), &trace).await?;
        if replayed {
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
        }
        let event = EventView::summary(&event, EventStatus::Pending);
        Ok((StatusCode::CREATED, headers, Json(EventCreated { event })))
    }
    .instrument(span)
    .await
}

/// The request's `Idempotency-Key` (extension), if it has one.
fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str().map(str::to_owned).map_err(|_| {
                ApiError::validation(ValidationErrors::single("Idempotency-Key", "must be ASCII"))
            })
        })
        .transpose()
}

#[utoipa::path(
    get,
    path = "/api/v1/events",
    operation_id = "listEvents",
    summary = "List events",
    description = "Events of the organization, newest first, filtered by `workspace`, `event`, \
        `resource` and `resource_id`.\n\n**Extension**: `status` (the derived event status) and \
        the time range `since` (inclusive) / `until` (exclusive), RFC 3339. A page may hold \
        fewer records than `limit` and still carry a `next_cursor`: follow it.",
    tag = "events",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(EventFilters, PageParams),
    responses(
        (status = 200, description = "A page of events.", body = List<EventView>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    ),
)]
pub async fn list(
    State(deps): State<Deps>,
    caller: Reader,
    params: Params,
) -> ApiResult<Json<List<EventView>>> {
    let workspace = params.id::<WorkspaceId>("workspace")?;
    list_in(&deps, &caller, workspace, &params).await
}

#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{id}/events",
    operation_id = "listWorkspaceEvents",
    summary = "List a workspace's events",
    tag = "events",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = "Workspace id."), EventFilters, PageParams),
    responses(
        (status = 200, description = "A page of the workspace's events.", body = List<EventView>),
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
) -> ApiResult<Json<List<EventView>>> {
    caller.workspace(&deps, workspace).await?;
    list_in(&deps, &caller, Some(workspace), &params).await
}

async fn list_in(
    deps: &Deps,
    caller: &Caller,
    workspace: Option<WorkspaceId>,
    params: &Params,
) -> ApiResult<Json<List<EventView>>> {
    let status = params
        .get("status")
        .map(|raw| {
            EventStatus::parse(&raw).ok_or_else(|| {
                ApiError::validation(ValidationErrors::single(
                    "status",
                    "must be one of pending, processing, completed, failed",
                ))
            })
        })
        .transpose()?;
    let filter = caller.event_filter(EventFilter {
        workspace,
        event: params.name("event"),
        resource: params.name("resource"),
        resource_id: params.get("resource_id"),
        status,
        since_ms: params.instant_ms("since")?,
        until_ms: params.instant_ms("until")?,
    })?;
    let page = deps
        .events()
        .list_events(caller.org(), &filter, params.page()?)
        .await?;
    let mut views = Vec::with_capacity(page.records.len());
    for event in &page.records {
        views.push(EventView::summary(event, status_of(deps, event).await?));
    }
    let mut views = views.into_iter();
    Ok(Json(List::from_page(page, |_| {
        views.next().expect("one view per record")
    })))
}

async fn status_of(deps: &Deps, event: &Event) -> ApiResult<EventStatus> {
    let deliveries = deps
        .deliveries()
        .deliveries_for_event(event.org, event.id)
        .await?;
    let routed = deps.events().is_routed(event.org, event.id).await?;
    let statuses: Vec<_> = deliveries.iter().map(|d| d.status).collect();
    Ok(EventStatus::derive(&statuses, routed))
}

/// The event detail as the caller may see it: without `payload` unless it may read payloads.
pub(super) fn detail(
    caller: &Caller,
    event: Event,
    deliveries: Vec<Delivery>,
    routed: bool,
) -> EventDetailView {
    let mut view = EventDetailView::new(event, deliveries, routed);
    if !caller.permits(Access::ReadPayload) {
        view.payload = None;
    }
    view
}

/// An event with its deliveries (`rule_events`), counts and payload.
#[utoipa::path(
    get,
    path = "/api/v1/events/{id}",
    operation_id = "getEvent",
    summary = "Get an event with its deliveries",
    description = "The event with its deliveries (`rule_events`), their counts and the payload.",
    tag = "events",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = "Event id.")),
    responses(
        (status = 200, description = "The event.", body = EventDetailView),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ),
)]
pub async fn get(
    State(deps): State<Deps>,
    caller: Reader,
    PathId(id): PathId<EventId>,
) -> ApiResult<Json<EventDetailView>> {
    let event = caller.event(&deps, id).await?;
    let deliveries = deps
        .deliveries()
        .deliveries_for_event(caller.org(), id)
        .await?;
    let routed = deps.events().is_routed(caller.org(), id).await?;
    Ok(Json(detail(&caller, event, deliveries, routed)))
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/payload",
    operation_id = "getEventPayload",
    summary = "Get an event with its payload",
    description = "The whole event, as `GET /events/{id}` answers it (status, counts, \
        `rule_events`), with its `payload`.",
    tag = "events",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = "Event id.")),
    responses(
        (status = 200, description = "The event and its payload.", body = EventDetailView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
)]
pub async fn payload(
    state: State<Deps>,
    caller: PayloadReader,
    id: PathId<EventId>,
) -> ApiResult<Json<EventDetailView>> {
    get(state, Reader(caller.0), id).await
}

/// The most events one bulk request may carry.
pub const MAX_BULK: usize = 100;

/// `POST /events/bulk`: a bare array of 1–100 events. 201 when all were accepted; 207 with a
/// per-item result (the event, or the contract's error body) when some were not.
#[utoipa::path(
    post,
    path = "/api/v1/events/bulk",
    operation_id = "createEventsBulk",
    summary = "Send up to 100 events",
    tag = "events",
    description = "Sends 1–100 events. Each item is validated on its own: 201 when every item \
        was accepted, 207 with a per-item result when some were not (the accepted ones are \
        stored and delivered). The accepted items are stored and queued together: all of \
        them or none. **Extension**: every item counts against the workspace's ingest \
        rate limit (429 with `Retry-After`; 400 when the batch is larger than the bucket). \
        **Extension**: `Idempotency-Key` for the whole request — a repeat within 24 h answers \
        the first request's events (`Idempotent-Replayed: true`), and a repeat of a request \
        cut short by a crash completes it under the same ids, so a retry duplicates nothing.",
    security(("publishable_key" = []), ("machine_jwt" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
            pattern = r"^[\x21-\x7e]+$",
            description = "Extension: a client-chosen key of 1–255 visible ASCII characters \
                that makes retries of this request safe for 24 h."),
    ),
    request_body = EventBatch,
    responses(
        (status = 201, description = "Every item accepted.", body = BulkAccepted, headers(
            ("Idempotent-Replayed" = String,
                description = "Extension: `true` when this answers an earlier request with \
                    the same Idempotency-Key."),
        )),
        (status = 207, description = "Some items refused; see each record.", body = BulkPartial),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
    ),
)]
pub async fn bulk(
    State(deps): State<Deps>,
    EventSender(sender): EventSender,
    request: Request,
) -> ApiResult<axum::response::Response> {
    let trace = RequestTrace::from_headers(request.headers(), true);
    let span = trace.request_span();
    bulk_in(deps, sender, request, trace).instrument(span).await
}

async fn bulk_in(
    deps: Deps,
    sender: Sender,
    request: Request,
    trace: RequestTrace,
) -> ApiResult<axum::response::Response> {
    let key = idempotency_key(request.headers())?;
    let bytes = read_bytes(request, &deps).await?;
    let body: Value = parse_json(&bytes)?;
    let Some(items) = body.as_array() else {
        return Err(ApiError::validation(ValidationErrors::single(
            "body",
            "must be a JSON array of events",
        )));
    };
    if items.is_empty() || items.len() > MAX_BULK {
        return Err(ApiError::validation(ValidationErrors::single(
            "body",
            format!("must hold between 1 and {MAX_BULK} events"),
        )));
    }
    let inputs: Vec<_> = items.iter().map(NewEvent::from_json).collect();
    // Every item counts against the limit, valid or not: the work of reading it was done.
    let body_workspace = inputs
        .iter()
        .find_map(|i| i.as_ref().ok().and_then(|e| e.workspace));
    let mut headers = rate_limit::check(
        &deps,
        target_workspace(&sender, body_workspace)?,
        items.len() as u32,
    )?;
    let answer = ingest::accept_many(&deps, &sender, inputs, key.as_deref(), &trace).await?;
    if answer.replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    let results = answer.results;
    let error_count = results.iter().filter(|r| r.is_err()).count();
    let records: Vec<BulkItem> = results
        .into_iter()
        .enumerate()
        .map(|(index, r)| match r {
            Ok(event) => BulkItem::Accepted(EventView::summary(&event, EventStatus::Pending)),
            Err(e) => {
                let error = ApiError::from(e);
                let body = error.body();
                BulkItem::Refused(BulkItemError {
                    index,
                    status: error.status.as_u16(),
                    message: body.message,
                    error: body.error,
                })
            }
        })
        .collect();
    let count = records.len();
    if error_count == 0 {
        let records = records
            .into_iter()
            .filter_map(|r| match r {
                BulkItem::Accepted(event) => Some(event),
                BulkItem::Refused(_) => None,
            })
            .collect();
        Ok((
            StatusCode::CREATED,
            headers,
            Json(BulkAccepted { count, records }),
        )
            .into_response())
    } else {
        Ok((
            StatusCode::MULTI_STATUS,
            headers,
            Json(BulkPartial {
                count,
                error_count,
                records,
            }),
        )
            .into_response())
    }
}

/// The workspace whose rate limit a request draws on: the publishable key's, or the one a
/// machine-key request names (validated again by ingest).
fn target_workspace(sender: &Sender, named: Option<WorkspaceId>) -> ApiResult<WorkspaceId> {
    match sender {
        Sender::Publishable { workspace, .. } | Sender::Session { workspace, .. } => Ok(*workspace),
        Sender::Machine { .. } => named.ok_or_else(|| {
            ApiError::validation(ValidationErrors::single(
                "workspace",
                "is required when sending with a machine key",
            ))
        }),
    }
}
