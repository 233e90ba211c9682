use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::keyring::{KeyRing, KeyRingError, Sealed};
use crate::{ConnectionId, OrgId, WorkspaceId};

/// The kinds of destination in the contract's catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntegrationType {
    ActiveCampaign,
    Aweber,
    CustomerIo,
    Discord,
    Hubspot,
    Intercom,
    Mailchimp,
    Mailerlite,
    Pipedrive,
    Resend,
    Salesforce,
    Sendgrid,
    Slack,
    Webhook,
    Zoom,
}

impl IntegrationType {
    pub const ALL: [IntegrationType; 15] = [
        Self::ActiveCampaign,
        Self::Aweber,
        Self::CustomerIo,
        Self::Discord,
        Self::Hubspot,
        Self::Intercom,
        Self::Mailchimp,
        Self::Mailerlite,
        Self::Pipedrive,
        Self::Resend,
        Self::Salesforce,
        Self::Sendgrid,
        Self::Slack,
        Self::Webhook,
        Self::Zoom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ActiveCampaign => "activecampaign",
            Self::Aweber => "aweber",
            Self::CustomerIo => "customer_io",
            Self::Discord => "discord",
            Self::Hubspot => "hubspot",
            Self::Intercom => "intercom",
            Self::Mailchimp => "mailchimp",
            Self::Mailerlite => "mailerlite",
            Self::Pipedrive => "pipedrive",
            Self::Resend => "resend",
            Self::Salesforce => "salesforce",
            Self::Sendgrid => "sendgrid",
            Self::Slack => "slack",
            Self::Webhook => "webhook",
            Self::Zoom => "zoom",
        }
    }

    /// Whether this build can deliver to the type. Connections of other types are refused on
    /// create rather than accepted and left to fail every delivery. Every catalog type has a
    /// connector (`switchyard_integrations::connectors`).
    pub fn is_deliverable(self) -> bool {
        Self::ALL.contains(&self)
    }
}

impl fmt::Display for IntegrationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IntegrationType {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|t| t.as_str() == s).ok_or(())
    }
}

/// A configured destination. `metadata` is what may be shown; `secrets` holds the write-only
/// part of what the user sent (auth credentials, signing secrets), sealed by the key ring.
#[derive(Clone, Debug, PartialEq)]
pub struct Connection {
    pub id: ConnectionId,
    pub org: OrgId,
    pub workspace: WorkspaceId,
    pub kind: IntegrationType,
    pub name: String,
    pub metadata: Map<String, Value>,
    pub secrets: Option<Sealed>,
    pub hidden: bool,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// `metadata.status` of an API-key connection whose key the provider refused on the latest
/// attempt; the next delivered attempt clears it.
pub const AUTHENTICATION_INVALID: &str = "authentication_invalid";

/// Why a connection is inactive: its deliveries fail until the cause is fixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InactiveReason {
    /// The provider refuses the connection's credentials.
    AuthenticationInvalid,
    /// The user revoked the app at the provider.
    OAuthAuthorizationRevoked,
    /// The OAuth grant lapsed (refresh token refused): run the OAuth flow again.
    OAuthReauthorizationRequired,
    ManuallyInactivated,
}

impl InactiveReason {
    pub const ALL: [InactiveReason; 4] = [
        Self::AuthenticationInvalid,
        Self::OAuthAuthorizationRevoked,
        Self::OAuthReauthorizationRequired,
        Self::ManuallyInactivated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthenticationInvalid => "authentication_invalid",
            Self::OAuthAuthorizationRevoked => "oauth_authorization_revoked",
            Self::OAuthReauthorizationRequired => "oauth_reauthorization_required",
            Self::ManuallyInactivated => "manually_inactivated",
        }
    }
}

/// Why a connection's sealed settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(transparent)]
    KeyRing(#[from] KeyRingError),
    #[error("connection secrets are not a JSON object")]
    Malformed,
}

impl Connection {
    /// The write-only settings, opened; empty when the connection has none. A seal that no
    /// longer opens is an error, never silently an empty map (which a write would then store,
    /// dropping the credentials).
    pub fn open_secrets(&self, keys: &dyn KeyRing) -> Result<Map<String, Value>, SecretsError> {
        let Some(sealed) = &self.secrets else {
            return Ok(Map::new());
        };
        serde_json::from_slice(&keys.open(sealed)?).map_err(|_| SecretsError::Malformed)
    }

    /// Why the connection cannot deliver, from what its metadata records: an OAuth grant the
    /// provider refused on refresh (`status: reauthorization_required`, with the provider's
    /// code telling a revocation from a lapsed grant), or an API key the provider refused on
    /// the last attempt (`status: authentication_invalid`). `None`: active.
    pub fn inactive_reason(&self) -> Option<InactiveReason> {
        use crate::oauth::{REAUTHORIZATION_REQUIRED, REVOKED_CODES, STATUS, STATUS_CODE};
        match self.metadata.get(STATUS).and_then(Value::as_str) {
            Some(REAUTHORIZATION_REQUIRED) => {}
            Some(AUTHENTICATION_INVALID) => return Some(InactiveReason::AuthenticationInvalid),
            _ => return None,
        }
        let code = self.metadata.get(STATUS_CODE).and_then(Value::as_str);
        Some(if code.is_some_and(|c| REVOKED_CODES.contains(&c)) {
            InactiveReason::OAuthAuthorizationRevoked
        } else {
            InactiveReason::OAuthReauthorizationRequired
        })
    }

    /// Seals write-only settings for storing as a connection's `secrets`.
    pub fn seal_secrets(keys: &dyn KeyRing, secrets: &Map<String, Value>) -> Sealed {
        keys.seal(&serde_json::to_vec(secrets).expect("a JSON map serialises"))
    }
}
