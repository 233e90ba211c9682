//! The Lambda edge of the router and delivery handlers: read the SQS event document the event
//! source mapping sends, run its records concurrently through the typed handlers, and answer
//! with the records to retry (`ReportBatchItemFailures`). Only the functions use this; the
//! embedded runtime calls the handlers directly ([`crate::event_source`]).

use std::fmt::Display;
use std::time::{Duration, SystemTime};

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::future::join_all;
use serde::de::DeserializeOwned;
use switchyard_core::message::EventMessage;
use tokio::time::Instant;

use crate::{Deps, delivery, router};

/// Time kept back from an invocation's deadline to record the attempts cut off by it.
const RECORDING_MARGIN: Duration = Duration::from_secs(5);

/// A record that cannot be handled at all; left for retry, so it reaches the DLQ.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("record has no body")]
    NoBody,
    #[error("unreadable message body: {0}")]
    Unreadable(#[from] serde_json::Error),
}

/// The router function: a batch of event messages, routed concurrently, their deliveries
/// enqueued together ([`router::route_all`]).
pub async fn route_batch(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    let mut failed = Vec::new();
    let mut ids = Vec::new();
    let mut messages = Vec::new();
    for record in &event.records {
        let id = record.message_id.clone().unwrap_or_default();
        match parse::<EventMessage>(record) {
            Ok(message) => {
                ids.push(id);
                messages.push(message);
            }
            Err(e) => failed.push((id, e.to_string())),
        }
    }
    let routed = router::route_all(deps, messages).await;
    failed.extend(
        ids.into_iter()
            .zip(routed)
            .filter_map(|(id, r)| Some((id, r.err()?.to_string()))),
    );
    failures(failed)
}

/// The delivery function: a batch of delivery messages, attempted concurrently, each cut off
/// by its connection's timeout and by the invocation's `deadline` (epoch ms, as the Runtime
/// API gives it) less a margin to record it, so one hanging destination holds its own record
/// only and never outlives the invocation.
pub async fn deliver_batch(deps: &Deps, event: SqsEvent, deadline: SystemTime) -> SqsBatchResponse {
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        .saturating_sub(RECORDING_MARGIN);
    let cutoff = Instant::now() + left;
    for_each_record(event, |message| {
        delivery::deliver_by(deps, message, Some(cutoff))
    })
    .await
}

/// Runs `handle` on every record of the batch concurrently; records whose handling fails are
/// reported back so only they are retried.
pub async fn for_each_record<T, F, Fut, O, E>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    T: DeserializeOwned,
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<O, E>>,
    E: Display,
{
    let outcomes = join_all(event.records.into_iter().map(|record| {
        let id = record.message_id.clone().unwrap_or_default();
        let handled = parse::<T>(&record).map(&handle);
        async move {
            let error = match handled {
                Ok(fut) => fut.await.err().map(|e| e.to_string()),
                Err(e) => Some(e.to_string()),
            };
            error.map(|e| (id, e))
        }
    }))
    .await;
    failures(outcomes.into_iter().flatten())
}

/// The answer that leaves these records (message id, error) for retry.
fn failures(failed: impl IntoIterator<Item = (String, String)>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for (id, error) in failed {
        tracing::error!(message_id = %id, error = %error, "record failed; left for retry");
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = id;
        response.batch_item_failures.push(failure);
    }
    response
}

fn parse<T: DeserializeOwned>(record: &SqsMessage) -> Result<T, RecordError> {
    let body = record.body.as_deref().ok_or(RecordError::NoBody)?;
    Ok(serde_json::from_str(body)?)
}
