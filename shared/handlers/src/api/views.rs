//! What the API shows of each resource: the JSON shapes of Meshes' public clients.
//! Secrets never reach a view: connections show only their public metadata.

use serde::Serialize;
use serde_json::{Map, Value};
use switchyard_core::domain::{
    Connection, Delivery, DeliveryStatus, Event, EventStatus, Rule, Workspace,
};
use switchyard_core::page::Page;
use time::OffsetDateTime;

#[derive(Serialize)]
pub struct List<T> {
    pub count: usize,
    pub limit: u32,
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
}

#[derive(Serialize)]
pub struct PublishableKeyView {
    pub public_key: String,
    pub name: String,
}

#[derive(Serialize)]
pub struct WorkspaceView {
    pub id: String,
    pub organization: String,
    pub name: String,
    pub description: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
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

#[derive(Serialize)]
pub struct ConnectionView {
    pub id: String,
    pub workspace: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub metadata: Map<String, Value>,
    pub hidden: bool,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<Connection> for ConnectionView {
    fn from(c: Connection) -> Self {
        Self {
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

#[derive(Serialize)]
pub struct RuleView {
    pub id: String,
    pub workspace: String,
    pub connection: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub event: String,
    pub resource: Option<String>,
    pub resource_id: Option<String>,
    pub metadata: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
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
#[derive(Serialize)]
pub struct RuleEventView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub workspace: String,
    pub event: String,
    pub event_id: String,
    pub resource: String,
    pub resource_id: Option<String>,
    pub connection: String,
    pub rule: String,
    pub integration_type: &'static str,
    pub status: &'static str,
    pub attempt_count: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
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

#[derive(Serialize)]
pub struct EventView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub workspace: String,
    pub event: String,
    pub resource: String,
    pub resource_id: Option<String>,
    pub status: &'static str,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub detail: Option<EventDetail>,
}

/// What `GET /events/{id}` adds to an event: its deliveries, counts and payload.
#[derive(Serialize)]
pub struct EventDetail {
    pub total_rules: usize,
    pub completed_count: usize,
    pub failed_count: usize,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    pub rule_events: Vec<RuleEventView>,
    pub payload: Value,
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
            detail: None,
        }
    }

    /// The full shape, with deliveries and payload.
    pub fn detailed(e: Event, deliveries: Vec<Delivery>, routed: bool) -> Self {
        let statuses: Vec<DeliveryStatus> = deliveries.iter().map(|d| d.status).collect();
        let mut view = Self::summary(&e, EventStatus::derive(&statuses, routed));
        let all_final = statuses.iter().all(|s| s.is_final());
        view.detail = Some(EventDetail {
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
            payload: e.payload,
        });
        view
    }
}
