//! The ports: what handlers need from the world, as traits. Adapters: SQLite (embedded) and
//! DynamoDB/SQS (AWS). Each has a conformance suite that every adapter must pass.

mod intake;
mod integration;
mod queue;
mod store;

pub use intake::{Accepted, Claim, EventIntake, Intake, Routing};
pub use integration::{DeliveryRequest, DeliveryResult, Integration, ReadFields};
pub use queue::{
    MAX_DELAY, OutgoingMessage, Queue, QueueConsumer, QueueDepth, QueueName, ReceivedMessage,
};
pub use store::{
    ATTEMPT_UNDER_WAY_AFTER, AttemptRecord, Catalog, Connections, Deliveries, DeliveryCounts,
    EventFilter, Events, FailedPage, KeyClaims, Mappings, Metering, Rules, SessionFilter, Sessions,
    Store, Tenants, Workspaces,
};
