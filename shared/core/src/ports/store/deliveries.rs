use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::*;
use crate::{ConnectionId, DeliveryId, EventId, OrgId, StoreError, WorkspaceId};

/// How long an attempt runs before the delivery handler shows it under way
/// ([`Deliveries::show_attempt_under_way`]): a webhook answering within it costs one write.
pub const ATTEMPT_UNDER_WAY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// The end of an attempt: the attempt itself and where the delivery goes next.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRecord {
    pub attempt: Attempt,
    /// `Completed`, `Retrying` or `Failed`.
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
}

impl AttemptRecord {
    /// Refuses a record of another delivery, or organization, than `attempted`.
    pub fn ensure_of(&self, attempted: &Delivery) -> Result<(), StoreError> {
        if self.attempt.org == attempted.org && self.attempt.delivery == attempted.id {
            Ok(())
        } else {
            Err(StoreError::Backend(format!(
                "attempt of delivery {} recorded on {}",
                self.attempt.delivery, attempted.id
            )))
        }
    }
}

/// A workspace's deliveries counted by when they were made (buckets) and status: the
/// dashboard's chart (`GET /workspaces/{id}/stats`, extension).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeliveryCounts {
    /// `(bucket start in epoch ms, status, deliveries)`, each pair at most once.
    pub counts: Vec<(u64, DeliveryStatus, u64)>,
    /// `false` when the adapter counted only the newest part of the window (DynamoDB reads
    /// at most a bounded number of events per call).
    pub complete: bool,
}

/// A stretch of a connection's failed deliveries, and where the next one starts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FailedPage {
    pub deliveries: Vec<Delivery>,
    /// The last delivery looked at, when more may follow.
    pub next: Option<DeliveryId>,
}

/// One delivery per (event, rule), its status and its attempts: the delivery step's state.
#[async_trait]
pub trait Deliveries: Send + Sync + 'static {
    /// Inserts deliveries, skipping any whose (event, rule) already exists, so a re-routed
    /// event never gets a second delivery per rule, and marks the event routed, in one write.
    /// Returns every delivery of the event.
    async fn insert_deliveries(
        &self,
        org: OrgId,
        event: EventId,
        deliveries: &[Delivery],
    ) -> Result<Vec<Delivery>, StoreError>;

    /// A delivery of `event`. An adapter may keep a delivery that was never attempted inside
    /// its event (DynamoDB: written at its first attempt), so the event is part of the key.
    async fn delivery(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
    ) -> Result<Option<Delivery>, StoreError>;

    /// A delivery its routing claimed moments ago, as the routing's own message carries it
    /// (`routed`), for that message's first attempt
    /// ([`crate::message::DeliveryMessage::trusts_claim`]): an adapter where every read is
    /// billed may take it as the delivery, reading nothing — only a cancel can have changed it
    /// since, and a cancel during an attempt does not stop that attempt either. `None` — the
    /// default, for an adapter whose reads are cheap — sends the caller to
    /// [`Deliveries::delivery`].
    async fn claimed_delivery(&self, routed: &Delivery) -> Result<Option<Delivery>, StoreError> {
        let _ = routed;
        Ok(None)
    }

    async fn deliveries_for_event(
        &self,
        org: OrgId,
        event: EventId,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// The delivery as its next attempt sees it — `processing`, its first start time kept (or
    /// `now`) — when it may be attempted; `None` when it is final (completed, failed or
    /// canceled) or absent, and must not be attempted. Whether the stored delivery reads
    /// `processing` before [`Deliveries::finish_attempt`] records the attempt is the adapter's
    /// choice; each adapter's suite pins it (`adapter_choices`).
    async fn begin_attempt(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError>;

    /// How the delivery handler starts an attempt of a delivery it has just read (`current`):
    /// [`Deliveries::begin_attempt`]'s answer, storing nothing. Most attempts end within
    /// milliseconds, and their record is the one write they need; one still running after
    /// [`ATTEMPT_UNDER_WAY_AFTER`] is shown by [`Deliveries::show_attempt_under_way`].
    async fn begin_attempt_of(
        &self,
        current: &Delivery,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError> {
        Ok(current.attempt_starting(now))
    }

    /// Stores that attempt `number` of `attempted` is under way — `processing`, the first
    /// start kept — where the adapter shows that (SQLite; DynamoDB saves the write and does
    /// nothing). A no-op once that attempt is recorded or the delivery is final or canceled.
    async fn show_attempt_under_way(
        &self,
        attempted: &Delivery,
        number: u32,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let _ = (attempted, number, now);
        Ok(())
    }

    /// Records an attempt of `attempted` (the delivery as the attempt began) and moves the
    /// delivery, in one write. A delivery canceled while the attempt ran keeps `canceled` (the
    /// attempt is still recorded). The count becomes the attempt's number. An attempt whose
    /// number is already counted — a duplicate (its message was delivered twice and both ran),
    /// or one its own retry overtook — is recorded and moves nothing, so the next attempt's
    /// message is never taken for a stale one. An attempt of another delivery or organization
    /// than `attempted` is an error. Answers the delivery as stored after it — except that an
    /// adapter recording a successful first attempt apart from its delivery (DynamoDB) answers
    /// it as the attempt left it, `completed`, not reading back a cancel or a duplicate's
    /// record made meanwhile (which the stored delivery keeps, as above).
    async fn finish_attempt(
        &self,
        attempted: &Delivery,
        record: &AttemptRecord,
    ) -> Result<Delivery, StoreError>;

    /// The attempts of `event`'s delivery `delivery`, oldest first. The event is where an
    /// adapter may keep a delivery's attempts with its event's others (DynamoDB does).
    async fn attempts(
        &self,
        org: OrgId,
        event: EventId,
        delivery: DeliveryId,
    ) -> Result<Vec<Attempt>, StoreError>;

    /// Cancels a non-final delivery: no further attempt will be made. `None` when absent or
    /// already final.
    async fn cancel_delivery(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError>;

    /// Readies a delivery for a fresh schedule (replay, DLQ redrive): from `completed`,
    /// `failed`, `canceled` or `retrying` back to `pending`, with `schedule_base` set to the
    /// attempts made so far. `None` when absent, `pending` or `processing`.
    async fn restart_delivery(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError>;

    /// As [`Deliveries::restart_delivery`], for a replay on request (`POST …/retry`), which also
    /// claims the delivery: only when no replay claimed it after `since`, and records `now` as
    /// its latest claim. Of concurrent replays exactly one wins; `None` for the others.
    async fn replay_delivery(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
        now: OffsetDateTime,
        since: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError>;

    /// The workspace's deliveries made at or after `since_ms`, counted per `bucket_ms`-long
    /// bucket (aligned to the epoch) and status.
    async fn delivery_counts(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        since_ms: u64,
        bucket_ms: u64,
    ) -> Result<DeliveryCounts, StoreError>;
    /// A connection's `failed` deliveries created in `[from, to)` — by their ids' time, the
    /// UUIDv7 minted as the router creates them — oldest first, after `after`, looking at no
    /// more than `limit`: what a bulk replay walks after an outage. Only deliveries that read
    /// `failed` now are answered (an adapter whose index lags skips one that moved on); `next`
    /// is where to go on, `None` once the range is done.
    async fn failed_deliveries(
        &self,
        org: OrgId,
        connection: ConnectionId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        after: Option<DeliveryId>,
        limit: u32,
    ) -> Result<FailedPage, StoreError>;
}
