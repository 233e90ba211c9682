//! The router: expands an accepted event into one delivery per matching rule, and puts each
//! pending delivery on the delivery queue.
//!
//! Safe to run twice for the same event (SQS delivers at least once): deliveries are unique
//! per (event, rule), and only deliveries that have not started are enqueued again.

use futures::future::join_all;
use switchyard_core::clock::epoch_millis;
use switchyard_core::domain::{Delivery, DeliveryStatus, Event, Rule};
use switchyard_core::matching::matching_rules;
use switchyard_core::message::{CarriedClaim, CarriedEvent, DeliveryMessage, EventMessage};
use switchyard_core::ports::{OutgoingMessage, QueueName};
use switchyard_core::trace::{SpanId, TraceParent};
use switchyard_core::{DeliveryId, EventId, OrgId, RuleId, StoreError, WorkspaceId};
use time::OffsetDateTime;
use tracing::Instrument;

use crate::Deps;

/// What became of an event message. Each is final for the message: acknowledge it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Routed {
    /// Deliveries written; this many were (re-)enqueued, none for those already started.
    Enqueued(usize),
    /// Its event was not stored yet: looked at again shortly (re-enqueued with a delay).
    NotYetStored,
    /// Its event was never stored, past [`ROUTE_GRACE`] (retrying cannot make it appear).
    Dropped,
}

/// The event could not be routed now; the message is left on the queue to come back after its
/// visibility timeout (and reaches the DLQ after `maxReceiveCount`).
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("queue: {0}")]
    Queue(#[source] StoreError),
}

/// How long after its id was minted an event may still be on its way to the store. Where
/// ingest sends the message before it stores the event (SQS + DynamoDB: `intake.rs`), the
/// router can see the message first; past this, the event was never stored (its request
/// failed, and the client was not answered 201) and the message is dropped.
pub const ROUTE_GRACE: std::time::Duration = std::time::Duration::from_secs(300);

/// How soon a message that arrived before its event is looked at again: half the event's
/// age, within these bounds (a dozen looks over the grace period, the first within a second).
const NOT_YET_STORED_RETRY: (u64, u64) = (1_000, 60_000);

/// A message that overtook its event is usually only milliseconds ahead of it (ingest stores
/// the event right after sending): it is looked at once more after this, in place, before
/// being re-enqueued for a second or more. Only while the event is this young, so a message
/// whose event was never stored does not hold a routing slot.
const OVERTAKEN: (std::time::Duration, u64) = (std::time::Duration::from_millis(100), 2_000);

/// Routes one accepted event: [`route_all`] of one.
pub async fn route(deps: &Deps, message: EventMessage) -> Result<Routed, RouteError> {
    route_all(deps, vec![message])
        .await
        .pop()
        .expect("one result per message")
}

/// Routes a batch of accepted events (one router invocation) and enqueues all their
/// deliveries together, ten to a request — where each event's own would take at least one
/// request: at fan-out 3 a full batch's 30 deliveries take 3 requests, not 10. An event whose
/// deliveries were in a refused request fails whole, so its message comes back and enqueues
/// them again (at least once; a delivery already attempted is not enqueued again).
pub async fn route_all(
    deps: &Deps,
    messages: Vec<EventMessage>,
) -> Vec<Result<Routed, RouteError>> {
    let planned = join_all(messages.into_iter().map(|m| plan(deps, m))).await;
    let mut results = Vec::with_capacity(planned.len());
    let mut outgoing = Vec::new();
    for (i, planned) in planned.into_iter().enumerate() {
        results.push(planned.map(|p| {
            outgoing.extend(p.deliveries.into_iter().map(|m| (i, m)));
            p.routed
        }));
    }
    for chunk in outgoing.chunks(SEND_BATCH) {
        let batch = chunk.iter().map(|(_, m)| m.clone()).collect();
        if let Err(e) = deps.queue.send_batch(QueueName::Deliveries, batch).await {
            for (i, _) in chunk {
                results[*i] = Err(RouteError::Queue(e.clone()));
            }
        }
    }
    results
}

/// The most messages one send request carries (SQS's limit).
const SEND_BATCH: usize = 10;

/// What routing one event decided: its outcome, and the delivery messages still to send.
struct Planned {
    routed: Routed,
    deliveries: Vec<OutgoingMessage>,
}

/// Everything routing one event does but send its deliveries.
async fn plan(deps: &Deps, message: EventMessage) -> Result<Planned, RouteError> {
    let (trace, parent) = crate::trace::child_of(message.traceparent);
    let span = route_span(
        &trace,
        parent,
        message.org,
        message.workspace,
        message.event_id,
    );
    expand(deps, message, trace).instrument(span).await
}

/// A message whose event is not stored: looked at again shortly while the event may still be
/// on its way, dropped after [`ROUTE_GRACE`].
async fn not_yet_stored(deps: &Deps, message: &EventMessage) -> Result<Planned, RouteError> {
    let age_ms = age_ms(deps, message);
    if age_ms > ROUTE_GRACE.as_millis() as u64 {
        tracing::warn!("event never stored; message dropped");
        return Ok(Planned::only(Routed::Dropped));
    }
    tracing::debug!("event not stored yet; looking again shortly");
    let (min, max) = NOT_YET_STORED_RETRY;
    let again = OutgoingMessage {
        body: serde_json::to_string(message).expect("message serialises"),
        delay: std::time::Duration::from_millis((age_ms / 2).clamp(min, max)),
    };
    deps.queue
        .send_batch(QueueName::Events, vec![again])
        .await
        .map_err(RouteError::Queue)?;
    Ok(Planned::only(Routed::NotYetStored))
}

/// How long ago the message's event id was minted (unknown: as old as can be).
fn age_ms(deps: &Deps, message: &EventMessage) -> u64 {
    message.event_id.minted_at_ms().map_or(u64::MAX, |minted| {
        (epoch_millis(deps.now()) as u64).saturating_sub(minted)
    })
}

/// `trace`: the event's trace with this routing's span, the deliveries' parent.
async fn expand(
    deps: &Deps,
    message: EventMessage,
    trace: TraceParent,
) -> Result<Planned, RouteError> {
    // Carried by the message while small: the claim below checks that it is stored.
    let carried = message.carried_event();
    let was_carried = carried.is_some();
    let mut event = match carried {
        Some(event) => Some(event),
        None => deps.events().event(message.org, message.event_id).await?,
    };
    let (pause, young_ms) = OVERTAKEN;
    if event.is_none() && age_ms(deps, &message) < young_ms {
        tokio::time::sleep(pause).await;
        event = deps.events().event(message.org, message.event_id).await?;
    }
    let Some(event) = event else {
        return not_yet_stored(deps, &message).await;
    };
    let rules = rules_for(deps, &event, message.only_rule).await?;
    let now = deps.now();
    let new = deliveries_for(&event, &rules, message.only_rule, now);
    let deliveries = match deps
        .deliveries()
        .insert_deliveries(event.org, event.id, &new)
        .await
    {
        Ok(deliveries) => deliveries,
        // The claim found no stored event: the message overtook it (or it never came).
        Err(e) if was_carried => {
            if deps.events().event(event.org, event.id).await?.is_none() {
                return not_yet_stored(deps, &message).await;
            }
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    // The copy this message brought, else one made now (nothing when the event is large).
    let carried = message.event.clone().or_else(|| CarriedEvent::of(&event));

    let messages: Vec<OutgoingMessage> = deliveries
        .iter()
        .filter(|d| d.status == DeliveryStatus::Pending && d.attempt_count == 0)
        .map(|d| {
            // Claimed by this routing (its proposed id won), not found from an earlier one.
            let fresh_claim = new.iter().any(|n| n.id == d.id);
            first_attempt(d, fresh_claim, carried.clone(), trace, now)
        })
        .collect();
    log_routed(rules.len(), messages.len());
    Ok(Planned {
        routed: Routed::Enqueued(messages.len()),
        deliveries: messages,
    })
}

/// The rules routing `event` looks at: the active rules for its type in its workspace, or
/// `only_rule` (a rule's test event) if it still exists there.
pub async fn rules_for(
    deps: &Deps,
    event: &Event,
    only_rule: Option<RuleId>,
) -> Result<Vec<Rule>, StoreError> {
    match only_rule {
        Some(rule) => Ok(deps
            .rules()
            .rule(event.org, rule)
            .await?
            .filter(|r| r.workspace == event.workspace)
            .into_iter()
            .collect()),
        None => {
            deps.rules()
                .active_rules(event.org, event.workspace, &event.event)
                .await
        }
    }
}

/// One new pending delivery per rule of `rules` that `event` matches (`only_rule`: each).
pub fn deliveries_for(
    event: &Event,
    rules: &[Rule],
    only_rule: Option<RuleId>,
    now: OffsetDateTime,
) -> Vec<Delivery> {
    let selected = match only_rule {
        Some(_) => rules.iter().collect(),
        None => matching_rules(rules, event),
    };
    selected
        .into_iter()
        .map(|rule| Delivery {
            id: DeliveryId::new(),
            org: event.org,
            workspace: event.workspace,
            event: event.id,
            event_name: event.event.clone(),
            rule: rule.id,
            connection: rule.connection,
            kind: rule.kind,
            status: DeliveryStatus::Pending,
            attempt_count: 0,
            schedule_base: 0,
            started_at: None,
            completed_at: None,
            next_attempt_at: None,
            last_error: None,
            created_at: now,
            updated_at: now,
        })
        .collect()
}

/// The delivery-queue message of `d`'s first attempt, in the routing's trace: with the
/// routing's claim when this routing made the delivery (`fresh_claim`), and the event's copy.
pub fn first_attempt(
    d: &Delivery,
    fresh_claim: bool,
    event: Option<Box<CarriedEvent>>,
    trace: TraceParent,
    now: OffsetDateTime,
) -> OutgoingMessage {
    let message = DeliveryMessage {
        delivery_id: d.id,
        event_id: d.event,
        rule_id: d.rule,
        org: d.org,
        workspace: d.workspace,
        attempt: 1,
        not_before: epoch_millis(now),
        resume: false,
        traceparent: Some(trace),
        turned_away: 0,
        fresh_claim,
        claim: fresh_claim.then(|| CarriedClaim {
            connection: d.connection,
            kind: d.kind.as_str().to_owned(),
            event_name: d.event_name.clone(),
            created_ms: epoch_millis(d.created_at),
        }),
        event,
    };
    OutgoingMessage::now(serde_json::to_string(&message).expect("message serialises"))
}

/// The line each routed event logs, in its route span.
pub fn log_routed(rules: usize, deliveries: usize) {
    tracing::info!(rules, deliveries, "event routed");
}

/// The span routing an event runs in: `trace` is the routing's own, `parent` the span before.
pub fn route_span(
    trace: &TraceParent,
    parent: Option<SpanId>,
    org: OrgId,
    workspace: WorkspaceId,
    event_id: EventId,
) -> tracing::Span {
    tracing::info_span!("route", trace_id = %trace.trace_id, span_id = %trace.span_id, parent_id = parent.map(tracing::field::display), org = %org, workspace = %workspace, event_id = %event_id)
}

impl Planned {
    fn only(routed: Routed) -> Self {
        Self {
            routed,
            deliveries: Vec::new(),
        }
    }
}
