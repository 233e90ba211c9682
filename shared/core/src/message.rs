//! Queue message bodies. Each carries enough to be redriven from a DLQ with no other context,
//! and stays far below SQS's 256 KiB limit: an event's payload rides along only while small
//! ([`CarriedEvent`]), else it stays in the store.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::{epoch_millis, from_epoch_millis};
use crate::domain::{Delivery, DeliveryStatus, Event};
use crate::trace::TraceParent;
use crate::{ConnectionId, DeliveryId, EventId, OrgId, RuleId, WorkspaceId};

/// The largest payload (as JSON text) a message carries: ten such messages fit one SQS
/// request's 64 KiB billing unit.
pub const CARRIED_PAYLOAD_MAX: usize = 2048;

/// An event as its messages carry it, so the router and the attempts need not read it from
/// the store (on DynamoDB, a read unit each). Events never change once stored, so a copy is
/// as good as a read — of an event that is stored: the router's claim checks that.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CarriedEvent {
    pub event: String,
    pub resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    pub payload: Value,
    pub created_by: String,
    pub created_ms: i64,
}

impl CarriedEvent {
    /// The copy of `event` a message carries, unless its payload is over
    /// [`CARRIED_PAYLOAD_MAX`].
    pub fn of(event: &Event) -> Option<Box<Self>> {
        let size = serde_json::to_string(&event.payload).map_or(usize::MAX, |p| p.len());
        (size <= CARRIED_PAYLOAD_MAX).then(|| {
            Box::new(Self {
                event: event.event.clone(),
                resource: event.resource.clone(),
                resource_id: event.resource_id.clone(),
                payload: event.payload.clone(),
                created_by: event.created_by.clone(),
                created_ms: epoch_millis(event.created_at),
            })
        })
    }

    /// The event, its ids and trace from the message that carries it.
    pub fn to_event(
        &self,
        id: EventId,
        org: OrgId,
        workspace: WorkspaceId,
        trace: Option<TraceParent>,
    ) -> Event {
        Event {
            id,
            org,
            workspace,
            event: self.event.clone(),
            resource: self.resource.clone(),
            resource_id: self.resource_id.clone(),
            payload: self.payload.clone(),
            created_by: self.created_by.clone(),
            created_at: from_epoch_millis(self.created_ms),
            trace_id: trace.map(|t| t.trace_id),
        }
    }
}

/// What a routing's claim holds beyond the message's ids: with them, the pending delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarriedClaim {
    pub connection: ConnectionId,
    /// The integration type, as its name.
    pub kind: String,
    pub event_name: String,
    pub created_ms: i64,
}

/// On the events queue: an accepted event, to be routed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// The event itself, while small (absent in messages sent before events were carried).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Box<CarriedEvent>>,
}

impl EventMessage {
    /// The event this message carries.
    pub fn carried_event(&self) -> Option<Event> {
        let carried = self.event.as_ref()?;
        Some(carried.to_event(self.event_id, self.org, self.workspace, self.traceparent))
    }
}

/// On the delivery queue: one delivery to attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// With `fresh_claim`: the claim itself, so a young first attempt reads nothing of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<CarriedClaim>,
    /// The event, while small: the attempts send it without reading it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Box<CarriedEvent>>,
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

    /// The delivery the routing claimed, as this message carries it: pending, never attempted.
    pub fn claimed_delivery(&self) -> Option<Delivery> {
        let c = self.claim.as_ref()?;
        let created_at = from_epoch_millis(c.created_ms);
        Some(Delivery {
            id: self.delivery_id,
            org: self.org,
            workspace: self.workspace,
            event: self.event_id,
            event_name: c.event_name.clone(),
            rule: self.rule_id,
            connection: c.connection,
            kind: c.kind.parse().ok()?,
            status: DeliveryStatus::Pending,
            attempt_count: 0,
            schedule_base: 0,
            started_at: None,
            completed_at: None,
            next_attempt_at: None,
            last_error: None,
            created_at,
            updated_at: created_at,
        })
    }

    /// The event this message carries.
    pub fn carried_event(&self) -> Option<Event> {
        let carried = self.event.as_ref()?;
        Some(carried.to_event(self.event_id, self.org, self.workspace, self.traceparent))
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
            claim: None,
            event: None,
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

    fn event(payload: Value) -> Event {
        Event {
            id: EventId::new(),
            org: OrgId::new(),
            workspace: WorkspaceId::new(),
            event: "order.paid".into(),
            resource: "order".into(),
            resource_id: Some("ord_1".into()),
            payload,
            created_by: "publishable_key:web".into(),
            created_at: from_epoch_millis(1_765_000_000_123),
            trace_id: None,
        }
    }

    #[test]
    fn a_small_event_rides_along_whole_and_a_large_one_stays_in_the_store() {
        let e = event(serde_json::json!({"amount": 4200, "currency": "EUR"}));
        let message = EventMessage {
            event_id: e.id,
            org: e.org,
            workspace: e.workspace,
            only_rule: None,
            traceparent: None,
            event: CarriedEvent::of(&e),
        };
        let body = serde_json::to_string(&message).unwrap();
        let read: EventMessage = serde_json::from_str(&body).unwrap();
        assert_eq!(read.carried_event(), Some(e));

        let large = event(Value::String("x".repeat(CARRIED_PAYLOAD_MAX)));
        assert_eq!(CarriedEvent::of(&large), None);
        let older: EventMessage = serde_json::from_str(
            &serde_json::to_string(&EventMessage {
                event: None,
                ..message
            })
            .unwrap(),
        )
        .unwrap();
        assert_eq!(older.carried_event(), None);
    }

    #[test]
    fn a_carried_claim_is_the_pending_delivery() {
        let m = first(1_765_000_000_000);
        assert_eq!(m.claimed_delivery(), None);
        let connection = ConnectionId::new();
        let m = DeliveryMessage {
            claim: Some(CarriedClaim {
                connection,
                kind: "hubspot".into(),
                event_name: "order.paid".into(),
                created_ms: 1_765_000_000_000,
            }),
            ..m
        };
        let d = m.claimed_delivery().expect("carried");
        assert_eq!(
            (d.id, d.event, d.rule),
            (m.delivery_id, m.event_id, m.rule_id)
        );
        assert_eq!((d.status, d.attempt_count), (DeliveryStatus::Pending, 0));
        assert_eq!(d.kind, crate::domain::IntegrationType::Hubspot);
        assert_eq!(d.created_at, from_epoch_millis(1_765_000_000_000));
    }
}
