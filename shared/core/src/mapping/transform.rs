//! The ten transforms. Each takes the value so far and gives the next one, or says why it
//! cannot; messages name types, never the payload's values, since attempt errors are shown to
//! the tenant and payloads may carry personal data.

use serde::Serialize;
use serde_json::{Number, Value};

use super::datetime;

/// One step of a field's pipeline, in its wire form (`{"type": "substring", "start": 0,
/// "length": 10}`).
///
/// | type | argument | does |
/// |---|---|---|
/// | `to_string` | | string as is; number as its JSON text; `true`/`false`; array/object as compact JSON |
/// | `to_number` | | number as is; a string holding a decimal number (trimmed; `1e3` allowed), integers kept integral |
/// | `to_boolean` | | boolean as is; `true/yes/y/on/1` and `false/no/n/off/0` (trimmed, any case); the numbers 1 and 0 |
/// | `to_date` | | `YYYY-MM-DD`, the UTC date of an instant (see [`datetime`]) |
/// | `to_datetime` | | RFC 3339 in UTC (`2026-04-17T15:06:00Z`; fractions only when present) |
/// | `default` | `value` (any JSON but null) | replaces a missing or `null` value; passes anything else |
/// | `trim` | | strips leading and trailing whitespace of a string |
/// | `lower`, `upper` | | a string in lower / upper case (Unicode) |
/// | `substring` | `start` (default 0), optional `length` (characters) | the characters from `start`, at most `length` of them; `""` past the end |
///
/// Everything else fails the field: a value of the wrong type (`trim` on a number), a string
/// that does not convert, `null` anywhere but `default`, and any transform but `default` when
/// the source found no value.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Transform {
    ToString,
    ToNumber,
    ToBoolean,
    ToDate,
    ToDatetime,
    Default {
        value: Value,
    },
    Trim,
    Lower,
    Upper,
    Substring {
        start: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        length: Option<u64>,
    },
}

impl Transform {
    /// Every transform type, as written in `type`.
    pub const NAMES: [&'static str; 10] = [
        "to_string",
        "to_number",
        "to_boolean",
        "to_date",
        "to_datetime",
        "default",
        "trim",
        "lower",
        "upper",
        "substring",
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Self::ToString => "to_string",
            Self::ToNumber => "to_number",
            Self::ToBoolean => "to_boolean",
            Self::ToDate => "to_date",
            Self::ToDatetime => "to_datetime",
            Self::Default { .. } => "default",
            Self::Trim => "trim",
            Self::Lower => "lower",
            Self::Upper => "upper",
            Self::Substring { .. } => "substring",
        }
    }

    /// Applies the transform to the value so far (`None`: the source found nothing).
    pub fn apply(&self, value: Option<Value>) -> Result<Value, String> {
        if let Self::Default { value: fallback } = self {
            return Ok(match value {
                None | Some(Value::Null) => fallback.clone(),
                Some(v) => v,
            });
        }
        let value = value.ok_or("there is no value at the source path")?;
        if value.is_null() {
            return Err("the value is null".into());
        }
        match self {
            Self::ToString => Ok(Value::String(to_string(value))),
            Self::ToNumber => to_number(&value).map(Value::Number),
            Self::ToBoolean => to_boolean(&value).map(Value::Bool),
            Self::ToDate => datetime::instant(&value).and_then(datetime::date),
            Self::ToDatetime => datetime::instant(&value).and_then(datetime::rfc3339),
            Self::Trim => string(value, |s| s.trim().to_owned()),
            Self::Lower => string(value, |s| s.to_lowercase()),
            Self::Upper => string(value, |s| s.to_uppercase()),
            Self::Substring { start, length } => string(value, |s| {
                let from = s
                    .chars()
                    .skip(usize::try_from(*start).unwrap_or(usize::MAX));
                match length {
                    Some(n) => from
                        .take(usize::try_from(*n).unwrap_or(usize::MAX))
                        .collect(),
                    None => from.collect(),
                }
            }),
            Self::Default { .. } => unreachable!("handled above"),
        }
    }
}

/// The JSON type of a value, for messages.
pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn string(value: Value, f: impl FnOnce(&str) -> String) -> Result<Value, String> {
    match value {
        Value::String(s) => Ok(Value::String(f(&s))),
        other => Err(format!("expects a string, got {}", kind(&other))),
    }
}

fn to_string(value: Value) -> String {
    match value {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

fn to_number(value: &Value) -> Result<Number, String> {
    match value {
        Value::Number(n) => Ok(n.clone()),
        Value::String(s) => {
            parse_number(s.trim()).ok_or_else(|| "the string is not a number".into())
        }
        other => Err(format!("expects a number or a string, got {}", kind(other))),
    }
}

/// A decimal number; integers stay integers so `"42"` maps to `42`, not `42.0`.
pub(super) fn parse_number(s: &str) -> Option<Number> {
    if let Ok(i) = s.parse::<i64>() {
        return Some(i.into());
    }
    if let Ok(u) = s.parse::<u64>() {
        return Some(u.into());
    }
    // Rust also reads "inf" and "NaN"; JSON has no such numbers.
    let f = s.parse::<f64>().ok().filter(|f| f.is_finite())?;
    Number::from_f64(f)
}

fn to_boolean(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "on" | "1" => Ok(true),
            "false" | "no" | "n" | "off" | "0" => Ok(false),
            _ => Err("the string is not a boolean".into()),
        },
        Value::Number(n) if n.as_f64() == Some(1.0) => Ok(true),
        Value::Number(n) if n.as_f64() == Some(0.0) => Ok(false),
        Value::Number(_) => Err("only the numbers 0 and 1 are booleans".into()),
        other => Err(format!(
            "expects a boolean, string or number, got {}",
            kind(other)
        )),
    }
}
