//! `/rules`: create, list (filtered), get.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use switchyard_core::conditions::Conditions;
use switchyard_core::domain::{IntegrationType, Rule, RuleFilter};
use switchyard_core::{ConnectionId, RuleId, ValidationErrors, WorkspaceId, validation};

use super::auth::Machine;
use super::body::{JsonBody, PathId};
use super::error::{ApiError, ApiResult};
use super::query::Params;
use super::views::{List, RuleView};
use crate::Deps;

#[derive(Deserialize)]
pub struct CreateRule {
    workspace: WorkspaceId,
    connection: ConnectionId,
    event: String,
    metadata: Map<String, Value>,
    resource: Option<String>,
    resource_id: Option<String>,
    /// Extension: a filter on the event; see `switchyard_core::conditions`.
    conditions: Option<Value>,
    #[serde(default = "yes")]
    active: bool,
    #[serde(default)]
    hidden: bool,
}

fn yes() -> bool {
    true
}

/// The actions each deliverable type offers.
fn actions(kind: IntegrationType) -> Vec<&'static str> {
    super::catalog::actions(kind)
        .iter()
        .map(|a| a.action)
        .collect()
}

pub async fn create(
    State(deps): State<Deps>,
    machine: Machine,
    JsonBody(body): JsonBody<CreateRule>,
) -> ApiResult<(StatusCode, Json<Value>)> {
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

    super::load_workspace(&deps, machine.org, body.workspace).await?;
    let connection = deps
        .store
        .connection(machine.org, body.connection)
        .await?
        .filter(|c| c.workspace == body.workspace)
        .ok_or_else(|| ApiError::not_found("Connection"))?;
    let action = action.expect("validated above");
    if !actions(connection.kind).contains(&action) {
        return Err(ApiError::validation(ValidationErrors::single(
            "metadata.action",
            format!(
                "must be one of the {} actions: {}",
                connection.kind,
                actions(connection.kind).join(", ")
            ),
        )));
    }

    let now = deps.now();
    let rule = Rule {
        id: RuleId::new(),
        org: machine.org,
        workspace: body.workspace,
        connection: connection.id,
        kind: connection.kind,
        event: body.event,
        resource: body.resource,
        resource_id: body.resource_id,
        metadata: body.metadata,
        conditions,
        active: body.active,
        hidden: body.hidden,
        created_by: format!("machine_key:{}", machine.access_key),
        created_at: now,
        updated_at: now,
    };
    deps.store.create_rule(&rule).await?;
    crate::ingest::remember_keys(
        &deps,
        rule.org,
        rule.workspace,
        &rule.event,
        rule.resource.as_deref(),
    )
    .await?;
    tracing::info!(org = %machine.org, workspace = %rule.workspace, rule_id = %rule.id, event = %rule.event, "rule created");
    Ok((
        StatusCode::CREATED,
        Json(json!({ "rule": RuleView::from(rule) })),
    ))
}

pub async fn list(
    State(deps): State<Deps>,
    machine: Machine,
    params: Params,
) -> ApiResult<Json<List<RuleView>>> {
    let filter = RuleFilter {
        workspace: params.id("workspace")?,
        connection: params.id("connection")?,
        event: params.get("event"),
        resource: params.get("resource"),
        resource_id: params.get("resource_id"),
    };
    list_filtered(&deps, &machine, &filter, &params).await
}

pub async fn list_for_workspace(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(workspace): PathId<WorkspaceId>,
    params: Params,
) -> ApiResult<Json<List<RuleView>>> {
    super::load_workspace(&deps, machine.org, workspace).await?;
    let filter = RuleFilter {
        workspace: Some(workspace),
        connection: params.id("connection")?,
        event: params.get("event"),
        resource: params.get("resource"),
        resource_id: params.get("resource_id"),
    };
    list_filtered(&deps, &machine, &filter, &params).await
}

async fn list_filtered(
    deps: &Deps,
    machine: &Machine,
    filter: &RuleFilter,
    params: &Params,
) -> ApiResult<Json<List<RuleView>>> {
    let page = deps
        .store
        .list_rules(machine.org, filter, params.page()?)
        .await?;
    Ok(Json(List::from_page(page, RuleView::from)))
}

pub async fn get(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<RuleId>,
) -> ApiResult<Json<RuleView>> {
    let rule = deps
        .store
        .rule(machine.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Rule"))?;
    Ok(Json(rule.into()))
}

pub async fn delete(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<RuleId>,
) -> ApiResult<Json<Value>> {
    let rule = deps
        .store
        .rule(machine.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Rule"))?;
    if !deps.store.delete_rule(machine.org, id).await? {
        return Err(ApiError::not_found("Rule"));
    }
    tracing::info!(org = %machine.org, rule_id = %id, "rule deleted");
    Ok(Json(json!({
        "id": rule.id.to_string(),
        "connection": rule.connection.to_string(),
        "type": rule.kind.as_str(),
        "event": rule.event,
    })))
}
