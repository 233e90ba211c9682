//! `/mcp` on the API: MCP's streamable HTTP transport in its stateless JSON-response mode (no
//! session to keep between requests, no stream to hold open — the API Lambda can serve it).
//! Every request authenticates as the API would: a machine JWT, an embed session's access
//! token or an MCP token; each tool call then runs as that caller.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use switchyard_handlers::Deps;
use switchyard_handlers::api::Caller;

use crate::api_client::InProcess;
use crate::server::{Credentials, SwitchyardMcp};

pub const PATH: &str = "/mcp";

/// The API router with `/mcp` beside `/api/v1`; tools call that same router in process.
pub fn with_mcp(api: axum::Router, deps: Deps) -> axum::Router {
    let client = Arc::new(InProcess::new(api.clone()));
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        // The Host allow-list guards unauthenticated local servers against DNS rebinding;
        // here every request carries a bearer token a rebinding page cannot have, and the
        // deployed API answers under its own domain.
        .disable_allowed_hosts();
    let service = StreamableHttpService::new(
        move || Ok(SwitchyardMcp::new(client.clone(), Credentials::FromRequest)),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let mcp = axum::Router::new()
        .route_service(PATH, service)
        .layer(axum::middleware::from_fn_with_state(deps, require_caller));
    api.merge(mcp)
}

/// 401 in the API's error body (and `WWW-Authenticate`) unless the bearer token is one the
/// API accepts; what it may do is decided per tool call, by the API.
async fn require_caller(State(deps): State<Deps>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    if let Err(refusal) = Caller::from_request_parts(&mut parts, &deps).await {
        let mut response = refusal.into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    next.run(Request::from_parts(parts, body)).await
}
