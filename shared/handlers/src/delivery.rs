//! The delivery handler: one attempt per message, recorded before the delivery's status moves.
//!
//! A failed attempt is retried by re-enqueueing the message with a delay (long waits are
//! several hops of at most 15 minutes, each checking `not_before`) and acknowledging the
//! original. When the schedule is spent the delivery is `failed` and its message is sent to the
//! delivery DLQ on purpose, ready for redrive. Messages for deliveries already final, or for
//! attempts already made, are acknowledged and dropped, so duplicates are harmless.

use std::time::Duration;

use rand::Rng;
use serde_json::{Map, Value};
use switchyard_core::clock::epoch_millis;
use switchyard_core::delivery_policy::{AttemptEnd, Next, after_attempt};
use switchyard_core::domain::{Attempt, Delivery, DeliveryStatus, SecretsError};
use switchyard_core::fair_share::Target;
use switchyard_core::message::DeliveryMessage;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{
    ATTEMPT_UNDER_WAY_AFTER, AttemptRecord, DeliveryRequest, DeliveryResult, MAX_DELAY,
    OutgoingMessage, QueueName,
};
use switchyard_core::trace::{SpanId, TraceParent};
use switchyard_core::webhook::{DEFAULT_ATTEMPT_TIMEOUT, attempt_timeout};
use switchyard_core::{AttemptId, StoreError};
use tokio::time::Instant;
use tracing::Instrument;

use crate::Deps;
use crate::protection::Permit;

/// What became of a delivery message. Each is final for the message: acknowledge it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// An attempt was made and recorded; the delivery moved to this status.
    Attempted(DeliveryStatus),
    /// Not due yet, or its destination is paused, hanging or over a share: re-enqueued for
    /// later, no attempt made or counted.
    Deferred,
    /// A duplicate or stale message, or its delivery is gone: nothing to do.
    Dropped,
}

/// The delivery could not be handled now; the message is left on the queue to come back after
/// its visibility timeout (and reaches the DLQ after `maxReceiveCount`).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("queue: {0}")]
    Queue(#[source] StoreError),
}

/// How much longer than the connection's timeout an attempt may take before it is cut off
/// here: the integration's own timeout normally ends it first, describing the request.
const TIMEOUT_GRACE: Duration = Duration::from_secs(1);

/// One attempt for `message`, as the embedded runtime runs it.
pub async fn deliver(deps: &Deps, message: DeliveryMessage) -> Result<Handled, DeliveryError> {
    deliver_by(deps, message, None).await
}

/// One attempt for `message` that ends, answered or not, by `deadline` (a Lambda invocation's
/// end, less the time to record it) as well as within the connection's timeout.
pub async fn deliver_by(
    deps: &Deps,
    message: DeliveryMessage,
    deadline: Option<Instant>,
) -> Result<Handled, DeliveryError> {
    let (trace, parent) = crate::trace::child_of(message.traceparent);
    let span = tracing::info_span!("deliver", trace_id = %trace.trace_id, span_id = %trace.span_id, parent_id = parent.map(tracing::field::display), org = %message.org, workspace = %message.workspace, event_id = %message.event_id, delivery_id = %message.delivery_id, attempt = message.attempt);
    attempt(deps, message, deadline, trace)
        .instrument(span)
        .await
}

async fn attempt(
    deps: &Deps,
    message: DeliveryMessage,
    deadline: Option<Instant>,
    trace: TraceParent,
) -> Result<Handled, DeliveryError> {
    let store = &deps.store;
    let org = message.org;
    let now = deps.now();

    let wait_ms = message.not_before - epoch_millis(now);
    if wait_ms > 0 {
        // Not yet: another hop of at most 15 minutes.
        send(
            deps,
            QueueName::Deliveries,
            &message,
            Duration::from_millis(wait_ms as u64),
        )
        .await?;
        return Ok(Handled::Deferred);
    }

    // The routing's own message, moments old: the claim it carries is the delivery where the
    // store takes it so (DynamoDB: no read); else the delivery as stored.
    let claimed = match message.claimed_delivery() {
        Some(routed) if message.trusts_claim(epoch_millis(now)) => {
            store.claimed_delivery(&routed).await?
        }
        _ => None,
    };
    let current = match claimed {
        Some(d) => Some(d),
        None => {
            store
                .delivery(org, message.event_id, message.delivery_id)
                .await?
        }
    };
    let Some(current) = current else {
        tracing::warn!("delivery not found; message dropped");
        return Ok(Handled::Dropped);
    };
    let current = if is_redrive_of_failure(&message, &current) {
        // Sent to the DLQ when this delivery failed, and redriven since: start afresh.
        let Some(restarted) = store
            .restart_delivery(org, current.event, current.id, now)
            .await?
        else {
            return Ok(Handled::Dropped);
        };
        tracing::info!("redriven from the DLQ: fresh retry schedule");
        restarted
    } else {
        current
    };
    if current.status.is_final() || message.attempt <= current.attempt_count {
        tracing::debug!(status = %current.status, "duplicate or stale message dropped");
        return Ok(Handled::Dropped);
    }
    let target = Target {
        org,
        workspace: current.workspace,
        connection: current.connection,
    };
    // The attempt's own timeout is known once its connection is loaded: until then the
    // longest a connection may set.
    let permit = match deps
        .live
        .protection
        .enter_waiting(
            target,
            || deps.now(),
            DEFAULT_ATTEMPT_TIMEOUT,
            message.turned_away,
        )
        .await
    {
        Ok(permit) => permit,
        Err(until) => {
            // Paused, hanging or over its share: try later, no attempt made.
            tracing::debug!(connection_id = %current.connection, "destination paused; attempt deferred");
            let deferred = DeliveryMessage {
                not_before: epoch_millis(until),
                turned_away: message.turned_away.saturating_add(1),
                fresh_claim: false,
                claim: None,
                ..message
            };
            let wait = (until - deps.now()).try_into().unwrap_or(Duration::ZERO);
            send(deps, QueueName::Deliveries, &deferred, wait).await?;
            return Ok(Handled::Deferred);
        }
    };
    // The permit may have waited for its place.
    let now = deps.now();
    let Some(delivery) = store.begin_attempt_of(&current, now).await? else {
        return Ok(Handled::Dropped);
    };

    let started = deps.clock.now();
    let attempt = Box::pin(load_and_deliver(
        deps, &delivery, &message, now, &permit, deadline, trace,
    ));
    let result = shown_under_way_when_slow(deps, &delivery, message.attempt, attempt).await?;

    permit.finish(deps.now(), result.outcome);

    // The message's number, not the stored count + 1: a retry's message goes out before its
    // predecessor is recorded, and may start before that record lands.
    let made = message.attempt;
    let end = AttemptEnd {
        outcome: result.outcome,
        status_code: result.status_code,
        retry_after: result.retry_after,
    };
    let jitter = rand::rng().random_range(-1.0..=1.0);
    let next_step = after_attempt(
        end,
        made,
        delivery.schedule_base,
        &deps.settings.retry,
        jitter,
    );
    let status = next_step.status();
    let next_attempt_at = match next_step {
        Next::RetryAfter(delay) => Some(now + delay),
        Next::Complete | Next::DeadLetter => None,
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
        turned_away: 0,
        fresh_claim: false,
        claim: None,
        ..message
    };
    match next_step {
        Next::RetryAfter(delay) => send(deps, QueueName::Deliveries, &next, delay).await?,
        Next::DeadLetter => {
            tracing::warn!("delivery failed; sent to the delivery DLQ for redrive");
            send(deps, QueueName::DeliveriesDlq, &next, Duration::ZERO).await?;
        }
        Next::Complete => {}
    }
    let after = store.finish_attempt(&delivery, &record).await?;
    crate::metrics::attempt_recorded(after.status, record.attempt.status_code, result.duration);
    tracing::info!(outcome = %record.attempt.outcome, status = %after.status, "attempt recorded");
    Ok(Handled::Attempted(after.status))
}

/// Runs an attempt, and once it has run for [`ATTEMPT_UNDER_WAY_AFTER`] stores it under way
/// beside it (the attempt is polled meanwhile). Failing to show that fails nothing: the
/// attempt's record is what counts. The caller boxes the attempt, so it moves as a pointer.
async fn shown_under_way_when_slow(
    deps: &Deps,
    delivery: &Delivery,
    number: u32,
    mut attempt: impl Future<Output = Result<DeliveryResult, StoreError>> + Unpin,
) -> Result<DeliveryResult, StoreError> {
    let show = async {
        tokio::time::sleep(ATTEMPT_UNDER_WAY_AFTER).await;
        let shown = deps
            .store
            .show_attempt_under_way(delivery, number, deps.clock.now())
            .await;
        if let Err(e) = shown {
            tracing::warn!(error = %e, "could not show the attempt under way");
        }
    };
    tokio::select! {
        result = &mut attempt => result,
        () = show => attempt.await,
    }
}

/// A message this handler dead-lettered on purpose when the delivery failed — and only the
/// latest such message: an older one (the delivery was redriven and failed again since) is stale.
fn is_redrive_of_failure(message: &DeliveryMessage, current: &Delivery) -> bool {
    message.resume
        && current.status == DeliveryStatus::Failed
        && message.attempt == current.attempt_count + 1
}

/// Loads what the attempt needs and calls the integration, waiting at most the connection's
/// timeout and never past `deadline`. The error is a storage failure (retry the message); a
/// delivery that cannot be attempted at all is an `internal_error` result.
async fn load_and_deliver(
    deps: &Deps,
    delivery: &Delivery,
    message: &DeliveryMessage,
    now: time::OffsetDateTime,
    permit: &Permit<'_>,
    deadline: Option<Instant>,
    trace: TraceParent,
) -> Result<DeliveryResult, StoreError> {
    let org = delivery.org;
    let attempt = message.attempt;
    // Carried by the message while small (events never change once stored), else read.
    let event = match message.carried_event() {
        Some(event) => Some(event),
        None => deps.events().event(org, delivery.event).await?,
    };
    let rule = deps.rules().rule(org, delivery.rule).await?;
    let connection = deps
        .connections()
        .connection(org, delivery.connection)
        .await?;
    let (Some(event), Some(rule), Some(connection)) = (event, rule, connection) else {
        return Ok(internal_error(
            "the event, rule or connection no longer exists".into(),
        ));
    };
    let secrets = match connection.open_secrets(deps.keys.as_ref()) {
        Ok(secrets) => secrets,
        // Not a map (never written so): the connector runs without them, as before.
        Err(SecretsError::Malformed) => Map::new(),
        Err(e) => {
            return Ok(internal_error(format!(
                "connection credentials cannot be opened: {e}"
            )));
        }
    };
    let timeout = attempt_timeout(&connection.metadata);
    let cutoff = Instant::now() + timeout + TIMEOUT_GRACE;
    let cutoff = deadline.map_or(cutoff, |d| d.min(cutoff));
    permit.ends_by(deps.now() + cutoff.saturating_duration_since(Instant::now()));
    // SaaS connectors receive the connection's field mapping applied to the payload (webhooks
    // send the envelope and take none). A `fail_action` field that fails makes no request.
    let mapping = match connection.kind {
        switchyard_core::domain::IntegrationType::Webhook => None,
        _ => deps
            .mappings()
            .connection_mapping(org, connection.id)
            .await?
            .map(|stored| stored.mapping),
    };
    let (fields, warnings) = match connector_fields(mapping.as_ref(), &event.payload) {
        Ok(mapped) => (mapped.fields, mapped.warnings),
        Err(failure) => return Ok(mapping_error(&failure)),
    };
    // OAuth connections: a fresh access token, refreshed and the attempt made again once
    // when the provider refuses it.
    let mut token = match crate::oauth::FreshToken::prepare(deps, &connection, secrets).await {
        Ok(token) => token,
        Err(result) => return Ok(result),
    };
    let result = loop {
        // The destination call's own span, whose id the destination sees as its parent.
        let call = trace.child(SpanId::random());
        let span = tracing::info_span!("destination_call", trace_id = %call.trace_id, span_id = %call.span_id, parent_id = %trace.span_id, connection_id = %connection.id, kind = connection.kind.as_str());
        let request = DeliveryRequest {
            event: &event,
            rule: &rule,
            connection: &connection,
            secrets: token.secrets(),
            fields: &fields,
            delivery,
            attempt,
            sent_at: now,
            traceparent: Some(call),
        };
        // Only the call is cut off: a token refresh, once started, is let finish (a rotated
        // refresh token must be stored).
        let called = Instant::now();
        let call_fut = deps.integrations.deliver(request);
        let result = match tokio::time::timeout_at(cutoff, call_fut)
            .instrument(span)
            .await
        {
            Ok(result) => result,
            Err(_) => no_answer(called.elapsed()),
        };
        match token.after(deps, &connection, result).await {
            crate::oauth::Next::Done(result) => break result,
            crate::oauth::Next::Retry => continue,
        }
    };
    crate::credential_state::note(deps, &connection, &result).await;
    Ok(with_warnings(result, &warnings))
}

/// A call cut off here: no answer within the connection's timeout, or before the invocation's
/// deadline.
fn no_answer(waited: Duration) -> DeliveryResult {
    DeliveryResult {
        outcome: Outcome::Timeout,
        status_code: None,
        request: String::new(),
        response_body: None,
        error: Some(format!("no answer within {} ms", waited.as_millis())),
        retry_after: None,
        duration: waited,
    }
}

/// An attempt that made no request: it cannot be made at all.
fn internal_error(reason: String) -> DeliveryResult {
    DeliveryResult {
        outcome: Outcome::InternalError,
        status_code: None,
        request: String::new(),
        response_body: None,
        error: Some(reason),
        retry_after: None,
        duration: Duration::ZERO,
    }
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
) -> Result<(), DeliveryError> {
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
        .map_err(DeliveryError::Queue)
}
