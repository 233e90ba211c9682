//! A destination's field catalog: the typed fields a connection's field mapping can fill
//! (`GET /connections/{id}/fields`), read from the provider's properties API where it has one,
//! else the fields the connector itself sends. Pure: types, the connectors' fixed fields, and
//! the catalog's version (a hash of the normalised list, so a client can tell a changed
//! catalog from an unchanged one without comparing it).

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A destination field's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    String,
    Number,
    Boolean,
    Date,
    Datetime,
    Enum,
    MultiEnum,
    Json,
    Object,
    Array,
    Unknown,
}

impl FieldKind {
    pub const ALL: [FieldKind; 11] = [
        Self::String,
        Self::Number,
        Self::Boolean,
        Self::Date,
        Self::Datetime,
        Self::Enum,
        Self::MultiEnum,
        Self::Json,
        Self::Object,
        Self::Array,
        Self::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::Datetime => "datetime",
            Self::Enum => "enum",
            Self::MultiEnum => "multi_enum",
            Self::Json => "json",
            Self::Object => "object",
            Self::Array => "array",
            Self::Unknown => "unknown",
        }
    }
}

/// What a field accepts beyond its type; absent parts are unconstrained.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Constraints {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// `email`, `phone`, `url`, `uuid`, `date`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_values: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

impl Constraints {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// One field of a destination.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DestinationField {
    /// What a mapping's `dest` names.
    pub key: String,
    #[serde(rename = "type")]
    pub kind: FieldKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Constraints::is_empty")]
    pub constraints: Constraints,
    /// The provider's own description of the field (its type names, ids), as it gave them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_meta: Option<Value>,
}

impl DestinationField {
    pub fn new(key: impl Into<String>, kind: FieldKind) -> Self {
        Self {
            key: key.into(),
            kind,
            label: None,
            description: None,
            constraints: Constraints::default(),
            provider_meta: None,
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn format(mut self, format: &'static str) -> Self {
        self.constraints.format = Some(format);
        self
    }

    pub fn required(mut self) -> Self {
        self.constraints.required = Some(true);
        self
    }
}

/// The typed field a connector reads under `name` (see `integration_catalog`'s action
/// `fields`): `email` is required wherever it is read, since no contact is found without it.
pub fn fixed_field(name: &str) -> DestinationField {
    let field = DestinationField::new(name, FieldKind::String);
    match name {
        "email" => field.label("Email").format("email").required(),
        "first_name" => field.label("First name"),
        "last_name" => field.label("Last name"),
        "name" => field.label("Full name"),
        "phone" => field.label("Phone").format("phone"),
        // Customer.io's person id (`customer_id`, else `id`).
        "customer_id" => field.label("Customer ID"),
        "id" => field.label("ID"),
        // A Pipedrive deal's value: only a number is sent, in an ISO 4217 currency.
        "amount" => DestinationField::new(name, FieldKind::Number).label("Amount"),
        "currency" => {
            let mut currency = field.label("Currency");
            currency.constraints.pattern = Some("^[A-Z]{3}$".into());
            currency
        }
        _ => field,
    }
}

/// The fixed fields of `names`, each once, in first-seen order.
pub fn fixed_fields<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<DestinationField> {
    let mut seen: Vec<&str> = Vec::new();
    for name in names {
        if !seen.contains(&name) {
            seen.push(name);
        }
    }
    seen.into_iter().map(fixed_field).collect()
}

/// `sha256:<hex>` of the fields sorted by key, as canonical JSON: the same fields in any
/// order give the same version; any change to a field gives another.
pub fn catalog_version(fields: &[DestinationField]) -> String {
    let mut sorted: Vec<&DestinationField> = fields.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut hasher = Sha256::new();
    for field in sorted {
        // serde_json writes a struct's fields in declaration order and a Value's object keys
        // sorted (no `preserve_order`), so the bytes are canonical.
        let bytes = serde_json::to_vec(field).expect("a field serialises");
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    }
    let digest = hasher.finalize();
    format!("sha256:{}", hex::encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_ignores_order_and_sees_every_change() {
        let a = vec![fixed_field("email"), fixed_field("phone")];
        let b = vec![fixed_field("phone"), fixed_field("email")];
        assert_eq!(catalog_version(&a), catalog_version(&b));
        assert!(catalog_version(&a).starts_with("sha256:"));
        let mut changed = a.clone();
        changed[1].constraints.read_only = Some(true);
        assert_ne!(catalog_version(&a), catalog_version(&changed));
        assert_ne!(catalog_version(&a), catalog_version(&a[..1]));
    }

    #[test]
    fn fixed_fields_are_typed_once() {
        let fields = fixed_fields(["email", "first_name", "email", "phone"]);
        let keys: Vec<&str> = fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["email", "first_name", "phone"]);
        assert_eq!(fields[0].constraints.format, Some("email"));
        assert_eq!(fields[0].constraints.required, Some(true));
        assert_eq!(
            serde_json::to_value(&fields[1]).unwrap(),
            serde_json::json!({"key": "first_name", "type": "string", "label": "First name"})
        );
        let deal = fixed_fields(["amount", "currency"]);
        assert_eq!(deal[0].kind, FieldKind::Number);
        assert_eq!(deal[1].constraints.pattern.as_deref(), Some("^[A-Z]{3}$"));
    }
}
