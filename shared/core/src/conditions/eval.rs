//! Evaluating conditions against an event: the router's hot path, so it only borrows.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use super::path::Found;
use super::{Bound, Node, Test};
use crate::domain::Event;

impl Node {
    pub(super) fn matches(&self, event: &Event) -> bool {
        match self {
            Node::All(nodes) => nodes.iter().all(|n| n.matches(event)),
            Node::Any(nodes) => nodes.iter().any(|n| n.matches(event)),
            Node::Not(node) => !node.matches(event),
            Node::Test(test) => test.matches(event),
        }
    }
}

impl Test {
    fn matches(&self, event: &Event) -> bool {
        let found = self.path.resolve(event);
        if self.exists.is_some_and(|want| want != found.is_some()) {
            return false;
        }
        let Some(found) = found else {
            // Nothing there: only `exists` can hold, and it did if it is set.
            return !self.tests_value();
        };
        self.equals.as_ref().is_none_or(|v| equal(found, v))
            && self
                .one_of
                .as_ref()
                .is_none_or(|vs| vs.iter().any(|v| equal(found, v)))
            && self
                .prefix
                .as_deref()
                .is_none_or(|p| found.as_str().is_some_and(|s| s.starts_with(p)))
            && self
                .suffix
                .as_deref()
                .is_none_or(|p| found.as_str().is_some_and(|s| s.ends_with(p)))
            && self.in_range(found)
    }

    /// Whether any operator other than `exists` is set: those need a value to hold.
    fn tests_value(&self) -> bool {
        self.equals.is_some()
            || self.one_of.is_some()
            || self.prefix.is_some()
            || self.suffix.is_some()
            || self.lower.is_some()
            || self.upper.is_some()
    }

    fn in_range(&self, found: Found<'_>) -> bool {
        if self.lower.is_none() && self.upper.is_none() {
            return true;
        }
        let Found::Json(Value::Number(n)) = found else {
            return false;
        };
        let above = |b: &Bound| match compare(n, &b.value) {
            Some(Ordering::Greater) => true,
            Some(Ordering::Equal) => b.inclusive,
            _ => false,
        };
        let below = |b: &Bound| match compare(n, &b.value) {
            Some(Ordering::Less) => true,
            Some(Ordering::Equal) => b.inclusive,
            _ => false,
        };
        self.lower.as_ref().is_none_or(above) && self.upper.as_ref().is_none_or(below)
    }
}

/// `equals` semantics: same JSON type and value, numbers compared by value.
fn equal(found: Found<'_>, want: &Value) -> bool {
    match found {
        Found::Str(s) => matches!(want, Value::String(w) if w == s),
        Found::Json(v) => json_equal(v, want),
    }
}

/// JSON equality where `100` and `100.0` are the same number, as they are in JSON itself;
/// `serde_json`'s own `==` tells integers and floats apart.
pub(super) fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare(x, y) == Some(Ordering::Equal),
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .all(|(k, x)| ys.get(k).is_some_and(|y| json_equal(x, y)))
        }
        _ => a == b,
    }
}

/// Orders two JSON numbers: exactly when both are integers (ids and cents beyond 2^53 must not
/// collide), as floats otherwise. `None` only if a float is not comparable, which JSON rules out.
pub(super) fn compare(a: &Number, b: &Number) -> Option<Ordering> {
    match (integer(a), integer(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn integer(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}
