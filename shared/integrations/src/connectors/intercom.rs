//! Intercom: `add_tag`, `remove_tag` (rule `id` = the tag id). The contact is found by e-mail
//! (<https://developers.intercom.com/docs/references/rest-api/api.intercom.io/contacts/searchcontacts>)
//! and, for `add_tag`, created as a user when there is none
//! (<https://developers.intercom.com/docs/references/rest-api/api.intercom.io/contacts/createcontact>);
//! then the tag is attached or detached
//! (<https://developers.intercom.com/docs/references/rest-api/api.intercom.io/contacts/attachcontacttotag>).
//! Every call pins `Intercom-Version: 2.11`. Rate limit: 429 with `X-RateLimit-Reset`, a Unix
//! time (<https://developers.intercom.com/docs/references/rest-api/errors/rate-limiting>).
//!
//! Quirk: removing a tag from a contact that does not exist is already done: delivered.

use reqwest::Method;
use serde_json::json;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult};

use super::call::{Attempt, Auth, Call, Step};
use super::fields::{action, email, endpoint, full_name, rule_setting, secret};
use super::settings::ProviderUrls;

pub(crate) const VERSION: &str = "2.11";

pub(crate) async fn deliver(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    request: &DeliveryRequest<'_>,
) -> Step<DeliveryResult> {
    let token = secret(attempt, request, "access_token")?;
    let tag = rule_setting(attempt, request, "id", "the tag id")?;
    let email = email(attempt, request.fields)?;
    let call = |method, segments: &[&str]| {
        Call::new(
            method,
            endpoint(&urls.intercom, segments),
            Auth::Bearer(token.clone()),
        )
        .header("intercom-version", VERSION)
    };
    let search = call(Method::POST, &["contacts", "search"]).json(json!({
        "query": {"field": "email", "operator": "=", "value": email}
    }));
    let found = attempt.send_ok(search).await?;
    let existing = found.json()["data"][0]["id"].as_str().map(str::to_owned);
    let removing = action(request) == "remove_tag";
    let contact = match existing {
        Some(id) => id,
        None if removing => {
            return Ok(attempt.classified(found, Outcome::Delivered, None));
        }
        None => {
            let mut contact = json!({"role": "user", "email": email});
            if let Some(name) = full_name(request.fields) {
                contact["name"] = name.into();
            }
            let created = attempt
                .send_ok(call(Method::POST, &["contacts"]).json(contact))
                .await?;
            let Some(id) = created.json()["id"].as_str().map(str::to_owned) else {
                return Err(attempt.classified(
                    created,
                    Outcome::RejectedServerError,
                    Some("Intercom's answer has no contact id".into()),
                ));
            };
            id
        }
    };
    let change = if removing {
        call(Method::DELETE, &["contacts", &contact, "tags", &tag])
    } else {
        call(Method::POST, &["contacts", &contact, "tags"]).json(json!({"id": tag}))
    };
    let answer = attempt.send(change).await?;
    Ok(attempt.answered(answer))
}
