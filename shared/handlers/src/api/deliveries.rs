//! `/events/{e}/rules/{r}/…` and `/events/{e}/cancel`: one delivery's attempts and response,
//! replay (retry) and cancel.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use switchyard_core::domain::{Attempt, Delivery, Event};
use switchyard_core::{AttemptId, EventId, OrgId, RuleId};
use time::OffsetDateTime;

use super::auth::Machine;
use super::body::{PathId, PathIds};
use super::error::{ApiError, ApiResult};
use super::views::{EventView, RuleEventView};
use crate::Deps;
use crate::replay::{self, Replay};

#[derive(Serialize)]
pub struct AttemptView {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    rule_event: String,
    number: u32,
    outcome: &'static str,
    status_code: Option<u16>,
    request: String,
    response_body: Option<String>,
    error: Option<String>,
    duration_ms: u64,
    #[serde(with = "time::serde::rfc3339")]
    started_at: OffsetDateTime,
}

impl From<Attempt> for AttemptView {
    fn from(a: Attempt) -> Self {
        Self {
            id: a.id.to_string(),
            kind: "attempt",
            rule_event: a.delivery.to_string(),
            number: a.number,
            outcome: a.outcome.as_str(),
            status_code: a.status_code,
            request: a.request,
            response_body: a.response_body,
            error: a.error,
            duration_ms: a.duration_ms,
            started_at: a.started_at,
        }
    }
}

#[derive(Serialize)]
pub struct AttemptList {
    count: usize,
    records: Vec<AttemptView>,
}

/// The event and its delivery through the rule, or 404.
async fn load(
    deps: &Deps,
    org: OrgId,
    event: EventId,
    rule: RuleId,
) -> ApiResult<(Event, Delivery)> {
    let event = deps
        .store
        .event(org, event)
        .await?
        .ok_or_else(|| ApiError::not_found("Event"))?;
    let delivery = deps
        .store
        .deliveries_for_event(org, event.id)
        .await?
        .into_iter()
        .find(|d| d.rule == rule)
        .ok_or_else(|| ApiError::not_found("Rule event"))?;
    Ok((event, delivery))
}

pub async fn attempts(
    State(deps): State<Deps>,
    machine: Machine,
    PathIds((event, rule)): PathIds<(EventId, RuleId)>,
) -> ApiResult<Json<AttemptList>> {
    let (_, delivery) = load(&deps, machine.org, event, rule).await?;
    let records: Vec<AttemptView> = deps
        .store
        .attempts(machine.org, delivery.id)
        .await?
        .into_iter()
        .map(AttemptView::from)
        .collect();
    Ok(Json(AttemptList {
        count: records.len(),
        records,
    }))
}

pub async fn attempt(
    State(deps): State<Deps>,
    machine: Machine,
    PathIds((event, rule, id)): PathIds<(EventId, RuleId, AttemptId)>,
) -> ApiResult<Json<AttemptView>> {
    let (_, delivery) = load(&deps, machine.org, event, rule).await?;
    deps.store
        .attempts(machine.org, delivery.id)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .map(|a| Json(a.into()))
        .ok_or_else(|| ApiError::not_found("Attempt"))
}

/// The destination's latest answer (status and truncated body).
pub async fn response_details(
    State(deps): State<Deps>,
    machine: Machine,
    PathIds((event, rule)): PathIds<(EventId, RuleId)>,
) -> ApiResult<Json<AttemptView>> {
    let (_, delivery) = load(&deps, machine.org, event, rule).await?;
    deps.store
        .attempts(machine.org, delivery.id)
        .await?
        .into_iter()
        .last()
        .map(|a| Json(a.into()))
        .ok_or_else(|| ApiError::not_found("Response details"))
}

pub async fn retry(
    State(deps): State<Deps>,
    machine: Machine,
    PathIds((event, rule)): PathIds<(EventId, RuleId)>,
) -> ApiResult<Json<RuleEventView>> {
    let (event, delivery) = load(&deps, machine.org, event, rule).await?;
    match replay::replay(&deps, machine.org, delivery.id).await? {
        Replay::Queued(d) => Ok(Json(RuleEventView::new(*d, &event))),
        Replay::AlreadyImminent => Err(ApiError::new(
            StatusCode::TOO_EARLY,
            "TooEarly",
            "A retry of this delivery is already in progress or imminent",
        )),
        Replay::NotFound => Err(ApiError::not_found("Rule event")),
    }
}

pub async fn cancel(
    State(deps): State<Deps>,
    machine: Machine,
    PathIds((event, rule)): PathIds<(EventId, RuleId)>,
) -> ApiResult<Json<RuleEventView>> {
    let (event, delivery) = load(&deps, machine.org, event, rule).await?;
    match replay::cancel(&deps, machine.org, delivery.id).await? {
        Some(d) => Ok(Json(RuleEventView::new(d, &event))),
        None => Err(ApiError::conflict(format!(
            "The delivery is already {}",
            delivery.status
        ))),
    }
}

/// Cancels every delivery of the event that has not ended; answers the event.
pub async fn cancel_event(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<EventId>,
) -> ApiResult<Json<EventView>> {
    let org = machine.org;
    let event = deps
        .store
        .event(org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Event"))?;
    for delivery in deps.store.deliveries_for_event(org, id).await? {
        if !delivery.status.is_final() {
            replay::cancel(&deps, org, delivery.id).await?;
        }
    }
    let deliveries = deps.store.deliveries_for_event(org, id).await?;
    let routed = deps.store.is_routed(org, id).await?;
    Ok(Json(EventView::detailed(event, deliveries, routed)))
}
