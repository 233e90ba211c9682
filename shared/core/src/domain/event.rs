use serde_json::Value;
use time::OffsetDateTime;

use crate::domain::DeliveryStatus;
use crate::trace::TraceId;
use crate::{EventId, OrgId, WorkspaceId};

/// An event as accepted by ingest. Immutable once stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub org: OrgId,
    pub workspace: WorkspaceId,
    pub event: String,
    pub resource: String,
    pub resource_id: Option<String>,
    pub payload: Value,
    /// Which credential sent it: `publishable_key:<name>` or `machine_key:<access key>`.
    pub created_by: String,
    pub created_at: OffsetDateTime,
    /// The event's trace (W3C trace context): the `traceparent` ingest honoured, else a new
    /// one. `None` for events stored before traces were kept.
    pub trace_id: Option<TraceId>,
}

/// The status of an event as a whole, derived from its deliveries. (SQLite keeps a copy
/// in a column, by triggers, for the list filter; the API always derives it.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventStatus {
    Pending,
    Processing,
    Completed,
    Failed,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    /// The status named `name` (as [`Self::as_str`] writes it).
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Processing,
            Self::Completed,
            Self::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// `completed` once every delivery ended well, `failed` once all ended and one failed,
    /// `processing` while any is under way, `pending` before routing or when nothing started.
    pub fn derive(deliveries: &[DeliveryStatus], routed: bool) -> Self {
        if !routed {
            return Self::Pending;
        }
        if deliveries.iter().all(|d| d.is_final()) {
            if deliveries.contains(&DeliveryStatus::Failed) {
                Self::Failed
            } else {
                Self::Completed
            }
        } else if deliveries.iter().all(|d| *d == DeliveryStatus::Pending) {
            Self::Pending
        } else {
            Self::Processing
        }
    }
}
