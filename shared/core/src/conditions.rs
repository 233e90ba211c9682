//! Rule conditions: a filter on the event, checked by the router after the event type, resource
//! and resource id match. An extension — Meshes rules have none — in the spirit of EventBridge
//! patterns and Outpost filters, so a rule can say "only pro-plan signups outside the test
//! domain" without a second service in front of the webhook.
//!
//! # The JSON form
//!
//! A condition is one JSON object, either a **test** on one value of the event or a **group**:
//!
//! ```json
//! {"path": "payload.plan", "equals": "pro"}                  // a test
//! {"all": [ <condition>, ... ]}                              // every one holds
//! {"any": [ <condition>, ... ]}                              // at least one holds
//! {"not": <condition>}                                       // the condition does not hold
//! ```
//!
//! A test names a `path` and one or more operators; all of them must hold:
//!
//! | operator | operand | holds when the value at `path` … |
//! |---|---|---|
//! | `equals` | any JSON | equals the operand: same type, same value (`1` ≠ `"1"`; numbers by value, so `100` = `100.0`) |
//! | `in` | array of 1–100 values | equals one of them, as `equals` |
//! | `prefix` | non-empty string | is a string that starts with it (case-sensitive) |
//! | `suffix` | non-empty string | is a string that ends with it (case-sensitive) |
//! | `exists` | `true` / `false` | is present (`null` counts as present) / is absent |
//! | `gt`, `gte`, `lt`, `lte` | number | is a number `>`, `≥`, `<`, `≤` the operand |
//!
//! The numeric operators combine into a range on one path (`{"gte": 100, "lt": 1000}`); `gt` and
//! `gte` (or `lt` and `lte`) together, and a range no number can satisfy, are refused. A value of
//! the wrong type never matches: `gt` on a string, `prefix` on a number — no coercion, so a
//! rule cannot match by accident. `exists: false` stands alone, since with any other operator
//! the test could never hold.
//!
//! A path is dotted: `event`, `resource`, `resource_id`, `payload`, or `payload.` followed by
//! keys and array indices (`payload.customer.country`, `payload.items.0.sku`). A segment of
//! digits indexes an array and names a key of an object. Keys that contain a dot cannot be
//! reached. A path that leads nowhere (a missing key, an index past the end, a key of a string)
//! finds nothing: only `exists: false` holds there.
//!
//! ## Example
//!
//! ```json
//! {"all": [
//!   {"path": "payload.plan", "equals": "pro"},
//!   {"any": [
//!     {"path": "payload.country", "in": ["DE", "FR"]},
//!     {"not": {"path": "payload.email", "suffix": "@test.com"}}
//!   ]},
//!   {"path": "payload.amount", "gte": 100, "lt": 1000},
//!   {"path": "resource_id", "exists": true}
//! ]}
//! ```
//!
//! Pro-plan events from Germany or France or from a real address, for an amount in [100, 1000),
//! about a specific resource.
//!
//! # Limits
//!
//! The router evaluates every rule's conditions for every event, so their size is bounded:
//! groups nest at most [`MAX_DEPTH`] deep (a lone test is depth 1), a tree holds at most
//! [`MAX_TESTS`] tests, an `in` list at most [`MAX_IN_VALUES`] values, and a path is at most
//! [`MAX_PATH_BYTES`] bytes. Evaluation walks the parsed tree over borrowed event data and
//! allocates nothing.

mod eval;
mod parse;
mod path;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use serde::{Serialize, Serializer};
use serde_json::{Map, Number, Value};

use crate::ValidationErrors;
use crate::domain::Event;
use path::Path;

/// The deepest nesting accepted; a lone test is depth 1, `{"all": [test]}` depth 2.
pub const MAX_DEPTH: usize = 8;
/// The most tests (`{"path": …}` objects) one rule's conditions may hold.
pub const MAX_TESTS: usize = 64;
/// The most values one `in` list may hold.
pub const MAX_IN_VALUES: usize = 100;
/// The longest path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 256;

/// A rule's parsed conditions. Built only by [`Conditions::parse`], so every value is within
/// the limits above; serializes back to the JSON it was parsed from (numbers keep their form).
#[derive(Clone, Debug, PartialEq)]
pub struct Conditions(Node);

impl Conditions {
    /// Parses the JSON form. Every problem is reported, each under a param that locates it:
    /// `conditions.all[1].any[0].in`.
    pub fn parse(value: &Value) -> Result<Self, ValidationErrors> {
        parse::parse(value, "conditions")
    }

    /// Whether `event` satisfies the conditions.
    pub fn matches(&self, event: &Event) -> bool {
        self.0.matches(event)
    }

    /// The JSON form, as accepted by [`Conditions::parse`].
    pub fn to_value(&self) -> Value {
        self.0.to_value()
    }
}

impl Serialize for Conditions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

/// One node of the tree.
#[derive(Clone, Debug, PartialEq)]
enum Node {
    All(Vec<Node>),
    Any(Vec<Node>),
    Not(Box<Node>),
    Test(Test),
}

/// A test on the value at one path: every operator that is set must hold.
#[derive(Clone, Debug, PartialEq)]
struct Test {
    path: Path,
    equals: Option<Value>,
    one_of: Option<Vec<Value>>,
    prefix: Option<String>,
    suffix: Option<String>,
    exists: Option<bool>,
    lower: Option<Bound>,
    upper: Option<Bound>,
}

/// One end of a numeric range: `gt`/`lt` when exclusive, `gte`/`lte` when inclusive.
#[derive(Clone, Debug, PartialEq)]
struct Bound {
    value: Number,
    inclusive: bool,
}

impl Node {
    fn to_value(&self) -> Value {
        let mut map = Map::new();
        match self {
            Node::All(nodes) => {
                map.insert("all".into(), nodes.iter().map(Node::to_value).collect());
            }
            Node::Any(nodes) => {
                map.insert("any".into(), nodes.iter().map(Node::to_value).collect());
            }
            Node::Not(node) => {
                map.insert("not".into(), node.to_value());
            }
            Node::Test(test) => test.write(&mut map),
        }
        Value::Object(map)
    }
}

impl Test {
    fn write(&self, map: &mut Map<String, Value>) {
        map.insert("path".into(), self.path.as_str().into());
        if let Some(v) = &self.equals {
            map.insert("equals".into(), v.clone());
        }
        if let Some(vs) = &self.one_of {
            map.insert("in".into(), Value::Array(vs.clone()));
        }
        if let Some(s) = &self.prefix {
            map.insert("prefix".into(), s.as_str().into());
        }
        if let Some(s) = &self.suffix {
            map.insert("suffix".into(), s.as_str().into());
        }
        if let Some(b) = self.exists {
            map.insert("exists".into(), b.into());
        }
        if let Some(b) = &self.lower {
            let op = if b.inclusive { "gte" } else { "gt" };
            map.insert(op.into(), Value::Number(b.value.clone()));
        }
        if let Some(b) = &self.upper {
            let op = if b.inclusive { "lte" } else { "lt" };
            map.insert(op.into(), Value::Number(b.value.clone()));
        }
    }
}
