//! The queues' consumer where there is no Lambda (the embedded runtime). Each received message
//! runs as its own task, within a bound of slots its queue's pollers share; a poller receives
//! again as soon as a slot is free, so a slow message holds only its own slot — never a batch,
//! never a poller. A message is deleted as soon as its handler says it is done (in small groups
//! under load); one whose handler fails, or that cannot be read, is left to come back after
//! the visibility timeout and reaches the DLQ after `maxReceiveCount`: the SQS semantics Lambda's
//! event source mapping gives.

use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use serde::de::DeserializeOwned;
use switchyard_core::StoreError;
use switchyard_core::ports::{QueueConsumer, QueueName, ReceivedMessage};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

/// How long one receive waits for messages before checking for shutdown again.
const LONG_POLL: Duration = Duration::from_millis(500);
/// The most messages one receive asks for (SQS's limit).
const MAX_RECEIVE: usize = 10;

/// Consumes `queue` until `shutdown` turns true: `pollers` receive loops, at most `slots`
/// messages in hand at once. On shutdown no more is received and every message in hand is
/// finished first, so nothing is left half-processed.
pub async fn run<T, H, Fut, O, E>(
    consumer: Arc<dyn QueueConsumer>,
    queue: QueueName,
    slots: usize,
    pollers: usize,
    handler: H,
    shutdown: watch::Receiver<bool>,
) where
    T: DeserializeOwned + Send + 'static,
    H: Fn(T) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<O, E>> + Send + 'static,
    O: 'static,
    E: Display + 'static,
{
    let slots = Arc::new(Semaphore::new(slots.max(1)));
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let deleter = tokio::spawn(delete_done(consumer.clone(), queue, done_rx));
    join_all((0..pollers.max(1)).map(|_| {
        poll(
            consumer.clone(),
            queue,
            slots.clone(),
            handler.clone(),
            done_tx.clone(),
            shutdown.clone(),
        )
    }))
    .await;
    drop(done_tx);
    let _ = deleter.await;
}

async fn poll<T, H, Fut, O, E>(
    consumer: Arc<dyn QueueConsumer>,
    queue: QueueName,
    slots: Arc<Semaphore>,
    handler: H,
    done: mpsc::UnboundedSender<String>,
    mut shutdown: watch::Receiver<bool>,
) where
    T: DeserializeOwned + Send + 'static,
    H: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, E>> + Send + 'static,
    O: 'static,
    E: Display + 'static,
{
    let mut tasks = JoinSet::new();
    while !*shutdown.borrow() {
        // Receive only for free slots: at least one, then as many more as are free now.
        let first = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            _ = shutdown.changed() => break,
        };
        let mut free = vec![first];
        while free.len() < MAX_RECEIVE
            && let Ok(slot) = slots.clone().try_acquire_owned()
        {
            free.push(slot);
        }
        let received = tokio::select! {
            r = consumer.receive(queue, free.len(), LONG_POLL) => r,
            _ = shutdown.changed() => break,
        };
        match received {
            Ok(messages) => {
                for (message, slot) in messages.into_iter().zip(free) {
                    // Boxed where it is made: a future is copied whole each time it moves
                    // (into this task, into its cell), and a handler's runs to kilobytes.
                    let handled = Box::pin(handle(&handler, queue, message));
                    let done = done.clone();
                    // The slot is the task's: it may give it back while it waits in memory.
                    tasks.spawn(crate::slot::held_by(slots.clone(), slot, async move {
                        if let Some(receipt) = handled.await {
                            let _ = done.send(receipt);
                        }
                    }));
                }
            }
            Err(e) => {
                drop(free);
                tracing::error!(%queue, error = %e, "queue unavailable; backing off");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => break,
                }
            }
        }
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
}

/// Runs the handler on one message; its receipt handle when it is done with (to delete).
fn handle<T, H, Fut, O, E>(
    handler: &H,
    queue: QueueName,
    message: ReceivedMessage,
) -> impl Future<Output = Option<String>> + use<T, H, Fut, O, E>
where
    T: DeserializeOwned,
    H: Fn(T) -> Fut,
    Fut: Future<Output = Result<O, E>>,
    E: Display,
{
    let parsed = serde_json::from_str::<T>(&message.body).map(handler);
    async move {
        let error = match parsed {
            Ok(handled) => match handled.await {
                Ok(_) => return Some(message.receipt_handle),
                Err(e) => e.to_string(),
            },
            Err(e) => format!("unreadable message body: {e}"),
        };
        tracing::error!(%queue, message_id = %message.message_id, error = %error, "message failed; left for retry");
        None
    }
}

/// Deletes finished messages as they come, up to ten per call.
async fn delete_done(
    consumer: Arc<dyn QueueConsumer>,
    queue: QueueName,
    mut done: mpsc::UnboundedReceiver<String>,
) {
    let mut receipts = Vec::with_capacity(MAX_RECEIVE);
    while done.recv_many(&mut receipts, MAX_RECEIVE).await > 0 {
        if let Err(e) = consumer.delete_batch(queue, &receipts).await {
            // The messages come back after the visibility timeout; handlers are idempotent.
            tracing::error!(%queue, error = %e, "delete failed; messages will be seen again");
        }
        receipts.clear();
    }
}

/// One round, for tests that step the queues under a manual clock: receive up to `max`
/// (waiting up to `wait`), handle them all concurrently, delete those done with. Returns how
/// many messages were received.
pub async fn pump_once<T, H, Fut, O, E>(
    consumer: &dyn QueueConsumer,
    queue: QueueName,
    max: usize,
    wait: Duration,
    handler: &H,
) -> Result<usize, StoreError>
where
    T: DeserializeOwned,
    H: Fn(T) -> Fut,
    Fut: Future<Output = Result<O, E>>,
    E: Display,
{
    let messages = consumer.receive(queue, max, wait).await?;
    let received = messages.len();
    let done: Vec<String> = join_all(messages.into_iter().map(|m| handle(handler, queue, m)))
        .await
        .into_iter()
        .flatten()
        .collect();
    if !done.is_empty()
        && let Err(e) = consumer.delete_batch(queue, &done).await
    {
        tracing::error!(%queue, error = %e, "delete failed; messages will be seen again");
    }
    Ok(received)
}
