//! Field mappings: per connection, how an event's payload becomes the fields a SaaS connector
//! sends (`email` → HubSpot's contact email, `{{email}}` in a Slack message). Webhooks send the
//! whole envelope and take no mapping.
//!
//! A mapping is a list of field rules. Each names the destination field (`dest`), where its
//! value comes from (`source`: a `path` into the payload or a `literal`), up to ten
//! [`Transform`]s applied in order, and what happens when the value cannot be produced
//! (`on_error`). The wire form, stored as written:
//!
//! ```json
//! {"schema_version": 1, "meta": {"name": "Signups to the CRM"}, "fields": [
//!   {"dest": "email", "source": {"type": "path", "value": "user.email"},
//!    "transforms": [{"type": "trim"}, {"type": "lower"}], "on_error": "fail_action"},
//!   {"dest": "signed_up", "source": {"type": "path", "value": "created_at"},
//!    "transforms": [{"type": "to_date"}], "on_error": "warn_action"}
//! ]}
//! ```
//!
//! [`FieldMapping::parse`] validates a body and names each problem's field the way the
//! contract's error format does (`fields[3].transforms[0]`); [`FieldMapping::apply`] runs a
//! mapping over a payload. Both are pure: storage and delivery live elsewhere. The exact
//! semantics of every transform are in `docs/mappings.md` and on [`Transform`].

mod apply;
mod datetime;
mod parse;
mod path;
mod transform;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

pub use apply::{Mapped, MappingFailure};
pub use path::PayloadPath;
pub use transform::Transform;

/// The one schema version this build reads and writes.
pub const SCHEMA_VERSION: u64 = 1;
/// The most field rules in one mapping.
pub const MAX_FIELDS: usize = 250;
/// The most transforms on one field.
pub const MAX_TRANSFORMS: usize = 10;
/// The longest destination field name, in characters.
pub const MAX_DEST_CHARS: usize = 128;
/// The longest mapping name (`meta.name`), in characters.
pub const MAX_NAME_CHARS: usize = 128;
/// The longest note (`meta.notes`, a field's `notes`), in characters.
pub const MAX_NOTES_CHARS: usize = 2000;

/// A connection's validated mapping.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldMapping {
    pub schema_version: u64,
    pub fields: Vec<FieldRule>,
    /// For the people editing it; no effect on delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<MappingMeta>,
}

/// A mapping's description: its name and notes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MappingMeta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// One destination field and how to fill it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldRule {
    pub dest: String,
    pub source: Source,
    pub transforms: Vec<Transform>,
    pub on_error: OnError,
    /// For the people editing it; no effect on delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// Where a field's value comes from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Source {
    /// A dotted path into the event's payload (`email`, `user.address.city`, `items.0.sku`).
    Path(PayloadPath),
    /// A constant: any JSON value but `null`.
    Literal(Value),
}

/// What a field whose value cannot be produced does to the delivery.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// Leave the field out, silently.
    SkipField,
    /// Leave the field out, deliver the rest, and record a warning on the attempt.
    WarnAction,
    /// Make no request: the attempt's outcome is `mapping_error` and the delivery fails.
    #[default]
    FailAction,
}

impl OnError {
    pub const ALL: [OnError; 3] = [Self::SkipField, Self::WarnAction, Self::FailAction];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SkipField => "skip_field",
            Self::WarnAction => "warn_action",
            Self::FailAction => "fail_action",
        }
    }
}

impl FieldMapping {
    /// The mapping of a connection that has none yet: no fields.
    pub fn empty() -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            fields: Vec::new(),
            meta: None,
        }
    }
}

/// Stored mappings are read back through the same validation they were written with, so a
/// damaged or hand-edited one is an error rather than a mapping that half works.
impl<'de> Deserialize<'de> for FieldMapping {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        FieldMapping::parse(&value).map_err(|errors| {
            let first = errors.0.first();
            serde::de::Error::custom(format!(
                "invalid field mapping: {} {}",
                first.map_or("", |e| e.param.as_str()),
                first.map_or("", |e| e.msg.as_str()),
            ))
        })
    }
}

/// The id of a connection's one (`default`) mapping: a name-based UUID (RFC 9562 version 8,
/// from SHA-256) of the connection, so it needs no storing and never changes.
pub fn default_mapping_id(connection: crate::ConnectionId) -> uuid::Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"switchyard default mapping\0")
        .chain_update(connection.0.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// A stored mapping and its version: 0 for a connection with no mapping yet, then 1, 2, …
/// one per successful write, so a client can write conditionally (`expected_version`).
#[derive(Clone, Debug, PartialEq)]
pub struct VersionedMapping {
    pub mapping: FieldMapping,
    pub version: u64,
    /// When version 1 was written.
    pub created_at: time::OffsetDateTime,
    /// When this version was written.
    pub updated_at: time::OffsetDateTime,
}
