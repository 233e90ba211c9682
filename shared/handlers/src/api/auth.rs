//! Authentication, as axum extractors.
//!
//! - [`Machine`]: `Authorization: Bearer <JWT>`, HS256 signed with a machine key's secret;
//!   `kid` = access key, `iss` = `urn:meshes:m2m:<access key>`, `aud` = `meshes-api`,
//!   `org` = the key's organization, lifetime at most 60 s.
//! - [`EventSender`]: a workspace's `X-Meshes-Publishable-Key`, or a machine JWT.
//!
//! Every failure is the same 401 with a generic message: which check failed is logged, not
//! told to the caller.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use switchyard_core::OrgId;
use switchyard_core::credentials::{
    JWT_AUDIENCE, JWT_MAX_LIFETIME_SECS, is_access_key_shape, is_publishable_key_shape, jwt_issuer,
    publishable_key_hash,
};

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

impl FromRequestParts<Deps> for Machine {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, deps: &Deps) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| denied("no Authorization header"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| denied("not a Bearer token"))?
            .trim();
        verify_machine_jwt(deps, token).await
    }
}

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
    if key.revoked_at.is_some_and(|at| at <= deps.clock.now()) {
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
