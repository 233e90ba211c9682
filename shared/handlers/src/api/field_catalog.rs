//! `GET /connections/{id}/fields`: the destination field catalog a connection's field mapping
//! fills — typed fields read from the provider's properties API where the connector writes its
//! properties, else the fields the connector sends; a webhook has none.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use switchyard_core::domain::Connection;
use switchyard_core::field_catalog::{DestinationField, catalog_version};
use switchyard_core::{ConnectionId, ValidationErrors};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::Reader;
use super::body::PathId;
use super::error::{ApiError, ApiResult};
use super::openapi::{BadRequest, NotFound, Unauthorized, UnprocessableDestination};
use super::query::Params;
use super::schemas::{FieldKindName, IntegrationTypeName};
use crate::Deps;

/// A connection's destination field catalog.
#[derive(Serialize, ToSchema)]
pub struct FieldCatalogView {
    /// The catalog's id: stable for the connection.
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    workspace_id: String,
    #[schema(format = Uuid)]
    connection_id: String,
    #[schema(value_type = IntegrationTypeName)]
    integration_type: &'static str,
    /// `sha256:<hex>` of the fields sorted by key: unchanged fields, same version.
    #[schema(example = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    catalog_version: String,
    /// When the provider was asked; for a catalog that needs no call (fixed fields, a
    /// webhook), the connection's last change.
    #[serde(with = "time::serde::rfc3339")]
    refreshed_at: OffsetDateTime,
    /// Who made the connection (the catalog belongs to it).
    created_by: String,
    /// The connection's creation.
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    /// The later of the connection's last change and `refreshed_at`.
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    #[schema(value_type = Vec<FieldView>)]
    fields: Vec<DestinationField>,
}

/// One destination field.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FieldView {
    /// What a mapping's `dest` names.
    key: String,
    #[schema(value_type = FieldKindName)]
    r#type: String,
    label: Option<String>,
    description: Option<String>,
    constraints: Option<ConstraintsView>,
    /// The provider's own description of the field (its type names), as it gave them.
    #[schema(value_type = Option<Object>)]
    provider_meta: Option<serde_json::Value>,
}

/// What a field accepts beyond its type; absent parts are unconstrained.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ConstraintsView {
    required: Option<bool>,
    read_only: Option<bool>,
    /// `email`, `phone`, `url`, `uuid`, `date`.
    format: Option<String>,
    allowed_values: Option<Vec<String>>,
    min: Option<f64>,
    max: Option<f64>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    pattern: Option<String>,
}

/// A stable id for the connection's catalog, distinct from the connection's own: its bytes
/// with a fixed mask, as a version 8 (custom) UUID.
fn catalog_id(connection: &Connection) -> String {
    let mut bytes = *connection.id.0.as_bytes();
    for (b, mask) in bytes.iter_mut().zip(b"field-catalog-id") {
        *b ^= mask;
    }
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

#[utoipa::path(
    get,
    path = "/api/v1/connections/{id}/fields",
    operation_id = "getConnectionFields",
    summary = "Get a connection's destination field catalog",
    description = "The typed fields a field mapping can fill (`dest`). HubSpot (contact \
        properties) and Salesforce (the Contact's describe) are read from the provider and \
        kept a few minutes (`refresh=true` asks again); other types answer the fields their \
        connector sends (e-mail, names, phone …), typed; a webhook answers an empty `fields`. \
        `catalog_version` changes exactly when the fields do. A provider that refuses or fails \
        gets 422.",
    tag = "catalog",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Connection id."),
        ("refresh" = Option<bool>, Query,
            description = "Ask the provider again instead of a recently read catalog."),
    ),
    responses(
        (status = 200, description = "The destination field catalog.", body = FieldCatalogView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 422, response = UnprocessableDestination),
    ),
)]
pub async fn connection_fields(
    State(deps): State<Deps>,
    caller: Reader,
    PathId(id): PathId<ConnectionId>,
    params: Params,
) -> ApiResult<Json<FieldCatalogView>> {
    let refresh = super::catalog::refresh(&params);
    let connection = caller.connection(&deps, id).await?;
    let read = match super::catalog::provider_secrets(&deps, &connection).await? {
        Ok(secrets) => {
            deps.integrations
                .field_catalog(&connection, &secrets, refresh)
                .await
        }
        Err(why) => Err(why),
    }
    .map_err(|why| ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        name: "UnprocessableDestination",
        message: "The provider did not describe the destination's fields".into(),
        ..ApiError::validation(ValidationErrors::single("connection", why))
    })?;
    let refreshed_at = read.read_at.unwrap_or(connection.updated_at);
    Ok(Json(FieldCatalogView {
        id: catalog_id(&connection),
        workspace_id: connection.workspace.to_string(),
        connection_id: connection.id.to_string(),
        integration_type: connection.kind.as_str(),
        catalog_version: catalog_version(&read.fields),
        refreshed_at,
        created_by: connection.created_by.clone(),
        created_at: connection.created_at,
        updated_at: refreshed_at.max(connection.updated_at),
        fields: read.fields,
    }))
}
