//! Paths into an event (`payload.items.0.sku`): parsed once when the rule is written, so the
//! router's lookup is a walk over borrowed data with no string splitting.

use serde_json::Value;

use super::MAX_PATH_BYTES;
use crate::domain::Event;
use crate::json_path::{MAX_STEPS, StepError, Steps};

/// A parsed path. The text is kept so the conditions serialize back exactly as written.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Path {
    text: String,
    root: Root,
    /// Below `payload` (none for the other roots).
    steps: Steps,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Root {
    Event,
    Resource,
    ResourceId,
    Payload,
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
        let mut parts = parts.peekable();
        if root != Root::Payload && parts.peek().is_some() {
            return Err(format!("{first} is a string and has no fields"));
        }
        let steps = Steps::parse(parts).map_err(|e| match e {
            StepError::Empty => "has an empty segment (two dots, or a dot at the end)".to_owned(),
            StepError::ControlCharacter => "must not contain control characters".to_owned(),
            StepError::TooMany => format!("must have at most {MAX_STEPS} segments after payload"),
        })?;
        Ok(Self {
            text: text.to_owned(),
            root,
            steps,
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
            Root::Payload => self.steps.walk(&event.payload).map(Found::Json),
        }
    }
}
