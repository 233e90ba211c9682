//! Operating the dead-letter queues over the queue port, so one implementation serves the
//! embedded queue and SQS (where the console's "Start DLQ redrive" does the same job).

use std::time::Duration;

use switchyard_core::StoreError;
use switchyard_core::ports::{OutgoingMessage, QueueConsumer, QueueName, ReceivedMessage};

/// The source queue a DLQ redrives to.
pub fn source_of(dlq: QueueName) -> Option<QueueName> {
    QueueName::ALL.into_iter().find(|q| q.dlq() == Some(dlq))
}

/// Up to `limit` messages of a DLQ, left in place: each is received and made visible again.
pub async fn list(
    queue: &dyn QueueConsumer,
    dlq: QueueName,
    limit: usize,
) -> Result<Vec<ReceivedMessage>, StoreError> {
    let mut seen = Vec::new();
    while seen.len() < limit {
        let batch = queue
            .receive(dlq, (limit - seen.len()).min(10), Duration::ZERO)
            .await?;
        if batch.is_empty() {
            break;
        }
        seen.extend(batch);
    }
    for m in &seen {
        queue
            .change_visibility(dlq, &m.receipt_handle, Duration::ZERO)
            .await?;
    }
    Ok(seen)
}

/// Moves every message of a DLQ back to its source queue; returns how many moved. Each batch is
/// sent before it is deleted, so a crash in between duplicates messages rather than losing
/// them — the handlers drop duplicates.
pub async fn redrive(queue: &dyn QueueConsumer, dlq: QueueName) -> Result<u64, StoreError> {
    let source = source_of(dlq)
        .ok_or_else(|| StoreError::Backend(format!("{dlq} is not a dead-letter queue")))?;
    let mut moved = 0;
    loop {
        let batch = queue.receive(dlq, 10, Duration::ZERO).await?;
        if batch.is_empty() {
            return Ok(moved);
        }
        let messages = batch
            .iter()
            .map(|m| OutgoingMessage::now(m.body.clone()))
            .collect();
        queue.send_batch(source, messages).await?;
        let handles: Vec<String> = batch.iter().map(|m| m.receipt_handle.clone()).collect();
        queue.delete_batch(dlq, &handles).await?;
        moved += batch.len() as u64;
    }
}
