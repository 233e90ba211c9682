//! Authentication, as axum extractors.
//!
//! - [`Machine`]: `Authorization: Bearer <JWT>`, HS256 signed with a machine key's secret;
//!   `kid` = access key, `iss` = `urn:meshes:m2m:<access key>`, `aud` = `meshes-api`,
//!   `org` = the key's organization, lifetime at most 60 s.
//! - [`EventSender`]: a workspace's `X-Meshes-Publishable-Key`, or a machine JWT.
//! - [`Caller`]: a machine JWT or an embed session's access token (`Authorization: Bearer
//!   sy_sess.<org>.<session>.<secret>`), as the typed principal the routes that sessions may
//!   reach take — through [`Reader`], [`Writer`] or [`PayloadReader`], which refuse (403) a
//!   session whose role, type or scopes do not permit that access. What lies within a
//!   session's reach (its workspace, its resource) is checked by the `Caller` methods in
//!   `scope.rs`; anything outside answers 404.
//! - A session token on a machine-only route ([`Machine`]) is refused with 403.
//!
//! Every failure is the same 401 with a generic message: which check failed is logged, not
//! told to the caller.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::sync::Arc;

use axum::http::StatusCode;
use serde::Deserialize;
use switchyard_core::OrgId;
use switchyard_core::credentials::{
    JWT_AUDIENCE, JWT_MAX_LIFETIME_SECS, SessionTokenKind, is_access_key_shape,
    is_publishable_key_shape, jwt_issuer, parse_session_token, publishable_key_hash,
    session_token_matches,
};
use switchyard_core::domain::{Access, Session};

use super::error::ApiError;
use crate::Deps;
use crate::ingest::Sender;

const PUBLISHABLE_KEY_HEADER: &str = "x-meshes-publishable-key";
/// Clock skew tolerated on `exp`, `iat` and `nbf`.
const LEEWAY_SECS: u64 = 5;

/// A caller authenticated with a machine key: may act on every workspace of `org`.
#[derive(Clone, Debug)]
pub struct Machine {
    pub org: OrgId,
    pub access_key: String,
}

#[derive(Deserialize)]
struct Claims {
    org: String,
    iat: i64,
    exp: i64,
    /// Optional; a token is refused before it (RFC 7519 §4.1.5).
    nbf: Option<i64>,
}

fn denied(reason: &str) -> ApiError {
    tracing::info!(reason, "authentication refused");
    ApiError::unauthorized("Invalid or missing credentials")
}

/// The `Authorization: Bearer` token.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| denied("no Authorization header"))?;
    Ok(header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(|| denied("not a Bearer token"))?
        .trim())
}

impl FromRequestParts<Deps> for Machine {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, deps: &Deps) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        if parse_session_token(SessionTokenKind::Access, token).is_some() {
            verify_session_token(deps, token).await?;
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "An embed session cannot use this route; it needs a machine key",
            ));
        }
        verify_machine_jwt(deps, token).await
    }
}

/// Who is calling a route that embed sessions may reach.
#[derive(Clone, Debug)]
pub enum Caller {
    /// Every workspace of its organization, every access.
    Machine(Machine),
    /// One workspace (one resource), as its role, type and scopes permit.
    Session(Arc<Session>),
}

impl Caller {
    pub fn org(&self) -> OrgId {
        match self {
            Caller::Machine(m) => m.org,
            Caller::Session(s) => s.org,
        }
    }

    /// Whether the caller may `access` (a machine key may do anything).
    pub fn permits(&self, access: Access) -> bool {
        match self {
            Caller::Machine(_) => true,
            Caller::Session(s) => s.permits(access),
        }
    }

    /// Who did it, for `created_by`: the machine key, or the session (and its user).
    pub fn actor(&self) -> String {
        match self {
            Caller::Machine(m) => format!("machine_key:{}", m.access_key),
            Caller::Session(s) => match &s.external_user_id {
                Some(user) => format!("session:{}:{user}", s.id),
                None => format!("session:{}", s.id),
            },
        }
    }
}

impl FromRequestParts<Deps> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, deps: &Deps) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        if parse_session_token(SessionTokenKind::Access, token).is_some() {
            return Ok(Caller::Session(Arc::new(
                verify_session_token(deps, token).await?,
            )));
        }
        verify_machine_jwt(deps, token).await.map(Caller::Machine)
    }
}

/// A session's access token: one keyed read of the session it names, then its hash, its
/// revocation and its expiry. A refresh replaces the hash, so the previous token stops then.
async fn verify_session_token(deps: &Deps, token: &str) -> Result<Session, ApiError> {
    let (org, id) = parse_session_token(SessionTokenKind::Access, token)
        .ok_or_else(|| denied("malformed session token"))?;
    let session = deps
        .sessions()
        .session(org, id)
        .await?
        .ok_or_else(|| denied("unknown session"))?;
    if !session_token_matches(token, &session.token_hash) {
        return Err(denied("session token does not match"));
    }
    if session.revoked_at.is_some() {
        return Err(denied("revoked session"));
    }
    if session.expires_at <= deps.clock.now() {
        return Err(denied("expired session token"));
    }
    Ok(session)
}

macro_rules! access_extractor {
    ($(#[$doc:meta])* $name:ident, $access:expr, $refusal:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name(pub Caller);

        impl std::ops::Deref for $name {
            type Target = Caller;
            fn deref(&self) -> &Caller {
                &self.0
            }
        }

        impl FromRequestParts<Deps> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, deps: &Deps) -> Result<Self, ApiError> {
                let caller = Caller::from_request_parts(parts, deps).await?;
                if !caller.permits($access) {
                    return Err(ApiError::new(StatusCode::FORBIDDEN, "Forbidden", $refusal));
                }
                Ok($name(caller))
            }
        }
    };
}

access_extractor!(
    /// A caller that may read: a machine key or any live session.
    Reader,
    Access::Read,
    "This session may not read"
);
access_extractor!(
    /// A caller that may write: a machine key, or an admin or owner session that is not a
    /// dashboard session.
    Writer,
    Access::Write,
    "This session's role or type does not allow changes"
);
access_extractor!(
    /// A caller that may see payloads: a machine key, or a session with `events.payload:read`.
    PayloadReader,
    Access::ReadPayload,
    "This session lacks the events.payload:read scope"
);

async fn verify_machine_jwt(deps: &Deps, token: &str) -> Result<Machine, ApiError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| denied("malformed JWT header"))?;
    if header.alg != Algorithm::HS256 {
        return Err(denied("algorithm is not HS256"));
    }
    let kid = header.kid.ok_or_else(|| denied("no kid"))?;
    if !is_access_key_shape(&kid) {
        return Err(denied("kid is not an access key"));
    }
    let key = deps
        .tenants()
        .machine_key(&kid)
        .await?
        .ok_or_else(|| denied("unknown access key"))?;
    if key.is_revoked(deps.clock.now()) {
        return Err(denied("revoked access key"));
    }
    let secret = deps
        .keys
        .open(&key.secret)
        .map_err(|e| ApiError::internal(format!("machine key secret cannot be opened: {e}")))?;

    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = LEEWAY_SECS;
    validation.set_audience(&[JWT_AUDIENCE]);
    validation.set_issuer(&[jwt_issuer(&kid)]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    let data =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&secret), &validation)
            .map_err(|e| denied(&format!("JWT rejected: {e}")))?;
    let claims = data.claims;

    if claims.org != key.org.to_string() {
        return Err(denied("org claim does not match the key's organization"));
    }
    if claims.exp - claims.iat > JWT_MAX_LIFETIME_SECS {
        return Err(denied("token lifetime exceeds 60 s"));
    }
    let latest = deps.clock.now().unix_timestamp() + LEEWAY_SECS as i64;
    if claims.iat > latest {
        return Err(denied("token issued in the future"));
    }
    if claims.nbf.is_some_and(|nbf| nbf > latest) {
        return Err(denied("token not valid yet (nbf)"));
    }
    Ok(Machine {
        org: key.org,
        access_key: kid,
    })
}

/// Who may send events: a publishable key (its workspace only) or a machine key.
pub struct EventSender(pub Sender);

impl FromRequestParts<Deps> for EventSender {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, deps: &Deps) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(PUBLISHABLE_KEY_HEADER) else {
            let machine = Machine::from_request_parts(parts, deps).await?;
            return Ok(EventSender(Sender::Machine {
                org: machine.org,
                access_key: machine.access_key,
            }));
        };
        let key = value
            .to_str()
            .map_err(|_| denied("publishable key is not ASCII"))?
            .trim();
        if !is_publishable_key_shape(key) {
            return Err(denied("malformed publishable key"));
        }
        let record = deps
            .tenants()
            .publishable_key(&publishable_key_hash(key))
            .await?
            .ok_or_else(|| denied("unknown publishable key"))?;
        if record.expires_at.is_some_and(|at| at <= deps.clock.now()) {
            return Err(denied("expired publishable key"));
        }
        Ok(EventSender(Sender::Publishable {
            org: record.org,
            workspace: record.workspace,
            key_name: record.name,
        }))
    }
}
