use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::domain::{Connection, Delivery, Event, Rule};
use crate::field_catalog::DestinationField;
use crate::outcome::Outcome;
use crate::trace::TraceParent;

/// Everything one attempt needs, with the connection's secrets already opened.
pub struct DeliveryRequest<'a> {
    pub event: &'a Event,
    pub rule: &'a Rule,
    pub connection: &'a Connection,
    /// The connection's write-only settings (auth credentials, signing secrets), opened.
    pub secrets: &'a Map<String, Value>,
    /// The fields a connector sends: the connection's field mapping applied to the event's
    /// payload, or the payload's own top-level fields when the connection has no mapping.
    pub fields: &'a Map<String, Value>,
    pub delivery: &'a Delivery,
    /// 1-based number of this attempt.
    pub attempt: u32,
    pub sent_at: OffsetDateTime,
    /// The event's trace, with the span of this call as the parent the destination sees:
    /// webhooks send it as the `traceparent` header.
    pub traceparent: Option<TraceParent>,
}

/// What one attempt did, as recorded in the delivery history.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryResult {
    pub outcome: Outcome,
    pub status_code: Option<u16>,
    /// e.g. `POST https://example.com/hook` — never credentials.
    pub request: String,
    /// The response body, truncated to a bound.
    pub response_body: Option<String>,
    /// Why it failed, in words safe to show the tenant.
    pub error: Option<String>,
    /// The destination's own `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
    pub duration: Duration,
}

/// A destination type: webhook, Slack, HubSpot … One implementation per type, one registry
/// that dispatches by the connection's type.
#[async_trait]
pub trait Integration: Send + Sync + 'static {
    async fn deliver(&self, request: DeliveryRequest<'_>) -> DeliveryResult;

    /// Checks that a destination can be delivered to before its connection is saved (the
    /// address is safe, the endpoint answers). `metadata` is everything the user sent, secrets
    /// included. The default accepts everything.
    async fn validate_destination(
        &self,
        _kind: crate::domain::IntegrationType,
        _metadata: &Map<String, Value>,
    ) -> Result<(), crate::ValidationErrors> {
        Ok(())
    }

    /// What the connection's provider account offers as rule targets (lists, tags, channels,
    /// properties …), each `{kind, id, name}` — the live options of the actions' inputs;
    /// recently listed entries may be answered from a cache unless `refresh`. `Err` says why
    /// the provider did not list them. The default (and a webhook) has none.
    async fn rule_targets(
        &self,
        _connection: &Connection,
        _secrets: &Map<String, Value>,
        _refresh: bool,
    ) -> Result<Vec<Value>, String> {
        Ok(Vec::new())
    }

    /// The destination's typed fields, for field mappings: from the provider's properties
    /// API where it has one, else the fields the connector sends; with when they were read
    /// (a cached catalog unless `refresh`). `Err` says why the provider did not answer. The
    /// default (and a webhook) has none.
    async fn field_catalog(
        &self,
        _connection: &Connection,
        _secrets: &Map<String, Value>,
        _refresh: bool,
    ) -> Result<ReadFields, String> {
        Ok(ReadFields {
            fields: Vec::new(),
            read_at: None,
        })
    }
}

/// A destination's fields and when the provider was asked (`None`: no provider was asked).
#[derive(Clone, Debug, PartialEq)]
pub struct ReadFields {
    pub fields: Vec<DestinationField>,
    pub read_at: Option<OffsetDateTime>,
}
