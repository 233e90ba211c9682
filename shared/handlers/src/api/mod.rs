//! The `/api/v1` HTTP surface, Meshes-compatible: same routes, bodies, wrappers, status codes
//! and error body.

mod auth;
mod body;
mod bulk_replay;
mod catalog;
mod connection_test;
mod connections;
mod cors;
mod deliveries;
mod dlq;
mod error;
mod events;
mod field_catalog;
mod head_limits;
mod keys;
mod mappings;
mod oauth;
pub mod openapi;
mod query;
mod rate_limit;
mod rule_test;
mod rules;
mod schemas;
mod scope;
mod sessions;
mod stats;
mod usage;
mod views;
mod workspace_catalog;
mod workspaces;

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, on};
use axum::{Json, Router};
use switchyard_core::domain::{Connection, Workspace};
use switchyard_core::{ConnectionId, OrgId, WorkspaceId};

pub use auth::Caller;
pub use error::ApiError;

use crate::Deps;

/// The largest request body read at all (a bulk batch of 100 events fits); larger → 413.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Where the API lives.
const PREFIX: &str = "/api/v1";

/// The whole API, ready to serve (locally with axum, on Lambda through lambda_http).
pub fn router(deps: Deps) -> Router {
    let v1 = v1_routes()
        .router
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() });
    let all = Router::new()
        .nest(PREFIX, v1)
        .route("/healthz", axum::routing::get(health))
        .merge(crate::console::routes());
    finish(all, deps)
}

/// The ingest Lambda's router: only the routes API Gateway sends it (`POST` and `OPTIONS` of
/// `/events` and `/events/bulk`), served exactly as [`router`] serves them — so its bootstrap
/// carries none of the management API, the console or the OpenAPI document.
pub fn ingest_router(deps: Deps) -> Router {
    let v1 = ingest_routes(Routes::default())
        .router
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() });
    finish(Router::new().nest(PREFIX, v1), deps)
}

/// The fallbacks and limits every router has.
fn finish(routes: Router<Deps>, deps: Deps) -> Router {
    routes
        .fallback(|| async { ApiError::not_found("Route") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(head_limits::enforce))
        .with_state(deps)
}

/// Every route the router serves, as `(method, full path)`: what the test that holds the
/// OpenAPI document to the router compares against.
pub fn routes() -> Vec<(Method, String)> {
    let mut all: Vec<(Method, String)> = v1_routes()
        .table
        .into_iter()
        .map(|(method, path)| (method, format!("{PREFIX}{path}")))
        .collect();
    all.push((Method::GET, "/healthz".to_owned()));
    all
}

/// The `/api/v1` routes, one method each, registered through [`Routes::add`] so the list of
/// what is served can be read back.
fn v1_routes() -> Routes {
    let routes = Routes::default()
        .add(Method::GET, "/openapi.json", openapi::serve)
        .add(Method::GET, "/workspaces", workspaces::list)
        .add(Method::POST, "/workspaces", workspaces::create)
        .add(Method::GET, "/workspaces/{id}", workspaces::get)
        .add(Method::PUT, "/workspaces/{id}", workspaces::update)
        .add(
            Method::POST,
            "/workspaces/{id}/publishable-key/rotate",
            keys::rotate_publishable_key,
        )
        .add(
            Method::GET,
            "/workspaces/{id}/event-types",
            workspace_catalog::event_types,
        )
        .add(
            Method::GET,
            "/workspaces/{id}/resources",
            workspace_catalog::resources,
        )
        .add(
            Method::GET,
            "/workspaces/{id}/connections",
            connections::list_for_workspace,
        )
        .add(
            Method::GET,
            "/workspaces/{id}/rules",
            rules::list_for_workspace,
        )
        .add(
            Method::GET,
            "/workspaces/{id}/events",
            events::list_for_workspace,
        )
        .add(Method::GET, "/workspaces/{id}/stats", stats::get)
        .add(
            Method::POST,
            "/connections/{id}/test",
            connection_test::test,
        )
        .add(Method::GET, "/connections", connections::list)
        .add(Method::POST, "/connections", connections::create)
        .add(Method::GET, "/connections/oauth/{type}/start", oauth::start)
        .add(
            Method::GET,
            "/connections/oauth/{type}/callback",
            oauth::callback,
        )
        .add(Method::GET, "/connections/{id}", connections::get)
        .add(Method::PUT, "/connections/{id}", connections::update)
        .add(Method::DELETE, "/connections/{id}", connections::delete)
        .add(
            Method::POST,
            "/connections/{id}/replay",
            bulk_replay::replay,
        )
        .add(
            Method::GET,
            "/connections/{id}/mappings/default",
            mappings::get,
        )
        .add(
            Method::PUT,
            "/connections/{id}/mappings/default",
            mappings::put,
        )
        .add(
            Method::GET,
            "/connections/{id}/actions",
            catalog::connection_actions,
        )
        .add(
            Method::GET,
            "/connections/{id}/fields",
            field_catalog::connection_fields,
        )
        .add(Method::GET, "/rules", rules::list)
        .add(Method::POST, "/rules", rules::create)
        .add(Method::GET, "/rules/{id}", rules::get)
        .add(Method::DELETE, "/rules/{id}", rules::delete)
        .add(Method::PATCH, "/rules/{id}", rules::patch)
        .add(Method::POST, "/rules/{id}/test", rule_test::send)
        .add(Method::GET, "/events", events::list)
        .add(Method::GET, "/integrations", catalog::integrations)
        .add(Method::GET, "/usage", usage::get)
        .add(Method::GET, "/dlq/{queue}", dlq::list)
        .add(Method::POST, "/dlq/{queue}/redrive", dlq::redrive)
        .add(Method::GET, "/machine-keys", keys::list)
        .add(Method::POST, "/machine-keys", keys::create)
        .add(Method::DELETE, "/machine-keys/{access_key}", keys::revoke)
        .add(Method::POST, "/sessions", sessions::create)
        .add(Method::GET, "/sessions", sessions::list)
        .add(Method::POST, "/sessions/launch", sessions::launch)
        .add(Method::POST, "/sessions/{id}/refresh", sessions::refresh)
        .add(Method::DELETE, "/sessions/{id}", sessions::revoke)
        .add(Method::GET, "/events/{id}", events::get)
        .add(Method::GET, "/events/{id}/payload", events::payload)
        .add(
            Method::POST,
            "/events/{id}/cancel",
            deliveries::cancel_event,
        )
        .add(
            Method::GET,
            "/events/{event}/rules/{rule}/attempts",
            deliveries::attempts,
        )
        .add(
            Method::GET,
            "/events/{event}/rules/{rule}/attempts/{attempt}",
            deliveries::attempt,
        )
        .add(
            Method::GET,
            "/events/{event}/rules/{rule}/response-details",
            deliveries::response_details,
        )
        .add(
            Method::POST,
            "/events/{event}/rules/{rule}/retry",
            deliveries::retry,
        )
        .add(
            Method::POST,
            "/events/{event}/rules/{rule}/cancel",
            deliveries::cancel,
        );
    ingest_routes(routes)
}

/// Ingest: `POST /events`, `/events/bulk` and their CORS preflights.
fn ingest_routes(routes: Routes) -> Routes {
    routes
        .add(
            Method::POST,
            "/events",
            events::create.layer(cors::ingest()),
        )
        .add(
            Method::POST,
            "/events/bulk",
            events::bulk.layer(cors::ingest()),
        )
        .add(
            Method::OPTIONS,
            "/events",
            cors::preflight_event
                .layer(cors::ingest())
                .layer(axum::middleware::from_fn(cors::post_only)),
        )
        .add(
            Method::OPTIONS,
            "/events/bulk",
            cors::preflight_bulk
                .layer(cors::ingest())
                .layer(axum::middleware::from_fn(cors::post_only)),
        )
}

/// A router that remembers what it routes.
#[derive(Default)]
struct Routes {
    router: Router<Deps>,
    table: Vec<(Method, &'static str)>,
}

impl Routes {
    /// Routes `method path` to `handler` (axum merges the methods of one path).
    fn add<H, T>(mut self, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, Deps>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("a routable method");
        self.router = self.router.route(path, on(filter, handler));
        self.table.push((method, path));
        self
    }
}

/// `GET /healthz`: the process serves requests.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "health",
    summary = "Health check",
    tag = "meta",
    security(()),
    responses((status = 200, description = "Serving.", body = views::Health)),
)]
async fn health() -> Json<views::Health> {
    Json(views::Health { status: "ok" })
}

/// `path` under the configured public URL (`SWITCHYARD_PUBLIC_URL`), else under the
/// request's own host (and `X-Forwarded-Proto`).
fn public_url(
    deps: &Deps,
    headers: &axum::http::HeaderMap,
    path: &str,
) -> Result<url::Url, ApiError> {
    if let Some(base) = &deps.live.oauth.public_url {
        return base.join(path).map_err(ApiError::internal);
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| ApiError::bad_request("The request has no Host header"))?;
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| matches!(*p, "http" | "https"))
        .unwrap_or("http");
    url::Url::parse(&format!("{scheme}://{host}{path}"))
        .map_err(|_| ApiError::bad_request("The request's Host header is not a host"))
}

/// A workspace of the caller's organization, or 404.
async fn load_workspace(deps: &Deps, org: OrgId, id: WorkspaceId) -> Result<Workspace, ApiError> {
    deps.workspaces()
        .workspace(org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Workspace"))
}

/// A connection of the caller's organization, or 404.
async fn load_connection(
    deps: &Deps,
    org: OrgId,
    id: ConnectionId,
) -> Result<Connection, ApiError> {
    deps.connections()
        .connection(org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Connection"))
}
