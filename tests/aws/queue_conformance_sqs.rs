//! The queue conformance suite against SQS (the `SqsQueue` adapter) on a real moto server.
//!
//! SQS's clock cannot be faked, so time really passes here: the source queues get a 4-second
//! visibility timeout, the delay cases step 4 seconds instead of a minute, and `advance`
//! sleeps the asked duration plus a margin for the server's own clock reads. The "not yet"
//! checks look 3 seconds before a boundary, not one: moto is one Python process that other
//! suites load, and a receive it handles later than the slack sees the message back. Only the
//! case that needs a real 15-minute wait is skipped, and it says so — as are the two
//! stale-receipt-handle cases, because moto (unlike SQS) accepts old handles. A DLQ redrive is
//! what moto cannot do (`StartMessageMoveTask`): it is done as the console's redrive does it —
//! receive from the DLQ, send to the source queue, delete — by the same `dlq::redrive`
//! operators use.

#[path = "../conformance/queue.rs"]
mod queue;

use std::time::Duration;

use async_trait::async_trait;
use queue::{QueueHarness, queue_conformance_tests};
use switchyard_aws::{QueueAttributes, SqsQueue};
use switchyard_core::ports::{QueueConsumer, QueueName};
use switchyard_handlers::dlq;
use switchyard_tests::require_moto;

const ATTRIBUTES: QueueAttributes = QueueAttributes {
    visibility_timeout: Duration::from_secs(4),
    max_receive_count: 3,
};

/// Added to every `advance`. The server stamps a message when it handles the request, before
/// our wait starts, so waiting exactly the asked time already reaches the boundary; the margin
/// covers float rounding. It is kept small because whatever it takes is lost from the "not
/// yet" checks' slack.
const MARGIN: Duration = Duration::from_millis(100);

struct SqsHarness {
    queue: SqsQueue,
}

impl SqsHarness {
    async fn new() -> Option<Self> {
        let moto = require_moto!(None);
        let clients = moto.clients(None).await;
        let resources = moto.resources(&clients, |_| ATTRIBUTES).await;
        Some(Self {
            queue: SqsQueue::new(clients.sqs, resources.queue_urls),
        })
    }
}

#[async_trait]
impl QueueHarness for SqsHarness {
    fn queue(&self) -> &dyn QueueConsumer {
        &self.queue
    }

    async fn advance(&self, d: Duration) {
        // Real time is the only time SQS knows; this is the passing of it, not a wait for
        // some other task to finish.
        tokio::time::sleep(d + MARGIN).await;
    }

    fn visibility_timeout(&self) -> Duration {
        ATTRIBUTES.visibility_timeout
    }

    fn max_receive_count(&self) -> u32 {
        ATTRIBUTES.max_receive_count
    }

    async fn redrive(&self, from: QueueName, to: QueueName) -> u64 {
        assert_eq!(
            dlq::source_of(from),
            Some(to),
            "a DLQ redrives to its source"
        );
        dlq::redrive(&self.queue, from).await.expect("redrive")
    }

    fn delay_step(&self) -> Duration {
        Duration::from_secs(4)
    }

    fn not_yet_slack(&self) -> Duration {
        Duration::from_secs(3)
    }

    fn skip_fifteen_minute_cases(&self) -> Option<&'static str> {
        Some("needs a real 15-minute wait on SQS; the cap itself is unit-tested in switchyard-aws")
    }

    fn skip_stale_receipt_handle_cases(&self) -> Option<&'static str> {
        Some("moto honours every receipt handle a message ever had; SQS documents only the latest")
    }
}

queue_conformance_tests!(match SqsHarness::new().await {
    Some(h) => h,
    None => return,
});
