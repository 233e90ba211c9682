//! The queue conformance suite against the embedded SQLite queue, with a manual clock so
//! visibility timeouts and delays pass instantly.

#[path = "../conformance/queue.rs"]
mod queue;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use queue::{QueueHarness, queue_conformance_tests};
use switchyard_core::clock::{Clock, ManualClock, epoch_millis};
use switchyard_core::ports::{OutgoingMessage, Queue, QueueConsumer, QueueName};
use switchyard_embedded::{Db, QueueSettings, SqliteQueue};
use time::macros::datetime;

const SETTINGS: QueueSettings = QueueSettings {
    visibility_timeout: Duration::from_secs(30),
    max_receive_count: 3,
};

struct SqliteHarness {
    queue: SqliteQueue,
    clock: Arc<ManualClock>,
}

impl SqliteHarness {
    fn new() -> Self {
        let clock = Arc::new(ManualClock::new(datetime!(2025-06-01 12:00 UTC)));
        let db = Db::in_memory().expect("in-memory db");
        let queue = SqliteQueue::open(db, clock.clone(), |_| SETTINGS).expect("open queue");
        Self { queue, clock }
    }
}

#[async_trait]
impl QueueHarness for SqliteHarness {
    fn queue(&self) -> &dyn QueueConsumer {
        &self.queue
    }

    async fn advance(&self, d: Duration) {
        self.clock.advance(d);
    }

    fn visibility_timeout(&self) -> Duration {
        SETTINGS.visibility_timeout
    }

    fn max_receive_count(&self) -> u32 {
        SETTINGS.max_receive_count
    }

    async fn redrive(&self, from: QueueName, to: QueueName) -> u64 {
        self.queue.redrive(from, to).await.expect("redrive")
    }
}

queue_conformance_tests!(SqliteHarness::new());

// What only the embedded queue offers: `switchyard dlq list` and exact timestamps.

#[tokio::test]
async fn peek_all_lists_messages_in_the_order_they_become_visible_without_receiving_them() {
    let h = SqliteHarness::new();
    let messages = vec![
        OutgoingMessage::now("first".into()),
        OutgoingMessage {
            body: "delayed".into(),
            delay: Duration::from_secs(60),
        },
    ];
    h.queue
        .send_batch(QueueName::Events, messages)
        .await
        .unwrap();
    h.clock.advance(Duration::from_secs(1));
    h.queue
        .send_batch(
            QueueName::Events,
            vec![OutgoingMessage::now("second".into())],
        )
        .await
        .unwrap();
    h.queue
        .receive(QueueName::Events, 1, Duration::ZERO)
        .await
        .unwrap();

    let peeked = h.queue.peek_all(QueueName::Events, 10).await.unwrap();
    let summary: Vec<(&str, u32)> = peeked
        .iter()
        .map(|m| (m.body.as_str(), m.receive_count))
        .collect();
    // "second" is visible now, "first" again after its 30 s visibility timeout, "delayed"
    // after its 60 s delay. (For a DLQ: the order messages were dead-lettered.)
    assert_eq!(summary, [("second", 0), ("first", 1), ("delayed", 0)]);
    assert_eq!(peeked[0].sent_at_ms - peeked[1].sent_at_ms, 1000);

    assert_eq!(
        h.queue.peek_all(QueueName::Events, 2).await.unwrap().len(),
        2
    );
    // Peeking received nothing.
    let depth = h.queue.depth(QueueName::Events).await.unwrap();
    assert_eq!((depth.visible, depth.in_flight, depth.delayed), (1, 1, 1));
}

#[tokio::test]
async fn timestamps_come_from_the_clock() {
    let h = SqliteHarness::new();
    let sent_at = epoch_millis(h.clock.now());
    h.queue
        .send_batch(QueueName::Events, vec![OutgoingMessage::now("a".into())])
        .await
        .unwrap();
    h.clock.advance(Duration::from_secs(5));
    let m = h
        .queue
        .receive(QueueName::Events, 1, Duration::ZERO)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(m.sent_at_ms, sent_at);
    assert_eq!(m.first_received_at_ms, sent_at + 5000);
}

#[tokio::test]
async fn dead_lettered_message_keeps_its_id_and_redrive_gives_a_new_one() {
    let h = SqliteHarness::new();
    h.queue
        .send_batch(
            QueueName::Events,
            vec![OutgoingMessage::now("poison".into())],
        )
        .await
        .unwrap();
    for _ in 0..SETTINGS.max_receive_count {
        h.queue
            .receive(QueueName::Events, 1, Duration::ZERO)
            .await
            .unwrap();
        h.clock.advance(SETTINGS.visibility_timeout);
    }
    let source_id = h.queue.peek_all(QueueName::Events, 1).await.unwrap()[0]
        .message_id
        .clone();
    h.queue
        .receive(QueueName::Events, 1, Duration::ZERO)
        .await
        .unwrap();
    let dead = h.queue.peek_all(QueueName::EventsDlq, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].message_id, source_id);
    assert_eq!(dead[0].receive_count, 0);

    assert_eq!(
        h.queue
            .redrive(QueueName::EventsDlq, QueueName::Events)
            .await
            .unwrap(),
        1
    );
    let back = h.queue.peek_all(QueueName::Events, 10).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].body, "poison");
    // SQS redrives as new messages: new id, new SentTimestamp.
    assert_ne!(back[0].message_id, dead[0].message_id);
    assert!(back[0].sent_at_ms > dead[0].sent_at_ms);
}

/// SQLite-specific (SQS tells it only as a CloudWatch metric): the oldest message's age, in
/// flight or not, and zero for an empty queue.
#[tokio::test]
async fn the_oldest_message_age_is_told() {
    let h = SqliteHarness::new();
    let q = QueueName::Deliveries;
    assert_eq!(
        h.queue.oldest_message_age(q).await.unwrap(),
        Some(Duration::ZERO)
    );
    h.queue
        .send_batch(q, vec![OutgoingMessage::now("first".into())])
        .await
        .unwrap();
    h.clock.advance(Duration::from_secs(90));
    h.queue
        .send_batch(q, vec![OutgoingMessage::now("second".into())])
        .await
        .unwrap();
    let received = h.queue.receive(q, 1, Duration::ZERO).await.unwrap();
    assert_eq!(received.len(), 1, "the first, now in flight");
    assert_eq!(
        h.queue.oldest_message_age(q).await.unwrap(),
        Some(Duration::from_secs(90))
    );
    h.queue
        .delete_batch(q, &[received[0].receipt_handle.clone()])
        .await
        .unwrap();
    assert_eq!(
        h.queue.oldest_message_age(q).await.unwrap(),
        Some(Duration::ZERO),
        "the second was sent just now"
    );
}
