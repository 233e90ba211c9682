//! Ingest: validate an event, store it, put it on the events queue. Once this returns `Ok`,
//! the event is durable and will be routed (the API answers 201 only then).

use serde_json::{Map, Value};
use switchyard_core::domain::{CatalogEntry, CatalogKind, Event};
use switchyard_core::message::EventMessage;
use switchyard_core::ports::{OutgoingMessage, QueueName};
use switchyard_core::validation::{self, MAX_EVENT_BYTES};
use switchyard_core::{EventId, OrgId, RuleId, StoreError, ValidationErrors, WorkspaceId};

use crate::Deps;

/// Who is sending the event, as established by authentication.
#[derive(Clone, Debug, PartialEq)]
pub enum Sender {
    /// A publishable key: the workspace is the key's, never the body's.
    Publishable {
        org: OrgId,
        workspace: WorkspaceId,
        key_name: String,
    },
    /// A machine key: the body names the workspace, which must be the organization's.
    Machine { org: OrgId, access_key: String },
}

impl Sender {
    pub fn org(&self) -> OrgId {
        match self {
            Self::Publishable { org, .. } | Self::Machine { org, .. } => *org,
        }
    }
}

/// A validated event body.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub event: String,
    pub payload: Value,
    pub resource: String,
    pub resource_id: Option<String>,
    pub workspace: Option<WorkspaceId>,
    /// Set by idempotent ingest to store the event under an id claimed in advance.
    pub id: Option<EventId>,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("invalid event")]
    Invalid(ValidationErrors),
    #[error("event payload exceeds {MAX_EVENT_BYTES} bytes")]
    TooLarge,
    #[error("workspace not found")]
    UnknownWorkspace,
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl NewEvent {
    /// Reads an event body (`{event, payload, resource?, resource_id?, workspace?}`), reporting
    /// every field problem at once.
    pub fn from_json(body: &Value) -> Result<Self, IngestError> {
        let mut errors = ValidationErrors::default();
        let Some(obj) = body.as_object() else {
            errors.push("body", "must be a JSON object");
            return Err(IngestError::Invalid(errors));
        };
        let event = match obj.get("event") {
            Some(Value::String(s)) => {
                validation::event_name(&mut errors, "event", s);
                validation::normalized_name(s)
            }
            None | Some(Value::Null) => {
                errors.push("event", "is required");
                String::new()
            }
            Some(_) => {
                errors.push("event", "must be a string");
                String::new()
            }
        };
        let payload = match obj.get("payload") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(p @ Value::Object(_)) => p.clone(),
            Some(_) => {
                errors.push("payload", "must be a JSON object");
                Value::Null
            }
        };
        let resource = match obj.get("resource") {
            None | Some(Value::Null) => "global".to_owned(),
            Some(Value::String(s)) => {
                validation::event_name(&mut errors, "resource", s);
                validation::normalized_name(s)
            }
            Some(_) => {
                errors.push("resource", "must be a string");
                String::new()
            }
        };
        let resource_id = match obj.get("resource_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                validation::resource_id(&mut errors, "resource_id", s);
                Some(s.clone())
            }
            Some(_) => {
                errors.push("resource_id", "must be a string");
                None
            }
        };
        let workspace = match obj.get("workspace") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => match s.parse() {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.push("workspace", "must be a UUID");
                    None
                }
            },
            Some(_) => {
                errors.push("workspace", "must be a UUID string");
                None
            }
        };
        if !errors.is_empty() {
            return Err(IngestError::Invalid(errors));
        }
        if serde_json::to_vec(&payload).map_or(0, |b| b.len()) > MAX_EVENT_BYTES {
            return Err(IngestError::TooLarge);
        }
        Ok(Self {
            event,
            payload,
            resource,
            resource_id,
            workspace,
            id: None,
        })
    }
}

/// Stores the event and enqueues it for routing.
pub async fn accept(deps: &Deps, sender: &Sender, input: NewEvent) -> Result<Event, IngestError> {
    accept_many(deps, sender, vec![Ok(input)])
        .await
        .pop()
        .expect("one result per input")
}

/// Stores each valid event and enqueues them for routing in batches of ten (one SQS request
/// per ten events). Results are in input order; an input that was already invalid stays so.
pub async fn accept_many(
    deps: &Deps,
    sender: &Sender,
    inputs: Vec<Result<NewEvent, IngestError>>,
) -> Vec<Result<Event, IngestError>> {
    accept_routed(deps, sender, inputs, None).await
}

/// [`accept_many`], with the router told to route through `only_rule` alone when set.
async fn accept_routed(
    deps: &Deps,
    sender: &Sender,
    inputs: Vec<Result<NewEvent, IngestError>>,
    only_rule: Option<RuleId>,
) -> Vec<Result<Event, IngestError>> {
    // Counted before anything is stored: once answered 201, an event is within the plan.
    let valid = inputs.iter().filter(|i| i.is_ok()).count() as u64;
    if valid > 0
        && let Err(e) = crate::plan::count_events(deps, sender.org(), valid).await
    {
        return inputs
            .into_iter()
            .map(|input| input.and_then(|_| Err(IngestError::Plan(e.clone()))))
            .collect();
    }
    let mut results = Vec::with_capacity(inputs.len());
    for input in inputs {
        results.push(match input {
            Ok(input) => store_event(deps, sender, input).await,
            Err(e) => Err(e),
        });
    }
    let accepted: Vec<usize> = (0..results.len()).filter(|i| results[*i].is_ok()).collect();
    for chunk in accepted.chunks(10) {
        let messages = chunk
            .iter()
            .map(|i| {
                let event = results[*i].as_ref().expect("accepted");
                route_message(event, only_rule)
            })
            .collect();
        if let Err(e) = deps.queue.send_batch(QueueName::Events, messages).await {
            // Stored but not queued: not accepted, so the caller retries (not a silent drop).
            tracing::error!(error = %e, "events stored but not enqueued");
            for i in chunk {
                results[*i] = Err(IngestError::Store(StoreError::Backend(e.to_string())));
            }
        } else {
            crate::metrics::events_ingested(chunk.len());
        }
    }
    results
}

/// The events-queue message that has the router route `event` (through `only_rule` alone,
/// when set).
fn route_message(event: &Event, only_rule: Option<RuleId>) -> OutgoingMessage {
    let message = EventMessage {
        event_id: event.id,
        org: event.org,
        workspace: event.workspace,
        only_rule,
    };
    OutgoingMessage::now(serde_json::to_string(&message).expect("message serialises"))
}

/// Stores a rule's test event and has it routed through that rule alone. Accepted like any
/// event (counted towards the plan, stored, queued), so its delivery shows in the history and
/// can be inspected and replayed.
pub async fn accept_test(
    deps: &Deps,
    sender: &Sender,
    input: NewEvent,
    rule: RuleId,
) -> Result<Event, IngestError> {
    accept_routed(deps, sender, vec![Ok(input)], Some(rule))
        .await
        .pop()
        .expect("one result per input")
}

/// How long an `Idempotency-Key` names its first event.
pub const IDEMPOTENCY_WINDOW: time::Duration = time::Duration::hours(24);

/// Accepts an event under an `Idempotency-Key`: the same key within 24 h (per workspace)
/// answers the first event again and stores nothing. Returns the event and whether it is a
/// replay.
pub async fn accept_idempotent(
    deps: &Deps,
    sender: &Sender,
    mut input: NewEvent,
    key: &str,
) -> Result<(Event, bool), IngestError> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(IngestError::Invalid(ValidationErrors::single(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        )));
    }
    let (org, workspace, _) = resolve_workspace(deps, sender, &input).await?;
    let id = EventId::new();
    let now = deps.now();
    let claimed = deps
        .store
        .claim_idempotency_key(org, workspace, key, id, now, now + IDEMPOTENCY_WINDOW)
        .await?;
    let Some(first) = claimed else {
        input.id = Some(id);
        return accept(deps, sender, input).await.map(|e| (e, false));
    };
    if let Some(event) = deps.store.event(org, first).await? {
        return Ok((event, true));
    }
    // Claimed, but its event was never stored (the claimer died or is still writing):
    // complete the claim under the same id; a concurrent twin makes the insert conflict.
    input.id = Some(first);
    match accept(deps, sender, input).await {
        Err(IngestError::Store(StoreError::Conflict(_))) => deps
            .store
            .event(org, first)
            .await?
            .map(|e| (e, true))
            .ok_or(IngestError::Store(StoreError::Backend(
                "idempotent event vanished".into(),
            ))),
        other => other.map(|e| (e, false)),
    }
}

/// The tenant an event belongs to: the publishable key's workspace, or for a machine key the
/// body's workspace, which must be the organization's.
async fn resolve_workspace(
    deps: &Deps,
    sender: &Sender,
    input: &NewEvent,
) -> Result<(OrgId, WorkspaceId, String), IngestError> {
    Ok(match sender {
        Sender::Publishable {
            org,
            workspace,
            key_name,
        } => (*org, *workspace, format!("publishable_key:{key_name}")),
        Sender::Machine { org, access_key } => {
            let Some(ws) = input.workspace else {
                return Err(IngestError::Invalid(ValidationErrors::single(
                    "workspace",
                    "is required when sending with a machine key",
                )));
            };
            if deps.store.workspace(*org, ws).await?.is_none() {
                return Err(IngestError::UnknownWorkspace);
            }
            (*org, ws, format!("machine_key:{access_key}"))
        }
    })
}

async fn store_event(deps: &Deps, sender: &Sender, input: NewEvent) -> Result<Event, IngestError> {
    let (org, workspace, created_by) = resolve_workspace(deps, sender, &input).await?;
    let event = Event {
        id: input.id.unwrap_or_default(),
        org,
        workspace,
        event: input.event,
        resource: input.resource,
        resource_id: input.resource_id,
        payload: input.payload,
        created_by,
        created_at: deps.now(),
    };
    deps.store.insert_event(&event).await?;
    remember_keys(deps, org, workspace, &event.event, Some(&event.resource)).await?;
    tracing::info!(org = %org, workspace = %workspace, event_id = %event.id, event = %event.event, "event accepted");
    Ok(event)
}

/// Adds an event type (and resource) to the workspace's catalogs, as seen in events and rules.
pub async fn remember_keys(
    deps: &Deps,
    org: OrgId,
    workspace: WorkspaceId,
    event: &str,
    resource: Option<&str>,
) -> Result<(), StoreError> {
    let created_at = deps.now();
    let entry = |kind, key: &str| CatalogEntry {
        org,
        workspace,
        kind,
        key: key.to_owned(),
        created_at,
    };
    let mut entries = vec![entry(CatalogKind::EventType, event)];
    if let Some(resource) = resource {
        entries.push(entry(CatalogKind::Resource, resource));
    }
    deps.store.add_to_catalog(&entries).await
}
