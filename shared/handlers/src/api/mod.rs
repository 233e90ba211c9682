//! The `/api/v1` HTTP surface, Meshes-compatible: same routes, bodies, wrappers, status codes
//! and error body.

mod auth;
mod body;
mod catalog;
mod connections;
mod deliveries;
mod error;
mod events;
mod keys;
mod query;
mod rate_limit;
mod rules;
mod views;
mod workspaces;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use switchyard_core::domain::Workspace;
use switchyard_core::{OrgId, WorkspaceId};

pub use error::ApiError;

use crate::Deps;

/// The largest request body read at all (a bulk batch of 100 events fits); larger → 413.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The whole API, ready to serve (locally with axum, on Lambda through lambda_http).
pub fn router(deps: Deps) -> Router {
    let v1 = Router::new()
        .route(
            "/workspaces",
            get(workspaces::list).post(workspaces::create),
        )
        .route(
            "/workspaces/{id}",
            get(workspaces::get).put(workspaces::update),
        )
        .route(
            "/workspaces/{id}/publishable-key/rotate",
            post(keys::rotate_publishable_key),
        )
        .route("/workspaces/{id}/event-types", get(catalog::event_types))
        .route("/workspaces/{id}/resources", get(catalog::resources))
        .route(
            "/workspaces/{id}/connections",
            get(connections::list_for_workspace),
        )
        .route("/workspaces/{id}/rules", get(rules::list_for_workspace))
        .route("/workspaces/{id}/events", get(events::list_for_workspace))
        .route(
            "/connections",
            get(connections::list).post(connections::create),
        )
        .route(
            "/connections/{id}",
            get(connections::get)
                .put(connections::update)
                .delete(connections::delete),
        )
        .route(
            "/connections/{id}/actions",
            get(catalog::connection_actions),
        )
        .route("/connections/{id}/fields", get(catalog::connection_fields))
        .route("/rules", get(rules::list).post(rules::create))
        .route("/rules/{id}", get(rules::get).delete(rules::delete))
        .route("/events", get(events::list).post(events::create))
        .route("/events/bulk", post(events::bulk))
        .route("/integrations", get(catalog::integrations))
        .route("/machine-keys", get(keys::list).post(keys::create))
        .route(
            "/machine-keys/{access_key}",
            axum::routing::delete(keys::revoke),
        )
        .route("/events/{id}", get(events::get))
        .route("/events/{id}/payload", get(events::payload))
        .route("/events/{id}/cancel", post(deliveries::cancel_event))
        .route(
            "/events/{event}/rules/{rule}/attempts",
            get(deliveries::attempts),
        )
        .route(
            "/events/{event}/rules/{rule}/attempts/{attempt}",
            get(deliveries::attempt),
        )
        .route(
            "/events/{event}/rules/{rule}/response-details",
            get(deliveries::response_details),
        )
        .route(
            "/events/{event}/rules/{rule}/retry",
            post(deliveries::retry),
        )
        .route(
            "/events/{event}/rules/{rule}/cancel",
            post(deliveries::cancel),
        )
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() });
    Router::new()
        .nest("/api/v1", v1)
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .fallback(|| async { ApiError::not_found("Route") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(deps)
}

/// A workspace of the caller's organization, or 404.
async fn load_workspace(deps: &Deps, org: OrgId, id: WorkspaceId) -> Result<Workspace, ApiError> {
    deps.store
        .workspace(org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Workspace"))
}
