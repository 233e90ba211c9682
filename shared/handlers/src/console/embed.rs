//! The embed: a session's launch page (`/embed/launch?token=…`, the console's pages in embed
//! mode, framed by the host product) and the host script (`/embed/host.js`) that frames it.
//!
//! Only the session's allowed origins may frame the launch page: its `frame-ancestors` comes
//! from the session the launch token names, looked up WITHOUT spending the token (the page
//! spends it itself, once, through `POST /api/v1/sessions/launch`). An unknown, forged or
//! revoked token, or a session with no allowed origins, gets `frame-ancestors 'none'`.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use serde::Deserialize;
use switchyard_core::credentials::{SessionTokenKind, parse_session_token, session_token_hash};

use super::assets;
use crate::Deps;

/// The console's policy, less `img-src` and `frame-ancestors` (set per session).
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

#[derive(Deserialize)]
pub struct Launch {
    token: Option<String>,
}

/// `GET /embed/launch?token=…`: the embed page, frameable by the session's origins only.
pub async fn launch(
    State(deps): State<Deps>,
    Query(query): Query<Launch>,
    headers: HeaderMap,
) -> Response {
    let framing = match query.token.as_deref() {
        Some(token) => framing(&deps, token.trim()).await,
        None => Framing::default(),
    };
    // The branding's logo: its origin alone joins the page's own images.
    let images = match &framing.logo_origin {
        Some(origin) => format!("'self' data: {origin}"),
        None => "'self' data:".to_owned(),
    };
    let policy = format!(
        "{POLICY}; img-src {images}; frame-ancestors {}",
        framing.ancestors.as_deref().unwrap_or("'none'")
    );
    let mut response = assets::serve("embed.html", &headers);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&policy)
            .unwrap_or(HeaderValue::from_static("frame-ancestors 'none'")),
    );
    // The launch URL carries the token: never cached, never sent on as a referrer.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// What the launch page's CSP takes from its session.
#[derive(Default)]
struct Framing {
    /// The session's allowed origins, space-separated (none: no one may frame the page).
    ancestors: Option<String>,
    /// The branding logo's origin.
    logo_origin: Option<String>,
}

/// The session's allowed origins and logo origin, when the token is its launch token and the
/// session is live. Origins were validated as `scheme://host[:port]` at create.
async fn framing(deps: &Deps, token: &str) -> Framing {
    let Some((org, id)) = parse_session_token(SessionTokenKind::Launch, token) else {
        return Framing::default();
    };
    let Some(session) = deps.sessions().session(org, id).await.ok().flatten() else {
        return Framing::default();
    };
    let live = session.revoked_at.is_none() && session.launch_hash == session_token_hash(token);
    if !live {
        return Framing::default();
    }
    Framing {
        ancestors: (!session.allowed_origins.is_empty()).then(|| session.allowed_origins.join(" ")),
        logo_origin: session.branding.as_ref().and_then(|b| b.logo_origin()),
    }
}

/// `GET /embed/host.js`: the host page's script (a classic script; no CORS needed).
pub async fn host_script(headers: HeaderMap) -> Response {
    let mut response = assets::serve("host.js", &headers);
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
