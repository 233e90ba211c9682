//! Validating a mapping body: every problem found, each named the way the contract's error
//! format names fields (`fields[3].transforms[0].type`).

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{
    FieldMapping, FieldRule, MAX_DEST_CHARS, MAX_FIELDS, MAX_NAME_CHARS, MAX_NOTES_CHARS,
    MAX_TRANSFORMS, MappingMeta, OnError, PayloadPath, SCHEMA_VERSION, Source, Transform,
};
use crate::ValidationErrors;

impl FieldMapping {
    /// Reads `{schema_version, fields, meta?}`; any other key is refused, so a misspelt option
    /// is an error rather than silently ignored.
    pub fn parse(body: &Value) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let Some(body) = object(&mut errors, "body", Some(body)) else {
            return Err(errors);
        };
        unknown_keys(&mut errors, "", body, &["schema_version", "fields", "meta"]);
        match body.get("schema_version") {
            None => errors.push("schema_version", "is required"),
            Some(v) if v.as_u64() == Some(SCHEMA_VERSION) => {}
            Some(_) => errors.push("schema_version", format!("must be {SCHEMA_VERSION}")),
        }
        let mut fields = Vec::new();
        match body.get("fields") {
            None => errors.push("fields", "is required"),
            Some(Value::Array(items)) if items.len() > MAX_FIELDS => {
                errors.push("fields", format!("must have at most {MAX_FIELDS} fields"));
            }
            Some(Value::Array(items)) => {
                let mut dests: HashMap<&str, usize> = HashMap::new();
                for (i, item) in items.iter().enumerate() {
                    let param = format!("fields[{i}]");
                    if let Some(rule) = field(&mut errors, &param, item) {
                        if let Some(first) = dests.get(rule.dest.as_str()) {
                            errors.push(
                                format!("{param}.dest"),
                                format!("duplicates fields[{first}].dest"),
                            );
                        } else {
                            let dest = item["dest"].as_str().unwrap_or_default();
                            dests.insert(dest, i);
                        }
                        fields.push(rule);
                    }
                }
            }
            Some(_) => errors.push("fields", "must be an array"),
        }
        let meta = body.get("meta").and_then(|m| meta(&mut errors, m));
        errors.into_result(FieldMapping {
            schema_version: SCHEMA_VERSION,
            fields,
            meta,
        })
    }
}

fn meta(errors: &mut ValidationErrors, value: &Value) -> Option<MappingMeta> {
    let meta = object(errors, "meta", Some(value))?;
    unknown_keys(errors, "meta", meta, &["name", "notes"]);
    Some(MappingMeta {
        name: text(errors, "meta.name", meta.get("name"), MAX_NAME_CHARS),
        notes: text(errors, "meta.notes", meta.get("notes"), MAX_NOTES_CHARS),
    })
}

/// An optional string of at most `max` characters (absent and `null` alike are none).
fn text(
    errors: &mut ValidationErrors,
    param: &str,
    value: Option<&Value>,
    max: usize,
) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) if s.chars().count() <= max => Some(s.clone()),
        Value::String(_) => {
            errors.push(param, format!("must be at most {max} characters"));
            None
        }
        _ => {
            errors.push(param, "must be a string");
            None
        }
    }
}

fn field(errors: &mut ValidationErrors, param: &str, item: &Value) -> Option<FieldRule> {
    let item = object(errors, param, Some(item))?;
    let before = errors.0.len();
    unknown_keys(
        errors,
        param,
        item,
        &["dest", "source", "transforms", "on_error", "notes"],
    );
    let notes = text(
        errors,
        &format!("{param}.notes"),
        item.get("notes"),
        MAX_NOTES_CHARS,
    );
    let dest = dest(errors, &format!("{param}.dest"), item.get("dest"));
    let source = source(errors, &format!("{param}.source"), item.get("source"));
    let transforms = transforms(
        errors,
        &format!("{param}.transforms"),
        item.get("transforms"),
    );
    let on_error = match item.get("on_error") {
        None => Some(OnError::default()),
        Some(v) => {
            let found = OnError::ALL
                .into_iter()
                .find(|o| v.as_str() == Some(o.as_str()));
            if found.is_none() {
                errors.push(
                    format!("{param}.on_error"),
                    "must be one of skip_field, warn_action, fail_action",
                );
            }
            found
        }
    };
    if errors.0.len() > before {
        return None;
    }
    Some(FieldRule {
        dest: dest?,
        source: source?,
        transforms: transforms?,
        on_error: on_error?,
        notes,
    })
}

fn dest(errors: &mut ValidationErrors, param: &str, value: Option<&Value>) -> Option<String> {
    let Some(value) = value else {
        errors.push(param, "is required");
        return None;
    };
    let Some(dest) = value.as_str() else {
        errors.push(param, "must be a string");
        return None;
    };
    let len = dest.chars().count();
    if dest.trim().is_empty() || len > MAX_DEST_CHARS {
        errors.push(
            param,
            format!("must be between 1 and {MAX_DEST_CHARS} characters"),
        );
        return None;
    }
    if dest.chars().any(char::is_control) {
        errors.push(param, "must not contain control characters");
        return None;
    }
    Some(dest.to_owned())
}

fn source(errors: &mut ValidationErrors, param: &str, value: Option<&Value>) -> Option<Source> {
    let source = object(errors, param, value)?;
    unknown_keys(errors, param, source, &["type", "value"]);
    let value = source.get("value");
    match source.get("type").and_then(Value::as_str) {
        Some("path") => match value.map(|v| v.as_str().map(PayloadPath::parse)) {
            None => errors.push(format!("{param}.value"), "is required"),
            Some(None) => errors.push(
                format!("{param}.value"),
                "must be a string (a payload path)",
            ),
            Some(Some(Err(msg))) => errors.push(format!("{param}.value"), msg),
            Some(Some(Ok(path))) => return Some(Source::Path(path)),
        },
        Some("literal") => match value {
            None | Some(Value::Null) => {
                errors.push(format!("{param}.value"), "is required and must not be null")
            }
            Some(v) => return Some(Source::Literal(v.clone())),
        },
        _ => errors.push(format!("{param}.type"), "must be path or literal"),
    }
    None
}

fn transforms(
    errors: &mut ValidationErrors,
    param: &str,
    value: Option<&Value>,
) -> Option<Vec<Transform>> {
    let items = match value {
        None => return Some(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            errors.push(param, "must be an array");
            return None;
        }
    };
    if items.len() > MAX_TRANSFORMS {
        errors.push(
            param,
            format!("must have at most {MAX_TRANSFORMS} transforms"),
        );
        return None;
    }
    let mut parsed = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        parsed.push(transform(errors, &format!("{param}[{i}]"), item));
    }
    parsed.into_iter().collect()
}

fn transform(errors: &mut ValidationErrors, param: &str, item: &Value) -> Option<Transform> {
    let item = object(errors, param, Some(item))?;
    let Some(name) = item.get("type").and_then(Value::as_str) else {
        errors.push(format!("{param}.type"), "is required and must be a string");
        return None;
    };
    let (transform, arguments): (Option<Transform>, &[&str]) = match name {
        "to_string" => (Some(Transform::ToString), &[]),
        "to_number" => (Some(Transform::ToNumber), &[]),
        "to_boolean" => (Some(Transform::ToBoolean), &[]),
        "to_date" => (Some(Transform::ToDate), &[]),
        "to_datetime" => (Some(Transform::ToDatetime), &[]),
        "trim" => (Some(Transform::Trim), &[]),
        "lower" => (Some(Transform::Lower), &[]),
        "upper" => (Some(Transform::Upper), &[]),
        "default" => {
            let value = match item.get("value") {
                None | Some(Value::Null) => {
                    errors.push(format!("{param}.value"), "is required and must not be null");
                    None
                }
                Some(v) => Some(v.clone()),
            };
            (value.map(|value| Transform::Default { value }), &["value"])
        }
        "substring" => {
            let start = match item.get("start") {
                None => Some(0),
                Some(v) => count(errors, &format!("{param}.start"), v),
            };
            let length = match item.get("length") {
                None | Some(Value::Null) => Some(None),
                Some(v) => count(errors, &format!("{param}.length"), v).map(Some),
            };
            let transform = start
                .zip(length)
                .map(|(start, length)| Transform::Substring { start, length });
            (transform, &["start", "length"])
        }
        _ => {
            errors.push(
                format!("{param}.type"),
                format!("must be one of {}", Transform::NAMES.join(", ")),
            );
            return None;
        }
    };
    let mut allowed = vec!["type"];
    allowed.extend_from_slice(arguments);
    unknown_keys(errors, param, item, &allowed);
    transform
}

/// A non-negative integer argument.
fn count(errors: &mut ValidationErrors, param: &str, value: &Value) -> Option<u64> {
    let n = value.as_u64();
    if n.is_none() {
        errors.push(param, "must be a non-negative integer");
    }
    n
}

fn object<'v>(
    errors: &mut ValidationErrors,
    param: &str,
    value: Option<&'v Value>,
) -> Option<&'v Map<String, Value>> {
    match value {
        Some(Value::Object(map)) => Some(map),
        None => {
            errors.push(param, "is required");
            None
        }
        Some(_) => {
            errors.push(param, "must be an object");
            None
        }
    }
}

fn unknown_keys(
    errors: &mut ValidationErrors,
    param: &str,
    map: &Map<String, Value>,
    known: &[&str],
) {
    for key in map.keys().filter(|k| !known.contains(&k.as_str())) {
        let name = if param.is_empty() {
            key.clone()
        } else {
            format!("{param}.{key}")
        };
        errors.push(name, "is not a known field");
    }
}
