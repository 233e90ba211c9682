//! Ingest: validate an event, store it, put it on the events queue. Once this returns `Ok`,
//! the event is durable and will be routed (the API answers 201 only then).

use serde_json::{Map, Value};
use switchyard_core::domain::Event;
use switchyard_core::message::EventMessage;
use switchyard_core::ports::{OutgoingMessage, QueueName};
use switchyard_core::validation::{self, MAX_EVENT_BYTES};
use switchyard_core::{EventId, OrgId, StoreError, ValidationErrors, WorkspaceId};

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

/// A validated event body.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub event: String,
    pub payload: Value,
    pub resource: String,
    pub resource_id: Option<String>,
    pub workspace: Option<WorkspaceId>,
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
                s.clone()
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
                s.clone()
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
        })
    }
}

/// Stores the event and enqueues it for routing.
pub async fn accept(deps: &Deps, sender: &Sender, input: NewEvent) -> Result<Event, IngestError> {
    let (org, workspace, created_by) = match sender {
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
    };
    let event = Event {
        id: EventId::new(),
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
    let message = EventMessage {
        event_id: event.id,
        org,
        workspace,
    };
    let body = serde_json::to_string(&message).expect("event message serialises");
    deps.queue
        .send_batch(QueueName::Events, vec![OutgoingMessage::now(body)])
        .await?;
    tracing::info!(org = %org, workspace = %workspace, event_id = %event.id, event = %event.event, "event accepted");
    Ok(event)
}
