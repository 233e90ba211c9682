//! `/connections/{id}/mappings/default`: a connection's field mapping — how an event's payload
//! becomes the fields its connector sends. Written conditionally (`expected_version`), so two
//! editors cannot overwrite each other unseen. The engine is `switchyard_core::mapping`.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_core::mapping::{
    FieldMapping, FieldRule, MAX_DEST_CHARS, MAX_FIELDS, MAX_TRANSFORMS, SCHEMA_VERSION,
};
use switchyard_core::{ConnectionId, StoreError, ValidationErrors};
use utoipa::ToSchema;

use super::auth::Machine;
use super::body::{JsonBody, PathId};
use super::error::{ApiError, ApiResult};
use super::openapi::{BadRequest, Conflict, NotFound, PayloadTooLarge, Unauthorized};
use crate::Deps;

/// The connection id in the path.
const ID: &str = "Connection id.";

/// A connection's mapping and its version (0: none written yet).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"schema_version": 1, "version": 3, "fields": [
    {"dest": "text", "source": {"type": "path", "value": "email"}, "transforms": [{"type": "trim"}],
     "on_error": "fail_action"},
    {"dest": "timestamp", "source": {"type": "path", "value": "created_at"},
     "transforms": [{"type": "to_datetime"}], "on_error": "warn_action"}]}))]
pub struct MappingView {
    /// Always 1.
    schema_version: u64,
    #[schema(value_type = Vec<MappingField>)]
    fields: Vec<FieldRule>,
    /// Increases by one with every write; pass it as `expected_version` to write next.
    version: u64,
}

/// `PUT` body: the whole mapping, replacing the stored one.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct PutMapping {
    /// Must be 1.
    #[schema(minimum = 1, maximum = 1)]
    schema_version: u64,
    #[schema(max_items = 250)]
    fields: Vec<MappingField>,
    /// The version this write replaces, as last read (0 when the connection has no mapping
    /// yet). Another value answers 409 and changes nothing.
    #[schema(minimum = 0)]
    expected_version: u64,
}

/// One destination field and how to fill it.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct MappingField {
    /// The field the connector receives (1–128 characters, unique in the mapping).
    #[schema(min_length = 1, max_length = 128)]
    dest: String,
    source: MappingSource,
    /// Applied in order; at most 10.
    #[serde(default)]
    #[schema(max_items = 10)]
    transforms: Vec<MappingTransform>,
    /// What a field that cannot be produced does: `skip_field` leaves it out, `warn_action`
    /// leaves it out and records a warning on the attempt, `fail_action` (the default) makes
    /// the attempt a `mapping_error` and fails the delivery.
    #[serde(default)]
    on_error: Option<OnErrorName>,
}

/// Where the value comes from.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct MappingSource {
    #[serde(rename = "type")]
    kind: SourceType,
    /// `path`: a dotted path into the event's payload (`email`, `user.address.city`,
    /// `items.0.sku`). `literal`: any JSON value but null.
    value: Value,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceType {
    Path,
    Literal,
}

/// One transform. `substring` takes `start` (default 0) and optional `length`, in characters;
/// `default` takes `value`, used when the value is missing or null. Exact semantics:
/// docs/mappings.md.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct MappingTransform {
    #[serde(rename = "type")]
    kind: TransformType,
    #[schema(minimum = 0)]
    start: Option<u64>,
    #[schema(minimum = 0)]
    length: Option<u64>,
    value: Option<Value>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransformType {
    ToString,
    ToNumber,
    ToBoolean,
    ToDate,
    ToDatetime,
    Default,
    Trim,
    Lower,
    Upper,
    Substring,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnErrorName {
    SkipField,
    WarnAction,
    FailAction,
}

#[utoipa::path(
    get,
    path = "/api/v1/connections/{id}/mappings/default",
    operation_id = "getConnectionMapping",
    summary = "Get a connection's field mapping",
    description = "The connection's field mapping with its `version`. A connection with no \
        mapping yet answers an empty one (`fields: []`) at version 0; its connector then \
        receives the payload's top-level fields as they are.",
    tag = "connections",
    security(("machine_jwt" = [])),
    params(("id" = uuid::Uuid, Path, description = ID)),
    responses(
        (status = 200, description = "The mapping.", body = MappingView),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ),
)]
pub async fn get(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<ConnectionId>,
) -> ApiResult<Json<MappingView>> {
    super::load_connection(&deps, machine.org, id).await?;
    let stored = deps.mappings().connection_mapping(machine.org, id).await?;
    let (mapping, version) = match stored {
        Some(s) => (s.mapping, s.version),
        None => (FieldMapping::empty(), 0),
    };
    Ok(Json(view(mapping, version)))
}

#[utoipa::path(
    put,
    path = "/api/v1/connections/{id}/mappings/default",
    operation_id = "putConnectionMapping",
    summary = "Replace a connection's field mapping",
    description = "Replaces the connection's field mapping, if its version is still \
        `expected_version` (0 for the first write); otherwise 409 and nothing changes. At most \
        250 fields of at most 10 transforms each. Every problem in the body is reported at once, \
        named like `fields[3].transforms[0].type`. Webhook connections send the event envelope \
        and do not apply a mapping.",
    tag = "connections",
    security(("machine_jwt" = [])),
    params(("id" = uuid::Uuid, Path, description = ID)),
    request_body = PutMapping,
    responses(
        (status = 200, description = "The mapping as stored, with its new version.",
            body = MappingView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
    ),
)]
pub async fn put(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<ConnectionId>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<MappingView>> {
    super::load_connection(&deps, machine.org, id).await?;
    let (mapping, expected) = parse(body).map_err(ApiError::validation)?;
    let version = match deps
        .mappings()
        .put_connection_mapping(machine.org, id, &mapping, expected)
        .await
    {
        Ok(version) => version,
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::conflict(
                "The mapping has changed since expected_version; read it again and retry",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(org = %machine.org, connection_id = %id, version, fields = mapping.fields.len(), "field mapping written");
    Ok(Json(view(mapping, version)))
}

/// The mapping and `expected_version`, every problem of both reported together.
fn parse(body: Value) -> Result<(FieldMapping, u64), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let Value::Object(mut body) = body else {
        return Err(ValidationErrors::single("body", "must be an object"));
    };
    let expected = match body.remove("expected_version") {
        None => {
            errors.push("expected_version", "is required (0 for the first write)");
            None
        }
        Some(v) => {
            let n = v.as_u64();
            if n.is_none() {
                errors.push("expected_version", "must be a non-negative integer");
            }
            n
        }
    };
    match FieldMapping::parse(&Value::Object(body)) {
        Ok(mapping) => errors.into_result((mapping, expected.unwrap_or_default())),
        Err(e) => {
            errors.0.extend(e.0);
            Err(errors)
        }
    }
}

fn view(mapping: FieldMapping, version: u64) -> MappingView {
    MappingView {
        schema_version: mapping.schema_version,
        fields: mapping.fields,
        version,
    }
}

// The limits the schema annotations above repeat as literals (attributes take no paths).
const _: () = assert!(MAX_FIELDS == 250 && MAX_TRANSFORMS == 10 && MAX_DEST_CHARS == 128);
const _: () = assert!(SCHEMA_VERSION == 1);
