//! Lambda's SQS event source mapping, played where there is no Lambda: receive a batch, hand it
//! to the handler as the SQS event document Lambda would build, delete what succeeded, and
//! leave reported failures to come back after the visibility timeout (and reach the DLQ after
//! `maxReceiveCount`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use switchyard_core::StoreError;
use switchyard_core::ports::{QueueConsumer, QueueName, ReceivedMessage};
use tokio::sync::watch;

/// How long one receive waits for messages before checking for shutdown again.
const LONG_POLL: Duration = Duration::from_millis(500);

/// Pumps `queue` into `handler` until `shutdown` turns true. The batch in hand when shutdown
/// arrives is finished first, so nothing is left half-processed.
pub async fn run<H, Fut>(
    consumer: Arc<dyn QueueConsumer>,
    queue: QueueName,
    batch_size: usize,
    handler: H,
    mut shutdown: watch::Receiver<bool>,
) where
    H: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    loop {
        if *shutdown.borrow() {
            return;
        }
        let pumped = tokio::select! {
            r = pump_once(consumer.as_ref(), queue, batch_size, LONG_POLL, &handler) => r,
            _ = shutdown.changed() => return,
        };
        if let Err(e) = pumped {
            tracing::error!(%queue, error = %e, "queue unavailable; backing off");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// One round: receive a batch (waiting up to `wait`), hand it to the handler, delete what it
/// did not report as failed. Returns how many messages were received.
pub async fn pump_once<H, Fut>(
    consumer: &dyn QueueConsumer,
    queue: QueueName,
    batch_size: usize,
    wait: Duration,
    handler: &H,
) -> Result<usize, StoreError>
where
    H: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    let messages = consumer.receive(queue, batch_size, wait).await?;
    if messages.is_empty() {
        return Ok(0);
    }
    let response = handler(sqs_event(queue, &messages)).await;
    let failed: HashSet<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    let done: Vec<String> = messages
        .iter()
        .filter(|m| !failed.contains(m.message_id.as_str()))
        .map(|m| m.receipt_handle.clone())
        .collect();
    if let Err(e) = consumer.delete_batch(queue, &done).await {
        // The messages come back after the visibility timeout; handlers are idempotent.
        tracing::error!(%queue, error = %e, "delete failed; messages will be seen again");
    }
    Ok(messages.len())
}

/// The SQS event document Lambda would pass for these messages.
pub fn sqs_event(queue: QueueName, messages: &[ReceivedMessage]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = messages
        .iter()
        .map(|m| {
            let mut record = SqsMessage::default();
            record.message_id = Some(m.message_id.clone());
            record.receipt_handle = Some(m.receipt_handle.clone());
            record.body = Some(m.body.clone());
            record.attributes = HashMap::from([
                (
                    "ApproximateReceiveCount".to_owned(),
                    m.receive_count.to_string(),
                ),
                ("SentTimestamp".to_owned(), m.sent_at_ms.to_string()),
                (
                    "ApproximateFirstReceiveTimestamp".to_owned(),
                    m.first_received_at_ms.to_string(),
                ),
            ]);
            record.event_source = Some("aws:sqs".to_owned());
            record.event_source_arn = Some(format!("arn:switchyard:sqs:local:{queue}"));
            record.aws_region = Some("local".to_owned());
            record
        })
        .collect();
    event
}
