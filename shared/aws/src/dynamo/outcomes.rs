//! Successful first attempts, kept per event. Most deliveries end at their first attempt, and
//! writing each one's item for it cost a write unit per delivery. Instead such an attempt is
//! an attribute (`a_<attempt id>`, naming its delivery) of one item per event,
//! `DL#<org>#<event id>` / `O`, and the ones a delivery function's instance sees end together
//! are written in one update (`outcome_groups.rs`): at fan-out 3, one unit where there were
//! three. A delivery's own item is still written for everything else — a failed attempt, a
//! retry, a cancel, a restart — and readers settle a delivery from its item (or its claim) and
//! these attempts ([`settle`]), so the API shows the history it showed.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;
use switchyard_core::domain::{Attempt, Delivery, DeliveryStatus};
use switchyard_core::{DeliveryId, EventId, OrgId, StoreError};
use tokio::sync::oneshot;

use super::codec;
use super::expr::Expr;
use super::item::{Item, n};
use super::keys::*;
use super::outcome_groups::{GroupKey, Joined, LONGEST_WAIT, Waiting};
use super::{DynamoStore, Table};
use crate::error::code;

/// The longest response body an outcome keeps; an attempt answered with more is recorded on
/// its delivery's own item, so the outcomes item — billed by its whole size on each update —
/// stays small.
const OUTCOME_BODY_MAX: usize = 512;

/// Whether an attempt's record goes to its event's outcomes: a first attempt, begun from a
/// delivery never attempted, that delivered, with a short response body.
pub(super) fn is_outcome(attempted: &Delivery, a: &Attempt, status: DeliveryStatus) -> bool {
    attempted.attempt_count == 0
        && a.number == 1
        && status == DeliveryStatus::Completed
        && a.response_body.as_ref().map_or(0, String::len) <= OUTCOME_BODY_MAX
}

/// The delivery as its item (or claim) `d` and its event's successful first attempts `done`
/// (of this delivery) make it: the attempt completes a delivery that counts no attempt yet —
/// as `finish_attempt` would have written it — and a canceled one stays canceled, the attempt
/// counted. Where the item already counts one (an earlier record of attempt 1, a restart), the
/// attempt is a duplicate and moves nothing; it shows among the attempts only.
pub(super) fn settle(mut d: Delivery, done: &[Attempt]) -> Delivery {
    let Some(a) = done.iter().min_by_key(|a| (a.started_at, a.id)) else {
        return d;
    };
    if d.attempt_count > 0 || d.status == DeliveryStatus::Completed {
        return d;
    }
    let ended = a.started_at
        + time::Duration::milliseconds(i64::try_from(a.duration_ms).unwrap_or(i64::MAX));
    d.attempt_count = d.attempt_count.max(1);
    d.next_attempt_at = None;
    d.last_error = None;
    d.updated_at = d.updated_at.max(ended);
    if d.status != DeliveryStatus::Canceled {
        d.status = DeliveryStatus::Completed;
        d.started_at = Some(d.started_at.unwrap_or(a.started_at));
        d.completed_at = Some(ended);
    }
    d
}

/// The attempts of an outcomes item, by delivery.
pub(super) fn by_delivery(
    item: &Item,
    org: OrgId,
) -> Result<HashMap<DeliveryId, Vec<Attempt>>, StoreError> {
    let mut all: HashMap<DeliveryId, Vec<Attempt>> = HashMap::new();
    for a in codec::outcomes(item, org)? {
        all.entry(a.delivery).or_default().push(a);
    }
    Ok(all)
}

impl DynamoStore {
    /// A first attempt of the event begins on this instance.
    pub(super) fn outcome_started(&self, key: GroupKey) {
        if let Some(hot) = &self.hot {
            hot.outcomes.started(key);
        }
    }

    /// A first attempt of the event ended with nothing to write to its outcomes.
    pub(super) fn outcome_not_made(&self, key: GroupKey) {
        if let Some(hot) = &self.hot {
            self.write_group(key, hot.outcomes.ended(key));
        }
    }

    /// Records a successful first attempt on its event's outcomes item, with the event's
    /// others that end meanwhile on this instance; answers once it is written — `false` when
    /// the item would pass DynamoDB's 400 KB limit (hundreds of deliveries of one event): then
    /// the caller records the attempt on its delivery's own item.
    pub(super) async fn record_outcome(
        &self,
        key: GroupKey,
        a: &Attempt,
        ttl: i64,
    ) -> Result<bool, StoreError> {
        let attribute = (
            format!("{OUTCOME_ATTR_PREFIX}{}", a.id),
            codec::outcome_value(a),
        );
        let Some(hot) = &self.hot else {
            return self.write_outcomes(key, vec![attribute], ttl).await;
        };
        let (answer, written) = oneshot::channel();
        let waiting = Waiting {
            attribute,
            ttl,
            answer,
        };
        match hot.outcomes.join(key, waiting) {
            Joined::Write(due) => self.write_group(key, due),
            Joined::StartClock => {
                let store = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(LONGEST_WAIT).await;
                    if let Some(hot) = &store.hot {
                        store.write_group(key, hot.outcomes.due(key));
                    }
                });
            }
            Joined::Wait => {}
        }
        written.await.unwrap_or_else(|_| {
            Err(StoreError::Backend(
                "the outcome's write was abandoned".into(),
            ))
        })
    }

    /// Writes a group in a task of its own, so no waiting caller's end can abandon the others.
    fn write_group(&self, key: GroupKey, due: Vec<Waiting>) {
        if due.is_empty() {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move {
            let ttl = due.iter().map(|w| w.ttl).max().unwrap_or_default();
            let attributes = due.iter().map(|w| w.attribute.clone()).collect();
            let written = store.write_outcomes(key, attributes, ttl).await;
            for w in due {
                let _ = w.answer.send(written.clone());
            }
        });
    }

    /// One update adds the attempts to the event's outcomes item (creating it); `false` when
    /// the item would pass DynamoDB's item size limit, and nothing was written.
    async fn write_outcomes(
        &self,
        (org, event): GroupKey,
        attributes: Vec<(String, AttributeValue)>,
        ttl: i64,
    ) -> Result<bool, StoreError> {
        let mut sets = vec!["#ttl = if_not_exists(#ttl, :ttl)".to_owned()];
        let mut update = Expr::default().name("#ttl", TTL).value(":ttl", n(ttl));
        for (i, (name, value)) in attributes.into_iter().enumerate() {
            sets.push(format!("#a{i} = :a{i}"));
            update = update
                .name(&format!("#a{i}"), &name)
                .value(&format!(":a{i}"), value);
        }
        let mut text = Expr::new(format!("SET {}", sets.join(", ")));
        text.names.extend(update.names);
        text.values.extend(update.values);
        let written = self
            .update_unless(
                Table::History,
                outcomes_pk(org, event),
                OUTCOMES_SK,
                text,
                None,
                is_too_large,
            )
            .await?;
        Ok(written.is_some())
    }

    /// A delivery's own item (when it holds more than its keys) and its event's successful
    /// first attempts of it, in one read.
    pub(super) async fn delivery_items(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
    ) -> Result<(Option<Item>, Vec<Attempt>), StoreError> {
        let items = self
            .batch_get(
                Table::History,
                vec![
                    (delivery_pk(org, id), DELIVERY_SK.to_owned()),
                    (outcomes_pk(org, event), OUTCOMES_SK.to_owned()),
                ],
            )
            .await?;
        let mut own = None;
        let mut done = Vec::new();
        for item in items {
            if super::events::is_sk(&item, OUTCOMES_SK) {
                done = by_delivery(&item, org)?.remove(&id).unwrap_or_default();
            } else if !codec::holds_only_keys(&item) {
                own = Some(item);
            }
        }
        Ok((own, done))
    }
}

/// DynamoDB's answer to an update that would pass the 400 KB item limit.
fn is_too_large<E: ProvideErrorMetadata>(e: &E) -> bool {
    code(e) == Some("ValidationException")
        && e.message()
            .is_some_and(|m| m.contains("Item size") && m.contains("exceeded"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::domain::IntegrationType;
    use switchyard_core::outcome::Outcome;
    use switchyard_core::{AttemptId, ConnectionId, RuleId, WorkspaceId};
    use time::OffsetDateTime;

    fn pending() -> Delivery {
        let at = OffsetDateTime::from_unix_timestamp(1_765_000_000).unwrap();
        Delivery {
            id: DeliveryId::new(),
            org: OrgId::new(),
            workspace: WorkspaceId::new(),
            event: EventId::new(),
            event_name: "order.paid".into(),
            rule: RuleId::new(),
            connection: ConnectionId::new(),
            kind: IntegrationType::Webhook,
            status: DeliveryStatus::Pending,
            attempt_count: 0,
            schedule_base: 0,
            started_at: None,
            completed_at: None,
            next_attempt_at: None,
            last_error: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn delivered(d: &Delivery) -> Attempt {
        Attempt {
            id: AttemptId::new(),
            org: d.org,
            delivery: d.id,
            number: 1,
            outcome: Outcome::Delivered,
            status_code: Some(200),
            request: "POST http://127.0.0.1:9/hook".into(),
            response_body: None,
            error: None,
            duration_ms: 12,
            started_at: d.created_at + time::Duration::seconds(1),
        }
    }

    #[test]
    fn a_pending_delivery_settles_completed_as_its_first_attempt_would_have_written_it() {
        let d = pending();
        let a = delivered(&d);
        let settled = settle(d.clone(), std::slice::from_ref(&a));
        let ended = a.started_at + time::Duration::milliseconds(12);
        assert_eq!(
            settled,
            Delivery {
                status: DeliveryStatus::Completed,
                attempt_count: 1,
                started_at: Some(a.started_at),
                completed_at: Some(ended),
                updated_at: ended,
                ..d.clone()
            }
        );
        assert_eq!(settle(d.clone(), &[]), d, "no outcome: as it was");
    }

    #[test]
    fn a_canceled_delivery_stays_canceled_and_one_that_counts_an_attempt_moves_not() {
        let d = pending();
        let a = delivered(&d);
        let canceled = Delivery {
            status: DeliveryStatus::Canceled,
            ..d.clone()
        };
        let settled = settle(canceled, std::slice::from_ref(&a));
        assert_eq!(settled.status, DeliveryStatus::Canceled);
        assert_eq!(settled.attempt_count, 1);

        let retrying = Delivery {
            status: DeliveryStatus::Retrying,
            attempt_count: 1,
            ..d.clone()
        };
        assert_eq!(settle(retrying.clone(), &[a]), retrying);
    }
}
