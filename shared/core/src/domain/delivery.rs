use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use crate::domain::IntegrationType;
use crate::outcome::Outcome;
use crate::{AttemptId, ConnectionId, DeliveryId, EventId, OrgId, RuleId, WorkspaceId};

/// `pending → processing → completed | retrying → … → failed`, and `canceled` from any
/// non-final state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    Pending,
    Processing,
    Retrying,
    Completed,
    Failed,
    Canceled,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 6] = [
        Self::Pending,
        Self::Processing,
        Self::Retrying,
        Self::Completed,
        Self::Failed,
        Self::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Retrying => "retrying",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }

    /// No further attempt will be made without an explicit retry.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Canceled)
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeliveryStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|t| t.as_str() == s).ok_or(())
    }
}

/// One event routed through one rule: the contract's `rule_event`.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub org: OrgId,
    pub workspace: WorkspaceId,
    pub event: EventId,
    pub event_name: String,
    pub rule: RuleId,
    pub connection: ConnectionId,
    pub kind: IntegrationType,
    pub status: DeliveryStatus,
    pub attempt_count: u32,
    /// Attempts made before the current retry schedule began: a redrive or manual retry
    /// starts a fresh schedule without forgetting earlier attempts.
    pub schedule_base: u32,
    pub started_at: Option<OffsetDateTime>,
    pub completed_at: Option<OffsetDateTime>,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Delivery {
    /// The delivery as an attempt starting `now` sees it — `processing`, its first start
    /// kept — unless it is final and must not be attempted.
    pub fn attempt_starting(&self, now: OffsetDateTime) -> Option<Delivery> {
        (!self.status.is_final()).then(|| Delivery {
            status: DeliveryStatus::Processing,
            started_at: self.started_at.or(Some(now)),
            updated_at: now,
            ..self.clone()
        })
    }
}

/// One try at a delivery, recorded before the delivery's status moves.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    pub id: AttemptId,
    pub org: OrgId,
    pub delivery: DeliveryId,
    /// 1-based.
    pub number: u32,
    pub outcome: Outcome,
    pub status_code: Option<u16>,
    /// e.g. `POST https://example.com/hook`.
    pub request: String,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub duration_ms: u64,
    pub started_at: OffsetDateTime,
}
