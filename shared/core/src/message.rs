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
    /// Set by the routing that claimed this delivery, on the first message it sends for it:
    /// while that message is young ([`DeliveryMessage::trusts_claim`]) its attempt may take the
    /// delivery from the routing claim instead of reading it again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fresh_claim: bool,
}

/// How long after routing a delivery's first message may trust the routing claim: the
/// staleness the hot-path caches already allow (an edit applies within 5 s). A cancel made in
/// this window before the first attempt may not stop it, as one made while an attempt runs
/// does not: the attempt is recorded and the delivery stays canceled.
pub const FRESH_CLAIM_MS: i64 = 5_000;

impl DeliveryMessage {
    /// Whether this is the routing's own first message for a delivery it claimed, sent (its
    /// `not_before`, the routing's time) at most [`FRESH_CLAIM_MS`] before `now_ms`: nothing
    /// but a cancel can have changed the delivery since, so its claim is the delivery. A
    /// deferral, a retry, a redrive or a re-routing's message never is.
    pub fn trusts_claim(&self, now_ms: i64) -> bool {
        self.fresh_claim
            && self.attempt == 1
            && !self.resume
            && self.turned_away == 0
            && now_ms.saturating_sub(self.not_before) <= FRESH_CLAIM_MS
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(sent_ms: i64) -> DeliveryMessage {
        DeliveryMessage {
            delivery_id: DeliveryId::new(),
            event_id: EventId::new(),
            rule_id: RuleId::new(),
            org: OrgId::new(),
            workspace: WorkspaceId::new(),
            attempt: 1,
            not_before: sent_ms,
            resume: false,
            traceparent: None,
            turned_away: 0,
            fresh_claim: true,
        }
    }

    #[test]
    fn only_a_young_first_message_of_a_fresh_claim_trusts_it() {
        let sent = 1_000_000;
        assert!(first(sent).trusts_claim(sent));
        assert!(first(sent).trusts_claim(sent + FRESH_CLAIM_MS));
        assert!(!first(sent).trusts_claim(sent + FRESH_CLAIM_MS + 1));
        let others = [
            DeliveryMessage {
                fresh_claim: false,
                ..first(sent)
            },
            DeliveryMessage {
                attempt: 2,
                ..first(sent)
            },
            DeliveryMessage {
                resume: true,
                ..first(sent)
            },
            DeliveryMessage {
                turned_away: 1,
                ..first(sent)
            },
        ];
        for m in others {
            assert!(!m.trusts_claim(sent), "{m:?}");
        }
    }

    #[test]
    fn the_mark_is_absent_from_messages_without_it_and_read_as_false() {
        let plain = DeliveryMessage {
            fresh_claim: false,
            ..first(0)
        };
        let body = serde_json::to_string(&plain).unwrap();
        assert!(!body.contains("fresh_claim"), "{body}");
        let older: DeliveryMessage = serde_json::from_str(&body).unwrap();
        assert!(!older.fresh_claim);
    }
}
