//! What each integration type offers — how a connection of it is set up and authenticated, and
//! the actions its rules may take with the rule `metadata` inputs each action reads. The one
//! source for `GET /integrations`, `GET /connections/{id}/actions`, and the checks on
//! connection and rule create, so the forms a client builds from the catalog are the forms the
//! server accepts.
//!
//! A new connector adds one [`IntegrationSpec`] to `CATALOG`: its connection fields
//! ([`AuthField`]) and its actions ([`ActionSpec`]), each action's inputs ([`ActionInput`])
//! naming the rule `metadata` key they fill and, where the provider lists them, the listing
//! kind whose entries are the input's options (`live`).

use serde_json::{Map, Value};

use crate::domain::IntegrationType;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthType {
    None,
    ApiKey,
    Basic,
    OAuth,
}

impl AuthType {
    pub const ALL: [AuthType; 4] = [Self::None, Self::ApiKey, Self::Basic, Self::OAuth];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ApiKey => "api_key",
            Self::Basic => "basic",
            Self::OAuth => "oauth",
        }
    }
}

/// How a connection field is entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    Text,
    /// Write-only: sealed at rest, never shown back.
    Password,
    Select,
}

impl FieldType {
    pub const ALL: [FieldType; 3] = [Self::Text, Self::Password, Self::Select];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Password => "password",
            Self::Select => "select",
        }
    }
}

/// One choice of a select.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    pub label: &'static str,
    pub value: &'static str,
}

const fn choice(value: &'static str, label: &'static str) -> Choice {
    Choice { label, value }
}

/// A connection `metadata` field: what a connection form asks for.
#[derive(Clone, Copy, Debug)]
pub struct AuthField {
    /// The `metadata` key.
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FieldType,
    pub required: bool,
    pub help_text: Option<&'static str>,
    /// The value must be a URL (`validate: "url"`).
    pub url: bool,
    pub default_value: Option<&'static str>,
    pub options: &'static [Choice],
    /// Shown only when the field `.0` has the value `.1`.
    pub depends_on: Option<(&'static str, &'static str)>,
}

impl AuthField {
    const fn new(key: &'static str, label: &'static str, kind: FieldType) -> Self {
        Self {
            key,
            label,
            kind,
            required: true,
            help_text: None,
            url: false,
            default_value: None,
            options: &[],
            depends_on: None,
        }
    }

    pub const fn text(key: &'static str, label: &'static str) -> Self {
        Self::new(key, label, FieldType::Text)
    }

    pub const fn password(key: &'static str, label: &'static str) -> Self {
        Self::new(key, label, FieldType::Password)
    }

    pub const fn select(
        key: &'static str,
        label: &'static str,
        options: &'static [Choice],
    ) -> Self {
        Self {
            options,
            ..Self::new(key, label, FieldType::Select)
        }
    }

    pub const fn optional(self) -> Self {
        Self {
            required: false,
            ..self
        }
    }

    pub const fn help(self, text: &'static str) -> Self {
        Self {
            help_text: Some(text),
            ..self
        }
    }

    pub const fn url(self) -> Self {
        Self { url: true, ..self }
    }

    pub const fn default(self, value: &'static str) -> Self {
        Self {
            default_value: Some(value),
            required: false,
            ..self
        }
    }

    pub const fn depends_on(self, field: &'static str, value: &'static str) -> Self {
        Self {
            depends_on: Some((field, value)),
            ..self
        }
    }
}

/// How a rule editor presents an action input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A value entered or picked.
    Simple,
    /// The name of a field at the destination (a property, a record field).
    Field,
    /// Optional fine-tuning, shown folded.
    Advanced,
}

impl InputKind {
    pub const ALL: [InputKind; 3] = [Self::Simple, Self::Field, Self::Advanced];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Simple => "simple",
            Self::Field => "field",
            Self::Advanced => "advanced",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputType {
    Text,
    Password,
    Textarea,
    Select,
}

impl InputType {
    pub const ALL: [InputType; 4] = [Self::Text, Self::Password, Self::Textarea, Self::Select];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Password => "password",
            Self::Textarea => "textarea",
            Self::Select => "select",
        }
    }
}

/// `live` of an input whose options are the destination field catalog's writable fields.
pub const FIELD_CATALOG: &str = "field";

/// A rule `metadata` value an action reads.
#[derive(Clone, Copy, Debug)]
pub struct ActionInput {
    /// The input's name within the action (`list`, `message` …).
    pub key: &'static str,
    /// The rule `metadata` key its value is stored under (`id`, `value`).
    pub field: &'static str,
    /// Another `metadata` key the connector reads in its place (older rules' spelling).
    pub alias: Option<&'static str>,
    pub kind: InputKind,
    pub label: &'static str,
    pub input_type: InputType,
    /// What one option is called (`List`, `Channel`).
    pub noun: Option<&'static str>,
    pub description: Option<&'static str>,
    pub placeholder: Option<&'static str>,
    pub required: bool,
    pub options: &'static [Choice],
    /// Where the input's options come from on a connection: the provider listing's entries
    /// of this kind (`connectors::listing`, entries `{kind, id, name}`), or with
    /// [`FIELD_CATALOG`] the writable fields of the destination's field catalog.
    pub live: Option<&'static str>,
}

impl ActionInput {
    /// A required pick from the provider's entries of listing kind `live`, stored as `id`.
    pub const fn target(key: &'static str, label: &'static str, live: &'static str) -> Self {
        Self {
            key,
            field: "id",
            alias: None,
            kind: InputKind::Simple,
            label,
            input_type: InputType::Select,
            noun: Some(label),
            description: None,
            placeholder: None,
            required: true,
            options: &[],
            live: Some(live),
        }
    }

    /// A required `{{field}}` template, stored as `value`.
    pub const fn template(key: &'static str, label: &'static str) -> Self {
        Self {
            key,
            field: "value",
            alias: None,
            kind: InputKind::Simple,
            label,
            input_type: InputType::Textarea,
            noun: None,
            description: Some(
                "Text with {{field}} placeholders, filled from the event's (mapped) fields",
            ),
            placeholder: Some("{{email}} signed up for {{plan}}"),
            required: true,
            options: &[],
            live: None,
        }
    }

    pub const fn kind(self, kind: InputKind) -> Self {
        Self { kind, ..self }
    }

    pub const fn input_type(self, input_type: InputType) -> Self {
        Self { input_type, ..self }
    }

    pub const fn field(self, field: &'static str) -> Self {
        Self { field, ..self }
    }

    pub const fn optional(self) -> Self {
        Self {
            required: false,
            ..self
        }
    }

    pub const fn describe(self, description: &'static str) -> Self {
        Self {
            description: Some(description),
            ..self
        }
    }

    pub const fn placeholder(self, placeholder: &'static str) -> Self {
        Self {
            placeholder: Some(placeholder),
            ..self
        }
    }

    pub const fn alias(self, alias: &'static str) -> Self {
        Self {
            alias: Some(alias),
            ..self
        }
    }
}

/// An action a rule on this type of connection may take (its `metadata.action`).
#[derive(Clone, Copy, Debug)]
pub struct ActionSpec {
    pub key: &'static str,
    pub label: &'static str,
    /// What the action acts on (`Contact`, `Message`).
    pub noun: &'static str,
    pub description: &'static str,
    /// The event fields (after the connection's mapping) the action reads.
    pub fields: &'static [&'static str],
    pub inputs: &'static [ActionInput],
}

#[derive(Debug)]
pub struct IntegrationSpec {
    pub kind: IntegrationType,
    pub name: &'static str,
    pub auth: AuthType,
    /// The connection `metadata` fields a connection form asks for.
    pub auth_fields: &'static [AuthField],
    pub actions: &'static [ActionSpec],
}

impl IntegrationSpec {
    /// The OAuth version, for OAuth types (2.0 for every provider here).
    pub fn oauth_version(&self) -> Option<u8> {
        (self.auth == AuthType::OAuth).then_some(2)
    }

    pub fn action(&self, key: &str) -> Option<&'static ActionSpec> {
        self.actions.iter().find(|a| a.key == key)
    }

    pub fn action_keys(&self) -> impl Iterator<Item = &'static str> {
        self.actions.iter().map(|a| a.key)
    }
}

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

static CATALOG: [IntegrationSpec; 15] = [
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

/// Whether a `metadata` value counts as given: text that is not blank, a number, a boolean.
fn given(value: Option<&Value>) -> bool {
    match value {
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Number(_) | Value::Bool(_)) => true,
        _ => false,
    }
}

/// The required connection fields `metadata` lacks. A field that depends on another's value
/// is required only when that one has it.
pub fn missing_auth_fields(
    spec: &IntegrationSpec,
    metadata: &Map<String, Value>,
) -> Vec<&'static str> {
    spec.auth_fields
        .iter()
        .filter(|f| f.required)
        .filter(|f| {
            f.depends_on
                .is_none_or(|(on, value)| metadata.get(on).and_then(Value::as_str) == Some(value))
        })
        .filter(|f| !given(metadata.get(f.key)))
        .map(|f| f.key)
        .collect()
}

/// The required inputs of `action` a rule's `metadata` lacks.
pub fn missing_inputs(
    action: &ActionSpec,
    metadata: &Map<String, Value>,
) -> Vec<&'static ActionInput> {
    action
        .inputs
        .iter()
        .filter(|i| {
            i.required
                && !given(metadata.get(i.field))
                && !i.alias.is_some_and(|a| given(metadata.get(a)))
        })
        .collect()
}

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
            let spec = spec(kind);
            assert!(!spec.actions.is_empty(), "{kind}");
            assert_eq!(spec.oauth_version().is_some(), spec.auth == AuthType::OAuth);
        }
    }

    #[test]
    fn required_fields_and_inputs_are_reported() {
        let meta = |v: Value| v.as_object().unwrap().clone();
        let webhook = spec(IntegrationType::Webhook);
        assert_eq!(
            missing_auth_fields(webhook, &meta(serde_json::json!({}))),
            ["url"]
        );
        assert_eq!(
            missing_auth_fields(
                webhook,
                &meta(serde_json::json!({"url": "https://a.example", "auth_scheme": "bearer"}))
            ),
            ["auth_token"]
        );
        let ac = spec(IntegrationType::ActiveCampaign);
        assert_eq!(
            missing_auth_fields(ac, &meta(serde_json::json!({"api_url": " "}))),
            ["api_url", "api_key"]
        );
        let slack = spec(IntegrationType::Slack).action("send_message").unwrap();
        let missing: Vec<_> = missing_inputs(slack, &meta(serde_json::json!({"id": "C1"})))
            .iter()
            .map(|i| i.field)
            .collect();
        assert_eq!(missing, ["value"]);
        let resend = spec(IntegrationType::Resend)
            .action("send_email_template")
            .unwrap();
        assert!(missing_inputs(resend, &meta(serde_json::json!({"id": 7}))).is_empty());
    }

    #[test]
    fn password_fields_are_sealed_secrets() {
        for spec in all() {
            for field in spec
                .auth_fields
                .iter()
                .filter(|f| f.kind == FieldType::Password)
            {
                let mut metadata = Map::new();
                metadata.insert(field.key.into(), Value::from("s3cret"));
                let (shown, sealed) = crate::webhook::split_secrets(metadata);
                assert!(
                    shown.is_empty() && sealed.contains_key(field.key),
                    "{} {}: a password field must be a write-only secret key \
                     (webhook::SECRET_KEYS)",
                    spec.kind,
                    field.key
                );
            }
        }
    }

    #[test]
    fn keys_are_unique_and_inputs_are_well_formed() {
        for spec in all() {
            let mut actions: Vec<_> = spec.action_keys().collect();
            actions.sort_unstable();
            actions.dedup();
            assert_eq!(actions.len(), spec.actions.len(), "{}", spec.kind);
            for field in spec.auth_fields {
                assert_eq!(
                    field.kind == FieldType::Select,
                    !field.options.is_empty(),
                    "{} {}: a select has options, nothing else does",
                    spec.kind,
                    field.key
                );
                if let Some((on, value)) = field.depends_on {
                    let parent = spec.auth_fields.iter().find(|f| f.key == on);
                    assert!(
                        parent.is_some_and(|p| p.options.iter().any(|c| c.value == value)),
                        "{} {}: depends on a real choice",
                        spec.kind,
                        field.key
                    );
                }
            }
            for action in spec.actions {
                let mut fields: Vec<_> = action.inputs.iter().map(|i| i.field).collect();
                fields.sort_unstable();
                fields.dedup();
                assert_eq!(fields.len(), action.inputs.len(), "{}", action.key);
                assert!(
                    fields.iter().all(|f| *f != "action"),
                    "`action` is the rule's own key"
                );
            }
        }
    }
}
