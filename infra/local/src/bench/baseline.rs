//! The baseline: plain loopback POSTs of a webhook-sized body to the same receiver, from a
//! reqwest client built as the outbound client is (pooled, HTTP/1.1, no redirects, no proxy),
//! at the delivery side's concurrency. Delivered/s divided by this is the headline ratio.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::receiver::Receipts;

/// POSTs per second achieved over `duration` by `concurrency` senders.
pub async fn raw_posts_per_sec(
    url: &str,
    receipts: &Arc<Receipts>,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<f64> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(60))
        .build()?;
    let body = serde_json::to_vec(&serde_json::json!({
        "uuid": uuid::Uuid::now_v7().to_string(),
        "event": "bench.raw",
        "resource": "bench",
        "resource_id": null,
        "payload": {"sent_us": 0},
        "time_created": 0,
        "time_sent": 0,
    }))?;
    let before = receipts.raw_posts.load(Ordering::Relaxed);
    let started = Instant::now();
    let until = started + duration;
    let mut tasks = JoinSet::new();
    for _ in 0..concurrency {
        let (http, url, body) = (http.clone(), url.to_owned(), body.clone());
        tasks.spawn(async move {
            while Instant::now() < until {
                http.post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await?
                    .error_for_status()?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined??;
    }
    let posts = receipts.raw_posts.load(Ordering::Relaxed) - before;
    Ok(posts as f64 / started.elapsed().as_secs_f64())
}
