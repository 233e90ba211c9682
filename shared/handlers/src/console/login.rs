//! Operator login. `switchyard console` [`issue`]s a machine key that expires on its own (the
//! console session) and a one-time login code signed with it; the page POSTs the code to
//! `/console/login` once and gets the key back, keeps it in the tab's sessionStorage and signs
//! its own 30 s machine JWTs with it. So the API sees an ordinary machine key: nothing new to
//! authorize, no cookie (no CSRF), and the code in the link is worthless once used or after
//! ten minutes.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use switchyard_core::OrgId;
use switchyard_core::StoreError;
use switchyard_core::credentials::{jwt_issuer, new_access_key, new_secret_key};
use switchyard_core::domain::MachineKey;
use time::{Duration, OffsetDateTime};

use crate::Deps;
use crate::api::ApiError;

/// The `aud` of a login code: an API token is never a login code, nor the reverse.
const LOGIN_AUDIENCE: &str = "switchyard-console-login";
/// The name of every console session's machine key (it shows in `GET /machine-keys`).
pub const KEY_NAME: &str = "console";
/// How long a printed login link can be used.
pub const CODE_LIFETIME: Duration = Duration::minutes(10);
/// How long a console session lasts from the link's issue: its key then stops working.
pub const SESSION_LIFETIME: Duration = Duration::hours(1);
/// How long an ended session's key stays listed (who logged in, and when) before the next
/// login deletes it, so `GET /machine-keys` does not collect one key per login forever.
pub const ENDED_SESSION_KEPT: Duration = Duration::days(7);
/// The prefix under which spent codes are claimed (beside OAuth states, in the same claim table).
const CLAIM_PREFIX: &str = "console-login:";
const LEEWAY_SECS: u64 = 5;

#[derive(Serialize, Deserialize)]
struct CodeClaims {
    iss: String,
    aud: String,
    org: String,
    iat: i64,
    exp: i64,
    jti: String,
}

/// A fresh one-time login code for the organization's console, valid [`CODE_LIFETIME`]. The
/// keys of sessions that ended over [`ENDED_SESSION_KEPT`] ago are deleted first.
pub async fn issue(deps: &Deps, org: OrgId) -> Result<String, StoreError> {
    let now = deps.now();
    for old in deps.tenants().machine_keys(org).await? {
        let ended_long_ago = old
            .revoked_at
            .is_some_and(|ended| ended + ENDED_SESSION_KEPT < now);
        if old.name == KEY_NAME && ended_long_ago {
            deps.tenants()
                .delete_machine_key(org, &old.access_key)
                .await?;
        }
    }
    let access_key = new_access_key();
    let secret_key = new_secret_key();
    deps.tenants()
        .put_machine_key(&MachineKey {
            access_key: access_key.clone(),
            org,
            name: KEY_NAME.to_owned(),
            secret: deps.keys.seal_str(&secret_key),
            created_at: now,
            revoked_at: Some(now + SESSION_LIFETIME),
        })
        .await?;
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(access_key.clone());
    let claims = CodeClaims {
        iss: jwt_issuer(&access_key),
        aud: LOGIN_AUDIENCE.to_owned(),
        org: org.to_string(),
        iat: now.unix_timestamp(),
        exp: (now + CODE_LIFETIME).unix_timestamp(),
        jti: uuid::Uuid::new_v4().to_string(),
    };
    let code = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(secret_key.as_bytes()),
    )
    .expect("HS256 signs any claims");
    Ok(code)
}

#[derive(Deserialize)]
struct LoginRequest {
    code: String,
}

/// What the tab keeps: enough to sign machine JWTs until `expires_at`.
#[derive(Serialize)]
struct Session {
    organization: String,
    access_key: String,
    secret_key: String,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

fn refused(reason: &str) -> ApiError {
    tracing::info!(reason, "console login refused");
    ApiError::unauthorized("This login link is invalid, expired or already used")
}

/// `POST /console/login {"code"}`: the session's key, once per code.
pub async fn exchange(State(deps): State<Deps>, body: Bytes) -> Result<Response, ApiError> {
    let request: LoginRequest = serde_json::from_slice(&body)
        .map_err(|_| ApiError::bad_request("The body must be {\"code\": \"…\"}"))?;
    let header =
        jsonwebtoken::decode_header(&request.code).map_err(|_| refused("malformed code"))?;
    if header.alg != Algorithm::HS256 {
        return Err(refused("algorithm is not HS256"));
    }
    let kid = header.kid.ok_or_else(|| refused("no kid"))?;
    let now = deps.now();
    let key = deps
        .tenants()
        .machine_key(&kid)
        .await?
        .ok_or_else(|| refused("unknown key"))?;
    // Only a console key's code opens a session: an ordinary key's secret is never handed out.
    if key.name != KEY_NAME {
        return Err(refused("not a console key"));
    }
    let Some(expires_at) = key.revoked_at.filter(|at| *at > now) else {
        return Err(refused("console session over"));
    };
    let secret = deps
        .keys
        .open_string(&key.secret)
        .map_err(|e| ApiError::internal(format!("console key cannot be opened: {e}")))?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = LEEWAY_SECS;
    validation.set_audience(&[LOGIN_AUDIENCE]);
    validation.set_issuer(&[jwt_issuer(&kid)]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    let claims = jsonwebtoken::decode::<CodeClaims>(
        &request.code,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|e| refused(&format!("code rejected: {e}")))?
    .claims;
    if claims.org != key.org.to_string() {
        return Err(refused("org claim does not match the key"));
    }
    let claim_until =
        OffsetDateTime::from_unix_timestamp(claims.exp).map_err(|_| refused("exp out of range"))?;
    let first_use = deps
        .key_claims()
        .consume_oauth_state(
            key.org,
            &format!("{CLAIM_PREFIX}{}", claims.jti),
            now,
            claim_until,
        )
        .await?;
    if !first_use {
        return Err(refused("code already used"));
    }
    let session = Session {
        organization: key.org.to_string(),
        access_key: kid,
        secret_key: secret,
        expires_at,
    };
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(session),
    )
        .into_response())
}
