//! Paths into an event (`payload.items.0.sku`): parsed once when the rule is written, so the
//! router's lookup is a walk over borrowed data with no string splitting.

use serde_json::Value;

use super::MAX_PATH_BYTES;
use crate::domain::Event;

/// The most segments after `payload`; deeper payloads are unusual and the walk stays short.
const MAX_SEGMENTS: usize = 32;

/// A parsed path. The text is kept so the conditions serialize back exactly as written.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Path {
    text: String,
    root: Root,
    segments: Vec<Segment>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Root {
    Event,
    Resource,
    ResourceId,
    Payload,
}

/// One step below `payload`: a key of an object and, when it is all digits, an array index.
/// Which applies is decided by the value met, since payloads are schemaless.
#[derive(Clone, Debug, PartialEq)]
struct Segment {
    key: String,
    index: Option<usize>,
}

/// What a path finds. The top-level fields are plain strings on [`Event`], not JSON values, so
/// both kinds are borrowed as they are rather than copied into a `Value`.
#[derive(Clone, Copy, Debug)]
pub(super) enum Found<'e> {
    Str(&'e str),
    Json(&'e Value),
}

impl<'e> Found<'e> {
    pub(super) fn as_str(self) -> Option<&'e str> {
        match self {
            Found::Str(s) => Some(s),
            Found::Json(Value::String(s)) => Some(s),
            Found::Json(_) => None,
        }
    }
}

impl Path {
    /// Parses a path; the error is the message for the `path` param.
    pub(super) fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("must not be empty".into());
        }
        if text.len() > MAX_PATH_BYTES {
            return Err(format!("must be at most {MAX_PATH_BYTES} bytes"));
        }
        let mut parts = text.split('.');
        let first = parts.next().unwrap_or_default();
        let root = match first {
            "event" => Root::Event,
            "resource" => Root::Resource,
            "resource_id" => Root::ResourceId,
            "payload" => Root::Payload,
            _ => {
                return Err(format!(
                    "must start with event, resource, resource_id or payload, not {first:?}"
                ));
            }
        };
        let mut segments = Vec::new();
        for part in parts {
            if root != Root::Payload {
                return Err(format!("{first} is a string and has no fields"));
            }
            if part.is_empty() {
                return Err("has an empty segment (two dots, or a dot at the end)".into());
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
            return Err(format!(
                "must have at most {MAX_SEGMENTS} segments after payload"
            ));
        }
        Ok(Self {
            text: text.to_owned(),
            root,
            segments,
        })
    }

    pub(super) fn as_str(&self) -> &str {
        &self.text
    }

    /// The value the path leads to in `event`, or `None` when it leads nowhere.
    pub(super) fn resolve<'e>(&self, event: &'e Event) -> Option<Found<'e>> {
        match self.root {
            Root::Event => Some(Found::Str(&event.event)),
            Root::Resource => Some(Found::Str(&event.resource)),
            Root::ResourceId => event.resource_id.as_deref().map(Found::Str),
            Root::Payload => {
                let mut value = &event.payload;
                for segment in &self.segments {
                    value = match value {
                        Value::Object(map) => map.get(&segment.key)?,
                        Value::Array(items) => items.get(segment.index?)?,
                        _ => return None,
                    };
                }
                Some(Found::Json(value))
            }
        }
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
