//! `{{field}}` placeholders filled from the delivery's fields (a dotted path reaches into
//! objects). A missing field renders as nothing; a non-text value as its JSON.

use serde_json::{Map, Value};

/// Renders `template`, passing each inserted value through `escape`.
pub(crate) fn render(
    template: &str,
    fields: &Map<String, Value>,
    escape: impl Fn(&str) -> String,
) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open + 2..].find("}}") else {
            break;
        };
        out.push_str(&rest[..open]);
        let name = rest[open + 2..open + 2 + close].trim();
        if let Some(value) = lookup(fields, name) {
            out.push_str(&escape(&value));
        }
        rest = &rest[open + 2 + close + 2..];
    }
    out.push_str(rest);
    out
}

fn lookup(fields: &Map<String, Value>, path: &str) -> Option<String> {
    let mut parts = path.split('.');
    let mut value = fields.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_placeholders_and_leaves_the_rest() {
        let fields = json!({"email": "ada@example.com", "plan": {"name": "pro"}, "seats": 3});
        let fields = fields.as_object().unwrap();
        assert_eq!(
            render(
                "{{email}} on {{ plan.name }} x{{seats}}{{missing}} {{",
                fields,
                str::to_owned
            ),
            "ada@example.com on pro x3 {{"
        );
    }
}
