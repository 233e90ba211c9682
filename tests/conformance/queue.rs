//! The queue conformance suite: the SQS behaviour every `QueueConsumer` adapter must show.
//!
//! Cases are generic over [`QueueHarness`] so the same ones run against SQLite (with a manual
//! clock) and against SQS on moto (where `advance` has to sleep). They assert only what a
//! caller can observe through the port, and never rely on message order, which standard SQS
//! queues do not guarantee.
//!
//! A test file includes this module as `crate::conformance::queue` and calls
//! [`queue_conformance_tests!`] with an expression building a fresh harness.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use switchyard_core::ports::{
    MAX_DELAY, OutgoingMessage, QueueConsumer, QueueDepth, QueueName, ReceivedMessage,
};

/// One adapter under test, with empty queues.
#[async_trait]
pub trait QueueHarness: Send + Sync {
    fn queue(&self) -> &dyn QueueConsumer;
    /// Lets `d` pass for the queue: moves a fake clock, or sleeps where time is real.
    async fn advance(&self, d: Duration);
    /// The visibility timeout configured on the source queues.
    fn visibility_timeout(&self) -> Duration;
    /// The `maxReceiveCount` of the source queues' redrive policy.
    fn max_receive_count(&self) -> u32;
    /// Moves every message of a DLQ back to `to` (`StartMessageMoveTask` on AWS).
    async fn redrive(&self, from: QueueName, to: QueueName) -> u64;
    /// The delay the delay cases use. A minute where time is fake; a few seconds where it is
    /// real (SQS on moto), so those cases stay short without changing what they check.
    fn delay_step(&self) -> Duration {
        Duration::from_secs(60)
    }
    /// How long before a boundary (a visibility timeout or a delay ending) the "not yet"
    /// checks look. A fake clock needs a tick; where time is real, this is the room the
    /// server's latency has before a "not yet" would turn into "already", so it must cover a
    /// loaded server's slowest answer.
    fn not_yet_slack(&self) -> Duration {
        Duration::from_secs(1)
    }
    /// Why the 15-minute cap cannot be checked here, if it cannot (`None`: check it).
    fn skip_fifteen_minute_cases(&self) -> Option<&'static str> {
        None
    }
    /// Why stale receipt handles cannot be checked here, if they cannot (`None`: check them).
    fn skip_stale_receipt_handle_cases(&self) -> Option<&'static str> {
        None
    }
}

/// Generates one `#[tokio::test]` per case, each with a fresh harness from `$harness`, in a
/// module that includes this file as `mod queue`.
macro_rules! queue_conformance_tests {
    ($harness:expr) => {
        queue_conformance_tests!(@cases $harness;
            received_message_is_invisible_until_visibility_timeout,
            deleted_message_is_not_received_again,
            stale_receipt_handle_delete_is_ignored,
            receive_count_increments_on_each_receive,
            message_moves_to_dlq_after_max_receive_count,
            delayed_message_becomes_visible_after_delay,
            delay_is_capped_at_fifteen_minutes,
            change_visibility_zero_returns_message_at_once,
            change_visibility_extends_invisibility,
            stale_receipt_handle_change_visibility_is_ignored,
            receive_returns_at_most_ten,
            batch_messages_keep_their_own_delays,
            concurrent_receives_never_share_a_message,
            long_poll_returns_when_a_message_arrives,
            long_poll_returns_when_a_delayed_message_becomes_visible,
            long_poll_on_empty_queue_returns_empty_after_wait,
            redrive_moves_dlq_messages_back_with_fresh_receive_count,
            depth_counts_visible_in_flight_and_delayed,
            partial_batch_failure_receives_only_the_failed_message_again,
            queues_are_independent,
        );
    };
    (@cases $harness:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let harness = $harness;
                queue::$case(&harness).await;
            }
        )*
    };
}
pub(crate) use queue_conformance_tests;

/// Long enough that a passing long-poll test never comes near it.
const TEST_TIMEOUT: Duration = Duration::from_secs(10);

async fn send(h: &dyn QueueHarness, queue: QueueName, messages: Vec<OutgoingMessage>) {
    h.queue()
        .send_batch(queue, messages)
        .await
        .expect("send_batch");
}

async fn send_now(h: &dyn QueueHarness, queue: QueueName, bodies: &[&str]) {
    let messages = bodies
        .iter()
        .map(|b| OutgoingMessage::now((*b).to_owned()))
        .collect();
    send(h, queue, messages).await;
}

fn delayed(body: &str, delay: Duration) -> OutgoingMessage {
    OutgoingMessage {
        body: body.to_owned(),
        delay,
    }
}

/// A short poll.
async fn receive(h: &dyn QueueHarness, queue: QueueName, max: usize) -> Vec<ReceivedMessage> {
    h.queue()
        .receive(queue, max, Duration::ZERO)
        .await
        .expect("receive")
}

async fn receive_one(h: &dyn QueueHarness, queue: QueueName) -> ReceivedMessage {
    let mut got = receive(h, queue, 1).await;
    assert_eq!(got.len(), 1, "expected one message, got {got:?}");
    got.remove(0)
}

async fn delete(h: &dyn QueueHarness, queue: QueueName, handles: &[&str]) {
    let handles: Vec<String> = handles.iter().map(|s| (*s).to_owned()).collect();
    h.queue()
        .delete_batch(queue, &handles)
        .await
        .expect("delete_batch");
}

async fn depth(h: &dyn QueueHarness, queue: QueueName) -> QueueDepth {
    h.queue().depth(queue).await.expect("depth")
}

fn bodies(messages: &[ReceivedMessage]) -> BTreeSet<String> {
    messages.iter().map(|m| m.body.clone()).collect()
}

fn set(bodies: &[&str]) -> BTreeSet<String> {
    bodies.iter().map(|b| (*b).to_owned()).collect()
}

pub async fn received_message_is_invisible_until_visibility_timeout(h: &dyn QueueHarness) {
    send_now(h, QueueName::Events, &["a"]).await;
    let first = receive_one(h, QueueName::Events).await;
    assert_eq!(first.body, "a");
    assert_eq!(first.receive_count, 1);

    assert!(receive(h, QueueName::Events, 10).await.is_empty());
    h.advance(h.visibility_timeout() - h.not_yet_slack()).await;
    assert!(receive(h, QueueName::Events, 10).await.is_empty());

    h.advance(h.not_yet_slack()).await;
    let again = receive_one(h, QueueName::Events).await;
    assert_eq!(again.message_id, first.message_id);
    assert_eq!(again.body, "a");
    assert_eq!(again.receive_count, 2);
    assert_ne!(again.receipt_handle, first.receipt_handle);
}

pub async fn deleted_message_is_not_received_again(h: &dyn QueueHarness) {
    send_now(h, QueueName::Events, &["a"]).await;
    let m = receive_one(h, QueueName::Events).await;
    delete(h, QueueName::Events, &[&m.receipt_handle]).await;

    h.advance(h.visibility_timeout()).await;
    assert!(receive(h, QueueName::Events, 10).await.is_empty());
    assert_eq!(depth(h, QueueName::Events).await, QueueDepth::default());
    // Deleting an already deleted message is not an error.
    delete(h, QueueName::Events, &[&m.receipt_handle]).await;
}

pub async fn stale_receipt_handle_delete_is_ignored(h: &dyn QueueHarness) {
    if let Some(reason) = h.skip_stale_receipt_handle_cases() {
        eprintln!("skipped: stale_receipt_handle_delete_is_ignored: {reason}");
        return;
    }
    send_now(h, QueueName::Events, &["a"]).await;
    let first = receive_one(h, QueueName::Events).await;
    h.advance(h.visibility_timeout()).await;
    let second = receive_one(h, QueueName::Events).await;

    // The first handle went stale with the second receive: it must not delete the message.
    delete(h, QueueName::Events, &[&first.receipt_handle]).await;
    assert_eq!(depth(h, QueueName::Events).await.in_flight, 1);

    delete(h, QueueName::Events, &[&second.receipt_handle]).await;
    assert_eq!(depth(h, QueueName::Events).await, QueueDepth::default());
}

pub async fn receive_count_increments_on_each_receive(h: &dyn QueueHarness) {
    send_now(h, QueueName::Deliveries, &["a"]).await;
    let first = receive_one(h, QueueName::Deliveries).await;
    assert_eq!(first.receive_count, 1);
    for expected in 2..=h.max_receive_count() {
        h.advance(h.visibility_timeout()).await;
        let m = receive_one(h, QueueName::Deliveries).await;
        assert_eq!(m.receive_count, expected);
        assert_eq!(m.message_id, first.message_id);
        assert_eq!(m.sent_at_ms, first.sent_at_ms);
        assert_eq!(m.first_received_at_ms, first.first_received_at_ms);
    }
}

pub async fn message_moves_to_dlq_after_max_receive_count(h: &dyn QueueHarness) {
    send_now(h, QueueName::Events, &["poison"]).await;
    let mut last = None;
    for _ in 0..h.max_receive_count() {
        last = Some(receive_one(h, QueueName::Events).await);
        h.advance(h.visibility_timeout()).await;
    }
    let last = last.expect("max_receive_count is at least one");

    // This receive would exceed maxReceiveCount: the message goes to the DLQ instead.
    assert!(receive(h, QueueName::Events, 10).await.is_empty());
    assert_eq!(depth(h, QueueName::Events).await, QueueDepth::default());

    let dead = receive_one(h, QueueName::EventsDlq).await;
    assert_eq!(dead.message_id, last.message_id);
    assert_eq!(dead.body, "poison");
    // SQS carries the receive count into the DLQ (the embedded queue starts it again); only
    // "received at least once" is the same everywhere, and nothing depends on more.
    assert!(dead.receive_count >= 1);
}

pub async fn delayed_message_becomes_visible_after_delay(h: &dyn QueueHarness) {
    let delay = h.delay_step();
    send(h, QueueName::Deliveries, vec![delayed("later", delay)]).await;
    assert!(receive(h, QueueName::Deliveries, 10).await.is_empty());
    assert_eq!(depth(h, QueueName::Deliveries).await.delayed, 1);

    h.advance(delay - h.not_yet_slack()).await;
    assert!(receive(h, QueueName::Deliveries, 10).await.is_empty());

    h.advance(h.not_yet_slack()).await;
    let m = receive_one(h, QueueName::Deliveries).await;
    assert_eq!(m.body, "later");
    assert_eq!(m.receive_count, 1);
}

pub async fn delay_is_capped_at_fifteen_minutes(h: &dyn QueueHarness) {
    if let Some(reason) = h.skip_fifteen_minute_cases() {
        eprintln!("skipped: delay_is_capped_at_fifteen_minutes: {reason}");
        return;
    }
    send(
        h,
        QueueName::Deliveries,
        vec![delayed("capped", Duration::from_secs(3600))],
    )
    .await;
    h.advance(MAX_DELAY - Duration::from_secs(1)).await;
    assert!(receive(h, QueueName::Deliveries, 10).await.is_empty());

    h.advance(Duration::from_secs(1)).await;
    assert_eq!(receive_one(h, QueueName::Deliveries).await.body, "capped");
}

pub async fn change_visibility_zero_returns_message_at_once(h: &dyn QueueHarness) {
    send_now(h, QueueName::Events, &["a"]).await;
    let first = receive_one(h, QueueName::Events).await;
    h.queue()
        .change_visibility(QueueName::Events, &first.receipt_handle, Duration::ZERO)
        .await
        .expect("change_visibility");

    let again = receive_one(h, QueueName::Events).await;
    assert_eq!(again.message_id, first.message_id);
    assert_eq!(again.receive_count, 2);
}

pub async fn change_visibility_extends_invisibility(h: &dyn QueueHarness) {
    send_now(h, QueueName::Events, &["a"]).await;
    let m = receive_one(h, QueueName::Events).await;
    let vt = h.visibility_timeout();
    h.queue()
        .change_visibility(QueueName::Events, &m.receipt_handle, vt * 2)
        .await
        .expect("change_visibility");

    h.advance(vt).await;
    assert!(receive(h, QueueName::Events, 10).await.is_empty());
    assert_eq!(depth(h, QueueName::Events).await.in_flight, 1);

    h.advance(vt).await;
    assert_eq!(
        receive_one(h, QueueName::Events).await.message_id,
        m.message_id
    );
}

pub async fn stale_receipt_handle_change_visibility_is_ignored(h: &dyn QueueHarness) {
    if let Some(reason) = h.skip_stale_receipt_handle_cases() {
        eprintln!("skipped: stale_receipt_handle_change_visibility_is_ignored: {reason}");
        return;
    }
    send_now(h, QueueName::Events, &["a"]).await;
    let first = receive_one(h, QueueName::Events).await;
    h.advance(h.visibility_timeout()).await;
    let _second = receive_one(h, QueueName::Events).await;

    h.queue()
        .change_visibility(QueueName::Events, &first.receipt_handle, Duration::ZERO)
        .await
        .expect("a stale handle is not an error");
    assert!(receive(h, QueueName::Events, 10).await.is_empty());
}

pub async fn receive_returns_at_most_ten(h: &dyn QueueHarness) {
    let all: Vec<String> = (0..15).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    // SQS takes at most ten messages per batch.
    send_now(h, QueueName::Events, &refs[..10]).await;
    send_now(h, QueueName::Events, &refs[10..]).await;

    let first = receive(h, QueueName::Events, 50).await;
    assert_eq!(first.len(), 10);
    let rest = receive(h, QueueName::Events, 10).await;
    assert_eq!(rest.len(), 5);

    let mut received = bodies(&first);
    received.extend(bodies(&rest));
    assert_eq!(received, set(&refs));
}

pub async fn batch_messages_keep_their_own_delays(h: &dyn QueueHarness) {
    let step = h.delay_step();
    send(
        h,
        QueueName::Deliveries,
        vec![
            delayed("now", Duration::ZERO),
            delayed("in-a-minute", step),
            delayed("in-two-minutes", step * 2),
        ],
    )
    .await;

    let mut got = Vec::new();
    for (advance, expected) in [
        (Duration::ZERO, "now"),
        (step, "in-a-minute"),
        (step, "in-two-minutes"),
    ] {
        h.advance(advance).await;
        let batch = receive(h, QueueName::Deliveries, 10).await;
        assert_eq!(bodies(&batch), set(&[expected]));
        let handles: Vec<&str> = batch.iter().map(|m| m.receipt_handle.as_str()).collect();
        delete(h, QueueName::Deliveries, &handles).await;
        got.extend(batch);
    }
    assert_eq!(got.len(), 3);
}

pub async fn concurrent_receives_never_share_a_message(h: &dyn QueueHarness) {
    let all: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    send_now(h, QueueName::Events, &refs).await;

    let (a, b) = tokio::join!(
        receive(h, QueueName::Events, 10),
        receive(h, QueueName::Events, 10)
    );
    let mut ids: BTreeSet<String> = a.iter().map(|m| m.message_id.clone()).collect();
    let from_b: BTreeSet<String> = b.iter().map(|m| m.message_id.clone()).collect();
    assert!(ids.is_disjoint(&from_b), "a message was handed out twice");
    ids.extend(from_b);
    assert_eq!(ids.len(), a.len() + b.len());
}

pub async fn long_poll_returns_when_a_message_arrives(h: &dyn QueueHarness) {
    let wait = Duration::from_secs(20);
    let poll = async {
        let started = tokio::time::Instant::now();
        let got = h
            .queue()
            .receive(QueueName::Events, 10, wait)
            .await
            .expect("receive");
        (got, started.elapsed())
    };
    let sender = async {
        // Give the poll a turn to start waiting; correctness does not depend on it.
        tokio::task::yield_now().await;
        send_now(h, QueueName::Events, &["arrived"]).await;
    };
    let ((got, elapsed), ()) =
        tokio::time::timeout(TEST_TIMEOUT, async { tokio::join!(poll, sender) })
            .await
            .expect("the long poll returned once the message arrived");
    assert_eq!(bodies(&got), set(&["arrived"]));
    assert!(elapsed < wait);
}

pub async fn long_poll_returns_when_a_delayed_message_becomes_visible(h: &dyn QueueHarness) {
    let delay = Duration::from_secs(5);
    send(h, QueueName::Deliveries, vec![delayed("due", delay)]).await;

    let poll = h
        .queue()
        .receive(QueueName::Deliveries, 10, Duration::from_secs(20));
    let (got, ()) = tokio::time::timeout(TEST_TIMEOUT + delay, async {
        tokio::join!(poll, h.advance(delay))
    })
    .await
    .expect("the long poll returned once the delay ended");
    assert_eq!(bodies(&got.expect("receive")), set(&["due"]));
}

pub async fn long_poll_on_empty_queue_returns_empty_after_wait(h: &dyn QueueHarness) {
    let wait = Duration::from_secs(1);
    let started = tokio::time::Instant::now();
    let got = tokio::time::timeout(TEST_TIMEOUT, h.queue().receive(QueueName::Events, 10, wait))
        .await
        .expect("the long poll ended at its wait")
        .expect("receive");
    assert!(got.is_empty());
    // Allow for a backend that rounds its wait to whole seconds.
    assert!(started.elapsed() >= wait - Duration::from_millis(100));
}

pub async fn redrive_moves_dlq_messages_back_with_fresh_receive_count(h: &dyn QueueHarness) {
    send_now(h, QueueName::Deliveries, &["retry-me"]).await;
    for _ in 0..h.max_receive_count() {
        receive_one(h, QueueName::Deliveries).await;
        h.advance(h.visibility_timeout()).await;
    }
    assert!(receive(h, QueueName::Deliveries, 10).await.is_empty());
    assert_eq!(depth(h, QueueName::DeliveriesDlq).await.visible, 1);

    let moved = h
        .redrive(QueueName::DeliveriesDlq, QueueName::Deliveries)
        .await;
    assert_eq!(moved, 1);
    assert_eq!(
        depth(h, QueueName::DeliveriesDlq).await,
        QueueDepth::default()
    );

    let back = receive_one(h, QueueName::Deliveries).await;
    assert_eq!(back.body, "retry-me");
    assert_eq!(back.receive_count, 1);
}

pub async fn depth_counts_visible_in_flight_and_delayed(h: &dyn QueueHarness) {
    assert_eq!(depth(h, QueueName::Events).await, QueueDepth::default());
    send_now(h, QueueName::Events, &["a", "b", "c"]).await;
    send(
        h,
        QueueName::Events,
        vec![
            delayed("d", Duration::from_secs(60)),
            delayed("e", Duration::from_secs(60)),
        ],
    )
    .await;
    receive_one(h, QueueName::Events).await;

    assert_eq!(
        depth(h, QueueName::Events).await,
        QueueDepth {
            visible: 2,
            in_flight: 1,
            delayed: 2,
        }
    );
}

/// Lambda's partial batch response: the successes are deleted, the failure comes back alone.
pub async fn partial_batch_failure_receives_only_the_failed_message_again(h: &dyn QueueHarness) {
    send_now(h, QueueName::Deliveries, &["ok-1", "ok-2", "fails"]).await;
    let batch = receive(h, QueueName::Deliveries, 10).await;
    assert_eq!(bodies(&batch), set(&["ok-1", "ok-2", "fails"]));

    let successes: Vec<&str> = batch
        .iter()
        .filter(|m| m.body != "fails")
        .map(|m| m.receipt_handle.as_str())
        .collect();
    delete(h, QueueName::Deliveries, &successes).await;

    h.advance(h.visibility_timeout()).await;
    let again = receive(h, QueueName::Deliveries, 10).await;
    assert_eq!(bodies(&again), set(&["fails"]));
    assert_eq!(again[0].receive_count, 2);
}

pub async fn queues_are_independent(h: &dyn QueueHarness) {
    send_now(h, QueueName::Events, &["event"]).await;
    assert!(receive(h, QueueName::Deliveries, 10).await.is_empty());
    assert!(receive(h, QueueName::EventsDlq, 10).await.is_empty());
    assert_eq!(receive_one(h, QueueName::Events).await.body, "event");
    assert_eq!(depth(h, QueueName::Deliveries).await, QueueDepth::default());
}
