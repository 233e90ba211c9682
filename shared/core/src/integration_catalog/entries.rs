//! The catalog's entries: one [`IntegrationSpec`] per integration type, and the pieces they
//! share.

use super::*;

const CONTACT: &[&str] = &["email", "first_name", "last_name"];
const CONTACT_PHONE: &[&str] = &["email", "first_name", "last_name", "phone"];
const CONTACT_NAME: &[&str] = &["email", "name", "first_name", "last_name"];

const fn action(
    key: &'static str,
    label: &'static str,
    noun: &'static str,
    description: &'static str,
    fields: &'static [&'static str],
    inputs: &'static [ActionInput],
) -> ActionSpec {
    ActionSpec {
        key,
        label,
        noun,
        description,
        fields,
        inputs,
    }
}

const API_KEY: AuthField = AuthField::password("api_key", "API key");

const AC_LIST: [ActionInput; 1] = [ActionInput::target("list", "List", "list")];
const AC_TAG: [ActionInput; 1] = [ActionInput::target("tag", "Tag", "tag")];
const HUBSPOT_LIST: [ActionInput; 1] = [ActionInput::target("list", "List", "list")
    .describe("A contact list (its ILS list id); dynamic lists cannot be changed")];
const AUDIENCE: [ActionInput; 1] = [ActionInput::target("list", "Audience", "list")];
const GROUP: [ActionInput; 1] = [ActionInput::target("group", "Group", "group")];
const SEGMENT: [ActionInput; 1] = [ActionInput::target("segment", "Segment", "segment")];
const CAMPAIGN: [ActionInput; 1] = [ActionInput::target("campaign", "Campaign", "campaign")];
const INTERCOM_TAG: [ActionInput; 1] = [ActionInput::target("tag", "Tag", "tag")];
const AWEBER_LIST: [ActionInput; 1] = [ActionInput::target("list", "List", "list")];
const SENDGRID_LIST: [ActionInput; 1] = [ActionInput::target("list", "List", "list")];
/// Listed only when the connection holds an App API key, so the id can also be typed.
const CIO_SEGMENT: [ActionInput; 1] = [ActionInput::target("segment", "Manual segment", "segment")
    .input_type(InputType::Text)
    .describe("The manual segment's id (Segments → the segment → Usage)")];
const CIO_REGIONS: [Choice; 2] = [choice("us", "US"), choice("eu", "EU")];
/// Customer.io addresses the person by `customer_id` or `id`, else `email`.
const CIO_PERSON: &[&str] = &["customer_id", "id", "email"];
const PD_PERSON: &[&str] = &["email", "name", "first_name", "last_name", "phone"];

const WEBHOOK_METHODS: [Choice; 3] = [
    choice("POST", "POST"),
    choice("PUT", "PUT"),
    choice("PATCH", "PATCH"),
];
const PAYLOAD_MODES: [Choice; 2] = [
    choice("wrapped", "The event envelope"),
    choice("raw", "The payload alone"),
];
const AUTH_SCHEMES: [Choice; 4] = [
    choice("none", "None"),
    choice("basic", "Basic"),
    choice("bearer", "Bearer token"),
    choice("header", "Custom header"),
];
const SIGNATURE_ALGORITHMS: [Choice; 2] =
    [choice("sha256", "SHA-256"), choice("sha512", "SHA-512")];

pub(super) static CATALOG: [IntegrationSpec; 15] = [
    IntegrationSpec {
        kind: IntegrationType::ActiveCampaign,
        name: "ActiveCampaign",
        auth: AuthType::ApiKey,
        auth_fields: &[
            AuthField::text("api_url", "API URL")
                .url()
                .help("Your account's API URL, e.g. https://youraccount.api-us1.com (Settings → Developer)"),
            API_KEY.help("Settings → Developer"),
        ],
        actions: &[
            action(
                "add_to_list",
                "Add to list",
                "Contact",
                "Create or update the contact by e-mail and subscribe it to a list",
                CONTACT_PHONE,
                &AC_LIST,
            ),
            action(
                "remove_from_list",
                "Remove from list",
                "Contact",
                "Create or update the contact by e-mail and unsubscribe it from a list",
                CONTACT_PHONE,
                &AC_LIST,
            ),
            action(
                "add_tag",
                "Add tag",
                "Contact",
                "Create or update the contact by e-mail and tag it",
                CONTACT_PHONE,
                &AC_TAG,
            ),
            action(
                "remove_tag",
                "Remove tag",
                "Contact",
                "Create or update the contact by e-mail and remove a tag from it",
                CONTACT_PHONE,
                &AC_TAG,
            ),
            action(
                "sync_contact",
                "Sync contact",
                "Contact",
                "Create or update the contact by e-mail",
                CONTACT_PHONE,
                &[],
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Aweber,
        name: "AWeber",
        auth: AuthType::OAuth,
        auth_fields: &[AuthField::text("account_id", "Account id")
            .optional()
            .help("The AWeber account to use; the authorization's first account when empty")],
        actions: &[
            action(
                "add_to_list",
                "Add to list",
                "Subscriber",
                "Subscribe the contact to a list (updated when already there)",
                CONTACT_NAME,
                &AWEBER_LIST,
            ),
            action(
                "remove_from_list",
                "Remove from list",
                "Subscriber",
                "Remove the subscriber with this e-mail from a list",
                &["email"],
                &AWEBER_LIST,
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::CustomerIo,
        name: "Customer.io",
        // Track API credentials go as HTTP Basic `site_id:api_key`.
        auth: AuthType::Basic,
        auth_fields: &[
            AuthField::text("site_id", "Site ID")
                .help("Workspace Settings → API Credentials → Track API keys"),
            API_KEY.help("The Track API key beside the site ID"),
            AuthField::select("region", "Data region", &CIO_REGIONS).default("us"),
            AuthField::password("app_api_key", "App API key")
                .optional()
                .help("Optional: lets rule editors pick manual segments from a list"),
        ],
        actions: &[
            action(
                "identify",
                "Identify person",
                "Person",
                "Create or update the person (by customer_id or id, else e-mail) with the \
                 event's fields as attributes",
                CIO_PERSON,
                &[],
            ),
            action(
                "track_event",
                "Track event",
                "Event",
                "Record an event for the person with the event's fields as its data",
                CIO_PERSON,
                // A free name: nothing to pick from.
                &[ActionInput {
                    live: None,
                    ..ActionInput::target("event", "Event name", "event")
                        .input_type(InputType::Text)
                        .optional()
                        .describe("The Customer.io event name; the Switchyard event's own when empty")
                        .placeholder("signed_up")
                }],
            ),
            action(
                "add_to_segment",
                "Add to segment",
                "Person",
                "Add the person to a manual segment",
                CIO_PERSON,
                &CIO_SEGMENT,
            ),
            action(
                "remove_from_segment",
                "Remove from segment",
                "Person",
                "Remove the person from a manual segment",
                CIO_PERSON,
                &CIO_SEGMENT,
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Discord,
        name: "Discord",
        // The incoming webhook's URL carries its token: it is the credential.
        auth: AuthType::ApiKey,
        auth_fields: &[
            AuthField::password("webhook_url", "Webhook URL")
                .url()
                .help("Channel → Edit Channel → Integrations → Webhooks → Copy Webhook URL"),
            AuthField::text("username", "Display name")
                .optional()
                .help("Shown as the sender instead of the webhook's own name"),
        ],
        actions: &[action(
            "send_message",
            "Send message",
            "Message",
            "Post a message to the webhook's channel; the text is a template with {{field}} \
             placeholders (mentions are off; cut at 2,000 characters)",
            &[],
            &[ActionInput::template("message", "Message").alias("template")],
        )],
    },
    IntegrationSpec {
        kind: IntegrationType::Hubspot,
        name: "HubSpot",
        auth: AuthType::OAuth,
        auth_fields: &[],
        actions: &[
            action(
                "add_to_list",
                "Add to list",
                "Contact",
                "Create or update the contact by e-mail and add it to a list",
                CONTACT_PHONE,
                &HUBSPOT_LIST,
            ),
            action(
                "remove_from_list",
                "Remove from list",
                "Contact",
                "Create or update the contact by e-mail and remove it from a list",
                CONTACT_PHONE,
                &HUBSPOT_LIST,
            ),
            action(
                "update_property",
                "Update property",
                "Contact",
                "Create or update the contact by e-mail and set one property from a template",
                CONTACT_PHONE,
                &[
                    ActionInput::target("property", "Property", FIELD_CATALOG)
                        .kind(InputKind::Field)
                        .describe("The contact property's internal name"),
                    ActionInput::template("value", "Value"),
                ],
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Intercom,
        name: "Intercom",
        auth: AuthType::OAuth,
        auth_fields: &[],
        actions: &[
            action(
                "add_tag",
                "Add tag",
                "Contact",
                "Find the contact by e-mail (or create it as a user) and tag it",
                CONTACT_NAME,
                &INTERCOM_TAG,
            ),
            action(
                "remove_tag",
                "Remove tag",
                "Contact",
                "Remove a tag from the contact with this e-mail",
                &["email"],
                &INTERCOM_TAG,
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Mailchimp,
        name: "Mailchimp",
        auth: AuthType::ApiKey,
        auth_fields: &[
            API_KEY.help("Account → Extras → API keys; it ends in your data center, e.g. -us6"),
            AuthField::text("data_center", "Data center")
                .optional()
                .help("e.g. us6; taken from the API key's suffix when empty"),
        ],
        actions: &[
            action(
                "add_to_list",
                "Add to audience",
                "Member",
                "Subscribe the contact to an audience (updated when already a member)",
                CONTACT,
                &AUDIENCE,
            ),
            action(
                "remove_from_list",
                "Remove from audience",
                "Member",
                "Unsubscribe the contact from an audience",
                CONTACT,
                &AUDIENCE,
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Mailerlite,
        name: "MailerLite",
        auth: AuthType::ApiKey,
        auth_fields: &[API_KEY.help("Integrations → MailerLite API")],
        actions: &[
            action(
                "add_to_group",
                "Add to group",
                "Subscriber",
                "Create or update the subscriber by e-mail and add it to a group",
                CONTACT,
                &GROUP,
            ),
            action(
                "remove_from_group",
                "Remove from group",
                "Subscriber",
                "Remove the subscriber with this e-mail from a group",
                &["email"],
                &GROUP,
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Pipedrive,
        name: "Pipedrive",
        auth: AuthType::ApiKey,
        auth_fields: &[
            AuthField::text("company_domain", "Company domain")
                .help("The acme of acme.pipedrive.com"),
            AuthField::password("api_token", "API token")
                .help("Personal preferences → API → Your personal API token"),
        ],
        actions: &[
            action(
                "upsert_person",
                "Create or update person",
                "Person",
                "Find the person by e-mail and update its name and phone, or create it",
                PD_PERSON,
                &[],
            ),
            action(
                "create_deal",
                "Create deal",
                "Deal",
                "Create or update the person by e-mail, then create a deal for it (value from \
                 a numeric amount field)",
                &["email", "name", "first_name", "last_name", "phone", "amount", "currency"],
                &[
                    ActionInput::template("title", "Deal title")
                        .placeholder("{{plan}} plan: {{email}}"),
                    ActionInput::target("stage", "Stage", "stage")
                        .optional()
                        .describe("Else the default pipeline's first stage"),
                ],
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Resend,
        name: "Resend",
        auth: AuthType::ApiKey,
        auth_fields: &[
            API_KEY,
            AuthField::text("from", "Default sender")
                .optional()
                .help("e.g. Acme <hello@acme.com>, for templated e-mails whose rule names none"),
        ],
        actions: &[
            action(
                "add_to_segment",
                "Add to segment",
                "Contact",
                "Create the contact by e-mail (kept when it exists) and add it to a segment",
                CONTACT,
                &SEGMENT,
            ),
            action(
                "remove_from_segment",
                "Remove from segment",
                "Contact",
                "Remove the contact with this e-mail from a segment",
                &["email"],
                &SEGMENT,
            ),
            action(
                "send_email_template",
                "Send email template",
                "Email",
                "Send a published template to the contact's e-mail; the event's text and \
                 number fields are its variables",
                &["email"],
                &[
                    ActionInput::target("template", "Template", "template")
                        .describe("The template's id or alias"),
                    ActionInput::template("from", "Sender")
                        .kind(InputKind::Advanced)
                        .input_type(InputType::Text)
                        .optional()
                        .describe("The sender; else the connection's default sender, else the template's own")
                        .placeholder("Acme <hello@acme.com>"),
                ],
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Salesforce,
        name: "Salesforce",
        auth: AuthType::OAuth,
        auth_fields: &[AuthField::text("instance_url", "Instance URL")
            .optional()
            .url()
            .help("Filled in by the OAuth flow, e.g. https://yourorg.my.salesforce.com")],
        actions: &[
            action(
                "add_to_campaign",
                "Add to campaign",
                "Campaign member",
                "Add the Contact with this e-mail (else the Lead) to a campaign",
                &["email"],
                &CAMPAIGN,
            ),
            action(
                "remove_from_campaign",
                "Remove from campaign",
                "Campaign member",
                "Remove the Contact with this e-mail (else the Lead) from a campaign",
                &["email"],
                &CAMPAIGN,
            ),
            action(
                "update_property",
                "Update field",
                "Contact",
                "Set one field of the Contact with this e-mail (else the Lead) from a template",
                &["email"],
                &[
                    ActionInput::target("field", "Field", FIELD_CATALOG)
                        .kind(InputKind::Field)
                        .describe("The Contact field's API name, e.g. Title or Plan__c"),
                    ActionInput::template("value", "Value"),
                ],
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Sendgrid,
        name: "SendGrid",
        auth: AuthType::ApiKey,
        auth_fields: &[
            API_KEY.help("Settings → API Keys (Marketing and Mail Send access)"),
            AuthField::text("from", "Default sender")
                .optional()
                .help("e.g. Acme <hello@acme.com>, for templated e-mails whose rule names none"),
        ],
        actions: &[
            action(
                "add_to_list",
                "Add to list",
                "Contact",
                "Create or update the contact by e-mail and add it to a list",
                CONTACT_PHONE,
                &SENDGRID_LIST,
            ),
            action(
                "remove_from_list",
                "Remove from list",
                "Contact",
                "Remove the contact with this e-mail from a list",
                &["email"],
                &SENDGRID_LIST,
            ),
            action(
                "send_template_email",
                "Send template email",
                "Email",
                "Send a dynamic template to the contact's e-mail; the event's fields are its \
                 dynamic template data",
                CONTACT,
                &[
                    ActionInput::target("template", "Dynamic template", "template")
                        .describe("A dynamic template id (d-…)"),
                    ActionInput::template("from", "Sender")
                        .kind(InputKind::Advanced)
                        .input_type(InputType::Text)
                        .optional()
                        .describe("The sender; else the connection's default sender (one is required)")
                        .placeholder("Acme <hello@acme.com>"),
                ],
            ),
        ],
    },
    IntegrationSpec {
        kind: IntegrationType::Slack,
        name: "Slack",
        auth: AuthType::OAuth,
        auth_fields: &[],
        actions: &[action(
            "send_message",
            "Send message",
            "Message",
            "Post a message to a channel; the text is a template with {{field}} placeholders",
            &[],
            &[
                ActionInput::target("channel", "Channel", "channel"),
                ActionInput::template("message", "Message").alias("template"),
            ],
        )],
    },
    IntegrationSpec {
        kind: IntegrationType::Webhook,
        name: "Webhook",
        auth: AuthType::None,
        auth_fields: &[
            AuthField::text("url", "URL")
                .url()
                .help("https:// (http:// to loopback only with --allow-loopback-http)"),
            AuthField::select("http_method", "HTTP method", &WEBHOOK_METHODS).default("POST"),
            AuthField::select("payload_mode", "Payload", &PAYLOAD_MODES).default("wrapped"),
            AuthField::select("auth_scheme", "Authentication", &AUTH_SCHEMES).default("none"),
            AuthField::text("auth_username", "Username")
                .depends_on("auth_scheme", "basic")
                .help("Write-only, like the password: never shown back"),
            AuthField::password("auth_password", "Password").depends_on("auth_scheme", "basic"),
            AuthField::password("auth_token", "Bearer token").depends_on("auth_scheme", "bearer"),
            AuthField::text("auth_header_name", "Header name").depends_on("auth_scheme", "header"),
            AuthField::password("auth_header_value", "Header value")
                .depends_on("auth_scheme", "header"),
            AuthField::password("signing_secret", "Signing secret")
                .optional()
                .help("A whsec_… Standard Webhooks secret; generated and shown once when empty"),
            AuthField::select("signature_algorithm", "Meshes signature", &SIGNATURE_ALGORITHMS)
                .optional()
                .help("Also send an X-Meshes-Signature HMAC of the body"),
            AuthField::text("signature_header", "Signature header")
                .optional()
                .help("Default X-Meshes-Signature"),
            AuthField::text("timeout_ms", "Timeout (ms)")
                .default("30000")
                .help("1000–30000"),
        ],
        actions: &[action(
            "send_webhook",
            "Send webhook",
            "Event",
            "Send the event envelope (or the raw payload) to the connection's URL, signed",
            &[],
            &[],
        )],
    },
    IntegrationSpec {
        kind: IntegrationType::Zoom,
        name: "Zoom",
        auth: AuthType::OAuth,
        auth_fields: &[],
        actions: &[
            action(
                "add_meeting_registrant",
                "Add meeting registrant",
                "Registrant",
                "Register the contact for a meeting (the e-mail's local part stands in for a \
                 missing first name)",
                CONTACT,
                &[ActionInput::target("meeting", "Meeting", "meeting")],
            ),
            action(
                "add_webinar_registrant",
                "Add webinar registrant",
                "Registrant",
                "Register the contact for a webinar (the e-mail's local part stands in for a \
                 missing first name)",
                CONTACT,
                &[ActionInput::target("webinar", "Webinar", "webinar")],
            ),
        ],
    },
];
