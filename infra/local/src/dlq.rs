//! `switchyard dlq list|redrive` on the queues of a data directory's backend or a deployed stack.

use std::sync::Arc;

use switchyard_core::ports::{QueueConsumer, QueueName};
use switchyard_handlers::dlq;

use crate::backend;
use crate::cli::{DlqQueue, TargetArg};

async fn open(target: &TargetArg) -> anyhow::Result<Arc<dyn QueueConsumer>> {
    Ok(backend::open_target(target).await?.backend.consumer)
}

fn dead_letter_queue(which: DlqQueue) -> QueueName {
    match which {
        DlqQueue::Deliveries => QueueName::DeliveriesDlq,
        DlqQueue::Events => QueueName::EventsDlq,
    }
}

pub async fn list(target: &TargetArg, which: DlqQueue, limit: usize) -> anyhow::Result<()> {
    let queue = open(target).await?;
    let dlq = dead_letter_queue(which);
    let messages = dlq::list(queue.as_ref(), dlq, limit).await?;
    println!("{} message(s) in {dlq}", messages.len());
    for m in messages {
        println!("{}  {}", m.message_id, m.body);
    }
    Ok(())
}

pub async fn redrive(target: &TargetArg, which: DlqQueue) -> anyhow::Result<()> {
    let queue = open(target).await?;
    let dlq = dead_letter_queue(which);
    let moved = dlq::redrive(queue.as_ref(), dlq).await?;
    println!("redrove {moved} message(s) from {dlq}");
    Ok(())
}
