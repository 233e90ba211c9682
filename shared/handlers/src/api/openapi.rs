//! The OpenAPI 3.1 document of `/api/v1`, generated from the handlers' `#[utoipa::path]`
//! annotations and the views' schemas, so it cannot describe an API other than the one
//! served. Served at `GET /api/v1/openapi.json`, printed by `switchyard openapi`, and committed
//! as `docs/openapi.json` (a test fails when the committed copy is stale).

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use utoipa::openapi::RefOr;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToResponse};

use super::error::ErrorBody;
use super::{
    bulk_replay, catalog, connection_test, connections, cors, deliveries, dlq, events,
    field_catalog, keys, oauth, rule_test, rules, sessions, stats, usage, workspace_catalog,
    workspaces,
};

/// The security scheme names the annotations use.
pub const MACHINE_JWT: &str = "machine_jwt";
pub const PUBLISHABLE_KEY: &str = "publishable_key";
pub const SESSION_TOKEN: &str = "session_token";

/// Malformed JSON, a failed validation (`error.data` names each field), or a query parameter
/// out of range.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct BadRequest(ErrorBody);

/// Missing, malformed, expired, forged or revoked credentials. Every refusal is this same
/// answer; the reason is logged, not told.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct Unauthorized(ErrorBody);

/// An embed session's role, type or scopes do not allow this (a write by a member or a
/// dashboard session, a payload without `events.payload:read`), or a route that needs a
/// machine key was called with a session token.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct Forbidden(ErrorBody);

/// Unknown id, malformed id, or another tenant's id (existence is not revealed across
/// tenants).
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct NotFound(ErrorBody);

/// The request conflicts with the resource's state (a duplicate name, a connection still used
/// by active rules, a delivery that has already ended).
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct Conflict(ErrorBody);

/// Extension: the request body is over 1 MiB, or an event's payload over 128 KiB.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct PayloadTooLarge(ErrorBody);

/// The destination is unsafe (a private or loopback address) or does not answer.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct UnprocessableDestination(ErrorBody);

/// A retry of this delivery is already in progress or imminent.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct TooEarly(ErrorBody);

/// Extension: the workspace's ingest rate limit (a token bucket) is spent (`RateLimited`), or
/// the organization's monthly event quota is (`QuotaExceeded`, until the month turns); retry
/// after `Retry-After` seconds.
#[derive(ToResponse)]
#[response(headers(
    ("Retry-After" = u64, description = "Seconds until the request can succeed."),
    ("RateLimit-Limit" = u32, description = "Extension: the bucket's size (burst)."),
    ("RateLimit-Remaining" = u32, description = "Extension: events that may be sent now."),
    ("RateLimit-Reset" = u64, description = "Extension: seconds until the bucket is full again."),
))]
#[allow(dead_code)]
pub struct RateLimited(ErrorBody);

/// Extension: the organization's plan allows no more of this resource (`PlanLimitReached`);
/// `GET /usage` shows the limits. Or (`Forbidden`) an embed session may not make this write,
/// or the route needs a machine key.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct PlanLimitReached(ErrorBody);

/// A failure on Switchyard's side; the request may be retried. Any route can answer it.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct InternalError(ErrorBody);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchyard API",
        description = "Switchyard's `/api/v1`: Meshes' v1 API (same routes, bodies, wrappers, \
            status codes and error body), so code written against Meshes' SDKs works by changing \
            the base URL. What Meshes does not have is marked **Extension** — rule conditions, \
            `POST /rules/{id}/test`, `Idempotency-Key`, ingest rate limits and their headers, \
            machine-key and publishable-key management, and the delivery retry/cancel routes' \
            details — and may be absent from other Meshes-compatible servers.\n\n\
            Lists answer `{count, limit, next_cursor, records}`, newest first; creates answer 201 \
            with the resource wrapped in its name; errors answer the contract's error body.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        super::health,
        serve,
        workspaces::list,
        workspaces::create,
        workspaces::get,
        workspaces::update,
        keys::rotate_publishable_key,
        workspace_catalog::event_types,
        workspace_catalog::resources,
        connections::list_for_workspace,
        rules::list_for_workspace,
        events::list_for_workspace,
        stats::get,
        connections::list,
        connections::create,
        oauth::start,
        oauth::callback,
        connections::get,
        connections::update,
        connections::delete,
        connection_test::test,
        bulk_replay::replay,
        super::mappings::get,
        super::mappings::put,
        catalog::connection_actions,
        field_catalog::connection_fields,
        rules::list,
        rules::create,
        rules::get,
        rules::delete,
        rules::patch,
        rule_test::send,
        events::list,
        events::create,
        events::bulk,
        cors::preflight_event,
        cors::preflight_bulk,
        events::get,
        events::payload,
        deliveries::cancel_event,
        deliveries::attempts,
        deliveries::attempt,
        deliveries::response_details,
        deliveries::retry,
        deliveries::cancel,
        catalog::integrations,
        usage::get,
        dlq::list,
        dlq::redrive,
        keys::list,
        keys::create,
        keys::revoke,
        sessions::create,
        sessions::list,
        sessions::refresh,
        sessions::revoke,
        sessions::launch,
    ),
    components(
        schemas(ErrorBody),
        responses(
            BadRequest,
            Unauthorized,
            Forbidden,
            NotFound,
            Conflict,
            PayloadTooLarge,
            UnprocessableDestination,
            TooEarly,
            RateLimited,
            PlanLimitReached,
            InternalError,
        ),
    ),
    modifiers(&Security, &AnyRouteMayFail),
    tags(
        (name = "workspaces", description = "Workspaces of the caller's organization."),
        (name = "connections", description = "Destinations (`webhook` in this version)."),
        (name = "rules", description = "Which events go to which connection."),
        (name = "usage", description = "Extension: plan limits and usage."),
        (name = "operations", description = "Extension: the organization's messages in the \
            dead-letter queues, listed and redriven."),
        (name = "events", description = "Sending events, and their delivery history."),
        (name = "deliveries", description = "One event's delivery through one rule: attempts, \
            the destination's answer, retry and cancel."),
        (name = "catalog", description = "Integrations, connection actions and fields, and a \
            workspace's event types and resources."),
        (name = "credentials", description = "Extension: machine keys and publishable-key \
            rotation."),
        (name = "sessions", description = "Embed sessions: a customer's user inside one \
            workspace, with a role (member, admin, owner), a type (workspace, resource, \
            dashboard) and scopes."),
        (name = "meta", description = "Health and this document."),
    ),
)]
struct ApiDoc;

/// The two credentials of the contract.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            PUBLISHABLE_KEY,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Meshes-Publishable-Key",
                "A workspace's publishable key (`mesh_pub_…`), for sending events from app \
                 code. It selects exactly one workspace, and reaches no other.",
            ))),
        );
        components.add_security_scheme(
            MACHINE_JWT,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A machine key's JWT: HS256 signed with the secret key; header `kid` = \
                         access key; claims `iss` = `urn:meshes:m2m:<access key>`, `aud` = \
                         `meshes-api`, `org` = the organization id, `iat`, `exp`, lifetime at \
                         most 60 s. Acts on every workspace of the organization.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            SESSION_TOKEN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An embed session's access token (`POST /sessions`): one workspace, \
                         as the session's type, role and scopes allow — member reads; admin \
                         and owner also write; dashboard reads only; a resource session sees \
                         its resource's events only; payloads need `events.payload:read`. \
                         Outside its reach: 404; a write it may not make: 403.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Adds the 500 answer to every operation: any route may meet a backend failure.
struct AnyRouteMayFail;

impl Modify for AnyRouteMayFail {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                operation.responses.responses.insert(
                    "500".into(),
                    RefOr::Ref(utoipa::openapi::Ref::from_response_name("InternalError")),
                );
            }
        }
    }
}

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as committed in `docs/openapi.json`: pretty JSON and a final newline.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    json.push('\n');
    json
}

/// `GET /api/v1/openapi.json`: needs no credentials.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "getOpenApiDocument",
    summary = "This OpenAPI document",
    tag = "meta",
    security(()),
    responses((status = 200, description = "This document.", body = Object)),
)]
pub async fn serve() -> impl IntoResponse {
    (
        [
            (CACHE_CONTROL, "public, max-age=300"),
            (CONTENT_TYPE, "application/json"),
        ],
        COMMITTED,
    )
}

/// The committed `docs/openapi.json`, which a test holds equal to [`document_json`]: served
/// as it is, so no binary that serves the API carries the generator (it is most of utoipa's
/// weight in a Lambda bootstrap).
const COMMITTED: &str = include_str!("../../../../docs/openapi.json");
