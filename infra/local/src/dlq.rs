//! `switchyard dlq list|redrive` on the embedded queue.

use std::sync::Arc;

use switchyard_core::ports::{QueueConsumer, QueueName};
use switchyard_handlers::dlq;

use crate::backend;
use crate::cli::{DataDirArg, DlqQueue};

async fn open(data: &DataDirArg) -> anyhow::Result<Arc<dyn QueueConsumer>> {
    Ok(backend::open_existing(&data.data_dir).await?.consumer)
}

fn dead_letter_queue(which: DlqQueue) -> QueueName {
    match which {
        DlqQueue::Deliveries => QueueName::DeliveriesDlq,
        DlqQueue::Events => QueueName::EventsDlq,
    }
}

pub async fn list(data: &DataDirArg, which: DlqQueue, limit: usize) -> anyhow::Result<()> {
    let queue = open(data).await?;
    let dlq = dead_letter_queue(which);
    let messages = dlq::list(queue.as_ref(), dlq, limit).await?;
    println!("{} message(s) in {dlq}", messages.len());
    for m in messages {
        println!("{}  {}", m.message_id, m.body);
    }
    Ok(())
}

pub async fn redrive(data: &DataDirArg, which: DlqQueue) -> anyhow::Result<()> {
    let queue = open(data).await?;
    let dlq = dead_letter_queue(which);
    let moved = dlq::redrive(queue.as_ref(), dlq).await?;
    println!("redrove {moved} message(s) from {dlq}");
    Ok(())
}
