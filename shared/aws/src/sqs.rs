//! The queue ports over SQS. Sends go out in `SendMessageBatch` requests of ten (SQS's
//! maximum, and a tenth of the request price); delays are per message. Receiving is what
//! Lambda's event source mapping does on AWS — the implementation here serves the local
//! runtime (`serve --backend aws`), the DLQ tools and the conformance suite.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName,
    SendMessageBatchRequestEntry,
};
use switchyard_core::StoreError;
use switchyard_core::ports::{
    MAX_DELAY, OutgoingMessage, Queue, QueueConsumer, QueueDepth, QueueName, ReceivedMessage,
};

use crate::error::backend;

/// SQS's limit on entries per batch request and messages per receive.
const BATCH: usize = 10;
/// SQS's longest long poll.
const MAX_WAIT: Duration = Duration::from_secs(20);

#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    urls: BTreeMap<QueueName, String>,
}

impl SqsQueue {
    pub fn new(client: Client, urls: BTreeMap<QueueName, String>) -> Self {
        Self { client, urls }
    }

    fn url(&self, queue: QueueName) -> Result<&str, StoreError> {
        self.urls.get(&queue).map(String::as_str).ok_or_else(|| {
            StoreError::Backend(format!(
                "the {queue} queue is not configured for this process"
            ))
        })
    }
}

/// SQS delays are whole seconds; rounding up keeps a message from arriving before its
/// `not_before` (rounding down would make the delivery handler re-hop for the last second).
fn delay_seconds(delay: Duration) -> i32 {
    let capped = delay.min(MAX_DELAY);
    let secs = capped.as_secs() + u64::from(capped.subsec_nanos() > 0);
    secs.min(MAX_DELAY.as_secs()) as i32
}

/// Long-poll waits are whole seconds too; a wait under a second still long-polls for one
/// rather than busy-polling with zero.
fn wait_seconds(wait: Duration) -> i32 {
    if wait.is_zero() {
        return 0;
    }
    let capped = wait.min(MAX_WAIT);
    (capped.as_secs() + u64::from(capped.subsec_nanos() > 0)).clamp(1, MAX_WAIT.as_secs()) as i32
}

fn attribute(m: &aws_sdk_sqs::types::Message, name: MessageSystemAttributeName) -> i64 {
    m.attributes()
        .and_then(|a| a.get(&name))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send_batch(
        &self,
        queue: QueueName,
        messages: Vec<OutgoingMessage>,
    ) -> Result<(), StoreError> {
        let url = self.url(queue)?;
        for chunk in messages.chunks(BATCH) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(&m.body)
                        .delay_seconds(delay_seconds(m.delay))
                        .build()
                        .map_err(|e| backend("SendMessageBatch", e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| backend("SendMessageBatch", e))?;
            if let Some(failed) = out.failed().first() {
                // The caller retries the whole batch: duplicates are harmless, a loss is not.
                return Err(StoreError::Backend(format!(
                    "SendMessageBatch: {} of {} messages refused ({}: {})",
                    out.failed().len(),
                    chunk.len(),
                    failed.code(),
                    failed.message().unwrap_or("")
                )));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl QueueConsumer for SqsQueue {
    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, StoreError> {
        let out = self
            .client
            .receive_message()
            .queue_url(self.url(queue)?)
            .max_number_of_messages(max.clamp(1, BATCH) as i32)
            .wait_time_seconds(wait_seconds(wait))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_system_attribute_names(
                MessageSystemAttributeName::ApproximateFirstReceiveTimestamp,
            )
            .send()
            .await
            .map_err(|e| backend("ReceiveMessage", e))?;
        Ok(out
            .messages()
            .iter()
            .map(|m| ReceivedMessage {
                message_id: m.message_id().unwrap_or_default().to_owned(),
                receipt_handle: m.receipt_handle().unwrap_or_default().to_owned(),
                body: m.body().unwrap_or_default().to_owned(),
                receive_count: attribute(m, MessageSystemAttributeName::ApproximateReceiveCount)
                    as u32,
                sent_at_ms: attribute(m, MessageSystemAttributeName::SentTimestamp),
                first_received_at_ms: attribute(
                    m,
                    MessageSystemAttributeName::ApproximateFirstReceiveTimestamp,
                ),
            })
            .collect())
    }

    async fn delete_batch(
        &self,
        queue: QueueName,
        receipt_handles: &[String],
    ) -> Result<(), StoreError> {
        let url = self.url(queue)?;
        for chunk in receipt_handles.chunks(BATCH) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(h)
                        .build()
                        .map_err(|e| backend("DeleteMessageBatch", e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            // Per-entry failures are stale or unknown handles, which SQS itself ignores on a
            // single delete: the message is someone else's now, or already gone.
            self.client
                .delete_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| backend("DeleteMessageBatch", e))?;
        }
        Ok(())
    }

    async fn change_visibility(
        &self,
        queue: QueueName,
        receipt_handle: &str,
        timeout: Duration,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .change_message_visibility()
            .queue_url(self.url(queue)?)
            .receipt_handle(receipt_handle)
            .visibility_timeout(timeout.as_secs().min(43_200) as i32)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // A stale handle: the message was received again or deleted; nothing to change.
            Err(e)
                if matches!(
                    crate::error::code(&e),
                    Some(
                        "ReceiptHandleIsInvalid"
                            | "MessageNotInflight"
                            | "AWS.SimpleQueueService.MessageNotInflight"
                            | "InvalidParameterValue"
                    )
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(backend("ChangeMessageVisibility", e)),
        }
    }

    async fn depth(&self, queue: QueueName) -> Result<QueueDepth, StoreError> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(self.url(queue)?)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|e| backend("GetQueueAttributes", e))?;
        let get = |name: QueueAttributeName| -> u64 {
            out.attributes()
                .and_then(|a| a.get(&name))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Ok(QueueDepth {
            visible: get(QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
            delayed: get(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_round_up_to_whole_seconds_and_cap_at_fifteen_minutes() {
        assert_eq!(delay_seconds(Duration::ZERO), 0);
        assert_eq!(delay_seconds(Duration::from_millis(1)), 1);
        assert_eq!(delay_seconds(Duration::from_millis(5000)), 5);
        assert_eq!(delay_seconds(Duration::from_millis(5001)), 6);
        assert_eq!(delay_seconds(Duration::from_secs(3600)), 900);
    }

    #[test]
    fn waits_round_up_and_never_exceed_twenty_seconds() {
        assert_eq!(wait_seconds(Duration::ZERO), 0);
        assert_eq!(wait_seconds(Duration::from_millis(500)), 1);
        assert_eq!(wait_seconds(Duration::from_secs(60)), 20);
    }
}
