//! Applying the ingest rate limit to a request: 429 with `Retry-After` when the workspace's
//! bucket is empty, and the IETF `RateLimit-Limit/Remaining/Reset` headers either way.

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use switchyard_core::WorkspaceId;
use switchyard_core::rate_limit::Decision;

use super::error::ApiError;
use crate::Deps;

/// Takes `n` tokens for the workspace; the headers to send with the answer, or the 429.
pub fn check(deps: &Deps, workspace: WorkspaceId, n: u32) -> Result<HeaderMap, ApiError> {
    let Some(decision) = deps
        .live
        .ingest_limiter
        .take(workspace, deps.clock.now(), n)
    else {
        return Ok(HeaderMap::new());
    };
    let headers = headers(&decision);
    if decision.allowed {
        return Ok(headers);
    }
    let mut error = match decision.retry_after_secs() {
        Some(secs) => {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RateLimited",
                format!("Ingest rate limit of this workspace reached; retry in {secs} s"),
            );
            e.headers.push((RETRY_AFTER, HeaderValue::from(secs)));
            e
        }
        // More events in one request than the bucket ever holds: waiting cannot help.
        None => ApiError::bad_request(format!(
            "A request may carry at most {} events under this workspace's rate limit",
            decision.limit
        )),
    };
    error.headers.extend(
        headers
            .into_iter()
            .filter_map(|(name, value)| Some((name?, value))),
    );
    Err(error)
}

fn headers(d: &Decision) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("ratelimit-limit", HeaderValue::from(d.limit));
    h.insert("ratelimit-remaining", HeaderValue::from(d.remaining));
    h.insert(
        "ratelimit-reset",
        HeaderValue::from(d.reset_after_secs().unwrap_or(0)),
    );
    h
}
