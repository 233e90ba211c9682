use async_trait::async_trait;

use crate::{OrgId, StoreError};

/// What the plan's limits count.
#[async_trait]
pub trait Metering: Send + Sync + 'static {
    /// How many workspaces, connections and rules the organization has; with a `period`, also
    /// its events stored since the period began and its ingest count for it, where one is kept
    /// (without, those read as none: counting events is the expensive part).
    async fn usage(
        &self,
        org: OrgId,
        period: Option<&crate::plan::UsagePeriod>,
    ) -> Result<crate::plan::Usage, StoreError>;

    /// Counts `n` more accepted events towards the organization's `period` (a
    /// [`crate::plan::UsagePeriod::key`]) if the total stays within `limit`: returns the new
    /// total, or `None` — nothing counted — when it would exceed it.
    async fn count_events(
        &self,
        org: OrgId,
        period: &str,
        n: u64,
        limit: u64,
    ) -> Result<Option<u64>, StoreError>;
}
