//! Ingest's one transaction: the idempotency claim, the events, their catalog keys and their
//! routing — events-queue messages, or the deliveries routing expanded with their
//! delivery-queue messages — commit together or not at all.

use rusqlite::Connection;
use switchyard_core::domain::{DeliveryStatus, EventStatus};
use switchyard_core::ports::{Accepted, Claim, Intake, QueueName, Routing};

use super::catalog::insert_catalog;
use super::deliveries::insert_delivery_rows;
use super::events::{event_stored, insert_event_row, insert_routed_event_row};
use super::key_claims::claim_in;
use crate::queue;

/// Writes `intake` (after claiming `claim`); run as one group-committed write (`Db::write`), so
/// all of it or none. `before_commit` runs last inside it (a test's failpoint). Events whose
/// id is already stored keep their row and get no second routing.
pub(crate) fn accept(
    tx: &Connection,
    claim: Option<&Claim>,
    intake: &Intake,
    now_ms: i64,
    before_commit: impl FnOnce(),
) -> rusqlite::Result<Accepted> {
    if let Some(claim) = claim
        && let Some(first) = claim_in(
            tx,
            claim.org,
            claim.workspace,
            &claim.key,
            claim.first,
            claim.now,
            claim.expires_at,
        )?
    {
        return Ok(Accepted::KeyHeld(first));
    }
    for (event, routing) in intake.events.iter().zip(&intake.routing) {
        match routing {
            Routing::Queued(message) => {
                if insert_event_row(tx, event)? {
                    queue::insert(tx, QueueName::Events, &message.body, now_ms, now_ms)?;
                }
            }
            Routing::Expanded {
                deliveries,
                messages,
            } => {
                if !intake.fresh && event_stored(tx, event.id)? {
                    continue;
                }
                // The deliveries first, then the event routed with the status they give it:
                // its row is written once. Marked routed after, it was written twice, and its
                // status derived again from its deliveries (docs/benchmarks.md).
                insert_delivery_rows(tx, deliveries)?;
                let statuses: Vec<DeliveryStatus> = deliveries.iter().map(|d| d.status).collect();
                let status = EventStatus::derive(&statuses, true);
                insert_routed_event_row(tx, event, status)?;
                queue::insert_all(tx, QueueName::Deliveries, messages, now_ms)?;
            }
        }
    }
    insert_catalog(tx, &intake.catalog)?;
    before_commit();
    Ok(Accepted::Stored)
}
