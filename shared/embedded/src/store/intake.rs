//! Ingest's one transaction: the idempotency claim, the events, their catalog keys and their
//! routing — events-queue messages, or the deliveries routing expanded with their
//! delivery-queue messages — commit together or not at all.

use rusqlite::Connection;
use switchyard_core::ports::{Accepted, Claim, Intake, QueueName, Routing};

use super::catalog::insert_catalog;
use super::deliveries::insert_routed;
use super::events::insert_event_row;
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
        if !insert_event_row(tx, event)? {
            continue;
        }
        match routing {
            Routing::Queued(message) => {
                queue::insert_all(tx, QueueName::Events, std::slice::from_ref(message), now_ms)?
            }
            Routing::Expanded {
                deliveries,
                messages,
            } => {
                insert_routed(tx, event.org, event.id, deliveries)?;
                queue::insert_all(tx, QueueName::Deliveries, messages, now_ms)?;
            }
        }
    }
    insert_catalog(tx, &intake.catalog)?;
    before_commit();
    Ok(Accepted::Stored)
}
