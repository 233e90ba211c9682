//! The webhook envelope: what a `send_webhook` destination receives in `wrapped` mode.

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::clock::epoch_millis;
use crate::domain::Event;

/// `{"uuid", "event", "resource", "resource_id", "payload", "time_created", "time_sent"}`,
/// times in epoch milliseconds, exactly as Meshes sends it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Envelope<'a> {
    pub uuid: String,
    pub event: &'a str,
    pub resource: &'a str,
    pub resource_id: Option<&'a str>,
    pub payload: &'a Value,
    pub time_created: i64,
    pub time_sent: i64,
}

impl<'a> Envelope<'a> {
    pub fn new(event: &'a Event, sent_at: OffsetDateTime) -> Self {
        Self {
            uuid: event.id.to_string(),
            event: &event.event,
            resource: &event.resource,
            resource_id: event.resource_id.as_deref(),
            payload: &event.payload,
            time_created: epoch_millis(event.created_at),
            time_sent: epoch_millis(sent_at),
        }
    }
}
