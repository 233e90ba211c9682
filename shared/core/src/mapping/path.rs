//! Paths into an event's payload (`user.address.city`, `items.0.sku`), parsed once when the
//! mapping is written. Rule conditions root their paths at the event (`payload.x`); a mapping
//! reads only the payload, so its paths start inside it, as Meshes' mapping view shows them.

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::json_path::{MAX_STEPS, StepError, Steps};

/// The longest path, in bytes.
pub const MAX_PATH_BYTES: usize = 512;
/// A parsed payload path; the text is kept so the mapping reads back exactly as written.
#[derive(Clone, Debug, PartialEq)]
pub struct PayloadPath {
    text: String,
    steps: Steps,
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
        let steps = Steps::parse(text.split('.')).map_err(|e| match e {
            StepError::Empty => {
                "has an empty segment (two dots, or a dot at either end)".to_owned()
            }
            StepError::ControlCharacter => "must not contain control characters".to_owned(),
            StepError::TooMany => format!("must have at most {MAX_STEPS} segments"),
        })?;
        Ok(Self {
            text: text.to_owned(),
            steps,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value the path leads to in `payload`, or `None` when it leads nowhere.
    pub fn resolve<'p>(&self, payload: &'p Value) -> Option<&'p Value> {
        self.steps.walk(payload)
    }
}

impl Serialize for PayloadPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}
