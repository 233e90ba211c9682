//! The delivery handler: one attempt per message, recorded before the delivery's status moves.
//!
//! A failed attempt is retried by re-enqueueing the message with a delay (long waits are
//! several hops of at most 15 minutes, each checking `not_before`) and acknowledging the
//! original. When the schedule is spent the delivery is `failed` and its message is sent to the
//! delivery DLQ on purpose, ready for redrive. Messages for deliveries already final, or for
//! attempts already made, are acknowledged and dropped, so duplicates are harmless.

use std::time::Duration;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use rand::Rng;
use serde_json::{Map, Value};
use switchyard_core::AttemptId;
use switchyard_core::clock::epoch_millis;
use switchyard_core::domain::{Attempt, Delivery, DeliveryStatus, SecretsError};
use switchyard_core::message::DeliveryMessage;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{
    AttemptRecord, DeliveryRequest, DeliveryResult, MAX_DELAY, OutgoingMessage, QueueName,
};
use tracing::Instrument;

use crate::Deps;
use crate::sqs::for_each_record;

/// The delivery Lambda's handler: one SQS batch of [`DeliveryMessage`]s, attempted concurrently.
pub async fn handle(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    for_each_record(event, |message: DeliveryMessage| {
        let span = tracing::info_span!("deliver", org = %message.org, workspace = %message.workspace, event_id = %message.event_id, delivery_id = %message.delivery_id, attempt = message.attempt);
        attempt(deps, message).instrument(span)
    })
    .await
}

async fn attempt(deps: &Deps, message: DeliveryMessage) -> Result<(), String> {
    let store = &deps.store;
    let org = message.org;
    let now = deps.now();

    let wait_ms = message.not_before - epoch_millis(now);
    if wait_ms > 0 {
        // Not yet: another hop of at most 15 minutes.
        return send(
            deps,
            QueueName::Deliveries,
            &message,
            Duration::from_millis(wait_ms as u64),
        )
        .await;
    }

    let Some(current) = store
        .delivery(org, message.delivery_id)
        .await
        .map_err(|e| e.to_string())?
    else {
        tracing::warn!("delivery not found; message dropped");
        return Ok(());
    };
    let current = if is_redrive_of_failure(&message, &current) {
        // Sent to the DLQ when this delivery failed, and redriven since: start afresh.
        let Some(restarted) = store
            .restart_delivery(org, current.id, now)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(());
        };
        tracing::info!("redriven from the DLQ: fresh retry schedule");
        restarted
    } else {
        current
    };
    if current.status.is_final() || message.attempt <= current.attempt_count {
        tracing::debug!(status = %current.status, "duplicate or stale message dropped");
        return Ok(());
    }
    let permit = match deps.settings.protection.enter(current.connection, now) {
        Ok(permit) => permit,
        Err(until) => {
            // The destination's circuit is open or it is saturated: try later, no attempt made.
            tracing::debug!(connection_id = %current.connection, "destination paused; attempt deferred");
            let deferred = DeliveryMessage {
                not_before: epoch_millis(until),
                ..message
            };
            let wait = (until - now).try_into().unwrap_or(Duration::ZERO);
            return send(deps, QueueName::Deliveries, &deferred, wait).await;
        }
    };
    let Some(delivery) = store
        .begin_attempt(org, message.delivery_id, now)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };

    let started = deps.clock.now();
    let result = match load_and_deliver(deps, &delivery, message.attempt, now).await? {
        Ok(result) => result,
        Err(reason) => DeliveryResult {
            outcome: Outcome::InternalError,
            status_code: None,
            request: String::new(),
            response_body: None,
            error: Some(reason),
            retry_after: None,
            duration: Duration::ZERO,
        },
    };

    permit.finish(deps.now(), result.outcome);

    let made = delivery.attempt_count + 1;
    let next_delay = if result.outcome == Outcome::Delivered
        || !result.outcome.is_retryable(result.status_code)
    {
        None
    } else {
        let jitter = rand::rng().random_range(-1.0..=1.0);
        let in_schedule = made - delivery.schedule_base;
        deps.settings
            .retry
            .next_delay(in_schedule, jitter, result.retry_after)
    };
    let (status, next_attempt_at) = match (result.outcome, next_delay) {
        (Outcome::Delivered, _) => (DeliveryStatus::Completed, None),
        (_, Some(delay)) => (DeliveryStatus::Retrying, Some(now + delay)),
        (_, None) => (DeliveryStatus::Failed, None),
    };
    let last_error = (result.outcome != Outcome::Delivered).then(|| describe(&result));
    let record = AttemptRecord {
        attempt: Attempt {
            id: AttemptId::new(),
            org,
            delivery: delivery.id,
            number: made,
            outcome: result.outcome,
            status_code: result.status_code,
            request: result.request,
            response_body: result.response_body,
            error: result.error,
            duration_ms: result.duration.as_millis() as u64,
            started_at: started,
        },
        status,
        next_attempt_at,
        last_error,
    };
    // The follow-up message goes out before the attempt is recorded: if recording then
    // fails, this message is retried and the attempt repeated (at least once), whereas the
    // other order could record `retrying` with no message left to carry the retry.
    let next = DeliveryMessage {
        attempt: made + 1,
        not_before: next_attempt_at.map_or(0, epoch_millis),
        resume: status == DeliveryStatus::Failed,
        ..message
    };
    match status {
        DeliveryStatus::Retrying => {
            let delay = next_delay.unwrap_or_default();
            send(deps, QueueName::Deliveries, &next, delay).await?;
        }
        DeliveryStatus::Failed => {
            tracing::warn!("delivery failed; sent to the delivery DLQ for redrive");
            send(deps, QueueName::DeliveriesDlq, &next, Duration::ZERO).await?;
        }
        _ => {}
    }
    let after = store
        .finish_attempt(org, &record)
        .await
        .map_err(|e| e.to_string())?;
    crate::metrics::attempt_recorded(after.status, record.attempt.status_code, result.duration);
    tracing::info!(outcome = %record.attempt.outcome, status = %after.status, "attempt recorded");
    Ok(())
}

/// A message this handler dead-lettered on purpose when the delivery failed — and only the
/// latest such message: an older one (the delivery was redriven and failed again since) is stale.
fn is_redrive_of_failure(message: &DeliveryMessage, current: &Delivery) -> bool {
    message.resume
        && current.status == DeliveryStatus::Failed
        && message.attempt == current.attempt_count + 1
}

/// Loads what the attempt needs and calls the integration. The outer error is a storage
/// failure (retry the message); the inner one a delivery that cannot be attempted at all.
async fn load_and_deliver(
    deps: &Deps,
    delivery: &Delivery,
    attempt: u32,
    now: time::OffsetDateTime,
) -> Result<Result<DeliveryResult, String>, String> {
    let store = &deps.store;
    let org = delivery.org;
    let event = store
        .event(org, delivery.event)
        .await
        .map_err(|e| e.to_string())?;
    let rule = store
        .rule(org, delivery.rule)
        .await
        .map_err(|e| e.to_string())?;
    let connection = store
        .connection(org, delivery.connection)
        .await
        .map_err(|e| e.to_string())?;
    let (Some(event), Some(rule), Some(connection)) = (event, rule, connection) else {
        return Ok(Err("the event, rule or connection no longer exists".into()));
    };
    let secrets = match connection.open_secrets(deps.keys.as_ref()) {
        Ok(secrets) => secrets,
        // Not a map (never written so): the connector runs without them, as before.
        Err(SecretsError::Malformed) => Map::new(),
        Err(e) => return Ok(Err(format!("connection credentials cannot be opened: {e}"))),
    };
    // SaaS connectors receive the connection's field mapping applied to the payload (webhooks
    // send the envelope and take none). A `fail_action` field that fails makes no request.
    let mapping = match connection.kind {
        switchyard_core::domain::IntegrationType::Webhook => None,
        _ => store
            .connection_mapping(org, connection.id)
            .await
            .map_err(|e| e.to_string())?
            .map(|stored| stored.mapping),
    };
    let (fields, warnings) = match connector_fields(mapping.as_ref(), &event.payload) {
        Ok(mapped) => (mapped.fields, mapped.warnings),
        Err(failure) => return Ok(Ok(mapping_error(&failure))),
    };
    // OAuth connections: a fresh access token, refreshed and the attempt made again once
    // when the provider refuses it.
    let mut token = match crate::oauth::FreshToken::prepare(deps, &connection, secrets).await {
        Ok(token) => token,
        Err(result) => return Ok(Ok(result)),
    };
    let result = loop {
        let request = DeliveryRequest {
            event: &event,
            rule: &rule,
            connection: &connection,
            secrets: token.secrets(),
            fields: &fields,
            delivery,
            attempt,
            sent_at: now,
        };
        let result = deps.integrations.deliver(request).await;
        match token.after(deps, &connection, result).await {
            crate::oauth::Next::Done(result) => break result,
            crate::oauth::Next::Retry => continue,
        }
    };
    Ok(Ok(with_warnings(result, &warnings)))
}

/// The fields a connector sends: the mapping applied to the payload, or the payload's own
/// top-level fields when the connection has no mapping (or an empty one).
fn connector_fields(
    mapping: Option<&switchyard_core::mapping::FieldMapping>,
    payload: &Value,
) -> Result<switchyard_core::mapping::Mapped, switchyard_core::mapping::MappingFailure> {
    match mapping {
        Some(mapping) if !mapping.fields.is_empty() => mapping.apply(payload),
        _ => Ok(switchyard_core::mapping::Mapped {
            fields: payload.as_object().cloned().unwrap_or_default(),
            warnings: Vec::new(),
        }),
    }
}

/// An attempt that made no request: the payload cannot be mapped, and will not map later
/// either (`mapping_error` is not retried).
fn mapping_error(failure: &switchyard_core::mapping::MappingFailure) -> DeliveryResult {
    DeliveryResult {
        outcome: Outcome::MappingError,
        status_code: None,
        request: String::new(),
        response_body: None,
        error: Some(format!("field mapping failed: {failure}")),
        retry_after: None,
        duration: Duration::ZERO,
    }
}

/// `warn_action` fields left out are recorded on the attempt: as its error text when it was
/// delivered (`delivered with warnings: …`), after the error otherwise.
fn with_warnings(mut result: DeliveryResult, warnings: &[String]) -> DeliveryResult {
    if warnings.is_empty() {
        return result;
    }
    let warnings = warnings.join("; ");
    result.error = Some(match result.error.take() {
        None => format!("delivered with warnings: {warnings}"),
        Some(e) => format!("{e}; field mapping warnings: {warnings}"),
    });
    result
}

fn describe(result: &DeliveryResult) -> String {
    match (&result.error, result.status_code) {
        (Some(e), _) => e.clone(),
        (None, Some(code)) => format!("{}: HTTP {code}", result.outcome),
        (None, None) => result.outcome.to_string(),
    }
}

async fn send(
    deps: &Deps,
    queue: QueueName,
    message: &DeliveryMessage,
    delay: Duration,
) -> Result<(), String> {
    let body = serde_json::to_string(message).expect("message serialises");
    deps.queue
        .send_batch(
            queue,
            vec![OutgoingMessage {
                body,
                delay: delay.min(MAX_DELAY),
            }],
        )
        .await
        .map_err(|e| e.to_string())
}
