//! Limits on the request line and headers, enforced here below the HTTP server's own (which
//! answer 414/431 with an empty body) so an oversized request gets the contract's error body.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// The longest path and query accepted (bytes); longer → 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// At most this many header fields, of at most this many bytes together; more → 431.
pub const MAX_HEADERS: usize = 100;
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

pub async fn enforce(request: Request, next: Next) -> Response {
    let uri_len = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "UriTooLong",
            format!("The request URI is over {MAX_URI_BYTES} bytes"),
        )
        .into_response();
    }
    let headers = request.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "HeadersTooLarge",
            format!(
                "The request headers are over {MAX_HEADERS} fields or {MAX_HEADER_BYTES} bytes"
            ),
        )
        .into_response();
    }
    next.run(request).await
}
