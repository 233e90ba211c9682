//! `switchyard dlq list|redrive` on the embedded queue.

use std::sync::Arc;

use switchyard_core::SystemClock;
use switchyard_core::ports::QueueName;
use switchyard_embedded::{Db, SqliteQueue};
use switchyard_handlers::dlq;

use crate::cli::{DataDirArg, DlqQueue};
use crate::runtime::queue_settings;

fn open(data: &DataDirArg) -> anyhow::Result<SqliteQueue> {
    let path = data.data_dir.join("switchyard.db");
    anyhow::ensure!(
        path.exists(),
        "no database at {}; run `switchyard serve` first",
        path.display()
    );
    Ok(SqliteQueue::open(
        Db::open(&path)?,
        Arc::new(SystemClock),
        queue_settings,
    )?)
}

fn dead_letter_queue(which: DlqQueue) -> QueueName {
    match which {
        DlqQueue::Deliveries => QueueName::DeliveriesDlq,
        DlqQueue::Events => QueueName::EventsDlq,
    }
}

pub async fn list(data: &DataDirArg, which: DlqQueue, limit: usize) -> anyhow::Result<()> {
    let queue = open(data)?;
    let dlq = dead_letter_queue(which);
    let messages = dlq::list(&queue, dlq, limit).await?;
    println!("{} message(s) in {dlq}", messages.len());
    for m in messages {
        println!("{}  {}", m.message_id, m.body);
    }
    Ok(())
}

pub async fn redrive(data: &DataDirArg, which: DlqQueue) -> anyhow::Result<()> {
    let queue = open(data)?;
    let dlq = dead_letter_queue(which);
    let moved = dlq::redrive(&queue, dlq).await?;
    println!("redrove {moved} message(s) from {dlq}");
    Ok(())
}
