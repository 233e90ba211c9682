//! Replaying and canceling one delivery on request (API, operators). A replay starts a fresh
//! retry schedule; a cancel stops future attempts. Both are conditional writes, so they race
//! safely with the delivery handler.

use std::time::Duration;

use switchyard_core::clock::epoch_millis;
use switchyard_core::domain::{Delivery, DeliveryStatus};
use switchyard_core::message::DeliveryMessage;
use switchyard_core::ports::{OutgoingMessage, QueueName};
use switchyard_core::{DeliveryId, EventId, OrgId, StoreError};

use crate::Deps;

/// A retry due this soon is "imminent": replaying now would only duplicate it. Also the window
/// after a replay in which another replay of the same delivery is refused (425).
pub const IMMINENT: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub enum Replay {
    /// Restarted and queued for an attempt now.
    Queued(Box<Delivery>),
    /// An attempt is already under way or due within [`IMMINENT`] (the API answers 425).
    AlreadyImminent,
    NotFound,
}

pub async fn replay(
    deps: &Deps,
    org: OrgId,
    event: EventId,
    id: DeliveryId,
) -> Result<Replay, StoreError> {
    replay_from(deps, org, event, id, None).await
}

/// As [`replay`], only while the delivery reads `status` (a bulk replay of failed deliveries
/// leaves one that moved on alone: [`Replay::NotFound`]).
pub async fn replay_from(
    deps: &Deps,
    org: OrgId,
    event: EventId,
    id: DeliveryId,
    status: Option<DeliveryStatus>,
) -> Result<Replay, StoreError> {
    let now = deps.now();
    let Some(current) = deps.deliveries().delivery(org, event, id).await? else {
        return Ok(Replay::NotFound);
    };
    if status.is_some_and(|s| s != current.status) {
        return Ok(Replay::NotFound);
    }
    let imminent = match current.status {
        DeliveryStatus::Pending | DeliveryStatus::Processing => true,
        DeliveryStatus::Retrying => current
            .next_attempt_at
            .is_some_and(|at| at <= now + IMMINENT),
        _ => false,
    };
    if imminent {
        return Ok(Replay::AlreadyImminent);
    }
    // The claim: of concurrent replays one wins, and a replay within IMMINENT of the last one
    // answers like an imminent attempt, however fast that attempt was made.
    let Some(restarted) = deps
        .deliveries()
        .replay_delivery(org, event, id, now, now - IMMINENT)
        .await?
    else {
        // Moved to pending/processing, or replayed, between the read and the write.
        return Ok(Replay::AlreadyImminent);
    };
    let message = DeliveryMessage {
        delivery_id: restarted.id,
        event_id: restarted.event,
        rule_id: restarted.rule,
        org,
        workspace: restarted.workspace,
        attempt: restarted.attempt_count + 1,
        not_before: epoch_millis(now),
        resume: false,
        // A replay is asked for through the API, outside the event's trace: a new one.
        traceparent: None,
        turned_away: 0,
        fresh_claim: false,
        claim: None,
        event: None,
    };
    let body = serde_json::to_string(&message).expect("message serialises");
    deps.queue
        .send_batch(QueueName::Deliveries, vec![OutgoingMessage::now(body)])
        .await?;
    tracing::info!(org = %org, delivery_id = %id, "delivery replayed on a fresh schedule");
    Ok(Replay::Queued(Box::new(restarted)))
}

/// Cancels a non-final delivery; `None` when it is absent or already final.
pub async fn cancel(
    deps: &Deps,
    org: OrgId,
    event: EventId,
    id: DeliveryId,
) -> Result<Option<Delivery>, StoreError> {
    let canceled = deps
        .deliveries()
        .cancel_delivery(org, event, id, deps.now())
        .await?;
    if canceled.is_some() {
        tracing::info!(org = %org, delivery_id = %id, "delivery canceled");
    }
    Ok(canceled)
}
