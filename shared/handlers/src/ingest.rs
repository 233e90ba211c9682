//! Ingest: validate events, then store them with their routing through the intake port, all
//! of a request or none of it — their events-queue messages, or (an intake that routes at
//! intake: the embedded default) their deliveries, expanded here by the router's functions.
//! Once this returns `Ok`, the events are durable and will be routed (the API answers 201
//! only then).

use serde_json::{Map, Value};
use switchyard_core::domain::{CatalogEntry, CatalogKind, Event};
use switchyard_core::message::{CarriedEvent, EventMessage};
use switchyard_core::ports::{Accepted, Claim, Intake, OutgoingMessage, QueueName, Routing};
use switchyard_core::trace::TraceId;
use switchyard_core::validation::{self, MAX_EVENT_BYTES};
use switchyard_core::{EventId, OrgId, RuleId, StoreError, ValidationErrors, WorkspaceId};

use crate::Deps;
use crate::intake_routing::Routings;
use crate::trace::RequestTrace;

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
    /// An embed session sending a rule's test event: its workspace, recorded as `actor`.
    Session {
        org: OrgId,
        workspace: WorkspaceId,
        actor: String,
    },
}

impl Sender {
    pub fn org(&self) -> OrgId {
        match self {
            Self::Publishable { org, .. }
            | Self::Machine { org, .. }
            | Self::Session { org, .. } => *org,
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
        })
    }
}

/// The events of one request as answered: each input's event, or why it was refused.
#[derive(Debug)]
pub struct Answer {
    pub results: Vec<Result<Event, IngestError>>,
    /// The request repeats an earlier one's `Idempotency-Key`: these are that request's events,
    /// and nothing new was stored or sent.
    pub replayed: bool,
}

/// How long an `Idempotency-Key` names its first request.
pub const IDEMPOTENCY_WINDOW: time::Duration = time::Duration::hours(24);

/// How long a request waits for a concurrent one holding its `Idempotency-Key` to finish,
/// before completing that request's events itself (its holder may have crashed).
const KEY_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// An event this much older than its stored twin's routing is re-enqueued when a retry with
/// its `Idempotency-Key` finds it unrouted; the router's claims make the extra copy harmless.
const REROUTE_AFTER: time::Duration = time::Duration::seconds(30);

/// Accepts one event, answering an earlier request's event again when `key` repeats its
/// `Idempotency-Key`. Returns the event and whether it is such a replay.
pub async fn accept(
    deps: &Deps,
    sender: &Sender,
    input: NewEvent,
    key: Option<&str>,
    trace: &RequestTrace,
) -> Result<(Event, bool), IngestError> {
    let answer = accept_many(deps, sender, vec![Ok(input)], key, trace).await?;
    let replayed = answer.replayed;
    let event = answer
        .results
        .into_iter()
        .next()
        .expect("one result per input")?;
    Ok((event, replayed))
}

/// Accepts a request's events: all of them are stored and queued for routing together, or
/// none is (embedded; with SQS, queued before stored — see [`crate::intake`]). Results are in
/// input order; an input that was already invalid stays so. With `key`, a repeat within 24 h
/// answers the first request's events and stores nothing; a repeat of a request cut short
/// by a crash completes it under the same ids.
pub async fn accept_many(
    deps: &Deps,
    sender: &Sender,
    inputs: Vec<Result<NewEvent, IngestError>>,
    key: Option<&str>,
    trace: &RequestTrace,
) -> Result<Answer, IngestError> {
    accept_routed(deps, sender, inputs, None, key, trace).await
}

/// Stores a rule's test event and has it routed through that rule alone. Accepted like any
/// event (counted towards the plan, stored, queued), so its delivery shows in the history and
/// can be inspected and replayed.
pub async fn accept_test(
    deps: &Deps,
    sender: &Sender,
    input: NewEvent,
    rule: RuleId,
    trace: &RequestTrace,
) -> Result<Event, IngestError> {
    accept_routed(deps, sender, vec![Ok(input)], Some(rule), None, trace)
        .await?
        .results
        .pop()
        .expect("one result per input")
}

/// [`accept_many`], with the router told to route through `only_rule` alone when set.
async fn accept_routed(
    deps: &Deps,
    sender: &Sender,
    inputs: Vec<Result<NewEvent, IngestError>>,
    only_rule: Option<RuleId>,
    key: Option<&str>,
    trace: &RequestTrace,
) -> Result<Answer, IngestError> {
    if let Some(key) = key {
        check_key(key)?;
    }
    // Ids by position: item i of the request whose first id is `base` is `base.nth(i)`, so a
    // retry names the same events without a list of them being kept.
    let base = EventId::new();
    let mut results = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.into_iter().enumerate() {
        results.push(match input {
            Ok(input) => new_event(deps, sender, input, base.nth(i), trace.trace_of_new()).await,
            Err(e) => Err(e),
        });
    }
    let claim = key.and_then(|key| {
        let first = results.iter().find_map(|r| r.as_ref().ok())?;
        let now = deps.now();
        Some(Claim {
            org: first.org,
            workspace: first.workspace,
            key: key.to_owned(),
            first: base,
            now,
            expires_at: now + IDEMPOTENCY_WINDOW,
        })
    });
    let valid = results.iter().filter(|r| r.is_ok()).count();
    if valid == 0 {
        return Ok(Answer {
            results,
            replayed: false,
        });
    }
    // Counted before anything is stored: once answered 201, an event is within the plan. A
    // known replay is not counted again.
    if let Some(claim) = &claim
        && deps.settings.plan.events_per_month.is_some()
        && let Some(first) = deps
            .key_claims()
            .idempotency_claim(claim.org, claim.workspace, &claim.key, claim.now)
            .await?
    {
        return replay(deps, claim, first, results, only_rule, trace).await;
    }
    if let Err(e) = crate::plan::count_events(deps, sender.org(), valid as u64).await {
        let results = results
            .into_iter()
            .map(|r| r.and_then(|_| Err(IngestError::Plan(e.clone()))))
            .collect();
        return Ok(Answer {
            results,
            replayed: false,
        });
    }
    let stored: Vec<&Event> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let (intake, routings) = intake(deps, &stored, only_rule, true, trace).await?;
    match deps.intake.accept(claim.as_ref(), intake).await? {
        Accepted::Stored => {
            crate::failpoint::hit("ingest.stored");
            crate::metrics::events_ingested(stored.len());
            for e in &stored {
                let accepted = || tracing::info!(org = %e.org, workspace = %e.workspace, event_id = %e.id, event = %e.event, "event accepted");
                match e.trace_id {
                    // A bulk item: its own trace's first span, linked to the request's.
                    Some(t) if t != trace.span.trace_id => {
                        trace.item_span(e.id, t).in_scope(accepted)
                    }
                    _ => accepted(),
                }
            }
            routings.log();
            Ok(Answer {
                results,
                replayed: false,
            })
        }
        Accepted::KeyHeld(first) => {
            let claim = claim.expect("a key is held only when claimed");
            replay(deps, &claim, first, results, only_rule, trace).await
        }
    }
}

/// Answers a repeated `Idempotency-Key` with the events of the request that holds it (same
/// positions, ids from its `first`). While that request is still being written elsewhere it
/// waits, bounded; past the wait it completes the missing events itself (the holder may have
/// crashed between claiming and storing).
async fn replay(
    deps: &Deps,
    claim: &Claim,
    first: EventId,
    mut results: Vec<Result<Event, IngestError>>,
    only_rule: Option<RuleId>,
    trace: &RequestTrace,
) -> Result<Answer, IngestError> {
    for r in results.iter_mut().flatten() {
        r.id = first.nth(r.id.position_after(claim.first));
    }
    let deadline = tokio::time::Instant::now() + KEY_WAIT;
    let missing = loop {
        let mut missing = Vec::new();
        for r in results.iter_mut().flatten() {
            match deps.events().event(r.org, r.id).await? {
                Some(stored) => *r = stored,
                None => missing.push(r.clone()),
            }
        }
        if missing.is_empty() || tokio::time::Instant::now() >= deadline {
            break missing;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    };
    if !missing.is_empty() {
        tracing::warn!(
            events = missing.len(),
            "completing a request cut short, under its Idempotency-Key"
        );
        let missing: Vec<&Event> = missing.iter().collect();
        let (intake, routings) = intake(deps, &missing, only_rule, false, trace).await?;
        deps.intake.accept(None, intake).await?;
        routings.log();
    }
    reroute_stale(deps, &results, only_rule, trace).await?;
    Ok(Answer {
        results,
        replayed: true,
    })
}

/// Re-enqueues replayed events left unrouted well after they were stored (their message lost
/// to the events DLQ, or dropped by a router that saw them too late).
async fn reroute_stale(
    deps: &Deps,
    results: &[Result<Event, IngestError>],
    only_rule: Option<RuleId>,
    trace: &RequestTrace,
) -> Result<(), StoreError> {
    let stale_before = deps.now() - REROUTE_AFTER;
    let mut messages = Vec::new();
    for e in results.iter().flatten() {
        if e.created_at < stale_before && !deps.events().is_routed(e.org, e.id).await? {
            messages.push(route_message(e, only_rule, trace));
        }
    }
    for chunk in messages.chunks(10) {
        deps.queue
            .send_batch(QueueName::Events, chunk.to_vec())
            .await?;
    }
    Ok(())
}

fn check_key(key: &str) -> Result<(), IngestError> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(IngestError::Invalid(ValidationErrors::single(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        )));
    }
    Ok(())
}

/// What the intake writes for `events`: them, their routing, their catalog keys; `fresh`
/// when no earlier try can have stored any of them (the cheap, unconditional write). An
/// intake that routes as it stores gets each event's rules expanded here, and the routings
/// to log once it has ([`Routings::log`]).
async fn intake(
    deps: &Deps,
    events: &[&Event],
    only_rule: Option<RuleId>,
    fresh: bool,
    trace: &RequestTrace,
) -> Result<(Intake, Routings), StoreError> {
    // One time for the request: its events' keys are seen together, so two events of one
    // type give equal entries, kept once.
    let seen_at = deps.now();
    let mut catalog: Vec<CatalogEntry> = Vec::new();
    for e in events {
        for entry in catalog_entries(e.org, e.workspace, &e.event, Some(&e.resource), seen_at) {
            if !catalog.contains(&entry) {
                catalog.push(entry);
            }
        }
    }
    let mut routings = Routings::default();
    let routing = if deps.intake.routes_at_intake() {
        routings.expand(deps, events, only_rule, trace).await?
    } else {
        events
            .iter()
            .map(|e| Routing::Queued(route_message(e, only_rule, trace)))
            .collect()
    };
    let intake = Intake {
        events: events.iter().map(|e| (*e).clone()).collect(),
        routing,
        catalog,
        fresh,
    };
    Ok((intake, routings))
}

/// The events-queue message that has the router route `event` (through `only_rule` alone,
/// when set), in the event's trace.
fn route_message(
    event: &Event,
    only_rule: Option<RuleId>,
    trace: &RequestTrace,
) -> OutgoingMessage {
    let message = EventMessage {
        event_id: event.id,
        org: event.org,
        workspace: event.workspace,
        only_rule,
        traceparent: event.trace_id.map(|t| trace.parent_of(event.id, t)),
        event: CarriedEvent::of(event),
    };
    OutgoingMessage::now(serde_json::to_string(&message).expect("message serialises"))
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
            if deps.workspaces().workspace(*org, ws).await?.is_none() {
                return Err(IngestError::UnknownWorkspace);
            }
            (*org, ws, format!("machine_key:{access_key}"))
        }
        Sender::Session {
            org,
            workspace,
            actor,
        } => (*org, *workspace, actor.clone()),
    })
}

/// The event `input` becomes, under `id`, in its sender's workspace.
async fn new_event(
    deps: &Deps,
    sender: &Sender,
    input: NewEvent,
    id: EventId,
    trace_id: TraceId,
) -> Result<Event, IngestError> {
    let (org, workspace, created_by) = resolve_workspace(deps, sender, &input).await?;
    Ok(Event {
        id,
        org,
        workspace,
        event: input.event,
        resource: input.resource,
        resource_id: input.resource_id,
        payload: input.payload,
        created_by,
        created_at: deps.now(),
        trace_id: Some(trace_id),
    })
}

/// Adds an event type (and resource) to the workspace's catalogs, as seen in events and rules.
pub async fn remember_keys(
    deps: &Deps,
    org: OrgId,
    workspace: WorkspaceId,
    event: &str,
    resource: Option<&str>,
) -> Result<(), StoreError> {
    let entries = catalog_entries(org, workspace, event, resource, deps.now());
    deps.catalog().add_to_catalog(&entries).await
}

fn catalog_entries(
    org: OrgId,
    workspace: WorkspaceId,
    event: &str,
    resource: Option<&str>,
    created_at: time::OffsetDateTime,
) -> Vec<CatalogEntry> {
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
    entries
}
