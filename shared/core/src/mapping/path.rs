//! Paths into an event's payload (`user.address.city`, `items.0.sku`), parsed once when the
//! mapping is written. Rule conditions root their paths at the event (`payload.x`); a mapping
//! reads only the payload, so its paths start inside it, as Meshes' mapping view shows them.

use serde::{Serialize, Serializer};
use serde_json::Value;

/// The longest path, in bytes.
pub const MAX_PATH_BYTES: usize = 512;
/// The most segments; deeper payloads are unusual and the walk stays short.
const MAX_SEGMENTS: usize = 32;

/// A parsed payload path; the text is kept so the mapping reads back exactly as written.
#[derive(Clone, Debug, PartialEq)]
pub struct PayloadPath {
    text: String,
    segments: Vec<Segment>,
}

/// One step: a key of an object and, when it is a canonical number, an index of an array.
/// Which applies is decided by the value met, since payloads are schemaless.
#[derive(Clone, Debug, PartialEq)]
struct Segment {
    key: String,
    index: Option<usize>,
}

impl PayloadPath {
    /// Parses a path; the error is the message for the `source.value` param.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("must not be empty".into());
        }
        if text.len() > MAX_PATH_BYTES {
            return Err(format!("must be at most {MAX_PATH_BYTES} bytes"));
        }
        let mut segments = Vec::new();
        for part in text.split('.') {
            if part.is_empty() {
                return Err("has an empty segment (two dots, or a dot at either end)".into());
            }
            if part.chars().any(char::is_control) {
                return Err("must not contain control characters".into());
            }
            segments.push(Segment {
                key: part.to_owned(),
                index: index(part),
            });
        }
        if segments.len() > MAX_SEGMENTS {
            return Err(format!("must have at most {MAX_SEGMENTS} segments"));
        }
        Ok(Self {
            text: text.to_owned(),
            segments,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value the path leads to in `payload`, or `None` when it leads nowhere.
    pub fn resolve<'p>(&self, payload: &'p Value) -> Option<&'p Value> {
        let mut value = payload;
        for segment in &self.segments {
            value = match value {
                Value::Object(map) => map.get(&segment.key)?,
                Value::Array(items) => items.get(segment.index?)?,
                _ => return None,
            };
        }
        Some(value)
    }
}

impl Serialize for PayloadPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

/// `Some(n)` for a canonical array index: digits, no leading zero (so `"007"` stays a key).
fn index(segment: &str) -> Option<usize> {
    let canonical = segment.bytes().all(|b| b.is_ascii_digit())
        && (segment == "0" || !segment.starts_with('0'));
    if canonical {
        segment.parse().ok()
    } else {
        None
    }
}
