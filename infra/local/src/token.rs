//! Minting machine JWTs the way Meshes' SDKs do: HS256 with the secret key, `kid` = access key.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde::Serialize;
use switchyard_core::credentials::{JWT_AUDIENCE, jwt_issuer};

use crate::credentials_file::Credentials;

#[derive(Serialize)]
struct Claims<'a> {
    iss: String,
    aud: &'a str,
    org: &'a str,
    iat: i64,
    exp: i64,
}

/// A token valid for `lifetime_secs` (at most 60 are accepted).
pub fn mint(creds: &Credentials, lifetime_secs: i64) -> anyhow::Result<String> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(creds.access_key.clone());
    let claims = Claims {
        iss: jwt_issuer(&creds.access_key),
        aud: JWT_AUDIENCE,
        org: &creds.org_id,
        iat: now,
        exp: now + lifetime_secs,
    };
    Ok(encode(
        &header,
        &claims,
        &EncodingKey::from_secret(creds.secret_key.as_bytes()),
    )?)
}
