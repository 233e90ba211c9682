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

    /// Seals write-only settings for storing as a connection's `secrets`.
    pub fn seal_secrets(keys: &dyn KeyRing, secrets: &Map<String, Value>) -> Sealed {
        keys.seal(&serde_json::to_vec(secrets).expect("a JSON map serialises"))
    }
}
