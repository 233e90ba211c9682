//! `POST /rules/{id}/test` (extension, Meshes' "Send Test Event"): a sample event sent through
//! one rule alone, delivered and recorded like any other event.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Map, Value, json};
use switchyard_core::RuleId;
use switchyard_core::domain::EventStatus;
use tracing::Instrument;
use utoipa::ToSchema;

use super::auth::{Caller, Writer};
use super::body::{PathId, parse_json, read_bytes};
use super::error::{ApiError, ApiResult};
use super::openapi::{BadRequest, Forbidden, NotFound, PayloadTooLarge, RateLimited, Unauthorized};
use super::rate_limit;
use super::views::{EventCreated, EventView};
use crate::Deps;
use crate::ingest::{self, NewEvent, Sender};

/// What a test event carries; every field is optional.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RuleTestInput {
    /// The payload to send (default: [`sample_payload`]).
    payload: Option<Map<String, Value>>,
    /// Default: the rule's `resource`, else `global`.
    resource: Option<String>,
    /// Default: the rule's `resource_id`.
    #[schema(pattern = r"^[A-Za-z0-9._:-]{1,64}$")]
    resource_id: Option<String>,
}

/// The payload of a test event when the request brings none: the fields SaaS actions most
/// often read, marked as a test.
pub fn sample_payload() -> Value {
    json!({
        "test": true,
        "email": "test@example.com",
        "first_name": "Test",
        "last_name": "User",
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/rules/{id}/test",
    operation_id = "testRule",
    summary = "Send a test event through a rule",
    description = "**Extension** (Meshes' \"Send Test Event\"): stores an event of the rule's \
        event type and delivers it through this rule alone — whatever its conditions or `active` \
        flag say, and through no other rule. The body is optional; without a `payload` a sample \
        (`{\"test\": true, \"email\": \"test@example.com\", \"first_name\": \"Test\", \
        \"last_name\": \"User\"}`) is sent. The event is an ordinary event afterwards: follow it \
        with `GET /events/{id}`, replay or cancel it. It counts towards rate limits and plan quotas.",
    tag = "rules",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = "Rule id.")),
    request_body(content = Option<RuleTestInput>),
    responses(
        (status = 201, description = "The test event, accepted.", body = EventCreated),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
    ),
)]
pub async fn send(
    State(deps): State<Deps>,
    caller: Writer,
    PathId(id): PathId<RuleId>,
    request: Request,
) -> ApiResult<(StatusCode, HeaderMap, Json<EventCreated>)> {
    let bytes = read_bytes(request, &deps).await?;
    let body: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        parse_json(&bytes)?
    };
    let Value::Object(mut body) = body else {
        return Err(ApiError::bad_request("Request body must be a JSON object"));
    };
    let rule = caller.rule(&deps, id).await?;
    // The rule decides the event type and workspace; resource, resource_id and payload may be
    // chosen, defaulting to what the rule names.
    body.insert("event".into(), Value::from(rule.event.as_str()));
    body.insert("workspace".into(), Value::from(rule.workspace.to_string()));
    let fill = |body: &mut Map<String, Value>, key: &str, value: Option<&String>| {
        if body.get(key).is_none_or(Value::is_null)
            && let Some(value) = value
        {
            body.insert(key.into(), Value::from(value.as_str()));
        }
    };
    // A resource session's test event is about its own resource: it could not see another.
    if let Caller::Session(session) = &*caller
        && let (Some(resource), Some(resource_id)) = (&session.resource, &session.resource_id)
    {
        body.insert("resource".into(), Value::from(resource.as_str()));
        body.insert("resource_id".into(), Value::from(resource_id.as_str()));
    }
    fill(&mut body, "resource", rule.resource.as_ref());
    fill(&mut body, "resource_id", rule.resource_id.as_ref());
    if body.get("payload").is_none_or(Value::is_null) {
        body.insert("payload".into(), sample_payload());
    }
    let input = NewEvent::from_json(&Value::Object(body))?;
    let headers = rate_limit::check(&deps, rule.workspace, 1)?;
    let sender = match &*caller {
        Caller::Machine(m) => Sender::Machine {
            org: m.org,
            access_key: m.access_key.clone(),
        },
        Caller::Session(_) => Sender::Session {
            org: caller.org(),
            workspace: rule.workspace,
            actor: caller.actor(),
        },
    };
    let trace = crate::trace::RequestTrace::fresh();
    let event = ingest::accept_test(&deps, &sender, input, rule.id, &trace)
        .instrument(trace.request_span())
        .await?;
    tracing::info!(org = %caller.org(), rule_id = %rule.id, event_id = %event.id, "rule test event sent");
    let event = EventView::summary(&event, EventStatus::Pending);
    Ok((StatusCode::CREATED, headers, Json(EventCreated { event })))
}
