//! `/events`: ingest (publishable or machine key), list, get with deliveries, payload.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Value, json};
use switchyard_core::domain::{Event, EventStatus};
use switchyard_core::ports::EventFilter;
use switchyard_core::{EventId, OrgId, ValidationErrors, WorkspaceId};

use super::auth::{EventSender, Machine};
use super::body::{PathId, parse_json, read_bytes};
use super::error::{ApiError, ApiResult};
use super::query::Params;
use super::rate_limit;
use super::views::{EventView, List};
use crate::Deps;
use crate::ingest::{self, NewEvent, Sender};

/// `POST /events`. With an `Idempotency-Key` header (extension), a repeat within 24 h answers
/// the first event again, marked `Idempotent-Replayed: true`, and nothing is stored or sent.
pub async fn create(
    State(deps): State<Deps>,
    EventSender(sender): EventSender,
    request: Request,
) -> ApiResult<(StatusCode, HeaderMap, Json<Value>)> {
    let key = match request.headers().get(IDEMPOTENCY_KEY) {
        None => None,
        Some(v) => Some(v.to_str().map(str::to_owned).map_err(|_| {
            ApiError::validation(ValidationErrors::single("Idempotency-Key", "must be ASCII"))
        })?),
    };
    let bytes = read_bytes(request, &deps).await?;
    let body: Value = parse_json(&bytes)?;
    let input = NewEvent::from_json(&body)?;
    let mut headers = rate_limit::check(&deps, target_workspace(&sender, input.workspace)?, 1)?;
    let (event, replayed) = match key {
        Some(key) => ingest::accept_idempotent(&deps, &sender, input, &key).await?,
        None => (ingest::accept(&deps, &sender, input).await?, false),
    };
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    let view = EventView::summary(&event, EventStatus::Pending);
    Ok((StatusCode::CREATED, headers, Json(json!({ "event": view }))))
}

const IDEMPOTENCY_KEY: &str = "idempotency-key";

pub async fn list(
    State(deps): State<Deps>,
    machine: Machine,
    params: Params,
) -> ApiResult<Json<List<EventView>>> {
    let workspace = params.id::<WorkspaceId>("workspace")?;
    list_in(&deps, machine.org, workspace, &params).await
}

pub async fn list_for_workspace(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(workspace): PathId<WorkspaceId>,
    params: Params,
) -> ApiResult<Json<List<EventView>>> {
    super::load_workspace(&deps, machine.org, workspace).await?;
    list_in(&deps, machine.org, Some(workspace), &params).await
}

async fn list_in(
    deps: &Deps,
    org: OrgId,
    workspace: Option<WorkspaceId>,
    params: &Params,
) -> ApiResult<Json<List<EventView>>> {
    let filter = EventFilter {
        workspace,
        event: params.get("event"),
        resource: params.get("resource"),
        resource_id: params.get("resource_id"),
    };
    let page = deps.store.list_events(org, &filter, params.page()?).await?;
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
    let deliveries = deps.store.deliveries_for_event(event.org, event.id).await?;
    let routed = deps.store.is_routed(event.org, event.id).await?;
    let statuses: Vec<_> = deliveries.iter().map(|d| d.status).collect();
    Ok(EventStatus::derive(&statuses, routed))
}

async fn load(deps: &Deps, org: OrgId, id: EventId) -> ApiResult<Event> {
    deps.store
        .event(org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Event"))
}

pub async fn get(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<EventId>,
) -> ApiResult<Json<EventView>> {
    let event = load(&deps, machine.org, id).await?;
    let deliveries = deps.store.deliveries_for_event(machine.org, id).await?;
    let routed = deps.store.is_routed(machine.org, id).await?;
    Ok(Json(EventView::detailed(event, deliveries, routed)))
}

pub async fn payload(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<EventId>,
) -> ApiResult<Json<Value>> {
    let event = load(&deps, machine.org, id).await?;
    Ok(Json(
        json!({ "id": event.id.to_string(), "payload": event.payload }),
    ))
}

/// The most events one bulk request may carry.
pub const MAX_BULK: usize = 100;

/// `POST /events/bulk`: a bare array of 1–100 events. 201 when all were accepted; 207 with a
/// per-item result (the event, or the contract's error body) when some were not.
pub async fn bulk(
    State(deps): State<Deps>,
    EventSender(sender): EventSender,
    request: Request,
) -> ApiResult<(StatusCode, HeaderMap, Json<Value>)> {
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
    let headers = rate_limit::check(
        &deps,
        target_workspace(&sender, body_workspace)?,
        items.len() as u32,
    )?;
    let results = ingest::accept_many(&deps, &sender, inputs).await;
    let error_count = results.iter().filter(|r| r.is_err()).count();
    let records: Vec<Value> = results
        .into_iter()
        .enumerate()
        .map(|(index, r)| match r {
            Ok(event) => serde_json::to_value(EventView::summary(&event, EventStatus::Pending))
                .expect("views serialise"),
            Err(e) => {
                let error = ApiError::from(e);
                json!({
                    "index": index,
                    "status": error.status.as_u16(),
                    "message": error.message,
                    "error": {"name": error.name, "message": error.message, "data": error.data},
                })
            }
        })
        .collect();
    let count = records.len();
    if error_count == 0 {
        Ok((
            StatusCode::CREATED,
            headers,
            Json(json!({"count": count, "records": records})),
        ))
    } else {
        Ok((
            StatusCode::MULTI_STATUS,
            headers,
            Json(json!({"count": count, "error_count": error_count, "records": records})),
        ))
    }
}

/// The workspace whose rate limit a request draws on: the publishable key's, or the one a
/// machine-key request names (validated again by ingest).
fn target_workspace(sender: &Sender, named: Option<WorkspaceId>) -> ApiResult<WorkspaceId> {
    match sender {
        Sender::Publishable { workspace, .. } => Ok(*workspace),
        Sender::Machine { .. } => named.ok_or_else(|| {
            ApiError::validation(ValidationErrors::single(
                "workspace",
                "is required when sending with a machine key",
            ))
        }),
    }
}
