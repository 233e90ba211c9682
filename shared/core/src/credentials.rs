//! Credential formats: machine keys and publishable keys, as the official clients expect them.

use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

use crate::{OrgId, SessionId, WorkspaceId};

/// The JWT audience every machine token must carry.
pub const JWT_AUDIENCE: &str = "meshes-api";
/// The longest lifetime (`exp - iat`) a machine token may claim, in seconds.
pub const JWT_MAX_LIFETIME_SECS: i64 = 60;

/// The `iss` a machine token must carry for an access key.
pub fn jwt_issuer(access_key: &str) -> String {
    format!("urn:meshes:m2m:{access_key}")
}

fn random_alphanumeric(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// The access keys' prefix, as the clients expect it.
pub const ACCESS_KEY_PREFIX: &str = "mk_";

/// A new access key: `mk_` and 32 alphanumerics, inside the clients' `^mk_[A-Za-z0-9_-]{22,}$`.
pub fn new_access_key() -> String {
    format!("{ACCESS_KEY_PREFIX}{}", random_alphanumeric(32))
}

/// Whether `key` has the shape the clients accept for an access key (checked before any
/// lookup): `^mk_[A-Za-z0-9_-]{22,}$`.
pub fn is_access_key_shape(key: &str) -> bool {
    key.strip_prefix(ACCESS_KEY_PREFIX).is_some_and(|rest| {
        rest.len() >= 22
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

/// A new secret key: 48 alphanumerics (≈ 285 bits), inside the clients' `^[a-zA-Z0-9_=\-/]+$`.
pub fn new_secret_key() -> String {
    random_alphanumeric(48)
}

/// A new publishable key, `mesh_pub_<org>_<workspace>_<secret>`, matching the clients' pattern
/// `^mesh_pub_([A-Za-z0-9\-.]+)_([A-Za-z0-9\-.]+)_([^_]+)$`.
pub fn new_publishable_key(org: OrgId, workspace: WorkspaceId) -> String {
    let short = |u: uuid::Uuid| u.simple().to_string()[..12].to_owned();
    format!(
        "mesh_pub_{}_{}_{}",
        short(org.0),
        short(workspace.0),
        random_alphanumeric(32)
    )
}

/// Whether `key` has the shape of a publishable key (checked before any lookup).
pub fn is_publishable_key_shape(key: &str) -> bool {
    let Some(rest) = key.strip_prefix("mesh_pub_") else {
        return false;
    };
    let parts: Vec<&str> = rest.splitn(3, '_').collect();
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    };
    parts.len() == 3
        && part_ok(parts[0])
        && part_ok(parts[1])
        && !parts[2].is_empty()
        && !parts[2].contains('_')
}

/// The lookup hash of a publishable key. Keys are long and random, so an unsalted hash is
/// enough to make a stolen table useless.
pub fn publishable_key_hash(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    hex::encode(digest)
}

/// The two tokens an embed session hands out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionTokenKind {
    /// `Authorization: Bearer` on the API while the session lives.
    Access,
    /// Exchanged once for the access token by the embed page.
    Launch,
}

impl SessionTokenKind {
    fn prefix(self) -> &'static str {
        match self {
            Self::Access => "sy_sess",
            Self::Launch => "sy_launch",
        }
    }
}

/// A new session token, `<prefix>.<org>.<session>.<secret>`: opaque to its holder, 256 random
/// bits, and naming its session so that checking it is one keyed read of the session and a
/// comparison of hashes — no index of tokens, and revocation or expiry take effect at once.
pub fn new_session_token(kind: SessionTokenKind, org: OrgId, session: SessionId) -> String {
    let secret: [u8; 32] = rand::random();
    let secret = hex::encode(secret);
    format!("{}.{org}.{session}.{secret}", kind.prefix())
}

/// The organization and session a token of `kind` names, when it has the shape of one.
pub fn parse_session_token(kind: SessionTokenKind, token: &str) -> Option<(OrgId, SessionId)> {
    let mut parts = token.split('.');
    if parts.next()? != kind.prefix() {
        return None;
    }
    let org = parts.next()?.parse().ok()?;
    let session = parts.next()?.parse().ok()?;
    let secret = parts.next()?;
    (secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()) && parts.next().is_none())
        .then_some((org, session))
}

/// What is stored of a session token: its SHA-256, hex.
pub fn session_token_hash(token: &str) -> String {
    publishable_key_hash(token)
}

/// Whether `token` hashes to `stored`, in time independent of where they differ.
pub fn session_token_matches(token: &str, stored: &str) -> bool {
    let given = session_token_hash(token);
    given.len() == stored.len()
        && given
            .bytes()
            .zip(stored.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_documented_shapes() {
        let pk = new_publishable_key(OrgId::new(), WorkspaceId::new());
        assert!(is_publishable_key_shape(&pk), "{pk}");
        let ak = new_access_key();
        assert!(is_access_key_shape(&ak), "{ak}");
        assert!(new_secret_key().chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn session_tokens_name_their_session_and_match_only_their_hash() {
        let (org, id) = (OrgId::new(), SessionId::new());
        let token = new_session_token(SessionTokenKind::Access, org, id);
        assert_eq!(
            parse_session_token(SessionTokenKind::Access, &token),
            Some((org, id))
        );
        assert_eq!(parse_session_token(SessionTokenKind::Launch, &token), None);
        assert_eq!(
            parse_session_token(SessionTokenKind::Access, &format!("{token}.x")),
            None
        );
        let hash = session_token_hash(&token);
        assert!(session_token_matches(&token, &hash));
        let other = new_session_token(SessionTokenKind::Access, org, id);
        assert!(!session_token_matches(&other, &hash));
    }

    #[test]
    fn access_keys_of_the_old_shape_or_too_short_are_not_access_keys() {
        assert!(is_access_key_shape("mk_abcdefghij_klmnopqrst-uv"));
        assert!(!is_access_key_shape("AKabcdefghijklmnopqrstuv"));
        assert!(!is_access_key_shape("mk_abcdefghijklmnopqrstu"));
        assert!(!is_access_key_shape("mk_abcdefghijklmnopqrstuv!"));
    }

    #[test]
    fn rejects_malformed_publishable_keys() {
        assert!(!is_publishable_key_shape("mesh_pub_a_b"));
        assert!(!is_publishable_key_shape("pub_a_b_c"));
        assert!(!is_publishable_key_shape("mesh_pub_a_b_c_d"));
        assert!(is_publishable_key_shape("mesh_pub_a_b_c"));
    }
}
