use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::keyring::Sealed;
use crate::{ConnectionId, OrgId, WorkspaceId};

/// The kinds of destination in the contract's catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntegrationType {
    ActiveCampaign,
    Aweber,
    Hubspot,
    Intercom,
    Mailchimp,
    Mailerlite,
    Resend,
    Salesforce,
    Slack,
    Webhook,
    Zoom,
}

impl IntegrationType {
    pub const ALL: [IntegrationType; 11] = [
        Self::ActiveCampaign,
        Self::Aweber,
        Self::Hubspot,
        Self::Intercom,
        Self::Mailchimp,
        Self::Mailerlite,
        Self::Resend,
        Self::Salesforce,
        Self::Slack,
        Self::Webhook,
        Self::Zoom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ActiveCampaign => "activecampaign",
            Self::Aweber => "aweber",
            Self::Hubspot => "hubspot",
            Self::Intercom => "intercom",
            Self::Mailchimp => "mailchimp",
            Self::Mailerlite => "mailerlite",
            Self::Resend => "resend",
            Self::Salesforce => "salesforce",
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
