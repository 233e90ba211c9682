//! Per-workspace ingest rate limits: one token bucket per workspace, in this process's memory.
//! On Lambda each warm instance keeps its own buckets, so the effective limit there scales with
//! concurrency (bounded by the function's reserved concurrency); the embedded runtime has one.

use std::collections::HashMap;
use std::sync::Mutex;

use switchyard_core::WorkspaceId;
use switchyard_core::rate_limit::{Decision, TokenBucket};
use time::OffsetDateTime;

/// A burst of `burst` events, then `per_sec` a second, per workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub burst: u32,
    pub per_sec: u32,
}

#[derive(Debug, Default)]
pub struct IngestLimiter {
    limit: Option<RateLimit>,
    buckets: Mutex<HashMap<WorkspaceId, TokenBucket>>,
}

impl IngestLimiter {
    /// `None`: no limit.
    pub fn new(limit: Option<RateLimit>) -> Self {
        Self {
            limit,
            buckets: Mutex::default(),
        }
    }

    /// Takes `n` tokens of the workspace's bucket, if it has them; `None` when unlimited.
    pub fn take(&self, workspace: WorkspaceId, now: OffsetDateTime, n: u32) -> Option<Decision> {
        let limit = self.limit?;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets
            .entry(workspace)
            .or_insert_with(|| TokenBucket::new(limit.burst, limit.per_sec));
        Some(bucket.try_take(now, n))
    }
}
