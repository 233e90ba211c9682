//! MailerLite: `add_to_group`, `remove_from_group` (rule `id` = the group id).
//! Adding upserts the subscriber with the group (non-destructive for other groups):
//! <https://developers.mailerlite.com/docs/subscribers.html#create-upsert-subscriber>;
//! removing looks the subscriber up by e-mail, then unassigns:
//! <https://developers.mailerlite.com/docs/groups.html#unassign-subscriber-from-a-group>.
//! Auth: Bearer API key. Rate limit: 429 with `X-RateLimit-Retry-After` (seconds):
//! <https://developers.mailerlite.com/docs/#rate-limits>. Key check: `GET /groups?limit=1`.

use reqwest::Method;
use serde_json::{Map, Value, json};
use switchyard_core::ValidationErrors;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult};

use super::call::{Attempt, Auth, Call, Step};
use super::fields::{action, email, endpoint, first_name, last_name, rule_setting, secret};
use super::settings::ProviderUrls;

pub(crate) async fn deliver(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    request: &DeliveryRequest<'_>,
) -> Step<DeliveryResult> {
    let key = secret(attempt, request, "api_key")?;
    let group = rule_setting(attempt, request, "id", "the group id")?;
    let email = email(attempt, request.fields)?;
    if action(request) == "remove_from_group" {
        let lookup = Call::new(
            Method::GET,
            endpoint(&urls.mailerlite, &["subscribers", &email]),
            Auth::Bearer(key.clone()),
        );
        let found = attempt.send_ok(lookup).await?;
        let Some(id) = found.json()["data"]["id"].as_str().map(str::to_owned) else {
            return Err(attempt.classified(
                found,
                Outcome::RejectedServerError,
                Some("MailerLite's answer has no subscriber id".into()),
            ));
        };
        let call = Call::new(
            Method::DELETE,
            endpoint(&urls.mailerlite, &["subscribers", &id, "groups", &group]),
            Auth::Bearer(key),
        );
        let answer = attempt.send(call).await?;
        return Ok(attempt.answered(answer));
    }
    let mut fields = Map::new();
    if let Some(first) = first_name(request.fields) {
        fields.insert("name".into(), first.into());
    }
    if let Some(last) = last_name(request.fields) {
        fields.insert("last_name".into(), last.into());
    }
    let mut subscriber = json!({"email": email, "groups": [group]});
    if !fields.is_empty() {
        subscriber["fields"] = Value::Object(fields);
    }
    let call = Call::new(
        Method::POST,
        endpoint(&urls.mailerlite, &["subscribers"]),
        Auth::Bearer(key),
    )
    .json(subscriber);
    let answer = attempt.send(call).await?;
    Ok(attempt.answered(answer))
}

pub(crate) async fn validate(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    metadata: &Map<String, Value>,
) -> Result<(), ValidationErrors> {
    let key = super::validation::required(metadata, "api_key")?;
    let mut url = endpoint(&urls.mailerlite, &["groups"]);
    url.set_query(Some("limit=1"));
    let call = Call::new(Method::GET, url, Auth::Bearer(key));
    super::validation::key_accepted(attempt, call, "MailerLite", "metadata.api_key").await
}
