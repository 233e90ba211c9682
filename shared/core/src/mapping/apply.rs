//! Running a mapping over a payload: every field in order, each one's pipeline of transforms,
//! and its `on_error` deciding what a failure does.

use std::fmt;

use serde_json::{Map, Value};

use super::{FieldMapping, FieldRule, OnError, Source, Transform};

/// What a mapping produced: the fields a connector sends and, for `warn_action` fields that
/// could not be produced, one warning each.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mapped {
    pub fields: Map<String, Value>,
    pub warnings: Vec<String>,
}

/// A `fail_action` field could not be produced: the attempt's outcome is `mapping_error`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappingFailure {
    /// The field's index in the mapping.
    pub field: usize,
    pub dest: String,
    pub reason: String,
}

impl fmt::Display for MappingFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fields[{}] ({}): {}", self.field, self.dest, self.reason)
    }
}

impl std::error::Error for MappingFailure {}

impl FieldMapping {
    /// Maps `payload` (the event's payload) into the connector's fields. Stops at the first
    /// `fail_action` field that fails; `skip_field` and `warn_action` fields that fail are left
    /// out and the rest carry on.
    pub fn apply(&self, payload: &Value) -> Result<Mapped, MappingFailure> {
        let mut mapped = Mapped::default();
        for (i, rule) in self.fields.iter().enumerate() {
            match produce(rule, payload) {
                Ok(value) => {
                    mapped.fields.insert(rule.dest.clone(), value);
                }
                Err(reason) => {
                    let failure = MappingFailure {
                        field: i,
                        dest: rule.dest.clone(),
                        reason,
                    };
                    match rule.on_error {
                        OnError::SkipField => {}
                        OnError::WarnAction => mapped.warnings.push(failure.to_string()),
                        OnError::FailAction => return Err(failure),
                    }
                }
            }
        }
        Ok(mapped)
    }
}

/// One field's value: its source, then each transform in turn.
fn produce(rule: &FieldRule, payload: &Value) -> Result<Value, String> {
    let (mut value, path) = match &rule.source {
        Source::Path(path) => (path.resolve(payload).cloned(), path.as_str()),
        Source::Literal(v) => (Some(v.clone()), ""),
    };
    let missing = || format!("no value at {path:?}");
    for (i, transform) in rule.transforms.iter().enumerate() {
        let name = transform.name();
        if value.is_none() && !matches!(transform, Transform::Default { .. }) {
            return Err(format!("transforms[{i}] ({name}): {}", missing()));
        }
        let next = transform
            .apply(value)
            .map_err(|reason| format!("transforms[{i}] ({name}): {reason}"))?;
        value = Some(next);
    }
    value.ok_or_else(missing)
}
