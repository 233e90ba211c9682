//! `/connections/{id}/mappings/default`: a connection's field mapping — how an event's payload
//! becomes the fields its connector sends. A write may be conditional (`expected_version`), so
//! two editors cannot overwrite each other unseen. The engine is `switchyard_core::mapping`.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_core::domain::Connection;
use switchyard_core::mapping::{
    FieldMapping, MAX_DEST_CHARS, MAX_FIELDS, MAX_NAME_CHARS, MAX_NOTES_CHARS, MAX_TRANSFORMS,
    MappingMeta, SCHEMA_VERSION, VersionedMapping, default_mapping_id,
};
use switchyard_core::{ConnectionId, OrgId, StoreError, ValidationErrors};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::{Reader, Writer};
use super::body::{JsonBody, PathId};
use super::error::{ApiError, ApiResult};
use super::openapi::{BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized};
use super::schemas::IntegrationTypeName;
use crate::Deps;

/// The connection id in the path.
const ID: &str = "Connection id.";
/// The name of a mapping that was given none.
const DEFAULT_NAME: &str = "Default mapping";
/// How often an unconditional write (no `expected_version`) reads the version again after
/// another writer moved it in between.
const UNCONDITIONAL_TRIES: usize = 5;

/// `GET` and `PUT`: the mapping and whether one was written.
#[derive(Serialize, ToSchema)]
pub struct MappingEnvelope {
    mapping: MappingRecord,
    /// `saved`: a mapping was written; `default`: none was, and the connector receives the
    /// payload's top-level fields as they are (`schema.fields` is empty, `version` 0).
    #[schema(value_type = MappingStatus)]
    status: &'static str,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum MappingStatus {
    Saved,
    Default,
}

/// A connection's mapping.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "0b4e6f1a-9c3d-8a27-b5e1-2f7d9c4a6e80",
    "mapping_id": "0b4e6f1a-9c3d-8a27-b5e1-2f7d9c4a6e80",
    "connection_id": "019c8f3e-6a1b-7c2d-8e4f-5a6b7c8d9e0f",
    "workspace_id": "019c8f3e-5f00-7a00-9b00-0c1d2e3f4a5b", "integration_type": "slack",
    "name": "Signup alerts", "version": 3,
    "schema": {"schema_version": 1, "meta": {"name": "Signup alerts"}, "fields": [
        {"dest": "text", "source": {"type": "path", "value": "email"},
         "transforms": [{"type": "trim"}], "on_error": "fail_action"}]},
    "created_at": "2026-03-01T10:00:00Z", "updated_at": "2026-03-02T11:30:00Z"}))]
pub struct MappingRecord {
    /// The mapping's id: the same for the connection's lifetime.
    id: uuid::Uuid,
    /// The same as `id` (the connection's one mapping, `default`).
    mapping_id: uuid::Uuid,
    connection_id: uuid::Uuid,
    workspace_id: uuid::Uuid,
    #[schema(value_type = IntegrationTypeName)]
    integration_type: &'static str,
    /// `schema.meta.name`, or "Default mapping".
    name: String,
    #[schema(value_type = MappingSchema)]
    schema: FieldMapping,
    /// 0 until the first write, then one more with every write; pass it as
    /// `expected_version` to write conditionally.
    version: u64,
    /// When the first version was written (before any: the connection's creation).
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    /// When this version was written (before any: the connection's creation).
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

/// `PUT` body: the whole mapping, replacing the stored one.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct PutMapping {
    schema: MappingSchema,
    /// The version this write replaces, as last read (0 when the connection has no mapping
    /// yet); another value answers 409 and changes nothing. Absent: the write replaces
    /// whatever is stored.
    #[schema(minimum = 0)]
    expected_version: Option<u64>,
    /// The mapping's name, kept as `schema.meta.name` (this wins over one there).
    #[schema(min_length = 1, max_length = 128)]
    name: Option<String>,
    /// If given, the mapping's `id` (or `default`).
    mapping_id: Option<String>,
    /// If given, the connection's workspace.
    workspace_id: Option<uuid::Uuid>,
}

/// A mapping: which destination fields to fill, and how.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct MappingSchema {
    /// Must be 1.
    #[schema(minimum = 1, maximum = 1)]
    schema_version: u64,
    #[schema(max_items = 250)]
    fields: Vec<MappingField>,
    meta: Option<MappingMetaSchema>,
}

/// For the people editing the mapping; no effect on delivery.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct MappingMetaSchema {
    #[schema(max_length = 128)]
    name: Option<String>,
    #[schema(max_length = 2000)]
    notes: Option<String>,
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
    /// For the people editing it; no effect on delivery.
    #[schema(max_length = 2000)]
    notes: Option<String>,
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
        mapping yet answers an empty one (`schema.fields: []`) at version 0 with status \
        `default`; its connector then receives the payload's top-level fields as they are.",
    tag = "connections",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = ID)),
    responses(
        (status = 200, description = "The mapping.", body = MappingEnvelope),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ),
)]
pub async fn get(
    State(deps): State<Deps>,
    caller: Reader,
    PathId(id): PathId<ConnectionId>,
) -> ApiResult<Json<MappingEnvelope>> {
    let connection = caller.connection(&deps, id).await?;
    let stored = deps.mappings().connection_mapping(caller.org(), id).await?;
    Ok(Json(envelope(&connection, stored)))
}

#[utoipa::path(
    put,
    path = "/api/v1/connections/{id}/mappings/default",
    operation_id = "putConnectionMapping",
    summary = "Replace a connection's field mapping",
    description = "Replaces the connection's field mapping. With `expected_version`, only if \
        the stored version is still that one (0 for the first write); otherwise 409 and nothing \
        changes. Without it, the write replaces whatever is stored. At most 250 fields of at \
        most 10 transforms each. Every problem in the body is reported at once, named like \
        `schema.fields[3].transforms[0].type`. Webhook connections send the event envelope \
        and do not apply a mapping.",
    tag = "connections",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = ID)),
    request_body = PutMapping,
    responses(
        (status = 200, description = "The mapping as stored, with its new version.",
            body = MappingEnvelope),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
    ),
)]
pub async fn put(
    State(deps): State<Deps>,
    caller: Writer,
    PathId(id): PathId<ConnectionId>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<MappingEnvelope>> {
    let connection = caller.connection(&deps, id).await?;
    let put = parse(body, &connection).map_err(ApiError::validation)?;
    let now = deps.now();
    let version = match put.expected_version {
        Some(expected) => write(&deps, caller.org(), id, &put.mapping, expected, now).await?,
        None => write_unconditionally(&deps, caller.org(), id, &put.mapping, now).await?,
    };
    tracing::info!(org = %caller.org(), connection_id = %id, version, fields = put.mapping.fields.len(), "field mapping written");
    let stored = deps.mappings().connection_mapping(caller.org(), id).await?;
    Ok(Json(envelope(&connection, stored)))
}

/// Writes if the stored version is still `expected`; 409 otherwise.
async fn write(
    deps: &Deps,
    org: OrgId,
    id: ConnectionId,
    mapping: &FieldMapping,
    expected: u64,
    now: OffsetDateTime,
) -> ApiResult<u64> {
    match deps
        .mappings()
        .put_connection_mapping(org, id, mapping, expected, now)
        .await
    {
        Ok(version) => Ok(version),
        Err(StoreError::Conflict(_)) => Err(ApiError::conflict(
            "The mapping has changed since expected_version; read it again and retry",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Writes over whatever version is stored: the conditional write on the version just read,
/// again if another writer got in between.
async fn write_unconditionally(
    deps: &Deps,
    org: OrgId,
    id: ConnectionId,
    mapping: &FieldMapping,
    now: OffsetDateTime,
) -> ApiResult<u64> {
    for _ in 0..UNCONDITIONAL_TRIES {
        let current = deps
            .mappings()
            .connection_mapping(org, id)
            .await?
            .map_or(0, |m| m.version);
        match deps
            .mappings()
            .put_connection_mapping(org, id, mapping, current, now)
            .await
        {
            Ok(version) => return Ok(version),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict(
        "The mapping is being written by others; retry",
    ))
}

/// A valid `PUT` body.
struct Put {
    mapping: FieldMapping,
    expected_version: Option<u64>,
}

/// The body, every problem reported together; the schema's are named under `schema.`.
fn parse(body: Value, connection: &Connection) -> Result<Put, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let Value::Object(body) = body else {
        return Err(ValidationErrors::single("body", "must be an object"));
    };
    for key in body.keys() {
        if ![
            "schema",
            "expected_version",
            "name",
            "mapping_id",
            "workspace_id",
        ]
        .contains(&key.as_str())
        {
            errors.push(key.clone(), "is not a known field");
        }
    }
    let expected_version = match body.get("expected_version") {
        None | Some(Value::Null) => None,
        Some(v) => {
            if v.as_u64().is_none() {
                errors.push("expected_version", "must be a non-negative integer");
            }
            v.as_u64()
        }
    };
    let name = match body.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) if !n.trim().is_empty() && n.chars().count() <= MAX_NAME_CHARS => {
            Some(n.clone())
        }
        Some(_) => {
            errors.push(
                "name",
                format!("must be a string of 1 to {MAX_NAME_CHARS} characters"),
            );
            None
        }
    };
    let mapping_id = default_mapping_id(connection.id).to_string();
    match body.get("mapping_id") {
        None | Some(Value::Null) => {}
        Some(Value::String(m)) if m == "default" || m.eq_ignore_ascii_case(&mapping_id) => {}
        Some(_) => errors.push(
            "mapping_id",
            format!("must be this connection's mapping, {mapping_id} (or \"default\")"),
        ),
    }
    let workspace = connection.workspace.to_string();
    match body.get("workspace_id") {
        None | Some(Value::Null) => {}
        Some(Value::String(w)) if w.eq_ignore_ascii_case(&workspace) => {}
        Some(_) => errors.push("workspace_id", "must be the connection's workspace"),
    }
    let mapping = match body.get("schema") {
        None => {
            errors.push("schema", "is required");
            None
        }
        Some(schema) => match FieldMapping::parse(schema) {
            Ok(mapping) => Some(mapping),
            Err(e) => {
                errors.0.extend(e.0.into_iter().map(|mut e| {
                    e.param = if e.param == "body" {
                        "schema".into()
                    } else {
                        format!("schema.{}", e.param)
                    };
                    e
                }));
                None
            }
        },
    };
    // A schema that parsed and no other problem: only then is there a mapping to write.
    let Some(mut mapping) = mapping.filter(|_| errors.is_empty()) else {
        return Err(errors);
    };
    if let Some(name) = name {
        mapping.meta.get_or_insert_with(MappingMeta::default).name = Some(name);
    }
    Ok(Put {
        mapping,
        expected_version,
    })
}

fn envelope(connection: &Connection, stored: Option<VersionedMapping>) -> MappingEnvelope {
    let (status, stored) = match stored {
        Some(s) => ("saved", s),
        None => (
            "default",
            VersionedMapping {
                mapping: FieldMapping::empty(),
                version: 0,
                created_at: connection.created_at,
                updated_at: connection.created_at,
            },
        ),
    };
    let id = default_mapping_id(connection.id);
    let name = stored
        .mapping
        .meta
        .as_ref()
        .and_then(|m| m.name.clone())
        .unwrap_or_else(|| DEFAULT_NAME.to_owned());
    MappingEnvelope {
        mapping: MappingRecord {
            id,
            mapping_id: id,
            connection_id: connection.id.0,
            workspace_id: connection.workspace.0,
            integration_type: connection.kind.as_str(),
            name,
            schema: stored.mapping,
            version: stored.version,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        },
        status,
    }
}

// The limits the schema annotations above repeat as literals (attributes take no paths).
const _: () = assert!(MAX_FIELDS == 250 && MAX_TRANSFORMS == 10 && MAX_DEST_CHARS == 128);
const _: () = assert!(MAX_NAME_CHARS == 128 && MAX_NOTES_CHARS == 2000);
const _: () = assert!(SCHEMA_VERSION == 1);
