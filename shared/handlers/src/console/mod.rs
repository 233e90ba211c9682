//! The console: one web app (plain HTML, CSS and JavaScript modules compiled into the binary)
//! served at `/console/` beside `/api/v1`, on `switchyard serve` and the API Lambda alike. The
//! page talks to the public API only; [`login`] is how an operator's tab gets a credential.
//! The same pages run in embed mode inside a host product's iframe (`embed`).

mod assets;
mod embed;
pub mod login;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::Deps;

/// No inline script or style, nothing from elsewhere, never framed: a name or payload that
/// slips past escaping still cannot run, and the operator console cannot be clickjacked.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The console's routes (every answer carries the security headers) and the embed's (whose
/// launch page only a session's allowed origins may frame).
pub fn routes() -> Router<Deps> {
    let embed = Router::new()
        .route("/embed/launch", get(embed::launch))
        .route("/embed/host.js", get(embed::host_script));
    let console = Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route(
            "/console/",
            get(|headers: HeaderMap| async move { assets::serve("index.html", &headers) }),
        )
        .route("/console/login", post(login::exchange))
        .route(
            "/console/{file}",
            get(|Path(file): Path<String>, headers: HeaderMap| async move {
                assets::serve(&file, &headers)
            }),
        )
        // One file per page (`pages.js` re-exports them).
        .route(
            "/console/pages/{file}",
            get(|Path(file): Path<String>, headers: HeaderMap| async move {
                assets::serve(&format!("pages/{file}"), &headers)
            }),
        )
        .layer(axum::middleware::map_response(secure));
    console.merge(embed)
}

async fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response.into_response()
}
