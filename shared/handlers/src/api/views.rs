//! What the API shows of each resource: the JSON shapes of Meshes' public clients.
//! Secrets never reach a view: connections show only their public metadata.
//!
//! Every response body is one of these types, serialised as declared, so the OpenAPI schemas
//! derived from them (`ToSchema`) describe exactly what the server sends.

use serde::Serialize;
use serde_json::{Map, Value};
use switchyard_core::domain::{
    Connection, Delivery, DeliveryStatus, Event, EventStatus, InactiveReason, Rule, Workspace,
};
use switchyard_core::page::Page;
use switchyard_core::trace::TraceId;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::schemas::{DeliveryStatusName, EventStatusName, IntegrationTypeName};

/// A page of records: `{count, limit, next_cursor, records}`, newest first.
#[derive(Serialize, ToSchema)]
pub struct List<T> {
    /// Records on this page.
    pub count: usize,
    /// The page size asked for (for unpaged catalogs: the number of records).
    pub limit: u32,
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    pub records: Vec<T>,
}

impl<T> List<T> {
    pub fn from_page<U>(page: Page<U>, view: impl FnMut(U) -> T) -> Self {
        let page = page.map(view);
        Self {
            count: page.records.len(),
            limit: page.limit,
            next_cursor: page.next_cursor.map(|c| c.to_string()),
            records: page.records,
        }
    }

    /// A short, unpaged list (catalogs, machine keys) in the same envelope.
    pub fn all(records: Vec<T>) -> Self {
        Self {
            count: records.len(),
            limit: u32::try_from(records.len()).unwrap_or(u32::MAX),
            next_cursor: None,
            records,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PublishableKeyView {
    /// The key itself (`mesh_pub_…`), for `X-Meshes-Publishable-Key`.
    pub public_key: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct WorkspaceView {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub organization: String,
    pub name: String,
    #[schema(required = true)]
    pub description: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The workspace's current publishable key: shown by `GET /workspaces/{id}` and on create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publishable_key: Option<PublishableKeyView>,
}

impl WorkspaceView {
    pub fn new(w: Workspace, publishable_key: Option<PublishableKeyView>) -> Self {
        Self {
            id: w.id.to_string(),
            organization: w.org.to_string(),
            name: w.name,
            description: w.description,
            created_at: w.created_at,
            updated_at: w.updated_at,
            publishable_key,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ConnectionView {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub workspace: String,
    #[serde(rename = "type")]
    #[schema(value_type = IntegrationTypeName)]
    pub kind: &'static str,
    pub name: String,
    /// The public part of the metadata; secret fields are write-only and never shown. An OAuth
    /// connection whose grant the provider revoked has `"status": "reauthorization_required"`
    /// until `GET /connections/oauth/{type}/start?connection=<id>` is run again.
    pub metadata: Map<String, Value>,
    pub hidden: bool,
    /// Whether the connection can deliver; `false` with `inactive_reason` when it cannot
    /// until fixed (an OAuth grant the provider refused: run the OAuth flow again).
    pub active: bool,
    /// Present when `active` is false.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::schemas::InactiveReasonName>)]
    pub inactive_reason: Option<&'static str>,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<Connection> for ConnectionView {
    fn from(c: Connection) -> Self {
        let inactive = c.inactive_reason();
        Self {
            active: inactive.is_none(),
            inactive_reason: inactive.map(InactiveReason::as_str),
            id: c.id.to_string(),
            workspace: c.workspace.to_string(),
            kind: c.kind.as_str(),
            name: c.name,
            metadata: c.metadata,
            hidden: c.hidden,
            created_by: c.created_by,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A connection as its create answers it: the view, plus the signing secret Switchyard
/// generated for a webhook that did not bring its own (shown this once).
#[derive(Serialize, ToSchema)]
pub struct NewConnectionView {
    #[serde(flatten)]
    pub connection: ConnectionView,
    /// Extension: the generated Standard Webhooks secret (`whsec_…`); absent when the request
    /// set `metadata.signing_secret`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RuleView {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub workspace: String,
    #[schema(format = Uuid)]
    pub connection: String,
    #[serde(rename = "type")]
    #[schema(value_type = IntegrationTypeName)]
    pub kind: &'static str,
    pub event: String,
    #[schema(required = true)]
    pub resource: Option<String>,
    #[schema(required = true)]
    pub resource_id: Option<String>,
    pub metadata: Map<String, Value>,
    /// Extension: the rule's filter on the event, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::schemas::Condition>)]
    pub conditions: Option<switchyard_core::conditions::Conditions>,
    pub active: bool,
    pub hidden: bool,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<Rule> for RuleView {
    fn from(r: Rule) -> Self {
        Self {
            id: r.id.to_string(),
            workspace: r.workspace.to_string(),
            connection: r.connection.to_string(),
            kind: r.kind.as_str(),
            event: r.event,
            resource: r.resource,
            resource_id: r.resource_id,
            metadata: r.metadata,
            conditions: r.conditions,
            active: r.active,
            hidden: r.hidden,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// One delivery of an event through a rule (`rule_events[]`).
#[derive(Serialize, ToSchema)]
pub struct RuleEventView {
    #[schema(format = Uuid)]
    pub id: String,
    /// Always `rule`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[schema(format = Uuid)]
    pub workspace: String,
    /// The event's name (`user.signup`).
    pub event: String,
    #[schema(format = Uuid)]
    pub event_id: String,
    pub resource: String,
    #[schema(required = true)]
    pub resource_id: Option<String>,
    #[schema(format = Uuid)]
    pub connection: String,
    #[schema(format = Uuid)]
    pub rule: String,
    #[schema(value_type = IntegrationTypeName)]
    pub integration_type: &'static str,
    #[schema(value_type = DeliveryStatusName)]
    pub status: &'static str,
    pub attempt_count: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(required = true)]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(required = true)]
    pub completed_at: Option<OffsetDateTime>,
    /// Extension: when the next attempt is due (while `retrying`).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(required = true)]
    pub next_attempt_at: Option<OffsetDateTime>,
    #[schema(required = true)]
    pub last_error: Option<String>,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl RuleEventView {
    pub fn new(d: Delivery, event: &Event) -> Self {
        Self {
            id: d.id.to_string(),
            kind: "rule",
            workspace: d.workspace.to_string(),
            event: d.event_name,
            event_id: d.event.to_string(),
            resource: event.resource.clone(),
            resource_id: event.resource_id.clone(),
            connection: d.connection.to_string(),
            rule: d.rule.to_string(),
            integration_type: d.kind.as_str(),
            status: d.status.as_str(),
            attempt_count: d.attempt_count,
            started_at: d.started_at,
            completed_at: d.completed_at,
            next_attempt_at: d.next_attempt_at,
            last_error: d.last_error,
            created_by: "router".to_owned(),
            created_at: d.created_at,
        }
    }
}

/// An event as created and listed.
#[derive(Serialize, ToSchema)]
pub struct EventView {
    #[schema(format = Uuid)]
    pub id: String,
    /// Always `event`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[schema(format = Uuid)]
    pub workspace: String,
    pub event: String,
    pub resource: String,
    #[schema(required = true)]
    pub resource_id: Option<String>,
    /// Derived from the event's deliveries.
    #[schema(value_type = EventStatusName)]
    pub status: &'static str,
    /// Who sent it: `publishable_key:<name>` or `machine_key:<access key>`.
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl EventView {
    /// The summary shape (create responses and lists).
    pub fn summary(e: &Event, status: EventStatus) -> Self {
        Self {
            id: e.id.to_string(),
            kind: "event",
            workspace: e.workspace.to_string(),
            event: e.event.clone(),
            resource: e.resource.clone(),
            resource_id: e.resource_id.clone(),
            status: status.as_str(),
            created_by: e.created_by.clone(),
            created_at: e.created_at,
        }
    }
}

/// `GET /events/{id}`: the event with its deliveries, counts and payload.
#[derive(Serialize, ToSchema)]
pub struct EventDetailView {
    #[serde(flatten)]
    pub event: EventView,
    pub total_rules: usize,
    pub completed_count: usize,
    pub failed_count: usize,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(required = true)]
    pub started_at: Option<OffsetDateTime>,
    /// Set once every delivery has ended.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(required = true)]
    pub completed_at: Option<OffsetDateTime>,
    pub rule_events: Vec<RuleEventView>,
    /// Absent for an embed session without the `events.payload:read` scope.
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// Extension: the event's W3C trace id (32 hex digits), the one its router and delivery
    /// spans, and the `traceparent` its webhooks receive, carry. Absent for events stored
    /// before traces were kept.
    #[schema(value_type = Option<String>, pattern = "^[0-9a-f]{32}$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<TraceId>,
}

impl EventDetailView {
    pub fn new(e: Event, deliveries: Vec<Delivery>, routed: bool) -> Self {
        let statuses: Vec<DeliveryStatus> = deliveries.iter().map(|d| d.status).collect();
        let event = EventView::summary(&e, EventStatus::derive(&statuses, routed));
        let all_final = statuses.iter().all(|s| s.is_final());
        Self {
            event,
            total_rules: deliveries.len(),
            completed_count: statuses
                .iter()
                .filter(|s| **s == DeliveryStatus::Completed)
                .count(),
            failed_count: statuses
                .iter()
                .filter(|s| **s == DeliveryStatus::Failed)
                .count(),
            started_at: deliveries.iter().filter_map(|d| d.started_at).min(),
            completed_at: if all_final && routed {
                deliveries.iter().filter_map(|d| d.completed_at).max()
            } else {
                None
            },
            rule_events: deliveries
                .into_iter()
                .map(|d| RuleEventView::new(d, &e))
                .collect(),
            trace_id: e.trace_id,
            payload: Some(e.payload),
        }
    }
}

/// Creates answer 201 with the resource wrapped in its name, as Meshes does.
#[derive(Serialize, ToSchema)]
pub struct WorkspaceCreated {
    pub workspace: WorkspaceView,
}

#[derive(Serialize, ToSchema)]
pub struct ConnectionCreated {
    pub connection: NewConnectionView,
}

#[derive(Serialize, ToSchema)]
pub struct RuleCreated {
    pub rule: RuleView,
}

#[derive(Serialize, ToSchema)]
pub struct EventCreated {
    pub event: EventView,
}

/// `DELETE /connections/{id}`.
#[derive(Serialize, ToSchema)]
pub struct ConnectionDeleted {
    #[schema(format = Uuid)]
    pub id: String,
    #[serde(rename = "type")]
    #[schema(value_type = IntegrationTypeName)]
    pub kind: &'static str,
}

/// `DELETE /rules/{id}`.
#[derive(Serialize, ToSchema)]
pub struct RuleDeleted {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub connection: String,
    #[serde(rename = "type")]
    #[schema(value_type = IntegrationTypeName)]
    pub kind: &'static str,
    pub event: String,
}

/// `POST /events/bulk`, every item accepted (201).
#[derive(Serialize, ToSchema)]
pub struct BulkAccepted {
    pub count: usize,
    pub records: Vec<EventView>,
}

/// `POST /events/bulk`, some items refused (207): one record per item, in request order.
#[derive(Serialize, ToSchema)]
pub struct BulkPartial {
    pub count: usize,
    pub error_count: usize,
    pub records: Vec<BulkItem>,
}

/// One item's result: the accepted event, or why it was refused.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum BulkItem {
    Accepted(EventView),
    Refused(BulkItemError),
}

/// A refused bulk item: its index in the request, the status it would have had alone, and the
/// contract's error body.
#[derive(Serialize, ToSchema)]
pub struct BulkItemError {
    pub index: usize,
    pub status: u16,
    pub message: String,
    pub error: super::error::ErrorDetail,
}

/// `GET /healthz`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}
