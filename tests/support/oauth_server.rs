//! A local OAuth 2.0 authorization server on 127.0.0.1 speaking RFC 6749 — the authorize
//! redirect (§4.1.1–4.1.2), the token endpoint with the `authorization_code` (§4.1.3) and
//! `refresh_token` (§6) grants, errors as §5.2 — with rotating refresh tokens (as Slack's token
//! rotation), configurable lifetimes and revocation. It also serves Slack's `chat.postMessage`
//! (its wire format: HTTP 200 with `{"ok": …}`), accepting only the access tokens it issued
//! and that are still valid, so a delivery proves which token it carried.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use url::{Url, form_urlencoded};

pub const CLIENT_ID: &str = "switchyard-test-client";
pub const CLIENT_SECRET: &str = "test-client-secret-not-shown";

#[derive(Default)]
struct Grants {
    /// Issued codes and the `redirect_uri` each was issued for.
    codes: HashMap<String, String>,
    /// Valid access tokens and when each stops being accepted.
    access: HashMap<String, Instant>,
    refresh: HashSet<String>,
    issued: u64,
    codes_issued: u64,
    code_grants: usize,
    refresh_grants: usize,
    /// Refresh requests, granted or not.
    refresh_requests: usize,
    /// Every `chat.postMessage`: the bearer token and the JSON body.
    messages: Vec<(String, Value)>,
}

struct Shared {
    grants: Mutex<Grants>,
    /// `expires_in` of tokens granted for a code, and for a refresh.
    code_expires_in: Mutex<u64>,
    refresh_expires_in: Mutex<u64>,
    /// The user refuses consent.
    deny: Mutex<bool>,
    /// How long the token endpoint takes, so concurrent refreshes overlap.
    token_latency: Mutex<Duration>,
}

/// Stops serving when dropped.
pub struct OAuthServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for OAuthServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl OAuthServer {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared {
            grants: Mutex::default(),
            code_expires_in: Mutex::new(3600),
            refresh_expires_in: Mutex::new(3600),
            deny: Mutex::new(false),
            token_latency: Mutex::new(Duration::ZERO),
        });
        let app = Router::new()
            .route("/oauth/authorize", get(authorize))
            .route("/oauth/token", post(token))
            .route("/api/chat.postMessage", post(post_message))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("oauth server serves");
        });
        Self { addr, shared, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The environment that points Switchyard's Slack OAuth client and Slack connector here.
    pub fn slack_env(&self) -> Vec<(String, String)> {
        vec![
            ("SWITCHYARD_OAUTH_SLACK_CLIENT_ID".into(), CLIENT_ID.into()),
            (
                "SWITCHYARD_OAUTH_SLACK_CLIENT_SECRET".into(),
                CLIENT_SECRET.into(),
            ),
            (
                "SWITCHYARD_OAUTH_SLACK_AUTHORIZE_URL".into(),
                self.url("/oauth/authorize"),
            ),
            (
                "SWITCHYARD_OAUTH_SLACK_TOKEN_URL".into(),
                self.url("/oauth/token"),
            ),
            ("SWITCHYARD_SLACK_API_URL".into(), self.url("/api")),
        ]
    }

    /// Lifetimes (`expires_in`, seconds) of tokens granted for a code and for a refresh.
    pub fn set_lifetimes(&self, code: u64, refresh: u64) {
        *self.shared.code_expires_in.lock().unwrap() = code;
        *self.shared.refresh_expires_in.lock().unwrap() = refresh;
    }

    pub fn deny_consent(&self, deny: bool) {
        *self.shared.deny.lock().unwrap() = deny;
    }

    pub fn set_token_latency(&self, latency: Duration) {
        *self.shared.token_latency.lock().unwrap() = latency;
    }

    /// Every access token stops being accepted (as if revoked early), refresh tokens still work.
    pub fn invalidate_access_tokens(&self) {
        self.shared.grants.lock().unwrap().access.clear();
    }

    /// The user revoked the app: no token of any kind works any more.
    pub fn revoke_all(&self) {
        let mut grants = self.shared.grants.lock().unwrap();
        grants.access.clear();
        grants.refresh.clear();
    }

    pub fn refresh_grants(&self) -> usize {
        self.shared.grants.lock().unwrap().refresh_grants
    }

    pub fn refresh_requests(&self) -> usize {
        self.shared.grants.lock().unwrap().refresh_requests
    }

    pub fn code_grants(&self) -> usize {
        self.shared.grants.lock().unwrap().code_grants
    }

    /// `(bearer token, body)` of every `chat.postMessage` received, accepted or not.
    pub fn messages(&self) -> Vec<(String, Value)> {
        self.shared.grants.lock().unwrap().messages.clone()
    }

    /// Whether `token` is an access token this server would accept now.
    pub fn accepts(&self, token: &str) -> bool {
        let grants = self.shared.grants.lock().unwrap();
        grants
            .access
            .get(token)
            .is_some_and(|until| *until > Instant::now())
    }

    /// Every token this server ever issued, so a test can check none leaks.
    pub fn issued_prefix() -> &'static str {
        "sytest-"
    }
}

async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (Some(redirect_uri), Some(state)) = (query.get("redirect_uri"), query.get("state")) else {
        return (
            StatusCode::BAD_REQUEST,
            "redirect_uri and state are required",
        )
            .into_response();
    };
    if query.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || query.get("response_type").map(String::as_str) != Some("code")
    {
        return (StatusCode::BAD_REQUEST, "unknown client").into_response();
    }
    let Ok(mut target) = Url::parse(redirect_uri) else {
        return (StatusCode::BAD_REQUEST, "bad redirect_uri").into_response();
    };
    if *shared.deny.lock().unwrap() {
        target
            .query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("state", state);
    } else {
        let mut grants = shared.grants.lock().unwrap();
        grants.codes_issued += 1;
        let code = format!("code-{}", grants.codes_issued);
        grants.codes.insert(code.clone(), redirect_uri.clone());
        target
            .query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", state);
    }
    (StatusCode::FOUND, [(header::LOCATION, target.to_string())]).into_response()
}

fn token_error(status: StatusCode, code: &str) -> Response {
    (status, axum::Json(json!({"error": code}))).into_response()
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let latency = *shared.token_latency.lock().unwrap();
    if !latency.is_zero() {
        // The provider's own slowness, so that refreshes of one connection overlap.
        tokio::time::sleep(latency).await;
    }
    if headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        != Some("application/x-www-form-urlencoded")
    {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str);
    if field("client_id") != Some(CLIENT_ID) || field("client_secret") != Some(CLIENT_SECRET) {
        return token_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let mut grants = shared.grants.lock().unwrap();
    let expires_in = match field("grant_type") {
        Some("authorization_code") => {
            let issued_for = field("code").and_then(|c| grants.codes.remove(c));
            if issued_for.is_none() || issued_for.as_deref() != field("redirect_uri") {
                return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            grants.code_grants += 1;
            *shared.code_expires_in.lock().unwrap()
        }
        Some("refresh_token") => {
            grants.refresh_requests += 1;
            // Rotation: a refresh token works once.
            if !field("refresh_token").is_some_and(|r| grants.refresh.remove(r)) {
                return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            grants.refresh_grants += 1;
            *shared.refresh_expires_in.lock().unwrap()
        }
        _ => return token_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    };
    grants.issued += 1;
    let n = grants.issued;
    let access = format!("sytest-access-{n}");
    let refresh = format!("sytest-refresh-{n}");
    grants.access.insert(
        access.clone(),
        Instant::now() + Duration::from_secs(expires_in),
    );
    grants.refresh.insert(refresh.clone());
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "refresh_token": refresh,
        })),
    )
        .into_response()
}

async fn post_message(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let message: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut grants = shared.grants.lock().unwrap();
    grants.messages.push((token.clone(), message.clone()));
    let answer = match grants.access.get(&token) {
        Some(until) if *until > Instant::now() => {
            json!({"ok": true, "channel": message["channel"], "ts": "1503435956.000247"})
        }
        Some(_) => json!({"ok": false, "error": "token_expired"}),
        None => json!({"ok": false, "error": "invalid_auth"}),
    };
    axum::Json(answer).into_response()
}
