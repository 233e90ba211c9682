//! What connectors read from one delivery request: the rule's target (`metadata.id`,
//! `metadata.value`), the connection's credentials, and the contact in the fields. Missing
//! pieces end the attempt with an outcome the retry policy understands: a rule without its
//! target is the tenant's mistake (not retried), a missing e-mail is a mapping error, a missing
//! token is `auth_failed` (the OAuth layer may refresh it).

use serde_json::{Map, Value};
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::DeliveryRequest;
use url::Url;

use super::call::{Attempt, Step};

/// A rule metadata setting, required.
pub(crate) fn rule_setting(
    attempt: &Attempt<'_>,
    request: &DeliveryRequest<'_>,
    key: &str,
    what: &str,
) -> Step<String> {
    optional_rule_setting(request, key).ok_or_else(|| {
        attempt.fail(
            Outcome::RejectedClientError,
            format!("the rule's metadata.{key} ({what}) is required"),
        )
    })
}

pub(crate) fn optional_rule_setting(request: &DeliveryRequest<'_>, key: &str) -> Option<String> {
    non_empty(request.rule.metadata.get(key))
}

/// The rule's action; the API validated it against the catalog when the rule was made.
pub(crate) fn action<'r>(request: &'r DeliveryRequest<'_>) -> &'r str {
    request
        .rule
        .metadata
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A write-only credential of the connection.
pub(crate) fn secret(
    attempt: &Attempt<'_>,
    request: &DeliveryRequest<'_>,
    key: &str,
) -> Step<String> {
    non_empty(request.secrets.get(key)).ok_or_else(|| {
        attempt.fail(
            Outcome::AuthFailed,
            format!("the connection has no {key}; authorize or update it"),
        )
    })
}

/// A public setting of the connection.
pub(crate) fn connection_setting(
    attempt: &Attempt<'_>,
    request: &DeliveryRequest<'_>,
    key: &str,
) -> Step<String> {
    non_empty(request.connection.metadata.get(key)).ok_or_else(|| {
        attempt.fail(
            Outcome::RejectedClientError,
            format!("the connection's metadata.{key} is required"),
        )
    })
}

/// The contact's e-mail address, from the `email` field.
pub(crate) fn email(attempt: &Attempt<'_>, fields: &Map<String, Value>) -> Step<String> {
    text(fields, "email").ok_or_else(|| {
        attempt.fail(
            Outcome::MappingError,
            "the fields have no `email`: map one to this connection".into(),
        )
    })
}

/// A field as text: strings as they are, numbers and booleans written out.
pub(crate) fn text(fields: &Map<String, Value>, name: &str) -> Option<String> {
    non_empty(fields.get(name))
}

/// The contact's first name: `first_name` (or `firstname`, `firstName`).
pub(crate) fn first_name(fields: &Map<String, Value>) -> Option<String> {
    ["first_name", "firstname", "firstName"]
        .into_iter()
        .find_map(|name| text(fields, name))
}

/// The contact's last name: `last_name` (or `lastname`, `lastName`).
pub(crate) fn last_name(fields: &Map<String, Value>) -> Option<String> {
    ["last_name", "lastname", "lastName"]
        .into_iter()
        .find_map(|name| text(fields, name))
}

/// Both names, space-separated, when there is either.
pub(crate) fn full_name(fields: &Map<String, Value>) -> Option<String> {
    text(fields, "name").or_else(|| {
        let parts: Vec<String> = [first_name(fields), last_name(fields)]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    })
}

fn non_empty(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `base` with `segments` appended, each percent-encoded (ids and e-mails go in paths).
pub(crate) fn endpoint(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    {
        let mut path = url
            .path_segments_mut()
            .expect("provider base URLs are http(s) URLs");
        path.pop_if_empty();
        path.extend(segments);
    }
    url
}

/// A base URL the tenant configured (Salesforce instance, ActiveCampaign account): the
/// deployment's URL policy applies to it as to a webhook URL.
pub(crate) fn tenant_base_url(
    attempt: &Attempt<'_>,
    raw: &str,
    key: &str,
    policy: switchyard_core::webhook::UrlPolicy,
) -> Step<Url> {
    let url = Url::parse(raw).map_err(|_| {
        attempt.fail(
            Outcome::RejectedClientError,
            format!("the connection's metadata.{key} is not a URL"),
        )
    })?;
    policy.check(&url).map_err(|why| {
        attempt.fail(
            Outcome::RejectedClientError,
            format!("the connection's metadata.{key} {why}"),
        )
    })?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_encode_their_segments() {
        let base = Url::parse("https://api.example.com/v3/").unwrap();
        assert_eq!(
            endpoint(&base, &["contacts", "ada+x@example.com", "a/b"]).as_str(),
            "https://api.example.com/v3/contacts/ada+x@example.com/a%2Fb"
        );
    }
}
