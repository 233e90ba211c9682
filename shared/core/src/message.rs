//! Queue message bodies. Each carries enough to be redriven from a DLQ with no other context,
//! and stays far below SQS's 256 KiB limit (payloads stay in the store).

use serde::{Deserialize, Serialize};

use crate::trace::TraceParent;
use crate::{DeliveryId, EventId, OrgId, RuleId, WorkspaceId};

/// On the events queue: an accepted event, to be routed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMessage {
    pub event_id: EventId,
    pub org: OrgId,
    pub workspace: WorkspaceId,
    /// Set for a rule's test event (`POST /rules/{id}/test`): routed through that rule alone,
    /// whatever its event type, conditions or `active` flag say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_rule: Option<RuleId>,
    /// The event's trace and the ingest span, the router's parent (absent in messages sent
    /// before traces were carried).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<TraceParent>,
}

/// On the delivery queue: one delivery to attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryMessage {
    pub delivery_id: DeliveryId,
    pub event_id: EventId,
    pub rule_id: RuleId,
    pub org: OrgId,
    pub workspace: WorkspaceId,
    /// The attempt this message is for (1-based); stale messages for earlier attempts are dropped.
    pub attempt: u32,
    /// Epoch ms before which the attempt must not run. SQS delays cap at 15 minutes, so a longer
    /// wait is several hops, each re-checking this.
    pub not_before: i64,
    /// Set on messages sent to the DLQ on purpose when a delivery fails: redriven from the DLQ
    /// (console, CLI), such a message restarts its failed delivery on a fresh schedule.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resume: bool,
    /// The event's trace and the router span, each attempt's parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<TraceParent>,
    /// How often this attempt has been turned away by a full share (not an attempt, nothing
    /// spent): each time it waits about twice as long before it looks again.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub turned_away: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
