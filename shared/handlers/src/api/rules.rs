//! `/rules`: create, list (filtered), get, delete, and turn on or off (extension).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};
use switchyard_core::conditions::Conditions;
use switchyard_core::domain::{IntegrationType, Rule, RuleFilter};
use switchyard_core::{
    ConnectionId, RuleId, ValidationErrors, WorkspaceId, integration_catalog, validation,
};
use utoipa::ToSchema;

use super::auth::{Caller, Reader, Writer};
use super::body::{JsonBody, PathId};
use super::error::{ApiError, ApiResult};
use super::openapi::{
    BadRequest, Forbidden, NotFound, PayloadTooLarge, PlanLimitReached, Unauthorized,
};
use super::query::Params;
use super::schemas::{Condition, PageParams, RuleFilters};
use super::views::{List, RuleCreated, RuleDeleted, RuleView};
use crate::Deps;
use switchyard_core::plan::Resource;

#[derive(Deserialize, ToSchema)]
pub struct CreateRule {
    #[schema(value_type = uuid::Uuid)]
    workspace: WorkspaceId,
    /// A connection of the same workspace.
    #[schema(value_type = uuid::Uuid)]
    connection: ConnectionId,
    /// The event type the rule routes (`user.signup`).
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = r"^[^\s\x00-\x1f\x7f-\x9f]+$"
    )]
    event: String,
    /// `action` (required) is one of the connection type's actions (`send_webhook` for a
    /// webhook); `id`, `value` and other fields are the action's settings.
    #[schema(value_type = RuleMetadata)]
    metadata: Map<String, Value>,
    /// When set, only events about this resource match.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = r"^[^\s\x00-\x1f\x7f-\x9f]+$"
    )]
    resource: Option<String>,
    /// When set, only events about this resource id match.
    #[schema(pattern = r"^[A-Za-z0-9._:-]{1,64}$")]
    resource_id: Option<String>,
    /// Extension: a filter on the event (payload paths, operators, and/or/not); parsed and
    /// bounded by `switchyard_core::conditions`.
    #[schema(value_type = Option<Condition>)]
    conditions: Option<Value>,
    /// Inactive rules match nothing (default `true`).
    #[serde(default = "yes")]
    active: bool,
    #[serde(default)]
    hidden: bool,
}

/// A rule's `metadata`: the action and its settings.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RuleMetadata {
    /// One of the connection type's actions (`GET /connections/{id}/actions`).
    action: String,
    /// The action's target (a list, a channel…), where it has one.
    id: Option<String>,
    value: Option<String>,
}

/// The rule id in the path.
const ID: &str = "Rule id.";

fn yes() -> bool {
    true
}

/// The action's required inputs (catalog) the rule's `metadata` lacks, as errors.
fn check_action(
    kind: IntegrationType,
    metadata: &Map<String, Value>,
    action: &str,
) -> ApiResult<()> {
    let spec = integration_catalog::spec(kind);
    let Some(spec_action) = spec.action(action) else {
        let keys: Vec<&str> = spec.action_keys().collect();
        return Err(ApiError::validation(ValidationErrors::single(
            "metadata.action",
            format!("must be one of the {kind} actions: {}", keys.join(", ")),
        )));
    };
    let mut errors = ValidationErrors::default();
    for input in integration_catalog::missing_inputs(spec_action, metadata) {
        errors.push(
            format!("metadata.{}", input.field),
            format!("is required for {action}: {}", input.label.to_lowercase()),
        );
    }
    errors.into_result(()).map_err(ApiError::validation)
}

/// Creates a rule: events of `event` (and `resource`, `resource_id`, `conditions` when set)
/// in the workspace are delivered through the connection. Several rules on one event fan out.
#[utoipa::path(
    post,
    path = "/api/v1/rules",
    operation_id = "createRule",
    summary = "Create a rule",
    description = "Creates a rule: events of `event` in the workspace — and of `resource` and \
        `resource_id` when set — are delivered through the connection. Several rules on one \
        event fan out. **Extension**: `conditions`, a filter on the event's payload paths \
        (equals, in, prefix, suffix, exists, numeric ranges, all/any/not).",
    tag = "rules",
    security(("machine_jwt" = []), ("session_token" = [])),
    request_body = CreateRule,
    responses(
        (status = 201, description = "Created.", body = RuleCreated),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = PlanLimitReached),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
    ),
)]
pub async fn create(
    State(deps): State<Deps>,
    caller: Writer,
    JsonBody(body): JsonBody<CreateRule>,
) -> ApiResult<(StatusCode, Json<RuleCreated>)> {
    let mut errors = ValidationErrors::default();
    validation::event_name(&mut errors, "event", &body.event);
    if let Some(r) = &body.resource {
        validation::event_name(&mut errors, "resource", r);
    }
    if let Some(id) = &body.resource_id {
        validation::resource_id(&mut errors, "resource_id", id);
    }
    let conditions = match body.conditions.as_ref().filter(|c| !c.is_null()) {
        None => None,
        Some(raw) => match Conditions::parse(raw) {
            Ok(c) => Some(c),
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        },
    };
    let action = body.metadata.get("action").and_then(Value::as_str);
    if action.is_none() {
        errors.push("metadata.action", "is required");
    }
    errors.into_result(()).map_err(ApiError::validation)?;

    caller.workspace(&deps, body.workspace).await?;
    crate::plan::check_room(&deps, caller.org(), Resource::Rules).await?;
    let connection = deps
        .connections()
        .connection(caller.org(), body.connection)
        .await?
        .filter(|c| c.workspace == body.workspace)
        .ok_or_else(|| ApiError::not_found("Connection"))?;
    check_action(
        connection.kind,
        &body.metadata,
        action.expect("validated above"),
    )?;

    let now = deps.now();
    let rule = Rule {
        id: RuleId::new(),
        org: caller.org(),
        workspace: body.workspace,
        connection: connection.id,
        kind: connection.kind,
        // NFC, as ingest stores event names: a rule matches however the name was typed.
        event: validation::normalized_name(&body.event),
        resource: body.resource.as_deref().map(validation::normalized_name),
        resource_id: body.resource_id,
        metadata: body.metadata,
        conditions,
        active: body.active,
        hidden: body.hidden,
        created_by: caller.actor(),
        created_at: now,
        updated_at: now,
    };
    crate::plan::create_rule(&deps, &rule).await?;
    crate::ingest::remember_keys(
        &deps,
        rule.org,
        rule.workspace,
        &rule.event,
        rule.resource.as_deref(),
    )
    .await?;
    tracing::info!(org = %caller.org(), workspace = %rule.workspace, rule_id = %rule.id, event = %rule.event, "rule created");
    Ok((
        StatusCode::CREATED,
        Json(RuleCreated {
            rule: RuleView::from(rule),
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/rules",
    operation_id = "listRules",
    summary = "List rules",
    description = "Rules of the organization, newest first, filtered by `workspace`, \
        `connection`, `event`, `resource` and `resource_id`.",
    tag = "rules",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(RuleFilters, PageParams),
    responses(
        (status = 200, description = "A page of rules.", body = List<RuleView>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    ),
)]
pub async fn list(
    State(deps): State<Deps>,
    caller: Reader,
    params: Params,
) -> ApiResult<Json<List<RuleView>>> {
    let filter = RuleFilter {
        workspace: caller.list_workspace(params.id("workspace")?)?,
        connection: params.id("connection")?,
        event: params.name("event"),
        resource: params.name("resource"),
        resource_id: params.get("resource_id"),
    };
    list_filtered(&deps, &caller, &filter, &params).await
}

#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{id}/rules",
    operation_id = "listWorkspaceRules",
    summary = "List a workspace's rules",
    tag = "rules",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = "Workspace id."), RuleFilters, PageParams),
    responses(
        (status = 200, description = "A page of the workspace's rules.", body = List<RuleView>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ),
)]
pub async fn list_for_workspace(
    State(deps): State<Deps>,
    caller: Reader,
    PathId(workspace): PathId<WorkspaceId>,
    params: Params,
) -> ApiResult<Json<List<RuleView>>> {
    caller.workspace(&deps, workspace).await?;
    let filter = RuleFilter {
        workspace: Some(workspace),
        connection: params.id("connection")?,
        event: params.name("event"),
        resource: params.name("resource"),
        resource_id: params.get("resource_id"),
    };
    list_filtered(&deps, &caller, &filter, &params).await
}

async fn list_filtered(
    deps: &Deps,
    caller: &Caller,
    filter: &RuleFilter,
    params: &Params,
) -> ApiResult<Json<List<RuleView>>> {
    let page = deps
        .rules()
        .list_rules(caller.org(), filter, params.page()?)
        .await?;
    Ok(Json(List::from_page(page, RuleView::from)))
}

#[utoipa::path(
    get,
    path = "/api/v1/rules/{id}",
    operation_id = "getRule",
    summary = "Get a rule",
    tag = "rules",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = ID)),
    responses(
        (status = 200, description = "The rule.", body = RuleView),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ),
)]
pub async fn get(
    State(deps): State<Deps>,
    caller: Reader,
    PathId(id): PathId<RuleId>,
) -> ApiResult<Json<RuleView>> {
    let rule = caller.rule(&deps, id).await?;
    Ok(Json(rule.into()))
}

/// Deletes a rule; its past deliveries stay in the history.
#[utoipa::path(
    delete,
    path = "/api/v1/rules/{id}",
    operation_id = "deleteRule",
    summary = "Delete a rule",
    tag = "rules",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = ID)),
    responses(
        (status = 200, description = "Deleted.", body = RuleDeleted),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
)]
pub async fn delete(
    State(deps): State<Deps>,
    caller: Writer,
    PathId(id): PathId<RuleId>,
) -> ApiResult<Json<RuleDeleted>> {
    let rule = caller.rule(&deps, id).await?;
    if !deps.rules().delete_rule(caller.org(), id).await? {
        return Err(ApiError::not_found("Rule"));
    }
    tracing::info!(org = %caller.org(), rule_id = %id, "rule deleted");
    Ok(Json(RuleDeleted {
        id: rule.id.to_string(),
        connection: rule.connection.to_string(),
        kind: rule.kind.as_str(),
        event: rule.event,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchRule {
    /// Whether the router fires the rule.
    active: bool,
}

/// Turns a rule on or off (extension): the console's active switch. Nothing else of a rule
/// changes after create — delete it and create another.
#[utoipa::path(
    patch,
    path = "/api/v1/rules/{id}",
    operation_id = "patchRule",
    summary = "Turn a rule on or off",
    description = "**Extension**: sets `active`; an inactive rule is kept but the router does \
        not fire it (Send Test Event still does). Other fields are refused.",
    tag = "rules",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = ID)),
    request_body = PatchRule,
    responses(
        (status = 200, description = "The rule as stored.", body = RuleView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
)]
pub async fn patch(
    State(deps): State<Deps>,
    caller: Writer,
    PathId(id): PathId<RuleId>,
    JsonBody(body): JsonBody<PatchRule>,
) -> ApiResult<Json<RuleView>> {
    caller.rule(&deps, id).await?;
    let rule = deps
        .rules()
        .set_rule_active(caller.org(), id, body.active, deps.now())
        .await?
        .ok_or_else(|| ApiError::not_found("Rule"))?;
    tracing::info!(org = %caller.org(), rule_id = %id, active = body.active, "rule switched");
    Ok(Json(rule.into()))
}
