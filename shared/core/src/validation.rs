//! The contract's field rules: name patterns and lengths, resource ids, payload size.

use crate::ValidationErrors;

/// The largest accepted event payload, in bytes of JSON (answer 413 above). Keeps every queue
/// message and store item far inside SQS's and DynamoDB's limits.
pub const MAX_EVENT_BYTES: usize = 128 * 1024;

/// Workspace names: 3–50 characters of `[a-zA-Z0-9 _-]`.
pub fn workspace_name(errors: &mut ValidationErrors, param: &str, name: &str) {
    let len = name.chars().count();
    if !(3..=50).contains(&len) {
        errors.push(param, "must be between 3 and 50 characters");
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '_' || c == '-')
    {
        errors.push(
            param,
            "may contain only letters, digits, spaces, underscores and hyphens",
        );
    }
}

/// Free-text descriptions: at most 1024 characters.
pub fn description(errors: &mut ValidationErrors, param: &str, text: &str) {
    if text.chars().count() > 1024 {
        errors.push(param, "must be at most 1024 characters");
    }
}

/// Connection names: 1–128 characters.
pub fn connection_name(errors: &mut ValidationErrors, param: &str, name: &str) {
    let len = name.trim().chars().count();
    if !(1..=128).contains(&len) {
        errors.push(param, "must be between 1 and 128 characters");
    }
}

/// Resource ids: `^[A-Za-z0-9._:-]{1,64}$`.
pub fn resource_id(errors: &mut ValidationErrors, param: &str, id: &str) {
    let len = id.chars().count();
    if !(1..=64).contains(&len)
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
    {
        errors.push(param, "must match ^[A-Za-z0-9._:-]{1,64}$");
    }
}

/// An event name or resource as stored and matched: Unicode NFC, so `café` typed with a
/// combining accent (NFD) is the same name as `café` typed with a precomposed one.
pub fn normalized_name(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.nfc().collect()
}

/// Event names and resources: 1–128 printable characters with no whitespace (`user.signup`).
pub fn event_name(errors: &mut ValidationErrors, param: &str, name: &str) {
    let len = name.chars().count();
    if !(1..=128).contains(&len) {
        errors.push(param, "must be between 1 and 128 characters");
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        errors.push(param, "must not contain whitespace");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(check: impl Fn(&mut ValidationErrors, &str, &str), value: &str) -> bool {
        let mut e = ValidationErrors::default();
        check(&mut e, "p", value);
        e.is_empty()
    }

    #[test]
    fn names_are_nfc() {
        let nfd = "cafe\u{301}.ordered";
        assert_eq!(normalized_name(nfd), "caf\u{e9}.ordered");
        assert_eq!(normalized_name("user.signup"), "user.signup");
    }

    #[test]
    fn workspace_names() {
        assert!(ok(workspace_name, "prod-eu_1 main"));
        assert!(!ok(workspace_name, "ab"));
        assert!(!ok(workspace_name, &"a".repeat(51)));
        assert!(!ok(workspace_name, "bad/name"));
    }

    #[test]
    fn resource_ids() {
        assert!(ok(resource_id, "usr_2048:a.b-c"));
        assert!(!ok(resource_id, ""));
        assert!(!ok(resource_id, &"a".repeat(65)));
        assert!(!ok(resource_id, "has space"));
    }

    #[test]
    fn event_names() {
        assert!(ok(event_name, "user.signup"));
        assert!(!ok(event_name, ""));
        assert!(!ok(event_name, "user signup"));
    }
}
