//! Bulk replay, for operators after an outage: every failed delivery of one connection created
//! in a time range, re-queued on a fresh schedule — a bounded stretch per call, with a cursor to
//! go on. Each delivery goes through [`replay::replay_from`], so a delivery another replay (or
//! a redrive) already re-queued is left alone: calling twice never delivers twice.

use futures::{StreamExt, stream};
use switchyard_core::{ConnectionId, DeliveryId, OrgId, StoreError};
use time::OffsetDateTime;

use crate::Deps;
use crate::replay::{self, Replay};
use switchyard_core::domain::DeliveryStatus;

/// Replays run this many at a time (each a read, a conditional write and a queue send).
const CONCURRENCY: usize = 8;

/// What one call did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BulkReplay {
    /// Failed deliveries re-queued now.
    pub requeued: u64,
    /// Found failed, but re-queued meanwhile by another replay or a redrive: left alone.
    pub skipped: u64,
    /// Where the next call goes on; `None` once the range is done.
    pub next: Option<DeliveryId>,
}

/// Re-queues the connection's failed deliveries created in `[from, to)` after `after`, looking
/// at no more than `limit` of them.
pub async fn replay_failed(
    deps: &Deps,
    org: OrgId,
    connection: ConnectionId,
    (from, to): (OffsetDateTime, OffsetDateTime),
    after: Option<DeliveryId>,
    limit: u32,
) -> Result<BulkReplay, StoreError> {
    let page = deps
        .deliveries()
        .failed_deliveries(org, connection, from, to, after, limit)
        .await?;
    let outcomes: Vec<Result<Replay, StoreError>> = stream::iter(page.deliveries)
        .map(|d| replay::replay_from(deps, org, d.event, d.id, Some(DeliveryStatus::Failed)))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut done = BulkReplay {
        next: page.next,
        ..BulkReplay::default()
    };
    for outcome in outcomes {
        match outcome? {
            Replay::Queued(_) => done.requeued += 1,
            Replay::AlreadyImminent | Replay::NotFound => done.skipped += 1,
        }
    }
    tracing::info!(org = %org, connection = %connection, requeued = done.requeued,
        skipped = done.skipped, "bulk replay of failed deliveries");
    Ok(done)
}
