use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::StoreError;

/// The four queues of the design. Each source queue redrives to its DLQ after
/// `maxReceiveCount` receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueueName {
    Events,
    EventsDlq,
    Deliveries,
    DeliveriesDlq,
}

impl QueueName {
    pub const ALL: [QueueName; 4] = [
        Self::Events,
        Self::EventsDlq,
        Self::Deliveries,
        Self::DeliveriesDlq,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Events => "events",
            Self::EventsDlq => "events-dlq",
            Self::Deliveries => "deliveries",
            Self::DeliveriesDlq => "deliveries-dlq",
        }
    }

    /// The dead-letter queue of a source queue (`None` for a DLQ itself).
    pub fn dlq(self) -> Option<QueueName> {
        match self {
            Self::Events => Some(Self::EventsDlq),
            Self::Deliveries => Some(Self::DeliveriesDlq),
            Self::EventsDlq | Self::DeliveriesDlq => None,
        }
    }
}

impl fmt::Display for QueueName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message to send, with its SQS-style delay (at most 15 minutes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub body: String,
    pub delay: Duration,
}

impl OutgoingMessage {
    pub fn now(body: String) -> Self {
        Self {
            body,
            delay: Duration::ZERO,
        }
    }
}

/// The longest delay SQS accepts on a message.
pub const MAX_DELAY: Duration = Duration::from_secs(900);

/// A received message, as SQS returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    /// Valid until the message is received again; deleting needs the latest one.
    pub receipt_handle: String,
    pub body: String,
    /// `ApproximateReceiveCount`, including this receive.
    pub receive_count: u32,
    /// `SentTimestamp`, epoch ms.
    pub sent_at_ms: i64,
    /// `ApproximateFirstReceiveTimestamp`, epoch ms.
    pub first_received_at_ms: i64,
}

/// Messages in a queue by state, as SQS's `ApproximateNumberOfMessages*` attributes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub visible: u64,
    pub in_flight: u64,
    pub delayed: u64,
}

/// Sending: all handlers need.
#[async_trait]
pub trait Queue: Send + Sync + 'static {
    /// Sends messages, each with its own delay (clamped to [`MAX_DELAY`]).
    async fn send_batch(
        &self,
        queue: QueueName,
        messages: Vec<OutgoingMessage>,
    ) -> Result<(), StoreError>;
}

/// Receiving: what Lambda's event source mapping does on AWS, and the local runtime does
/// itself. Semantics are SQS's: a received message is invisible for the queue's visibility
/// timeout, comes back if not deleted, and moves to the DLQ when it would be received for
/// more than `maxReceiveCount` times.
#[async_trait]
pub trait QueueConsumer: Queue {
    /// Receives up to `max` (≤ 10) visible messages. Like SQS long polling, waits up to `wait`
    /// for the first message to become available; returns empty when none did.
    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        wait: std::time::Duration,
    ) -> Result<Vec<ReceivedMessage>, StoreError>;

    /// Deletes messages by receipt handle; stale handles are ignored, as SQS does.
    async fn delete_batch(
        &self,
        queue: QueueName,
        receipt_handles: &[String],
    ) -> Result<(), StoreError>;

    /// Makes a received message visible again after `timeout` (zero: at once).
    async fn change_visibility(
        &self,
        queue: QueueName,
        receipt_handle: &str,
        timeout: Duration,
    ) -> Result<(), StoreError>;

    async fn depth(&self, queue: QueueName) -> Result<QueueDepth, StoreError>;

    /// How long the queue's oldest message (visible or not) has been in it, zero when it is
    /// empty; `None` where the backend does not say (SQS tells it only as the CloudWatch metric
    /// `ApproximateAgeOfOldestMessage`, which the template's dashboard shows).
    async fn oldest_message_age(&self, _queue: QueueName) -> Result<Option<Duration>, StoreError> {
        Ok(None)
    }
}
