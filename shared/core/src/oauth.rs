//! OAuth 2.0 connections (RFC 6749 §4.1): the providers' settings, the sealed `state` that
//! carries a pending authorisation through the user's browser, the token set kept in a
//! connection's secrets, the refresh rule, and the token-endpoint port.
//!
//! The `state` is sealed by the key ring, so nothing about a pending authorisation is stored:
//! the callback trusts exactly what it can open, and a forged or expired state is refused.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};
use url::Url;

use crate::domain::IntegrationType;
use crate::keyring::{KeyRing, Sealed};
use crate::secret::Secret;
use crate::{ConnectionId, OrgId, WorkspaceId};

/// How long a user has to finish the provider's consent screen.
pub const STATE_LIFETIME: Duration = Duration::minutes(10);
/// A token this close to its expiry is refreshed before it is used.
pub const REFRESH_MARGIN: Duration = Duration::seconds(60);

/// Secret keys of an OAuth connection's token set.
pub const ACCESS_TOKEN: &str = "access_token";
pub const REFRESH_TOKEN: &str = "refresh_token";
pub const EXPIRES_AT: &str = "expires_at";

/// `metadata.status` of a connection whose refresh token was revoked: the OAuth flow must be
/// run again (`connection=<id>` on start) before it delivers.
pub const STATUS: &str = "status";
pub const REAUTHORIZATION_REQUIRED: &str = "reauthorization_required";
/// `metadata.status_code`: the provider's error code that set `status` (`invalid_grant`,
/// `token_revoked` …), so the connection can say why it is inactive.
pub const STATUS_CODE: &str = "status_code";
/// The provider codes that say the user revoked the app, rather than a grant that lapsed.
pub const REVOKED_CODES: [&str; 1] = ["token_revoked"];

/// How the client authenticates at the token endpoint (RFC 6749 §2.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body.
    Body,
    /// HTTP Basic with the client id and secret.
    Basic,
}

/// One provider's OAuth client: who we are to it and where its two endpoints are.
#[derive(Clone, Debug)]
pub struct Provider {
    pub kind: IntegrationType,
    pub client_id: String,
    pub client_secret: Secret,
    pub authorize_url: Url,
    pub token_url: Url,
    /// The `scope` parameter as the provider wants it (Slack separates with commas).
    pub scopes: String,
    pub client_auth: ClientAuth,
}

/// The providers' documented endpoints and the scopes a connector needs:
/// `(authorize, token, scopes, client auth)`.
pub fn default_endpoints(
    kind: IntegrationType,
) -> Option<(&'static str, &'static str, &'static str, ClientAuth)> {
    use IntegrationType as T;
    Some(match kind {
        T::Slack => (
            "https://slack.com/oauth/v2/authorize",
            "https://slack.com/api/oauth.v2.access",
            "chat:write,chat:write.public",
            ClientAuth::Body,
        ),
        T::Hubspot => (
            "https://app.hubspot.com/oauth/authorize",
            "https://api.hubapi.com/oauth/v1/token",
            "crm.objects.contacts.read crm.objects.contacts.write",
            ClientAuth::Body,
        ),
        T::Salesforce => (
            "https://login.salesforce.com/services/oauth2/authorize",
            "https://login.salesforce.com/services/oauth2/token",
            "api refresh_token",
            ClientAuth::Body,
        ),
        T::Intercom => (
            "https://app.intercom.com/oauth",
            "https://api.intercom.io/auth/eagle/token",
            "",
            ClientAuth::Body,
        ),
        T::Aweber => (
            "https://auth.aweber.com/oauth2/authorize",
            "https://auth.aweber.com/oauth2/token",
            "account.read list.read subscriber.read subscriber.write",
            ClientAuth::Basic,
        ),
        T::Zoom => (
            "https://zoom.us/oauth/authorize",
            "https://zoom.us/oauth/token",
            "",
            ClientAuth::Basic,
        ),
        _ => return None,
    })
}

/// Whether connections of `kind` authenticate with OAuth.
pub fn is_oauth(kind: IntegrationType) -> bool {
    default_endpoints(kind).is_some()
}

/// The configured providers. A type without a client id is absent: its start is refused.
#[derive(Clone, Debug, Default)]
pub struct Providers(BTreeMap<&'static str, Provider>);

impl Providers {
    /// Reads `SWITCHYARD_OAUTH_<TYPE>_CLIENT_ID`, `_CLIENT_SECRET`, `_AUTHORIZE_URL`,
    /// `_TOKEN_URL` and `_SCOPES` through `var` (the environment, or a Secrets Manager JSON
    /// object); unset URLs and scopes are the provider's documented ones.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut providers = BTreeMap::new();
        for kind in IntegrationType::ALL {
            let Some((authorize, token, scopes, client_auth)) = default_endpoints(kind) else {
                continue;
            };
            let prefix = format!("SWITCHYARD_OAUTH_{}_", kind.as_str().to_ascii_uppercase());
            let get = |name: &str| var(&format!("{prefix}{name}")).filter(|v| !v.is_empty());
            let Some(client_id) = get("CLIENT_ID") else {
                continue;
            };
            let url = |name: &str, default: &str| {
                let raw = get(name).unwrap_or_else(|| default.to_owned());
                Url::parse(&raw).map_err(|e| format!("{prefix}{name}: {e}"))
            };
            providers.insert(
                kind.as_str(),
                Provider {
                    kind,
                    client_id,
                    client_secret: Secret::new(get("CLIENT_SECRET").unwrap_or_default()),
                    authorize_url: url("AUTHORIZE_URL", authorize)?,
                    token_url: url("TOKEN_URL", token)?,
                    scopes: get("SCOPES").unwrap_or_else(|| scopes.to_owned()),
                    client_auth,
                },
            );
        }
        Ok(Self(providers))
    }

    pub fn get(&self, kind: IntegrationType) -> Option<&Provider> {
        self.0.get(kind.as_str())
    }
}

/// A pending authorisation, carried sealed in `state` through the provider and back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationState {
    pub org: OrgId,
    pub workspace: WorkspaceId,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    /// Where the user's browser goes once the connection exists.
    pub redirect_uri: Option<String>,
    /// Re-authorisation of an existing connection rather than a new one.
    pub connection: Option<ConnectionId>,
    /// Who started the flow (`machine_key:<access key>`), recorded on the connection.
    pub created_by: String,
    /// Our callback URL, which the token request must repeat (RFC 6749 §4.1.3).
    pub callback: String,
    #[serde(with = "time::serde::timestamp")]
    pub expires_at: OffsetDateTime,
    /// Makes every state unique, so one cannot be predicted from another.
    pub nonce: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StateError {
    #[error("the state parameter is not one this server issued")]
    Forged,
    #[error("the authorisation took too long; start again")]
    Expired,
    #[error("this authorisation was already used; start again")]
    Used,
}

/// Prefix of a state's seal, so a state cannot be confused with any other sealed value.
const STATE_PURPOSE: &str = "oauth-state:";

impl AuthorizationState {
    pub fn seal(&self, keys: &dyn KeyRing) -> String {
        let json = serde_json::to_string(self).expect("state serialises");
        keys.seal_str(&format!("{STATE_PURPOSE}{json}")).0
    }

    pub fn open(keys: &dyn KeyRing, state: &str, now: OffsetDateTime) -> Result<Self, StateError> {
        let plain = keys
            .open_string(&Sealed(state.to_owned()))
            .map_err(|_| StateError::Forged)?;
        let json = plain
            .strip_prefix(STATE_PURPOSE)
            .ok_or(StateError::Forged)?;
        let state: Self = serde_json::from_str(json).map_err(|_| StateError::Forged)?;
        if now >= state.expires_at {
            return Err(StateError::Expired);
        }
        Ok(state)
    }
}

/// What a token endpoint granted. `Debug` never shows the tokens.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenSet {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_at: Option<OffsetDateTime>,
    /// Salesforce's answer names the organization's API host (`instance_url`); it is not a
    /// secret and becomes the connection's `metadata.instance_url`.
    pub instance_url: Option<String>,
}

impl TokenSet {
    /// From a token response's fields (`expires_in` in seconds from `now`).
    pub fn granted(
        access_token: String,
        refresh_token: Option<String>,
        expires_in: Option<i64>,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            access_token: Secret::new(access_token),
            refresh_token: refresh_token.map(Secret::new),
            expires_at: expires_in.map(|s| now + Duration::seconds(s)),
            instance_url: None,
        }
    }

    /// Writes the set into a connection's secrets. A refresh that brought no new refresh token
    /// keeps the old one (RFC 6749 §6: the server MAY issue a new one).
    pub fn store_in(&self, secrets: &mut Map<String, Value>) {
        secrets.insert(ACCESS_TOKEN.into(), self.access_token.expose().into());
        if let Some(refresh) = &self.refresh_token {
            secrets.insert(REFRESH_TOKEN.into(), refresh.expose().into());
        }
        match self.expires_at {
            Some(at) => secrets.insert(EXPIRES_AT.into(), at.unix_timestamp().into()),
            None => secrets.remove(EXPIRES_AT),
        };
    }

    /// Reads the set back from opened secrets; `None` without an access token.
    pub fn from_secrets(secrets: &Map<String, Value>) -> Option<Self> {
        let access_token = secrets.get(ACCESS_TOKEN)?.as_str()?;
        Some(Self {
            access_token: Secret::new(access_token),
            refresh_token: secrets
                .get(REFRESH_TOKEN)
                .and_then(Value::as_str)
                .map(Secret::new),
            expires_at: secrets
                .get(EXPIRES_AT)
                .and_then(Value::as_i64)
                .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok()),
            instance_url: None,
        })
    }

    /// Whether the access token should be refreshed before it is used at `now`.
    pub fn needs_refresh(&self, now: OffsetDateTime) -> bool {
        self.refresh_token.is_some() && self.expires_at.is_some_and(|at| at - REFRESH_MARGIN <= now)
    }
}

/// Why a token request failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// The grant (code or refresh token) is invalid, expired or revoked: the user must
    /// authorise again.
    #[error("the provider refused the grant ({0})")]
    InvalidGrant(String),
    /// Any other refusal (bad client credentials, malformed answer …).
    #[error("the provider's token endpoint refused: {0}")]
    Refused(String),
    /// No answer, or a 5xx: worth trying again later.
    #[error("the provider's token endpoint is unavailable: {0}")]
    Unavailable(String),
}

/// The provider's token endpoint: the two POSTs of RFC 6749 (§4.1.3 and §6).
#[async_trait]
pub trait TokenEndpoint: Send + Sync + 'static {
    async fn exchange_code(
        &self,
        provider: &Provider,
        code: &str,
        redirect_uri: &str,
    ) -> Result<TokenSet, TokenError>;

    async fn refresh(
        &self,
        provider: &Provider,
        refresh_token: &Secret,
    ) -> Result<TokenSet, TokenError>;
}

impl fmt::Debug for dyn TokenEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenEndpoint")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyring::MasterKeyRing;

    fn ring() -> MasterKeyRing {
        MasterKeyRing::new("k1", [("k1".to_string(), [7u8; 32])])
    }

    fn state(expires_at: OffsetDateTime) -> AuthorizationState {
        AuthorizationState {
            org: OrgId::new(),
            workspace: WorkspaceId::new(),
            kind: "slack".into(),
            name: "Team Slack".into(),
            redirect_uri: Some("https://app.example/done".into()),
            connection: None,
            created_by: "machine_key:AK1".into(),
            callback: "https://sy.example/api/v1/connections/oauth/slack/callback".into(),
            expires_at,
            nonce: "n1".into(),
        }
    }

    #[test]
    fn state_round_trips_and_refuses_forgery_and_expiry() {
        let keys = ring();
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let s = state(now + STATE_LIFETIME);
        let sealed = s.seal(&keys);
        assert!(!sealed.contains("Team Slack"));
        assert_eq!(AuthorizationState::open(&keys, &sealed, now), Ok(s));
        assert_eq!(
            AuthorizationState::open(&keys, &sealed, now + STATE_LIFETIME),
            Err(StateError::Expired)
        );
        let mut forged = sealed.clone();
        forged.pop();
        assert_eq!(
            AuthorizationState::open(&keys, &forged, now),
            Err(StateError::Forged)
        );
        // Another sealed value of ours is not a state.
        let other = keys.seal_str("{}").0;
        assert_eq!(
            AuthorizationState::open(&keys, &other, now),
            Err(StateError::Forged)
        );
    }

    #[test]
    fn refresh_is_due_within_the_margin() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let set = TokenSet::granted("a".into(), Some("r".into()), Some(120), now);
        assert!(!set.needs_refresh(now));
        assert!(set.needs_refresh(now + Duration::seconds(60)));
        let no_refresh = TokenSet::granted("a".into(), None, Some(10), now);
        assert!(!no_refresh.needs_refresh(now + Duration::hours(1)));
    }

    #[test]
    fn token_set_round_trips_through_secrets_and_keeps_the_old_refresh_token() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let mut secrets = Map::new();
        TokenSet::granted("a1".into(), Some("r1".into()), Some(3600), now).store_in(&mut secrets);
        TokenSet::granted("a2".into(), None, Some(3600), now).store_in(&mut secrets);
        let set = TokenSet::from_secrets(&secrets).unwrap();
        assert_eq!(set.access_token.expose(), "a2");
        assert_eq!(set.refresh_token.unwrap().expose(), "r1");
        assert_eq!(set.expires_at, Some(now + Duration::hours(1)));
        assert!(!format!("{:?}", TokenSet::from_secrets(&secrets)).contains("a2"));
    }

    #[test]
    fn providers_come_from_variables_with_documented_defaults() {
        let vars = |name: &str| match name {
            "SWITCHYARD_OAUTH_SLACK_CLIENT_ID" => Some("cid".to_owned()),
            "SWITCHYARD_OAUTH_SLACK_TOKEN_URL" => Some("http://127.0.0.1:9/token".to_owned()),
            _ => None,
        };
        let providers = Providers::from_vars(vars).unwrap();
        let slack = providers.get(IntegrationType::Slack).unwrap();
        assert_eq!(slack.token_url.as_str(), "http://127.0.0.1:9/token");
        assert_eq!(
            slack.authorize_url.as_str(),
            "https://slack.com/oauth/v2/authorize"
        );
        assert!(providers.get(IntegrationType::Hubspot).is_none());
        assert!(!is_oauth(IntegrationType::Webhook));
    }
}
