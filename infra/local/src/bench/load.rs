//! The load generator: closed loop (a fixed number of senders, each sending as soon as its last
//! event was accepted) to find capacity, open loop (sends on a clock, whatever the answers) to
//! measure latency at a given offered rate.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use tokio::task::JoinSet;

use super::api::Api;
use super::receiver::Receipts;

/// Events the bench sent and the server accepted, by id.
pub struct Sent {
    pub ids: Vec<String>,
    pub elapsed: Duration,
}

/// Sends `count` events of type `event` from `senders` concurrent senders.
pub async fn closed_loop(
    api: &Api,
    receipts: &Arc<Receipts>,
    event: &str,
    count: usize,
    senders: usize,
    progress: &ProgressBar,
) -> anyhow::Result<Sent> {
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..senders {
        let (api, receipts, next, event) = (
            api.clone(),
            receipts.clone(),
            next.clone(),
            event.to_owned(),
        );
        let progress = progress.clone();
        tasks.spawn(async move {
            let mut ids = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < count {
                ids.push(api.send_event(&event, receipts.now_us()).await?);
                progress.inc(1);
            }
            anyhow::Ok(ids)
        });
    }
    let mut ids = Vec::with_capacity(count);
    while let Some(joined) = tasks.join_next().await {
        ids.extend(joined??);
    }
    Ok(Sent {
        ids,
        elapsed: started.elapsed(),
    })
}

/// Offers `rate` events/s of type `event` for `duration`, each send on its own task so a slow
/// answer never delays the next send.
pub async fn open_loop(
    api: &Api,
    receipts: &Arc<Receipts>,
    event: &str,
    rate: f64,
    duration: Duration,
) -> anyhow::Result<Sent> {
    let started = Instant::now();
    let total = (rate * duration.as_secs_f64()).round().max(1.0) as u64;
    let mut tasks = JoinSet::new();
    for n in 0..total {
        let due = started + Duration::from_secs_f64(n as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let (api, receipts, event) = (api.clone(), receipts.clone(), event.to_owned());
        tasks.spawn(async move { api.send_event(&event, receipts.now_us()).await });
    }
    let mut ids = Vec::with_capacity(total as usize);
    while let Some(joined) = tasks.join_next().await {
        ids.push(joined??);
    }
    Ok(Sent {
        ids,
        elapsed: started.elapsed(),
    })
}

/// Waits until the receiver has seen `expected` webhooks in all, or `deadline` passes.
pub async fn await_webhooks(
    receipts: &Receipts,
    expected: u64,
    deadline: Duration,
    progress: &ProgressBar,
) -> bool {
    let until = Instant::now() + deadline;
    loop {
        let seen = receipts.webhooks.load(Ordering::Relaxed);
        progress.set_position(seen.min(expected));
        if seen >= expected {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
