//! CORS for the publishable-key ingest routes alone (`POST /events`, `/events/bulk` and their
//! preflights), so Meshes' events client works from a browser: a publishable key is public by
//! design and reaches one workspace. Every other route stays closed to cross-origin calls — it
//! carries no CORS header, and its preflight answers 405, which a browser does not approve.

use std::time::Duration;

use axum::extract::Request;
use axum::http::header::{ACCESS_CONTROL_REQUEST_METHOD, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderName, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{Any, CorsLayer};

use super::error::ApiError;

/// The headers a browser may send to the ingest routes: the body's type, the publishable key,
/// and `Idempotency-Key` (never `Authorization`: machine keys do not belong in a browser).
const ALLOWED: [HeaderName; 3] = [
    CONTENT_TYPE,
    HeaderName::from_static("x-meshes-publishable-key"),
    HeaderName::from_static("idempotency-key"),
];

/// The answer headers a page may read beyond the CORS-safelisted ones.
const EXPOSED: [HeaderName; 5] = [
    RETRY_AFTER,
    HeaderName::from_static("ratelimit-limit"),
    HeaderName::from_static("ratelimit-remaining"),
    HeaderName::from_static("ratelimit-reset"),
    HeaderName::from_static("idempotent-replayed"),
];

/// Any origin, `POST` with the headers above; a preflight is remembered for a day.
pub fn ingest() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::POST, Method::OPTIONS])
        .allow_headers(ALLOWED)
        .expose_headers(EXPOSED)
        .max_age(Duration::from_secs(86_400))
}

/// Outside [`ingest`] on the preflight routes: a preflight for anything but `POST` — say the
/// event history's `GET /events` — is not approved (405, no CORS headers), as on every
/// management route.
pub async fn post_only(request: Request, next: Next) -> Response {
    match request.headers().get(ACCESS_CONTROL_REQUEST_METHOD) {
        Some(method) if method.as_bytes() != b"POST" => {
            ApiError::method_not_allowed().into_response()
        }
        _ => next.run(request).await,
    }
}

/// `OPTIONS /events`: a browser's preflight, answered by the CORS layer before this runs (a
/// bare `OPTIONS` without `Access-Control-Request-Method` gets this 204).
#[utoipa::path(
    options,
    path = "/api/v1/events",
    operation_id = "preflightEvent",
    summary = "CORS preflight for sending an event",
    description = "Approves a browser's cross-origin `POST /events` from any origin, with the \
        headers `Content-Type`, `X-Meshes-Publishable-Key` and `Idempotency-Key`. Management \
        routes are not CORS-open.",
    tag = "events",
    security(()),
    responses(
        (status = 200, description = "Preflight approved.", headers(
            ("Access-Control-Allow-Origin" = String, description = "`*`."),
            ("Access-Control-Allow-Methods" = String, description = "`POST,OPTIONS`."),
            ("Access-Control-Allow-Headers" = String,
                description = "`content-type,x-meshes-publishable-key,idempotency-key`."),
            ("Access-Control-Max-Age" = u32, description = "`86400`."),
        )),
        (status = 204, description = "An `OPTIONS` that is not a preflight."),
        (status = 405, description = "A preflight for another method than `POST`: not \
            approved."),
    ),
)]
pub async fn preflight_event() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// `OPTIONS /events/bulk`: as [`preflight_event`].
#[utoipa::path(
    options,
    path = "/api/v1/events/bulk",
    operation_id = "preflightEventsBulk",
    summary = "CORS preflight for sending events in bulk",
    description = "Approves a browser's cross-origin `POST /events/bulk`, as the preflight of \
        `POST /events` does.",
    tag = "events",
    security(()),
    responses(
        (status = 200, description = "Preflight approved.", headers(
            ("Access-Control-Allow-Origin" = String, description = "`*`."),
            ("Access-Control-Allow-Methods" = String, description = "`POST,OPTIONS`."),
            ("Access-Control-Allow-Headers" = String,
                description = "`content-type,x-meshes-publishable-key,idempotency-key`."),
            ("Access-Control-Max-Age" = u32, description = "`86400`."),
        )),
        (status = 204, description = "An `OPTIONS` that is not a preflight."),
        (status = 405, description = "A preflight for another method than `POST`: not \
            approved."),
    ),
)]
pub async fn preflight_bulk() -> StatusCode {
    StatusCode::NO_CONTENT
}
