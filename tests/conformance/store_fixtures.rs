//! Small constructors of domain values for the store conformance cases. Times are truncated
//! to milliseconds, the precision every adapter stores, so values read back compare equal.

use anyhow::Result;
use serde_json::{Map, Value, json};
use switchyard_core::clock::truncated_to_millis;
use switchyard_core::domain::*;
use switchyard_core::keyring::Sealed;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::Store;
use switchyard_core::{AttemptId, ConnectionId, DeliveryId, EventId, OrgId, RuleId, WorkspaceId};
use time::OffsetDateTime;

pub fn now() -> OffsetDateTime {
    truncated_to_millis(OffsetDateTime::now_utc())
}

fn metadata(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("metadata fixtures are objects"),
    }
}

pub fn organization() -> Organization {
    Organization {
        id: OrgId::new(),
        name: "Acme".into(),
        created_at: now(),
    }
}

pub fn workspace(org: OrgId, name: &str) -> Workspace {
    Workspace {
        id: WorkspaceId::new(),
        org,
        name: name.into(),
        description: Some(format!("the {name} workspace")),
        created_at: now(),
        updated_at: now(),
    }
}

pub fn connection(ws: &Workspace) -> Connection {
    Connection {
        id: ConnectionId::new(),
        org: ws.org,
        workspace: ws.id,
        kind: IntegrationType::Webhook,
        name: "orders hook".into(),
        metadata: metadata(json!({"url": "https://example.com/hook", "headers": {"x-a": "1"}})),
        secrets: Some(Sealed("v1.local1.c2VhbGVk".into())),
        hidden: false,
        created_by: "machine_key:ak_test".into(),
        created_at: now(),
        updated_at: now(),
    }
}

pub fn rule(conn: &Connection, event: &str) -> Rule {
    Rule {
        id: RuleId::new(),
        org: conn.org,
        workspace: conn.workspace,
        connection: conn.id,
        kind: conn.kind,
        event: event.into(),
        resource: None,
        resource_id: None,
        metadata: metadata(json!({"action": "post"})),
        conditions: None,
        active: true,
        hidden: false,
        created_by: "machine_key:ak_test".into(),
        created_at: now(),
        updated_at: now(),
    }
}

pub fn event(ws: &Workspace, event: &str) -> Event {
    Event {
        id: EventId::new(),
        org: ws.org,
        workspace: ws.id,
        event: event.into(),
        resource: "user".into(),
        resource_id: Some("u_1".into()),
        payload: json!({"email": "a@example.com", "tags": [1, 2], "nested": {"ok": true}}),
        created_by: "publishable_key:web".into(),
        created_at: now(),
        trace_id: Some(switchyard_core::trace::TraceId::random()),
    }
}

/// A pending delivery of `event` through `rule`.
pub fn delivery(event: &Event, rule: &Rule) -> Delivery {
    Delivery {
        id: DeliveryId::new(),
        org: event.org,
        workspace: event.workspace,
        event: event.id,
        event_name: event.event.clone(),
        rule: rule.id,
        connection: rule.connection,
        kind: rule.kind,
        status: DeliveryStatus::Pending,
        attempt_count: 0,
        schedule_base: 0,
        started_at: None,
        completed_at: None,
        next_attempt_at: None,
        last_error: None,
        created_at: now(),
        updated_at: now(),
    }
}

pub fn with_status(mut delivery: Delivery, status: DeliveryStatus) -> Delivery {
    delivery.status = status;
    delivery
}

pub fn attempt(delivery: &Delivery, number: u32, outcome: Outcome, status: u16) -> Attempt {
    Attempt {
        id: AttemptId::new(),
        org: delivery.org,
        delivery: delivery.id,
        number,
        outcome,
        status_code: Some(status),
        request: "POST https://example.com/hook".into(),
        response_body: Some(format!("{{\"status\":{status}}}")),
        error: (outcome != Outcome::Delivered).then(|| format!("HTTP {status}")),
        duration_ms: 250,
        started_at: now(),
    }
}

pub fn machine_key(org: OrgId) -> MachineKey {
    MachineKey {
        access_key: format!("mk_{}", uuid::Uuid::new_v4().simple()),
        org,
        name: "ci".into(),
        secret: Sealed("v1.local1.bWFjaGluZQ".into()),
        created_at: now(),
        revoked_at: None,
    }
}

pub fn publishable_key(ws: &Workspace, name: &str) -> PublishableKey {
    PublishableKey {
        key_hash: format!("sha256:{}", uuid::Uuid::new_v4().simple()),
        org: ws.org,
        workspace: ws.id,
        name: name.into(),
        key: Sealed("v1.local1.cHVibGlzaGFibGU".into()),
        created_at: now(),
        expires_at: None,
    }
}

/// An organization with one workspace and one connection, all stored.
pub struct Tenant {
    pub org: OrgId,
    pub workspace: Workspace,
    pub connection: Connection,
}

pub async fn tenant(store: &dyn Store) -> Result<Tenant> {
    let org = organization();
    store.create_organization(&org).await?;
    let workspace = workspace(org.id, "production");
    store.create_workspace(&workspace).await?;
    let connection = connection(&workspace);
    store.create_connection(&connection).await?;
    Ok(Tenant {
        org: org.id,
        workspace,
        connection,
    })
}

/// A stored rule for `event` on the tenant's connection.
pub async fn stored_rule(store: &dyn Store, t: &Tenant, event: &str) -> Result<Rule> {
    let rule = rule(&t.connection, event);
    store.create_rule(&rule).await?;
    Ok(rule)
}

/// A stored event of type `name` in the tenant's workspace.
pub async fn stored_event(store: &dyn Store, t: &Tenant, name: &str) -> Result<Event> {
    let event = event(&t.workspace, name);
    store.insert_event(&event).await?;
    Ok(event)
}

/// A stored pending delivery of a fresh event through a fresh rule.
pub async fn stored_delivery(store: &dyn Store, t: &Tenant) -> Result<Delivery> {
    stored_delivery_with(store, t, DeliveryStatus::Pending).await
}

pub async fn stored_delivery_with(
    store: &dyn Store,
    t: &Tenant,
    status: DeliveryStatus,
) -> Result<Delivery> {
    let rule = stored_rule(store, t, "user.created").await?;
    let event = stored_event(store, t, "user.created").await?;
    let delivery = with_status(delivery(&event, &rule), status);
    store
        .insert_deliveries(t.org, event.id, std::slice::from_ref(&delivery))
        .await?;
    Ok(delivery)
}
