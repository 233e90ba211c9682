//! The embedded event source over a real SQLite queue: a message whose handler waits in memory
//! for another message's work gives its slot back meanwhile, so the pollers receive that
//! other message even when every slot was taken — the waiting never stalls the queue.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use switchyard_core::clock::SystemClock;
use switchyard_core::ports::{OutgoingMessage, Queue, QueueConsumer, QueueName};
use switchyard_embedded::{Db, QueueSettings, SqliteQueue};
use switchyard_handlers::{event_source, slot};
use tokio::sync::{Notify, watch};

#[derive(Deserialize)]
struct Step {
    waits: bool,
}

#[tokio::test]
async fn a_waiting_message_frees_its_slot_for_the_next() {
    let queue = Arc::new(
        SqliteQueue::open(Db::in_memory().unwrap(), Arc::new(SystemClock), |_| {
            QueueSettings::default()
        })
        .unwrap(),
    );
    // The waiting message first, alone in the one slot; the other behind it in line.
    for waits in [true, false] {
        queue
            .send_batch(
                QueueName::Deliveries,
                vec![OutgoingMessage::now(format!(r#"{{"waits":{waits}}}"#))],
            )
            .await
            .unwrap();
    }
    let other_handled = Arc::new(Notify::new());
    let waiter_done = Arc::new(Notify::new());
    let handler = {
        let (other_handled, waiter_done) = (other_handled.clone(), waiter_done.clone());
        move |step: Step| {
            let (other_handled, waiter_done) = (other_handled.clone(), waiter_done.clone());
            async move {
                if step.waits {
                    slot::given_back_while(other_handled.notified()).await;
                    waiter_done.notify_one();
                } else {
                    other_handled.notify_one();
                }
                Ok::<_, std::convert::Infallible>(())
            }
        }
    };
    let (stop, stopped) = watch::channel(false);
    let consumer: Arc<dyn QueueConsumer> = queue.clone();
    let source = tokio::spawn(event_source::run(
        consumer,
        QueueName::Deliveries,
        1,
        1,
        handler,
        stopped,
    ));
    tokio::time::timeout(Duration::from_secs(10), waiter_done.notified())
        .await
        .expect("the second message ran in the slot the waiting one gave back");
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), source)
        .await
        .expect("the source stops")
        .unwrap();
}
