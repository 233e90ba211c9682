//! `/dlq/{queue}` (extension, organization scope): the organization's messages in a dead-letter
//! queue — listed where they are, or redriven to their source queue. The DLQs are shared by
//! every organization; each request sees and moves only its own organization's messages.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use switchyard_core::ValidationErrors;
use switchyard_core::message::{DeliveryMessage, EventMessage};
use switchyard_core::ports::{QueueConsumer, QueueName, ReceivedMessage};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::Machine;
use super::error::{ApiError, ApiResult};
use super::openapi::{BadRequest, Forbidden, NotFound, Unauthorized};
use super::query::Params;
use crate::{Deps, dlq};

/// The most messages one list answers.
const MAX_LIST: usize = 200;
const DEFAULT_LIST: usize = 50;

/// One message in a dead-letter queue.
#[derive(Serialize, ToSchema)]
pub struct DlqMessageView {
    message_id: String,
    /// When the message was first sent (SQS keeps it through the move to the DLQ).
    #[serde(with = "time::serde::rfc3339")]
    sent_at: OffsetDateTime,
    /// How often it was received (listing counts too).
    receive_count: u32,
    #[schema(format = Uuid)]
    workspace: String,
    #[schema(format = Uuid)]
    event_id: String,
    /// The delivery (`rule_events[].id`); `null` in the events DLQ.
    #[schema(format = Uuid, required = true)]
    delivery_id: Option<String>,
    #[schema(format = Uuid, required = true)]
    rule_id: Option<String>,
    /// The attempt the message was for; `null` in the events DLQ.
    #[schema(required = true)]
    attempt: Option<u32>,
    /// `true`: the delivery failed through its whole schedule (redriving restarts it);
    /// `false`: a message that could not be processed five times.
    failed_delivery: bool,
}

#[derive(Serialize, ToSchema)]
pub struct DlqList {
    count: usize,
    limit: usize,
    /// The list stopped at its bound before the DLQ was read to the end.
    more: bool,
    records: Vec<DlqMessageView>,
}

#[derive(Serialize, ToSchema)]
pub struct Redriven {
    /// Messages moved back to the source queue.
    redriven: usize,
    /// The request stopped at its bound (1,000 messages read): call again for the rest.
    more: bool,
}

/// `deliveries` or `events`: the DLQ of that queue; anything else is not found.
fn dead_letter_queue(name: &str) -> ApiResult<QueueName> {
    match name {
        "deliveries" => Ok(QueueName::DeliveriesDlq),
        "events" => Ok(QueueName::EventsDlq),
        _ => Err(ApiError::not_found("Queue")),
    }
}

fn consumer(deps: &Deps) -> ApiResult<&dyn QueueConsumer> {
    deps.dead_letters.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "This deployment does not operate its dead-letter queues through the API",
        )
    })
}

fn view(m: ReceivedMessage) -> DlqMessageView {
    let delivery = serde_json::from_str::<DeliveryMessage>(&m.body).ok();
    let event = serde_json::from_str::<EventMessage>(&m.body).ok();
    let (workspace, event_id) = match (&delivery, &event) {
        (Some(d), _) => (d.workspace.to_string(), d.event_id.to_string()),
        (None, Some(e)) => (e.workspace.to_string(), e.event_id.to_string()),
        (None, None) => (String::new(), String::new()),
    };
    DlqMessageView {
        message_id: m.message_id,
        sent_at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(m.sent_at_ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        receive_count: m.receive_count,
        workspace,
        event_id,
        delivery_id: delivery.as_ref().map(|d| d.delivery_id.to_string()),
        rule_id: delivery.as_ref().map(|d| d.rule_id.to_string()),
        attempt: delivery.as_ref().map(|d| d.attempt),
        failed_delivery: delivery.is_some_and(|d| d.resume),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/dlq/{queue}",
    operation_id = "listDeadLetters",
    summary = "List the organization's dead letters (extension)",
    tag = "operations",
    description = "**Extension.** The caller's organization's messages in the `deliveries` or \
        `events` dead-letter queue, left in place (oldest first, as the queue gives them). A \
        request reads at most 1,000 messages of the shared queue (`more` says it stopped \
        early). Machine keys only: a session token gets 403.",
    security(("machine_jwt" = [])),
    params(
        ("queue" = String, Path, description = "`deliveries` or `events`."),
        ("limit" = Option<u32>, Query, description = "1–200, default 50."),
    ),
    responses(
        (status = 200, description = "The organization's messages.", body = DlqList),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
)]
pub async fn list(
    State(deps): State<Deps>,
    machine: Machine,
    Path(queue): Path<String>,
    params: Params,
) -> ApiResult<Json<DlqList>> {
    let dlq = dead_letter_queue(&queue)?;
    let limit = match params.get("limit") {
        None => DEFAULT_LIST,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIST).contains(n))
            .ok_or_else(|| {
                ApiError::validation(ValidationErrors::single(
                    "limit",
                    format!("must be an integer from 1 to {MAX_LIST}"),
                ))
            })?,
    };
    let found = dlq::list_for_org(consumer(&deps)?, dlq, machine.org, limit).await?;
    let records: Vec<DlqMessageView> = found.messages.into_iter().map(view).collect();
    Ok(Json(DlqList {
        count: records.len(),
        limit,
        more: found.more,
        records,
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/dlq/{queue}/redrive",
    operation_id = "redriveDeadLetters",
    summary = "Redrive the organization's dead letters (extension)",
    tag = "operations",
    description = "**Extension.** Moves the caller's organization's messages from the \
        `deliveries` or `events` dead-letter queue back to its source queue; other \
        organizations' messages stay. A failed delivery redriven this way is attempted again \
        on a fresh schedule; a second copy, or a delivery that succeeded meanwhile, is dropped. \
        At most 1,000 messages read per request (`more`: call again). Machine keys only.",
    security(("machine_jwt" = [])),
    params(("queue" = String, Path, description = "`deliveries` or `events`.")),
    responses(
        (status = 200, description = "How many moved.", body = Redriven),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
)]
pub async fn redrive(
    State(deps): State<Deps>,
    machine: Machine,
    Path(queue): Path<String>,
) -> ApiResult<Json<Redriven>> {
    let dlq = dead_letter_queue(&queue)?;
    let moved = dlq::redrive_for_org(consumer(&deps)?, dlq, machine.org, dlq::SCAN_LIMIT).await?;
    tracing::info!(org = %machine.org, queue = %dlq, redriven = moved.messages.len(),
        "dead letters redriven");
    Ok(Json(Redriven {
        redriven: moved.messages.len(),
        more: moved.more,
    }))
}
