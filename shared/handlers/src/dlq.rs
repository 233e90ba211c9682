//! Operating the dead-letter queues over the queue port, so one implementation serves the
//! embedded queue and SQS (where the console's "Start DLQ redrive" does the same job).

use std::time::Duration;

use serde::Deserialize;
use switchyard_core::ports::{OutgoingMessage, QueueConsumer, QueueName, ReceivedMessage};
use switchyard_core::{OrgId, StoreError};

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

/// Messages one organization's request may look at in a DLQ, whoever they belong to: a
/// request never walks a DLQ of millions (it says when it stopped early).
pub const SCAN_LIMIT: usize = 1000;

/// The organization a DLQ message is about: messages of both queues name it (`org`). An
/// unreadable (poison) body belongs to no organization; only the operator CLI sees it.
pub fn org_of(body: &str) -> Option<OrgId> {
    #[derive(Deserialize)]
    struct Tenant {
        org: OrgId,
    }
    serde_json::from_str::<Tenant>(body).ok().map(|t| t.org)
}

/// What an organization's request found in a DLQ.
#[derive(Debug, Default)]
pub struct OrgScan {
    /// Listed (left in place) or redriven messages of the organization.
    pub messages: Vec<ReceivedMessage>,
    /// The scan stopped at the request's bound before the DLQ was exhausted: more may follow.
    pub more: bool,
}

/// Up to `limit` of `org`'s messages in a DLQ, left in place. The DLQs are shared by every
/// organization: the others' messages are held invisible while the scan goes on (so none is
/// received twice), then released with the organization's own.
pub async fn list_for_org(
    queue: &dyn QueueConsumer,
    dlq: QueueName,
    org: OrgId,
    limit: usize,
) -> Result<OrgScan, StoreError> {
    let mut held = Vec::new();
    let scanned = scan(queue, dlq, org, limit, &mut held, |_| async { Ok(()) }).await;
    release(queue, dlq, &held).await?;
    let mut found = scanned?;
    release(queue, dlq, &found.messages).await?;
    let mut seen = std::collections::HashSet::new();
    found.messages.retain(|m| seen.insert(m.message_id.clone()));
    found.messages.truncate(limit);
    Ok(found)
}

/// Moves up to `max` of `org`'s messages from a DLQ back to its source queue (each batch sent,
/// then deleted: a crash between duplicates, never loses; the handlers drop duplicates). Other
/// organizations' messages stay where they are.
pub async fn redrive_for_org(
    queue: &dyn QueueConsumer,
    dlq: QueueName,
    org: OrgId,
    max: usize,
) -> Result<OrgScan, StoreError> {
    let source = source_of(dlq)
        .ok_or_else(|| StoreError::Backend(format!("{dlq} is not a dead-letter queue")))?;
    let mut held = Vec::new();
    let moved = scan(
        queue,
        dlq,
        org,
        max,
        &mut held,
        |mine: Vec<ReceivedMessage>| async move {
            let bodies = mine
                .iter()
                .map(|m| OutgoingMessage::now(m.body.clone()))
                .collect();
            queue.send_batch(source, bodies).await?;
            let handles: Vec<String> = mine.iter().map(|m| m.receipt_handle.clone()).collect();
            queue.delete_batch(dlq, &handles).await
        },
    )
    .await;
    release(queue, dlq, &held).await?;
    moved
}

/// Receives from a DLQ until `want` of `org`'s messages were found (each batch of them handed
/// to `take`), the DLQ is exhausted, or [`SCAN_LIMIT`] messages were read. Others' messages
/// end up in `held`, to be released by the caller.
async fn scan<'q, F, Fut>(
    queue: &'q dyn QueueConsumer,
    dlq: QueueName,
    org: OrgId,
    want: usize,
    held: &mut Vec<ReceivedMessage>,
    take: F,
) -> Result<OrgScan, StoreError>
where
    F: Fn(Vec<ReceivedMessage>) -> Fut,
    Fut: std::future::Future<Output = Result<(), StoreError>> + 'q,
{
    let mut found = OrgScan::default();
    let mut scanned = 0;
    while found.messages.len() < want {
        if scanned >= SCAN_LIMIT {
            found.more = true;
            break;
        }
        let batch = queue.receive(dlq, 10, Duration::ZERO).await?;
        if batch.is_empty() {
            break;
        }
        scanned += batch.len();
        let (mine, others): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .partition(|m| org_of(&m.body) == Some(org));
        held.extend(others);
        if !mine.is_empty() {
            found.messages.extend(mine.iter().cloned());
            take(mine).await?;
        }
    }
    if found.messages.len() >= want && want > 0 {
        found.more = true;
    }
    Ok(found)
}

/// Makes held messages visible again at once.
async fn release(
    queue: &dyn QueueConsumer,
    dlq: QueueName,
    held: &[ReceivedMessage],
) -> Result<(), StoreError> {
    for m in held {
        queue
            .change_visibility(dlq, &m.receipt_handle, Duration::ZERO)
            .await?;
    }
    Ok(())
}
