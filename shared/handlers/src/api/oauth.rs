//! `/connections/oauth/{type}/start` and `/callback`: the authorization-code flow (RFC 6749
//! §4.1) that creates — or re-authorises — an OAuth connection. Nothing about a pending flow is
//! stored: the `state` is sealed by the key ring and the callback trusts only what it opens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Serialize;
use serde_json::{Map, Value};
use switchyard_core::domain::{Connection, IntegrationType};
use switchyard_core::oauth::{
    AuthorizationState, Provider, STATE_LIFETIME, STATUS, STATUS_CODE, StateError, TokenError,
    TokenSet,
};
use switchyard_core::plan::Resource;
use switchyard_core::{ConnectionId, ValidationErrors, WorkspaceId, validation};
use url::Url;
use utoipa::{IntoParams, ToSchema};

use super::auth::Writer;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::openapi::{BadRequest, NotFound, PlanLimitReached, Unauthorized};
use super::query::Params;
use super::views::{ConnectionCreated, NewConnectionView};
use crate::Deps;

/// The authorize URL to send the user's browser to.
#[derive(Serialize, ToSchema)]
pub struct AuthorizationStart {
    /// The provider's consent page, carrying our `client_id`, the scopes, our callback as
    /// `redirect_uri` and a sealed `state` valid for 10 minutes.
    pub authorize_url: String,
}

/// Query of `GET /connections/oauth/{type}/start`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct StartParams {
    /// The workspace the connection will belong to.
    workspace: uuid::Uuid,
    /// The new connection's name (1–128 characters).
    name: String,
    /// Where the user's browser is sent once the connection exists, with `connection=<id>`
    /// added to its query. Without it the callback answers JSON.
    redirect_uri: Option<String>,
    /// Re-authorise this existing connection (one marked `reauthorization_required`) instead
    /// of creating one.
    connection: Option<uuid::Uuid>,
}

/// Query of `GET /connections/oauth/{type}/callback`, as the provider sends it.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CallbackParams {
    /// The authorization code.
    code: Option<String>,
    /// The sealed state `start` issued.
    state: String,
    /// The provider's refusal (`access_denied` …), instead of a code.
    error: Option<String>,
}

const TYPE: &str = "An OAuth integration type: `hubspot`, `salesforce`, `slack`, `intercom`, \
    `aweber` or `zoom`.";

#[utoipa::path(
    get,
    path = "/api/v1/connections/oauth/{type}/start",
    operation_id = "startOAuthConnection",
    summary = "Start connecting an OAuth integration",
    description = "**Extension**: answers the provider's authorize URL; send the user's \
        browser there. After consent the provider redirects to this server's callback, which \
        creates the connection. The tokens are sealed in the connection's secrets and never \
        shown. 400 when the type is not an OAuth integration or no OAuth client is configured \
        for it. With `connection`, the flow re-authorises that connection (clearing \
        `metadata.status = \"reauthorization_required\"`).",
    tag = "connections",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("type" = String, Path, description = TYPE), StartParams),
    responses(
        (status = 200, description = "Where to send the user.", body = AuthorizationStart),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = PlanLimitReached),
        (status = 404, response = NotFound),
    ),
)]
pub async fn start(
    State(deps): State<Deps>,
    caller: Writer,
    Path(kind): Path<String>,
    headers: HeaderMap,
    params: Params,
) -> ApiResult<Json<AuthorizationStart>> {
    let (kind, provider) = configured(&deps, &kind)?;
    let mut errors = ValidationErrors::default();
    let workspace = params.id::<WorkspaceId>("workspace")?;
    if workspace.is_none() {
        errors.push("workspace", "is required");
    }
    let name = params.get("name").unwrap_or_default();
    validation::connection_name(&mut errors, "name", &name);
    let redirect_uri = params.get("redirect_uri");
    if let Some(uri) = &redirect_uri
        && !Url::parse(uri).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
    {
        errors.push("redirect_uri", "must be an http or https URL");
    }
    let connection = params.id::<ConnectionId>("connection")?;
    errors.into_result(()).map_err(ApiError::validation)?;
    let workspace = workspace.expect("validated above");
    caller.workspace(&deps, workspace).await?;
    match connection {
        Some(id) => {
            let existing = deps.connections().connection(caller.org(), id).await?;
            if !existing.is_some_and(|c| c.kind == kind && c.workspace == workspace) {
                return Err(ApiError::not_found("Connection"));
            }
        }
        // Refused before the user is sent to consent; the callback checks again.
        None => crate::plan::check_room(&deps, caller.org(), Resource::Connections).await?,
    }

    let callback = callback_url(&deps, &headers, kind)?;
    let state = AuthorizationState {
        org: caller.org(),
        workspace,
        kind: kind.as_str().to_owned(),
        name: name.trim().to_owned(),
        redirect_uri,
        connection,
        created_by: caller.actor(),
        callback: callback.clone(),
        expires_at: deps.now() + STATE_LIFETIME,
        nonce: rand::rng()
            .sample_iter(&Alphanumeric)
            .take(22)
            .map(char::from)
            .collect(),
    };
    let mut url = provider.authorize_url.clone();
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &provider.client_id)
            .append_pair("redirect_uri", &callback);
        if !provider.scopes.is_empty() {
            query.append_pair("scope", &provider.scopes);
        }
        query.append_pair("state", &state.seal(deps.keys.as_ref()));
    }
    Ok(Json(AuthorizationStart {
        authorize_url: url.into(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/connections/oauth/{type}/callback",
    operation_id = "completeOAuthConnection",
    summary = "Complete connecting an OAuth integration",
    description = "**Extension**: where the provider sends the user's browser. Needs no \
        credentials: the sealed `state` is one. The code is exchanged for tokens, which are \
        sealed in the connection's secrets and never shown. Answers 303 to the `redirect_uri` \
        given to `start` with `connection=<id>` added, or the connection as JSON when there was \
        none. A forged or expired state, a provider refusal (`error=access_denied`) or a code \
        the provider does not accept answer 400 and store nothing.",
    tag = "connections",
    security(()),
    params(("type" = String, Path, description = TYPE), CallbackParams),
    responses(
        (status = 201, description = "Created (no `redirect_uri` was given).",
            body = ConnectionCreated),
        (status = 200, description = "Re-authorised (no `redirect_uri` was given).",
            body = ConnectionCreated),
        (status = 303, description = "To the caller's `redirect_uri`, with `connection=<id>`.",
            headers(("Location" = String, description = "The caller's redirect URI."))),
        (status = 400, response = BadRequest),
        (status = 403, response = PlanLimitReached),
        (status = 404, response = NotFound),
        (status = 502, description = "The provider's token endpoint did not answer.",
            body = ErrorBody),
    ),
)]
pub async fn callback(
    State(deps): State<Deps>,
    Path(kind): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let (kind, provider) = configured(&deps, &kind)?;
    let raw = params
        .get("state")
        .ok_or_else(|| ApiError::validation(ValidationErrors::single("state", "is required")))?;
    let state = AuthorizationState::open(deps.keys.as_ref(), &raw, deps.now())
        .map_err(state_refused)
        .and_then(|s| {
            (s.kind == kind.as_str())
                .then_some(s)
                .ok_or_else(|| state_refused(StateError::Forged))
        })?;
    if let Some(error) = params.get("error") {
        // Only the provider's error code is repeated, and only if it looks like one.
        let code: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "AuthorizationDenied",
            format!("The {kind} authorisation was not granted ({code}); nothing was stored"),
        ));
    }
    let code = params
        .get("code")
        .ok_or_else(|| ApiError::validation(ValidationErrors::single("code", "is required")))?;
    let endpoint = deps
        .live
        .oauth
        .tokens
        .clone()
        .ok_or_else(|| not_configured(kind))?;
    if state.connection.is_none() {
        // Checked again: connections may have been made since `start`.
        crate::plan::check_room(&deps, state.org, Resource::Connections).await?;
    }
    // Single use, spent before the code is exchanged: a replayed or doubled callback makes no
    // second connection.
    if !deps
        .key_claims()
        .consume_oauth_state(state.org, &state.nonce, deps.now(), state.expires_at)
        .await?
    {
        return Err(state_refused(StateError::Used));
    }
    let tokens = endpoint
        .exchange_code(provider, &code, &state.callback)
        .await
        .map_err(|e| exchange_failed(kind, e))?;

    let (connection, status) = match state.connection {
        Some(id) => (
            reauthorise(&deps, &state, id, &tokens).await?,
            StatusCode::OK,
        ),
        None => (
            create(&deps, &state, kind, &tokens).await?,
            StatusCode::CREATED,
        ),
    };
    let id = connection.id;
    if let Some(target) = &state.redirect_uri
        && let Ok(mut target) = Url::parse(target)
    {
        target
            .query_pairs_mut()
            .append_pair("connection", &id.to_string());
        let location = HeaderValue::from_str(target.as_str()).map_err(ApiError::internal)?;
        return Ok((StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response());
    }
    let connection = NewConnectionView {
        connection: connection.into(),
        signing_secret: None,
    };
    Ok((status, Json(ConnectionCreated { connection })).into_response())
}

async fn create(
    deps: &Deps,
    state: &AuthorizationState,
    kind: IntegrationType,
    tokens: &TokenSet,
) -> ApiResult<Connection> {
    let mut secrets = Map::new();
    tokens.store_in(&mut secrets);
    let mut metadata = Map::new();
    keep_instance_url(&mut metadata, tokens);
    let now = deps.now();
    let connection = Connection {
        id: ConnectionId::new(),
        org: state.org,
        workspace: state.workspace,
        kind,
        name: state.name.clone(),
        metadata,
        secrets: Some(Connection::seal_secrets(deps.keys.as_ref(), &secrets)),
        hidden: false,
        created_by: state.created_by.clone(),
        created_at: now,
        updated_at: now,
    };
    crate::plan::create_connection(deps, &connection).await?;
    tracing::info!(org = %state.org, workspace = %state.workspace, connection_id = %connection.id, kind = %kind, "OAuth connection created");
    Ok(connection)
}

/// New tokens for an existing connection; its other secrets are kept and its
/// `reauthorization_required` mark cleared.
async fn reauthorise(
    deps: &Deps,
    state: &AuthorizationState,
    id: ConnectionId,
    tokens: &TokenSet,
) -> ApiResult<Connection> {
    let mut connection = super::load_connection(deps, state.org, id).await?;
    let mut secrets = connection
        .open_secrets(deps.keys.as_ref())
        .map_err(ApiError::internal)?;
    tokens.store_in(&mut secrets);
    // New tokens end any refresh another process had claimed.
    secrets.remove(crate::oauth::LEASE);
    connection.secrets = Some(Connection::seal_secrets(deps.keys.as_ref(), &secrets));
    connection.metadata.remove(STATUS);
    connection.metadata.remove(STATUS_CODE);
    keep_instance_url(&mut connection.metadata, tokens);
    connection.updated_at = deps.now();
    if !deps.connections().update_connection(&connection).await? {
        return Err(ApiError::not_found("Connection"));
    }
    tracing::info!(org = %state.org, connection_id = %id, "OAuth connection re-authorised");
    Ok(connection)
}

/// The API host a Salesforce grant names, where its connector sends requests.
fn keep_instance_url(metadata: &mut Map<String, Value>, tokens: &TokenSet) {
    if let Some(url) = &tokens.instance_url {
        metadata.insert("instance_url".into(), Value::from(url.as_str()));
    }
}

/// The OAuth type named in the path and its configured client.
fn configured<'a>(deps: &'a Deps, raw: &str) -> ApiResult<(IntegrationType, &'a Provider)> {
    let kind = raw
        .parse::<IntegrationType>()
        .ok()
        .filter(|k| switchyard_core::oauth::is_oauth(*k))
        .ok_or_else(|| {
            ApiError::validation(ValidationErrors::single(
                "type",
                "is not an OAuth integration type",
            ))
        })?;
    let provider = deps
        .live
        .oauth
        .providers
        .get(kind)
        .filter(|_| deps.live.oauth.tokens.is_some())
        .ok_or_else(|| not_configured(kind))?;
    Ok((kind, provider))
}

fn not_configured(kind: IntegrationType) -> ApiError {
    ApiError::bad_request(format!(
        "No OAuth client is configured for {kind} on this server (SWITCHYARD_OAUTH_{}_CLIENT_ID)",
        kind.as_str().to_ascii_uppercase()
    ))
}

fn state_refused(e: StateError) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "InvalidState", e.to_string())
}

fn exchange_failed(kind: IntegrationType, e: TokenError) -> ApiError {
    match e {
        TokenError::Unavailable(_) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "ProviderUnavailable",
            format!("The {kind} token endpoint did not answer; start again later"),
        ),
        TokenError::InvalidGrant(code) | TokenError::Refused(code) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "AuthorizationFailed",
            format!("The {kind} token endpoint refused the code ({code}); nothing was stored"),
        ),
    }
}

/// Our callback URL for `kind`: under the configured public URL, else the request's host.
fn callback_url(deps: &Deps, headers: &HeaderMap, kind: IntegrationType) -> ApiResult<String> {
    super::public_url(
        deps,
        headers,
        &format!("/api/v1/connections/oauth/{kind}/callback"),
    )
    .map(String::from)
}
