//! A rule's claim on its event item. `r_<rule>` names the rule's one delivery of the event (set
//! with `if_not_exists`, so the first routing's id wins). A delivery item is written only at
//! its first attempt or cancel — a write unit per delivery saved — so until then the claim is
//! the delivery: it also carries what the event item does not, the connection, the integration
//! and when it was made (`<id> <connection> <kind> <created ms>`). A claim written by an
//! earlier version holds the id alone, and its delivery item was written with it.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use switchyard_core::clock::{epoch_millis, from_epoch_millis};
use switchyard_core::domain::{Delivery, DeliveryStatus, Event, IntegrationType};
use switchyard_core::{ConnectionId, DeliveryId, EventId, OrgId, RuleId, StoreError, WorkspaceId};
use time::OffsetDateTime;

use super::item::{Item, Reader, s};
use super::keys::{RULE_ATTR_PREFIX, SK};

/// A rule's delivery of an event, as the event item names it.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Claim {
    pub(super) id: DeliveryId,
    /// What the delivery is made of before it is written; `None` in an earlier version's claim.
    pending: Option<Pending>,
}

#[derive(Clone, Debug, PartialEq)]
struct Pending {
    connection: ConnectionId,
    kind: IntegrationType,
    created_at: OffsetDateTime,
}

/// The claim for a delivery the router is about to enqueue.
pub(super) fn claim_value(d: &Delivery) -> AttributeValue {
    s(format!(
        "{} {} {} {}",
        d.id,
        d.connection,
        d.kind.as_str(),
        epoch_millis(d.created_at)
    ))
}

fn parse(value: &str) -> Option<Claim> {
    let mut parts = value.split(' ');
    let id = parts.next()?.parse().ok()?;
    let pending = match (parts.next(), parts.next(), parts.next()) {
        (None, _, _) => None,
        (Some(connection), Some(kind), Some(created)) => Some(Pending {
            connection: connection.parse().ok()?,
            kind: kind.parse().ok()?,
            created_at: from_epoch_millis(created.parse().ok()?),
        }),
        _ => return None,
    };
    Some(Claim { id, pending })
}

/// Every rule's claim on the event item.
pub(super) fn claims(event_item: &Item) -> BTreeMap<RuleId, Claim> {
    event_item
        .iter()
        .filter_map(|(k, v)| {
            let rule = k.strip_prefix(RULE_ATTR_PREFIX)?.parse().ok()?;
            let AttributeValue::S(value) = v else {
                return None;
            };
            Some((rule, parse(value)?))
        })
        .collect()
}

/// What every delivery of an event takes from it.
pub(super) struct EventHead {
    org: OrgId,
    workspace: WorkspaceId,
    id: EventId,
    name: String,
}

impl EventHead {
    pub(super) fn of(e: &Event) -> Self {
        Self {
            org: e.org,
            workspace: e.workspace,
            id: e.id,
            name: e.event.clone(),
        }
    }

    pub(super) fn from_item(org: OrgId, item: &Item) -> Result<Self, StoreError> {
        let r = Reader::new(item, "event");
        Ok(Self {
            org,
            workspace: r.parse("ws")?,
            id: r.parse(SK)?,
            name: r.string("name")?,
        })
    }

    pub(super) fn id(&self) -> EventId {
        self.id
    }

    /// The delivery a claim stands for while no item holds it: `pending`, never attempted.
    /// `None` for an earlier version's claim, which does not carry it.
    pub(super) fn pending_delivery(&self, rule: RuleId, claim: &Claim) -> Option<Delivery> {
        let p = claim.pending.as_ref()?;
        Some(Delivery {
            id: claim.id,
            org: self.org,
            workspace: self.workspace,
            event: self.id,
            event_name: self.name.clone(),
            rule,
            connection: p.connection,
            kind: p.kind,
            status: DeliveryStatus::Pending,
            attempt_count: 0,
            schedule_base: 0,
            started_at: None,
            completed_at: None,
            next_attempt_at: None,
            last_error: None,
            created_at: p.created_at,
            updated_at: p.created_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_reads_back_and_an_earlier_versions_id_alone_is_kept() {
        let d = DeliveryId::new();
        let c = ConnectionId::new();
        let claim = parse(&format!("{d} {c} hubspot 1764940000123")).unwrap();
        assert_eq!(claim.id, d);
        assert_eq!(
            claim.pending,
            Some(Pending {
                connection: c,
                kind: IntegrationType::Hubspot,
                created_at: from_epoch_millis(1_764_940_000_123),
            })
        );
        assert_eq!(
            parse(&d.to_string()),
            Some(Claim {
                id: d,
                pending: None
            })
        );
        assert_eq!(parse(&format!("{d} {c}")), None, "a damaged claim");
    }
}
