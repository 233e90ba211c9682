//! Mailchimp: `add_to_list`, `remove_from_list` (rule `id` = the audience/list id) through
//! "Batch subscribe or unsubscribe" with `update_existing`, which takes the e-mail itself (no
//! subscriber hash): <https://mailchimp.com/developer/marketing/api/lists/batch-subscribe-or-unsubscribe/>.
//! Auth is HTTP Basic with the API key as password; the data center (`us6`) is the connection's
//! `data_center` or the key's suffix: <https://mailchimp.com/developer/marketing/docs/fundamentals/#api-structure>.
//! Key check: `GET /3.0/ping`. Errors: <https://mailchimp.com/developer/marketing/docs/errors/>
//! (429 when more than 10 connections are open at once).
//!
//! Quirk: a batch answers 200 even when the member was refused; the refusal is in `errors`.

use reqwest::Method;
use serde_json::{Map, Value, json};
use switchyard_core::ValidationErrors;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult};
use url::Url;

use super::call::{Attempt, Auth, Call, Step};
use super::fields::{action, email, endpoint, first_name, last_name, rule_setting, secret};
use super::settings::ProviderUrls;

pub(crate) async fn deliver(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    request: &DeliveryRequest<'_>,
) -> Step<DeliveryResult> {
    let key = secret(attempt, request, "api_key")?;
    let configured = request
        .connection
        .metadata
        .get("data_center")
        .and_then(Value::as_str);
    let base = base_url(urls, configured, &key)
        .map_err(|why| attempt.fail(Outcome::RejectedClientError, why))?;
    let list = rule_setting(attempt, request, "id", "the audience id")?;
    let email = email(attempt, request.fields)?;
    let status = if action(request) == "remove_from_list" {
        "unsubscribed"
    } else {
        "subscribed"
    };
    let mut merge = Map::new();
    if let Some(first) = first_name(request.fields) {
        merge.insert("FNAME".into(), first.into());
    }
    if let Some(last) = last_name(request.fields) {
        merge.insert("LNAME".into(), last.into());
    }
    let mut member = json!({"email_address": email, "status": status});
    if !merge.is_empty() {
        member["merge_fields"] = Value::Object(merge);
    }
    let call = Call::new(Method::POST, endpoint(&base, &["lists", &list]), basic(key))
        .json(json!({"members": [member], "update_existing": true}));
    let answer = attempt.send(call).await?;
    if answer.is_success() {
        let body = answer.json();
        if let Some(error) = body["errors"].as_array().and_then(|e| e.first()) {
            let why = error["error"].as_str().unwrap_or("refused").to_owned();
            return Ok(attempt.classified(
                answer,
                Outcome::RejectedClientError,
                Some(format!("Mailchimp refused the member: {why}")),
            ));
        }
    }
    Ok(attempt.answered(answer))
}

/// The connection is checked with `GET /ping` before it is saved.
pub(crate) async fn validate(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    metadata: &Map<String, Value>,
) -> Result<(), ValidationErrors> {
    let key = super::validation::required(metadata, "api_key")?;
    let configured = metadata.get("data_center").and_then(Value::as_str);
    let base = base_url(urls, configured, &key)
        .map_err(|why| ValidationErrors::single("metadata.data_center", why))?;
    let call = Call::new(Method::GET, endpoint(&base, &["ping"]), basic(key));
    super::validation::key_accepted(attempt, call, "Mailchimp", "metadata.api_key").await
}

pub(crate) fn basic(key: String) -> Auth {
    Auth::Basic {
        user: "switchyard".into(),
        password: key,
    }
}

/// The API root for the account's data center: the configured one, or the key's `-us6` suffix.
pub(crate) fn base_url(
    urls: &ProviderUrls,
    configured: Option<&str>,
    key: &str,
) -> Result<Url, String> {
    let dc = configured
        .map(str::to_owned)
        .or_else(|| key.rsplit_once('-').map(|(_, dc)| dc.to_owned()))
        .filter(|dc| !dc.is_empty() && dc.chars().all(|c| c.is_ascii_alphanumeric()))
        .ok_or("metadata.data_center (e.g. us6) is required and must be letters and digits")?;
    Url::parse(&urls.mailchimp.replace("{dc}", &dc.to_ascii_lowercase()))
        .map_err(|_| "the Mailchimp API URL is not valid".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_center_comes_from_settings_or_the_key() {
        let urls = ProviderUrls::default();
        assert_eq!(
            base_url(&urls, None, "abc123-us6").unwrap().as_str(),
            "https://us6.api.mailchimp.com/3.0"
        );
        assert_eq!(
            base_url(&urls, Some("US19"), "abc123").unwrap().as_str(),
            "https://us19.api.mailchimp.com/3.0"
        );
        assert!(base_url(&urls, Some("evil.com/x"), "k").is_err());
        assert!(base_url(&urls, None, "nodc").is_err());
    }
}
