//! What each integration type offers: how it authenticates and which actions its rules may
//! use — the data behind `GET /integrations` and rule validation.

use crate::domain::IntegrationType;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthType {
    None,
    ApiKey,
    Basic,
    OAuth,
}

impl AuthType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ApiKey => "api_key",
            Self::Basic => "basic",
            Self::OAuth => "oauth",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct ActionSpec {
    pub action: &'static str,
    pub name: &'static str,
    pub description: &'static str,
}

#[derive(Debug)]
pub struct IntegrationSpec {
    pub kind: IntegrationType,
    pub name: &'static str,
    pub auth: AuthType,
    /// Connection metadata fields the authentication needs.
    pub auth_fields: &'static [&'static str],
    pub actions: &'static [ActionSpec],
}

macro_rules! action {
    ($action:literal, $name:literal, $description:literal) => {
        ActionSpec {
            action: $action,
            name: $name,
            description: $description,
        }
    };
}

const LISTS: [ActionSpec; 2] = [
    action!("add_to_list", "Add to list", "Add the contact to a list"),
    action!(
        "remove_from_list",
        "Remove from list",
        "Remove the contact from a list"
    ),
];

static CATALOG: [IntegrationSpec; 15] = [
    IntegrationSpec {
        kind: IntegrationType::ActiveCampaign,
        name: "ActiveCampaign",
        auth: AuthType::ApiKey,
        auth_fields: &["api_url", "api_key"],
        actions: &[
            LISTS[0],
            LISTS[1],
            action!("add_tag", "Add tag", "Tag the contact"),
            action!("remove_tag", "Remove tag", "Remove a tag from the contact"),
            action!(
                "sync_contact",
                "Sync contact",
                "Create or update the contact"
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Aweber,
        name: "AWeber",
        auth: AuthType::OAuth,
        auth_fields: &[],
        actions: &[LISTS[0], LISTS[1]],
    },
    IntegrationSpec {
        kind: IntegrationType::CustomerIo,
        name: "Customer.io",
        auth: AuthType::Basic,
        auth_fields: &["site_id", "api_key", "region"],
        actions: &[
            action!(
                "identify",
                "Identify person",
                "Create or update the person with the fields as attributes"
            ),
            action!(
                "track_event",
                "Track event",
                "Record an event for the person, with the fields as its data"
            ),
            action!(
                "add_to_segment",
                "Add to segment",
                "Add the person to a manual segment"
            ),
            action!(
                "remove_from_segment",
                "Remove from segment",
                "Remove the person from a manual segment"
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Discord,
        name: "Discord",
        auth: AuthType::ApiKey,
        auth_fields: &["webhook_url"],
        actions: &[action!(
            "send_message",
            "Send message",
            "Post a message to the webhook's channel; the text is a template with {{field}} placeholders"
        )],
    },
    IntegrationSpec {
        kind: IntegrationType::Hubspot,
        name: "HubSpot",
        auth: AuthType::OAuth,
        auth_fields: &[],
        actions: &[
            LISTS[0],
            LISTS[1],
            action!(
                "update_property",
                "Update property",
                "Set a contact property"
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Intercom,
        name: "Intercom",
        auth: AuthType::OAuth,
        auth_fields: &[],
        actions: &[
            action!("add_tag", "Add tag", "Tag the contact"),
            action!("remove_tag", "Remove tag", "Remove a tag from the contact"),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Mailchimp,
        name: "Mailchimp",
        auth: AuthType::ApiKey,
        auth_fields: &["api_key", "data_center"],
        actions: &[LISTS[0], LISTS[1]],
    },
    IntegrationSpec {
        kind: IntegrationType::Mailerlite,
        name: "MailerLite",
        auth: AuthType::ApiKey,
        auth_fields: &["api_key"],
        actions: &[
            action!(
                "add_to_group",
                "Add to group",
                "Add the subscriber to a group"
            ),
            action!(
                "remove_from_group",
                "Remove from group",
                "Remove the subscriber from a group"
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Pipedrive,
        name: "Pipedrive",
        auth: AuthType::ApiKey,
        auth_fields: &["company_domain", "api_token"],
        actions: &[
            action!(
                "upsert_person",
                "Create or update person",
                "Find the person by e-mail and update it, or create it"
            ),
            action!(
                "create_deal",
                "Create deal",
                "Create a deal for the person; the title is a template with {{field}} placeholders"
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Resend,
        name: "Resend",
        auth: AuthType::ApiKey,
        auth_fields: &["api_key"],
        actions: &[
            action!(
                "add_to_segment",
                "Add to segment",
                "Add the contact to a segment"
            ),
            action!(
                "remove_from_segment",
                "Remove from segment",
                "Remove the contact from a segment"
            ),
            action!(
                "send_email_template",
                "Send email template",
                "Send a templated email"
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Salesforce,
        name: "Salesforce",
        auth: AuthType::OAuth,
        auth_fields: &[],
        actions: &[
            action!(
                "add_to_campaign",
                "Add to campaign",
                "Add the lead or contact to a campaign"
            ),
            action!(
                "remove_from_campaign",
                "Remove from campaign",
                "Remove the member from a campaign"
            ),
            action!(
                "update_property",
                "Update property",
                "Set a field on the record"
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Sendgrid,
        name: "SendGrid",
        auth: AuthType::ApiKey,
        auth_fields: &["api_key"],
        actions: &[
            LISTS[0],
            LISTS[1],
            action!(
                "send_template_email",
                "Send template email",
                "Send a dynamic template email with the fields as its data"
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Slack,
        name: "Slack",
        auth: AuthType::OAuth,
        auth_fields: &[],
        actions: &[action!(
            "send_message",
            "Send message",
            "Post a message to a channel; the text is a template with {{field}} placeholders"
        )],
    },
    IntegrationSpec {
        kind: IntegrationType::Webhook,
        name: "Webhook",
        auth: AuthType::None,
        auth_fields: &[],
        actions: &[action!(
            "send_webhook",
            "Send webhook",
            "POST the event envelope (or the raw payload) to an HTTPS endpoint"
        )],
    },
    IntegrationSpec {
        kind: IntegrationType::Zoom,
        name: "Zoom",
        auth: AuthType::OAuth,
        auth_fields: &[],
        actions: &[
            action!(
                "add_meeting_registrant",
                "Add meeting registrant",
                "Register the contact for a meeting"
            ),
            action!(
                "add_webinar_registrant",
                "Add webinar registrant",
                "Register the contact for a webinar"
            ),
        ],
    },
];

/// Every integration type, in catalog order.
pub fn all() -> &'static [IntegrationSpec] {
    &CATALOG
}

pub fn spec(kind: IntegrationType) -> &'static IntegrationSpec {
    CATALOG
        .iter()
        .find(|s| s.kind == kind)
        .expect("every integration type is in the catalog")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_spec_with_actions() {
        for kind in IntegrationType::ALL {
            assert!(!spec(kind).actions.is_empty(), "{kind}");
        }
    }
}
