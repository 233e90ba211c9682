//! Instructions per delivery, so a regression shows as a number: the server under Valgrind's
//! callgrind (this VM has no hardware counters for `perf stat`) through the same start, setup
//! and stop twice — once idle, once delivering N signed webhooks at fan-out 1 — and the
//! difference divided by N. Start-up, setup and shutdown cancel out; ingest, routing, the
//! attempt and its bookkeeping remain.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use indicatif::ProgressBar;

use super::api::Api;
use super::load::{await_webhooks, closed_loop};
use super::receiver::Receiver;
use super::server::Server;

/// Whether callgrind can run here.
pub fn available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Instructions per delivered webhook over `deliveries` events at fan-out 1.
pub async fn per_delivery(
    binary: &Path,
    receiver: &Receiver,
    deliveries: usize,
) -> anyhow::Result<f64> {
    let idle = instructions(binary, receiver, 0).await?;
    let busy = instructions(binary, receiver, deliveries).await?;
    Ok(busy.saturating_sub(idle) as f64 / deliveries as f64)
}

/// Total instructions of one server life: start, one webhook rule, `deliveries` events
/// delivered, graceful stop.
async fn instructions(
    binary: &Path,
    receiver: &Receiver,
    deliveries: usize,
) -> anyhow::Result<u64> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("callgrind.out");
    let wrapper = vec![
        "valgrind".to_owned(),
        "--tool=callgrind".to_owned(),
        format!("--callgrind-out-file={}", out.display()),
    ];
    let data = dir.path().join("data");
    let server = Server::start_in(binary, &data, &wrapper)?;
    let api = Api::new(&server.creds)?;
    api.webhook_rule(&receiver.url("/d/20"), "bench.instructions")
        .await?;
    if deliveries > 0 {
        let receipts = &receiver.receipts;
        let seen = receipts.webhooks.load(Ordering::Relaxed);
        closed_loop(
            &api,
            receipts,
            "bench.instructions",
            deliveries,
            super::SENDERS,
            &ProgressBar::hidden(),
        )
        .await?;
        let progress = super::bar(deliveries as u64, "instructions (callgrind)");
        let done = await_webhooks(
            receipts,
            seen + deliveries as u64,
            Duration::from_secs(300),
            &progress,
        )
        .await;
        progress.finish();
        anyhow::ensure!(done, "deliveries under callgrind did not all arrive");
    }
    server.stop();
    let text = std::fs::read_to_string(&out)
        .with_context(|| format!("no callgrind output at {}", out.display()))?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|n| n.split_whitespace().next()?.parse().ok())
        .context("no instruction total in the callgrind output")
}
