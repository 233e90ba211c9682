//! Ingest's one transaction: the idempotency claim, the events, their catalog keys and their
//! events-queue messages commit together or not at all.

use rusqlite::Connection;
use switchyard_core::ports::{Accepted, Claim, Intake, QueueName};

use super::catalog::insert_catalog;
use super::events::insert_event_row;
use super::key_claims::claim_in;
use crate::queue;

/// Writes `intake` (after claiming `claim`); run as one group-committed write (`Db::write`), so
/// all of it or none. `before_commit` runs last inside it (a test's failpoint). Events whose
/// id is already stored keep their row and get no second message.
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
    for (event, message) in intake.events.iter().zip(&intake.messages) {
        if insert_event_row(tx, event)? {
            queue::insert(tx, QueueName::Events, &message.body, now_ms, now_ms)?;
        }
    }
    insert_catalog(tx, &intake.catalog)?;
    before_commit();
    Ok(Accepted::Stored)
}
