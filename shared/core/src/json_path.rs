//! The steps of a dotted path into a JSON value (`items.0.sku`), shared by rule conditions and
//! field mappings: parsed once when a rule or mapping is written, walked over borrowed data.

use serde_json::Value;

/// The most steps; deeper payloads are unusual and the walk stays short.
pub const MAX_STEPS: usize = 32;

/// Parsed steps. Each is a key of an object and, when it is a canonical number, an index of an
/// array; which applies is decided by the value met, since payloads are schemaless.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Steps(Vec<Step>);

#[derive(Clone, Debug, PartialEq)]
struct Step {
    key: String,
    index: Option<usize>,
}

/// Why steps were refused; each caller words it for its own param.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepError {
    /// Two dots in a row, or a dot at an end.
    Empty,
    ControlCharacter,
    /// More than [`MAX_STEPS`].
    TooMany,
}

impl Steps {
    /// Parses the dot-separated parts of a path, reporting the first problem met.
    pub fn parse<'a>(parts: impl IntoIterator<Item = &'a str>) -> Result<Self, StepError> {
        let mut steps = Vec::new();
        for part in parts {
            if part.is_empty() {
                return Err(StepError::Empty);
            }
            if part.chars().any(char::is_control) {
                return Err(StepError::ControlCharacter);
            }
            steps.push(Step {
                key: part.to_owned(),
                index: index(part),
            });
        }
        if steps.len() > MAX_STEPS {
            return Err(StepError::TooMany);
        }
        Ok(Self(steps))
    }

    /// The value the steps lead to from `value`, or `None` when they lead nowhere.
    pub fn walk<'v>(&self, mut value: &'v Value) -> Option<&'v Value> {
        for step in &self.0 {
            value = match value {
                Value::Object(map) => map.get(&step.key)?,
                Value::Array(items) => items.get(step.index?)?,
                _ => return None,
            };
        }
        Some(value)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn steps_walk_objects_by_key_and_arrays_by_canonical_index() {
        let value = json!({"items": [{"sku": "a"}, {"sku": "b"}], "007": 7});
        let walk = |path: &str| Steps::parse(path.split('.')).unwrap().walk(&value).cloned();
        assert_eq!(walk("items.1.sku"), Some(json!("b")));
        assert_eq!(walk("007"), Some(json!(7)));
        assert_eq!(walk("items.01.sku"), None);
        assert_eq!(walk("items.2"), None);
        assert_eq!(Steps::default().walk(&value), Some(&value));
    }

    #[test]
    fn steps_refuse_empty_parts_control_characters_and_depth() {
        assert_eq!(Steps::parse("a..b".split('.')), Err(StepError::Empty));
        assert_eq!(Steps::parse(["a\u{7}"]), Err(StepError::ControlCharacter));
        let deep = vec!["x"; MAX_STEPS + 1];
        assert_eq!(Steps::parse(deep), Err(StepError::TooMany));
        assert!(Steps::parse(vec!["x"; MAX_STEPS]).is_ok());
    }
}
