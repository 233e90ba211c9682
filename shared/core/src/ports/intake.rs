use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::{CatalogEntry, Delivery, Event};
use crate::{EventId, OrgId, StoreError, WorkspaceId};

use super::OutgoingMessage;

/// An `Idempotency-Key` to claim with the events it names: the key then answers `first`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub org: OrgId,
    pub workspace: WorkspaceId,
    pub key: String,
    /// The id the key stands for: the request's first (or only) event's.
    pub first: EventId,
    pub now: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// What one ingest request accepts: events with their routing (one per event, in the same
/// order) and the catalog keys they bring.
#[derive(Clone, Debug, Default)]
pub struct Intake {
    pub events: Vec<Event>,
    pub routing: Vec<Routing>,
    pub catalog: Vec<CatalogEntry>,
    /// The events' ids were minted for this request, so nothing is stored under them: the
    /// store may write them without a per-event condition (in bulk). `false` when a request
    /// cut short is being completed, whose events may appear at any moment.
    pub fresh: bool,
}

/// How an accepted event reaches its deliveries.
#[derive(Clone, Debug)]
pub enum Routing {
    /// Its events-queue message: the router expands the rules.
    Queued(OutgoingMessage),
    /// Expanded already, for an intake that [routes as it stores](EventIntake::routes_at_intake):
    /// the event's deliveries (pending) and the delivery-queue message of each.
    Expanded {
        deliveries: Vec<Delivery>,
        messages: Vec<OutgoingMessage>,
    },
}

/// How an accept ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// Stored and queued. Events whose id was already stored were left as they were.
    Stored,
    /// The claim's key is held, unexpired, for an earlier request whose first id this is;
    /// nothing was written.
    KeyHeld(EventId),
}

/// Accepting events so that none is ever stored without a way to be routed: the one write
/// path of ingest.
///
/// The embedded adapter commits the claim, the events, their catalog keys and their routing
/// in one transaction (all or nothing, bulk included): there the events come expanded, their
/// deliveries and delivery messages written with them, and no router runs in between. Where
/// no transaction spans the store and the queue (SQS and DynamoDB), the messages are sent
/// *before* the events are stored, so a stored event always has its message; a message whose
/// event never arrives is dropped by the router after a grace period. An idempotent retry
/// completes whatever a crash cut short under the same ids.
#[async_trait]
pub trait EventIntake: Send + Sync {
    /// Claims `claim` (when given), then stores and queues `intake`. On failure nothing is
    /// claimed: the key is free for the client's retry.
    async fn accept(&self, claim: Option<&Claim>, intake: Intake) -> Result<Accepted, StoreError>;

    /// Whether events are given [`Routing::Expanded`], their deliveries stored with them;
    /// otherwise [`Routing::Queued`].
    fn routes_at_intake(&self) -> bool {
        false
    }
}
