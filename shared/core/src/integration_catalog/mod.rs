//! What each integration type offers — how a connection of it is set up and authenticated, and
//! the actions its rules may take with the rule `metadata` inputs each action reads. The one
//! source for `GET /integrations`, `GET /connections/{id}/actions`, and the checks on
//! connection and rule create, so the forms a client builds from the catalog are the forms the
//! server accepts.
//!
//! A new connector adds one [`IntegrationSpec`] to `CATALOG` (`entries.rs`): its connection fields
//! ([`AuthField`]) and its actions ([`ActionSpec`]), each action's inputs ([`ActionInput`])
//! naming the rule `metadata` key they fill and, where the provider lists them, the listing
//! kind whose entries are the input's options (`live`).

use serde_json::{Map, Value};

use crate::domain::IntegrationType;

mod entries;

use entries::CATALOG;

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
