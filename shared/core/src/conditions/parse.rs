//! Reading the JSON form into a tree, collecting every problem with the param that locates it
//! (`conditions.all[1].any[0].in`), as the API reports all of a body's errors at once.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::eval::compare;
use super::path::Path;
use super::{Bound, Conditions, MAX_DEPTH, MAX_IN_VALUES, MAX_TESTS, Node, Test};
use crate::ValidationErrors;

const OPERATORS: &str = "equals, in, prefix, suffix, exists, gt, gte, lt, lte";

pub(super) fn parse(value: &Value, param: &str) -> Result<Conditions, ValidationErrors> {
    let mut parser = Parser::default();
    let node = parser.node(value, param, 1);
    if parser.tests > MAX_TESTS {
        parser.errors.push(
            param,
            format!("must hold at most {MAX_TESTS} path tests; this holds more"),
        );
    }
    match node {
        Some(node) if parser.errors.is_empty() => Ok(Conditions(node)),
        _ => Err(parser.errors),
    }
}

/// A test's operators while they are read; the path may still turn out invalid.
#[derive(Default)]
struct Ops {
    equals: Option<Value>,
    one_of: Option<Vec<Value>>,
    prefix: Option<String>,
    suffix: Option<String>,
    exists: Option<bool>,
    lower: Option<Bound>,
    upper: Option<Bound>,
}

#[derive(Default)]
struct Parser {
    errors: ValidationErrors,
    /// Tests seen so far; parsing stops descending once past the limit, so an oversized tree
    /// costs no more than a legal one.
    tests: usize,
}

impl Parser {
    fn node(&mut self, value: &Value, param: &str, depth: usize) -> Option<Node> {
        if self.tests > MAX_TESTS {
            return None;
        }
        if depth > MAX_DEPTH {
            self.errors.push(
                param,
                format!("nests deeper than {MAX_DEPTH} levels; flatten it"),
            );
            return None;
        }
        let Value::Object(map) = value else {
            self.errors.push(
                param,
                "must be an object: a test {\"path\": …, <operator>: …} or a group \
                 {\"all\": […]}, {\"any\": […]}, {\"not\": {…}}",
            );
            return None;
        };
        let group = ["all", "any", "not"]
            .into_iter()
            .find(|k| map.contains_key(*k));
        match group {
            Some(key) if map.len() > 1 => {
                self.errors.push(
                    param,
                    format!(
                        "\"{key}\" must be the only key of its object; \
                         put other conditions inside it"
                    ),
                );
                None
            }
            Some("not") => {
                let inner = self.node(&map["not"], &format!("{param}.not"), depth + 1)?;
                Some(Node::Not(Box::new(inner)))
            }
            Some(key) => {
                let nodes = self.group(&map[key], &format!("{param}.{key}"), depth)?;
                Some(if key == "all" {
                    Node::All(nodes)
                } else {
                    Node::Any(nodes)
                })
            }
            None if map.contains_key("path") => self.test(map, param).map(Node::Test),
            None => {
                self.errors.push(
                    param,
                    "must have a \"path\" (a test) or be a group: all, any or not",
                );
                None
            }
        }
    }

    fn group(&mut self, value: &Value, param: &str, depth: usize) -> Option<Vec<Node>> {
        let items = match value {
            Value::Array(items) if !items.is_empty() && items.len() <= MAX_TESTS => items,
            Value::Array(items) if !items.is_empty() => {
                self.errors
                    .push(param, format!("must hold at most {MAX_TESTS} conditions"));
                return None;
            }
            _ => {
                self.errors
                    .push(param, "must be a non-empty array of conditions");
                return None;
            }
        };
        let nodes: Vec<Option<Node>> = items
            .iter()
            .enumerate()
            .map(|(i, item)| self.node(item, &format!("{param}[{i}]"), depth + 1))
            .collect();
        nodes.into_iter().collect()
    }

    fn test(&mut self, map: &Map<String, Value>, param: &str) -> Option<Test> {
        self.tests += 1;
        let errors_before = self.errors.0.len();
        let path = match &map["path"] {
            Value::String(text) => Path::parse(text)
                .map_err(|msg| self.errors.push(format!("{param}.path"), msg))
                .ok(),
            _ => {
                self.errors
                    .push(format!("{param}.path"), "must be a string");
                None
            }
        };
        let mut ops = Ops::default();
        for (key, operand) in map {
            let at = format!("{param}.{key}");
            match key.as_str() {
                "path" => {}
                "equals" => ops.equals = Some(operand.clone()),
                "in" => ops.one_of = self.values(operand, &at),
                "prefix" => ops.prefix = self.text(operand, &at),
                "suffix" => ops.suffix = self.text(operand, &at),
                "exists" => match operand {
                    Value::Bool(b) => ops.exists = Some(*b),
                    _ => self.errors.push(at, "must be true or false"),
                },
                "gt" | "gte" | "lt" | "lte" => {
                    let Value::Number(n) = operand else {
                        self.errors.push(at, "must be a number");
                        continue;
                    };
                    let bound = Bound {
                        value: n.clone(),
                        inclusive: key.ends_with('e'),
                    };
                    let (slot, other) = if key.starts_with('g') {
                        (&mut ops.lower, if bound.inclusive { "gt" } else { "gte" })
                    } else {
                        (&mut ops.upper, if bound.inclusive { "lt" } else { "lte" })
                    };
                    if map.contains_key(other) {
                        // Reported once, on the inclusive one.
                        if bound.inclusive {
                            self.errors
                                .push(at, format!("cannot be combined with {other}"));
                        }
                        continue;
                    }
                    *slot = Some(bound);
                }
                other => self.errors.push(
                    at,
                    format!("unknown operator \"{other}\"; expected one of {OPERATORS}"),
                ),
            }
        }
        if map.len() == 1 {
            self.errors.push(
                param,
                format!("needs at least one operator besides path: {OPERATORS}"),
            );
        }
        if ops.exists == Some(false) && map.len() > 2 {
            self.errors.push(
                format!("{param}.exists"),
                "false cannot be combined with other operators: they need a value",
            );
        }
        if let (Some(lo), Some(hi)) = (&ops.lower, &ops.upper) {
            let empty = match compare(&lo.value, &hi.value) {
                Some(Ordering::Less) => false,
                Some(Ordering::Equal) => !(lo.inclusive && hi.inclusive),
                _ => true,
            };
            if empty {
                self.errors
                    .push(param, "the numeric range is empty: no number matches it");
            }
        }
        let path = path.filter(|_| self.errors.0.len() == errors_before)?;
        Some(Test {
            path,
            equals: ops.equals,
            one_of: ops.one_of,
            prefix: ops.prefix,
            suffix: ops.suffix,
            exists: ops.exists,
            lower: ops.lower,
            upper: ops.upper,
        })
    }

    fn values(&mut self, operand: &Value, at: &str) -> Option<Vec<Value>> {
        match operand {
            Value::Array(vs) if !vs.is_empty() && vs.len() <= MAX_IN_VALUES => Some(vs.clone()),
            _ => {
                self.errors.push(
                    at,
                    format!("must be a non-empty array of at most {MAX_IN_VALUES} values"),
                );
                None
            }
        }
    }

    fn text(&mut self, operand: &Value, at: &str) -> Option<String> {
        match operand {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            _ => {
                self.errors.push(at, "must be a non-empty string");
                None
            }
        }
    }
}
