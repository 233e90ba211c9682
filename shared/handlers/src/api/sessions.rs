//! `/sessions`: embed sessions — create, list, refresh, revoke (machine key only) — and the
//! launch exchange the embed page makes with its single-use launch token.
//!
//! Tokens are opaque (`credentials::new_session_token`) and stored as SHA-256 hashes: the
//! access token is shown once, in the create or refresh answer; the launch token travels in
//! the launch URL and is spent by its first exchange.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use switchyard_core::credentials::{
    SessionTokenKind, new_session_token, parse_session_token, session_token_hash,
};
use switchyard_core::domain::{
    Branding, BrandingInput, LaunchPage, PAYLOAD_READ_SCOPE, Session, SessionRole, SessionType,
};
use switchyard_core::ports::SessionFilter;
use switchyard_core::{SessionId, ValidationErrors, WorkspaceId, validation};
use time::{Duration, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

use super::auth::Machine;
use super::body::{JsonBody, PathId};
use super::error::{ApiError, ApiResult};
use super::openapi::{BadRequest, Forbidden, NotFound, PayloadTooLarge, Unauthorized};
use super::query::Params;
use super::schemas::PageParams;
use super::views::List;
use crate::Deps;

/// Access token lifetime bounds and default, in seconds.
const TTL: (u32, u32, u32) = (300, 3600, 1800);
/// Launch token lifetime bounds and default, in seconds.
const LAUNCH_TTL: (u32, u32, u32) = (15, 60, 30);
const MAX_ORIGINS: usize = 10;
/// The embed page the launch URL opens (served by the console, which comes later).
const LAUNCH_PATH: &str = "/embed/launch";

#[derive(Deserialize, ToSchema)]
pub struct CreateSession {
    #[schema(value_type = uuid::Uuid)]
    workspace_id: WorkspaceId,
    /// `member` (default) reads; `admin` and `owner` also write.
    #[schema(value_type = Option<String>, example = "member")]
    role: Option<String>,
    /// `workspace` (default), `resource` (one resource's history) or `dashboard` (read-only).
    #[schema(value_type = Option<String>, example = "workspace")]
    session_type: Option<String>,
    /// Required for a resource session.
    resource: Option<String>,
    /// Required for a resource session.
    #[schema(pattern = r"^[A-Za-z0-9._:-]{1,64}$")]
    resource_id: Option<String>,
    /// The host product's id of its user, kept with the session and in `created_by`.
    #[schema(max_length = 255)]
    external_user_id: Option<String>,
    /// Access token lifetime, 300–3600 (default 1800).
    #[schema(minimum = 300, maximum = 3600)]
    ttl_seconds: Option<u32>,
    /// Launch URL lifetime, 15–60 (default 30).
    #[schema(minimum = 15, maximum = 60)]
    launch_ttl_seconds: Option<u32>,
    /// `dashboard`, `connections`, `rules` or `events`.
    #[schema(value_type = Option<String>)]
    launch_page: Option<String>,
    /// At most 10 origins (`https://app.example.com`) the embed may run under.
    #[schema(max_items = 10)]
    allowed_origins: Option<Vec<String>>,
    /// `["events.payload:read"]` (admin or owner only).
    scopes: Option<Vec<String>>,
    /// **Extension**: how the embed looks inside your product.
    branding: Option<BrandingBody>,
}

/// **Extension**: the embed's look. Every field optional.
#[derive(Deserialize, ToSchema)]
pub struct BrandingBody {
    /// Your product's name, shown in the embed's header (1–64 characters).
    #[schema(max_length = 64)]
    name: Option<String>,
    /// Buttons, links and focus rings: `#rrggbb`.
    #[schema(pattern = "^#[0-9a-fA-F]{6}$", example = "#0a7cff")]
    accent_color: Option<String>,
    /// An `https://` image shown beside the name; only its origin is added to the page's CSP.
    #[schema(max_length = 2048)]
    logo_url: Option<String>,
    /// `light`, `dark` or `auto` (default: the viewer's system preference).
    #[schema(example = "auto")]
    theme: Option<String>,
}

/// The embed's look, as the launch exchange answers it.
#[derive(Serialize, ToSchema)]
pub struct BrandingView {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    accent_color: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logo_url: Option<String>,
    /// `light`, `dark` or `auto`.
    theme: &'static str,
}

impl From<Branding> for BrandingView {
    fn from(b: Branding) -> Self {
        Self {
            name: b.name,
            accent_color: b.accent_color,
            logo_url: b.logo_url,
            theme: match b.theme {
                switchyard_core::domain::Theme::Light => "light",
                switchyard_core::domain::Theme::Dark => "dark",
                switchyard_core::domain::Theme::Auto => "auto",
            },
        }
    }
}

/// The session as `GET /sessions` lists it.
#[derive(Serialize, ToSchema)]
pub struct SessionView {
    #[schema(format = Uuid)]
    session_id: String,
    #[schema(format = Uuid)]
    workspace_id: String,
    session_type: &'static str,
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_user_id: Option<String>,
    /// `active` or `revoked`.
    status: &'static str,
    /// The access token has expired (a refresh issues a new one).
    is_expired: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

impl SessionView {
    fn new(s: Session, now: OffsetDateTime) -> Self {
        Self {
            session_id: s.id.to_string(),
            workspace_id: s.workspace.to_string(),
            session_type: s.session_type.as_str(),
            role: s.role.as_str(),
            status: if s.revoked_at.is_some() {
                "revoked"
            } else {
                "active"
            },
            is_expired: s.expires_at <= now,
            resource: s.resource,
            resource_id: s.resource_id,
            external_user_id: s.external_user_id,
            created_at: s.created_at,
            expires_at: s.expires_at,
        }
    }
}

/// A session with a fresh access token (create and refresh).
#[derive(Serialize, ToSchema)]
pub struct SessionToken {
    #[schema(format = Uuid)]
    session_id: String,
    #[schema(format = Uuid)]
    workspace_id: String,
    session_type: &'static str,
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_id: Option<String>,
    /// `Authorization: Bearer <access_token>` on `/api/v1`. Shown only here.
    access_token: String,
    /// Seconds until the access token expires.
    expires_in: u32,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

impl SessionToken {
    fn new(s: &Session, access_token: String) -> Self {
        Self {
            session_id: s.id.to_string(),
            workspace_id: s.workspace.to_string(),
            session_type: s.session_type.as_str(),
            role: s.role.as_str(),
            resource: s.resource.clone(),
            resource_id: s.resource_id.clone(),
            access_token,
            expires_in: s.ttl_seconds,
            expires_at: s.expires_at,
        }
    }
}

/// `POST /sessions`: the session, its access token and its single-use launch URL.
#[derive(Serialize, ToSchema)]
pub struct SessionCreated {
    #[serde(flatten)]
    session: SessionToken,
    /// Single-use; spent by the embed page (`POST /sessions/launch`).
    launch_token: String,
    #[serde(with = "time::serde::rfc3339")]
    launch_expires_at: OffsetDateTime,
    /// `<public URL>/embed/launch?token=<launch_token>`: what the host page's iframe loads.
    launch_url: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionRevoked {
    revoked: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct LaunchExchange {
    /// The `token` of the launch URL.
    launch_token: String,
}

/// What the embed page learns by spending its launch token. Not the access token: the page
/// receives that from its host by `postMessage` (`meshes:auth`), so a leaked launch URL —
/// in a log, a history, a referrer — grants nothing, even before it is spent.
#[derive(Serialize, ToSchema)]
pub struct SessionLaunched {
    #[schema(format = Uuid)]
    session_id: String,
    #[schema(format = Uuid)]
    workspace_id: String,
    session_type: &'static str,
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_id: Option<String>,
    /// The page to open first (`dashboard` when none was asked for).
    launch_page: &'static str,
    /// The origins whose messages the page may accept.
    allowed_origins: Vec<String>,
    scopes: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    /// **Extension**: the look asked for at create; absent when none was.
    #[serde(skip_serializing_if = "Option::is_none")]
    branding: Option<BrandingView>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SessionFilters {
    /// Only this workspace's sessions.
    workspace_id: Option<uuid::Uuid>,
    /// `active` or `revoked`.
    status: Option<String>,
    resource: Option<String>,
    resource_id: Option<String>,
}

fn parse_word<T: std::str::FromStr>(
    errors: &mut ValidationErrors,
    param: &str,
    raw: Option<&str>,
    default: T,
    allowed: &str,
) -> T {
    match raw {
        None => default,
        Some(raw) => raw.parse().unwrap_or_else(|_| {
            errors.push(param, format!("must be one of {allowed}"));
            default
        }),
    }
}

fn bounded(
    errors: &mut ValidationErrors,
    param: &str,
    raw: Option<u32>,
    b: (u32, u32, u32),
) -> u32 {
    match raw {
        None => b.2,
        Some(v) if (b.0..=b.1).contains(&v) => v,
        Some(_) => {
            errors.push(param, format!("must be from {} to {}", b.0, b.1));
            b.2
        }
    }
}

/// An origin as browsers send it: `scheme://host[:port]`, http or https, nothing after.
fn origin(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw).ok()?;
    let serialised = url.origin().ascii_serialization();
    (matches!(url.scheme(), "http" | "https") && raw.trim_end_matches('/') == serialised)
        .then_some(serialised)
}

/// Everything wrong with a create body at once, or the session it describes.
fn validate(
    body: CreateSession,
    allow_loopback_http: bool,
) -> Result<ValidSession, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let role = parse_word(
        &mut errors,
        "role",
        body.role.as_deref(),
        SessionRole::Member,
        "member, admin, owner",
    );
    let session_type = parse_word(
        &mut errors,
        "session_type",
        body.session_type.as_deref(),
        SessionType::Workspace,
        "workspace, resource, dashboard",
    );
    let launch_page = body.launch_page.as_deref().and_then(|raw| {
        raw.parse::<LaunchPage>()
            .map_err(|_| {
                errors.push(
                    "launch_page",
                    "must be one of dashboard, connections, rules, events",
                )
            })
            .ok()
    });
    let ttl = bounded(&mut errors, "ttl_seconds", body.ttl_seconds, TTL);
    let launch_ttl = bounded(
        &mut errors,
        "launch_ttl_seconds",
        body.launch_ttl_seconds,
        LAUNCH_TTL,
    );
    if let Some(r) = &body.resource {
        validation::event_name(&mut errors, "resource", r);
    }
    if let Some(id) = &body.resource_id {
        validation::resource_id(&mut errors, "resource_id", id);
    }
    if session_type == SessionType::Resource {
        if body.resource.is_none() {
            errors.push("resource", "is required for a resource session");
        }
        if body.resource_id.is_none() {
            errors.push("resource_id", "is required for a resource session");
        }
    } else if body.resource.is_some() || body.resource_id.is_some() {
        let param = if body.resource.is_some() {
            "resource"
        } else {
            "resource_id"
        };
        errors.push(param, "is only for a resource session");
    }
    if let Some(user) = &body.external_user_id
        && (user.is_empty() || user.len() > 255)
    {
        errors.push("external_user_id", "must be 1 to 255 characters");
    }
    let raw_origins = body.allowed_origins.unwrap_or_default();
    if raw_origins.len() > MAX_ORIGINS {
        errors.push(
            "allowed_origins",
            format!("must list at most {MAX_ORIGINS} origins"),
        );
    }
    let mut allowed_origins = Vec::new();
    for (i, raw) in raw_origins.iter().enumerate() {
        match origin(raw) {
            Some(o) if !allowed_origins.contains(&o) => allowed_origins.push(o),
            Some(_) => {}
            None => errors.push(
                format!("allowed_origins[{i}]"),
                "must be an origin: http(s)://host[:port], no path",
            ),
        }
    }
    let scopes = body.scopes.unwrap_or_default();
    for (i, scope) in scopes.iter().enumerate() {
        if scope != PAYLOAD_READ_SCOPE {
            errors.push(
                format!("scopes[{i}]"),
                format!("is not a scope; the only one is {PAYLOAD_READ_SCOPE}"),
            );
        } else if role == SessionRole::Member {
            errors.push(
                format!("scopes[{i}]"),
                format!("{PAYLOAD_READ_SCOPE} is for admin and owner sessions only"),
            );
        }
    }
    let branding = body.branding.as_ref().map(|b| {
        let input = BrandingInput {
            name: b.name.as_deref(),
            accent_color: b.accent_color.as_deref(),
            logo_url: b.logo_url.as_deref(),
            theme: b.theme.as_deref(),
        };
        Branding::parse(&mut errors, &input, allow_loopback_http)
    });
    errors.into_result(ValidSession {
        branding,
        workspace: body.workspace_id,
        role,
        session_type,
        resource: body.resource,
        resource_id: body.resource_id,
        external_user_id: body.external_user_id,
        ttl,
        launch_ttl,
        launch_page,
        allowed_origins,
        scopes,
    })
}

struct ValidSession {
    workspace: WorkspaceId,
    role: SessionRole,
    session_type: SessionType,
    resource: Option<String>,
    resource_id: Option<String>,
    external_user_id: Option<String>,
    ttl: u32,
    launch_ttl: u32,
    launch_page: Option<LaunchPage>,
    allowed_origins: Vec<String>,
    scopes: Vec<String>,
    branding: Option<Branding>,
}

fn seconds(n: u32) -> Duration {
    Duration::seconds(i64::from(n))
}

/// Creates an embed session for one workspace.
#[utoipa::path(
    post,
    path = "/api/v1/sessions",
    operation_id = "createSession",
    summary = "Create an embed session",
    description = "Creates an embed session for one of the organization's workspaces: an \
        access token (`Authorization: Bearer` on `/api/v1`, answering only what the session's \
        workspace, type, role and scopes allow) and a single-use launch URL for the embed's \
        iframe. Machine key only. Permissions: `member` reads; `admin` and `owner` also \
        create and edit connections, mappings and rules, and retry and cancel deliveries; a \
        `dashboard` session reads only, whatever its role; a `resource` session sees only its \
        resource's events and deliveries; payloads need the `events.payload:read` scope. \
        Anything outside the session's reach answers 404; a write the session may not make, \
        403.",
    tag = "sessions",
    security(("machine_jwt" = [])),
    request_body = CreateSession,
    responses(
        (status = 200, description = "The session, its access token and launch URL.",
            body = SessionCreated),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
    ),
)]
pub async fn create(
    State(deps): State<Deps>,
    machine: Machine,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateSession>,
) -> ApiResult<Json<SessionCreated>> {
    let v = validate(body, deps.settings.url_policy.allow_loopback_http)
        .map_err(ApiError::validation)?;
    super::load_workspace(&deps, machine.org, v.workspace).await?;
    let id = SessionId::new();
    let access_token = new_session_token(SessionTokenKind::Access, machine.org, id);
    let launch_token = new_session_token(SessionTokenKind::Launch, machine.org, id);
    let now = deps.now();
    let session = Session {
        id,
        org: machine.org,
        workspace: v.workspace,
        session_type: v.session_type,
        role: v.role,
        resource: v.resource,
        resource_id: v.resource_id,
        external_user_id: v.external_user_id,
        scopes: v.scopes,
        launch_page: v.launch_page,
        allowed_origins: v.allowed_origins,
        token_hash: session_token_hash(&access_token),
        expires_at: now + seconds(v.ttl),
        ttl_seconds: v.ttl,
        launch_hash: session_token_hash(&launch_token),
        launch_expires_at: now + seconds(v.launch_ttl),
        created_at: now,
        revoked_at: None,
        branding: v.branding,
    };
    let mut launch_url = super::public_url(&deps, &headers, LAUNCH_PATH)?;
    launch_url
        .query_pairs_mut()
        .append_pair("token", &launch_token);
    deps.sessions().create_session(&session).await?;
    tracing::info!(org = %machine.org, workspace = %session.workspace, session_id = %id,
        role = %session.role, session_type = %session.session_type, "embed session created");
    Ok(Json(SessionCreated {
        session: SessionToken::new(&session, access_token),
        launch_token,
        launch_expires_at: session.launch_expires_at,
        launch_url: launch_url.into(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/sessions",
    operation_id = "listSessions",
    summary = "List embed sessions",
    description = "The organization's sessions, newest first. Machine key only.",
    tag = "sessions",
    security(("machine_jwt" = [])),
    params(SessionFilters, PageParams),
    responses(
        (status = 200, description = "A page of sessions.", body = List<SessionView>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ),
)]
pub async fn list(
    State(deps): State<Deps>,
    machine: Machine,
    params: Params,
) -> ApiResult<Json<List<SessionView>>> {
    let revoked = match params.get("status").as_deref() {
        None => None,
        Some("active") => Some(false),
        Some("revoked") => Some(true),
        Some(_) => {
            return Err(ApiError::validation(ValidationErrors::single(
                "status",
                "must be active or revoked",
            )));
        }
    };
    let filter = SessionFilter {
        workspace: params.id("workspace_id")?,
        revoked,
        resource: params.name("resource"),
        resource_id: params.get("resource_id"),
    };
    let page = deps
        .sessions()
        .list_sessions(machine.org, &filter, params.page()?)
        .await?;
    let now = deps.now();
    Ok(Json(List::from_page(page, |s| SessionView::new(s, now))))
}

/// A session of the caller's organization, or 404.
async fn load(deps: &Deps, machine: &Machine, id: SessionId) -> ApiResult<Session> {
    deps.sessions()
        .session(machine.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Session"))
}

#[utoipa::path(
    post,
    path = "/api/v1/sessions/{id}/refresh",
    operation_id = "refreshSession",
    summary = "Refresh an embed session's access token",
    description = "A new access token for the same session, valid for the session's \
        `ttl_seconds`; the previous token stops working at once. No new launch URL. 409 when \
        the session is revoked. Machine key only.",
    tag = "sessions",
    security(("machine_jwt" = [])),
    params(("id" = uuid::Uuid, Path, description = "Session id.")),
    responses(
        (status = 200, description = "The session with its new access token.",
            body = SessionToken),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = super::openapi::Conflict),
    ),
)]
pub async fn refresh(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<SessionId>,
) -> ApiResult<Json<SessionToken>> {
    let mut session = load(&deps, &machine, id).await?;
    let revoked = || ApiError::conflict("The session is revoked; create a new one");
    if session.revoked_at.is_some() {
        return Err(revoked());
    }
    let access_token = new_session_token(SessionTokenKind::Access, machine.org, id);
    session.token_hash = session_token_hash(&access_token);
    session.expires_at = deps.now() + seconds(session.ttl_seconds);
    if !deps
        .sessions()
        .refresh_session(machine.org, id, &session.token_hash, session.expires_at)
        .await?
    {
        return Err(revoked());
    }
    Ok(Json(SessionToken::new(&session, access_token)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/sessions/{id}",
    operation_id = "revokeSession",
    summary = "Revoke an embed session",
    description = "Its access token and launch URL stop working at once. Machine key only.",
    tag = "sessions",
    security(("machine_jwt" = [])),
    params(("id" = uuid::Uuid, Path, description = "Session id.")),
    responses(
        (status = 200, description = "Revoked.", body = SessionRevoked),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
)]
pub async fn revoke(
    State(deps): State<Deps>,
    machine: Machine,
    PathId(id): PathId<SessionId>,
) -> ApiResult<Json<SessionRevoked>> {
    if !deps
        .sessions()
        .revoke_session(machine.org, id, deps.now())
        .await?
    {
        return Err(ApiError::not_found("Session"));
    }
    tracing::info!(org = %machine.org, session_id = %id, "embed session revoked");
    Ok(Json(SessionRevoked { revoked: true }))
}

/// Spends a launch token, once.
#[utoipa::path(
    post,
    path = "/api/v1/sessions/launch",
    operation_id = "launchSession",
    summary = "Exchange an embed launch token",
    description = "**Extension**: the embed page spends the launch URL's token, once, within \
        its `launch_ttl_seconds`, from one of the session's `allowed_origins` or from \
        Switchyard's own origin (the embed page) — the request's `Origin`; with no origins \
        configured, a request without an `Origin` is accepted too. It learns the \
        session's workspace, type, role, first page and allowed origins — not the access token, \
        which the host page hands it by `postMessage`. A token spent, expired, revoked or \
        unknown, or a refused origin, answers 401 alike.",
    tag = "sessions",
    security(()),
    request_body = LaunchExchange,
    responses(
        (status = 200, description = "The session the embed runs in.", body = SessionLaunched),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    ),
)]
pub async fn launch(
    State(deps): State<Deps>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LaunchExchange>,
) -> ApiResult<Json<SessionLaunched>> {
    let refused = |reason: &str| {
        tracing::info!(reason, "launch token refused");
        ApiError::unauthorized("Invalid, expired or already used launch token")
    };
    let token = body.launch_token.trim();
    let (org, id) = parse_session_token(SessionTokenKind::Launch, token)
        .ok_or_else(|| refused("malformed launch token"))?;
    let session = deps
        .sessions()
        .session(org, id)
        .await?
        .ok_or_else(|| refused("unknown session"))?;
    // A host page of an allowed origin, or the embed page itself (served by Switchyard,
    // which only allowed origins may frame); with no origins configured, no browser page.
    let own = super::public_url(&deps, &headers, "/")?
        .origin()
        .ascii_serialization();
    let request_origin = headers
        .get(axum::http::header::ORIGIN)
        .map(|o| o.to_str().unwrap_or_default());
    let origin_ok = match request_origin {
        Some(o) => o == own || session.allowed_origins.iter().any(|a| a == o),
        None => session.allowed_origins.is_empty(),
    };
    if !origin_ok {
        return Err(refused("origin not allowed"));
    }
    // The hash comparison, expiry, revocation and single use are one conditional write.
    if !deps
        .sessions()
        .spend_launch(org, id, &session_token_hash(token), deps.now())
        .await?
    {
        return Err(refused(
            "launch token spent, expired, revoked or not this session's",
        ));
    }
    Ok(Json(SessionLaunched {
        session_id: session.id.to_string(),
        workspace_id: session.workspace.to_string(),
        session_type: session.session_type.as_str(),
        role: session.role.as_str(),
        resource: session.resource,
        resource_id: session.resource_id,
        launch_page: session
            .launch_page
            .unwrap_or(LaunchPage::Dashboard)
            .as_str(),
        allowed_origins: session.allowed_origins,
        scopes: session.scopes,
        expires_at: session.expires_at,
        branding: session.branding.map(BrandingView::from),
    }))
}
