//! History retention on the embedded runtime: every hour (and at start), events older than the
//! plan's retention are deleted with their deliveries and attempts — what DynamoDB's TTL does
//! on AWS.

use std::sync::Arc;
use std::time::Duration;

use switchyard_core::Clock;
use switchyard_embedded::SqliteStore;
use tokio::sync::watch;

const SWEEP_EVERY: Duration = Duration::from_secs(3600);

pub async fn sweep(
    store: Arc<SqliteStore>,
    clock: Arc<dyn Clock>,
    retention_days: u32,
    mut stop: watch::Receiver<bool>,
) {
    let keep = time::Duration::days(i64::from(retention_days));
    loop {
        match store.purge_history(clock.now() - keep).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(events = n, retention_days, "history past retention deleted"),
            Err(e) => tracing::warn!(error = %e, "retention sweep failed; next one retries"),
        }
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}
