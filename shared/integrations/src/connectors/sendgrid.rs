//! SendGrid (Twilio SendGrid v3): `add_to_list`, `remove_from_list` (rule `id` = the Marketing
//! Campaigns list id) and `send_template_email` (rule `id` = the dynamic template id `d-…`;
//! `value` = the sender, else the connection's `from`).
//! Lists: "Add or Update a Contact" <https://www.twilio.com/docs/sendgrid/api-reference/contacts/add-or-update-a-contact>
//! (`PUT /v3/marketing/contacts` `{list_ids, contacts}`, 202 with a job id); removal looks the
//! contact up by e-mail (<https://www.twilio.com/docs/sendgrid/api-reference/contacts/get-contacts-by-emails>,
//! `POST /v3/marketing/contacts/search/emails`, 404 when none matches) and calls
//! <https://www.twilio.com/docs/sendgrid/api-reference/lists/remove-contacts-from-a-list>
//! (`DELETE /v3/marketing/lists/{id}/contacts?contact_ids=`).
//! Mail: <https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send> (`POST
//! /v3/mail/send` with `template_id` and `dynamic_template_data`, 202).
//! Auth: Bearer API key. Key check: `GET /v3/scopes`, which every key may call. Rate limits:
//! 429 with `X-RateLimit-Reset` (a Unix time):
//! <https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits>.
//!
//! Quirks: removing a contact SendGrid does not know is already done (delivered). Mail Send has
//! no idempotency key; each message carries the delivery id in `custom_args.switchyard_delivery`
//! so a rare duplicate after a retried attempt can be recognised in SendGrid's event data.

use reqwest::Method;
use serde_json::{Map, Value, json};
use switchyard_core::ValidationErrors;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult};

use super::call::{Attempt, Auth, Call, Step};
use super::fields::{
    action, email, endpoint, first_name, full_name, last_name, optional_rule_setting, rule_setting,
    secret, text,
};
use super::settings::ProviderUrls;

pub(crate) async fn deliver(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    request: &DeliveryRequest<'_>,
) -> Step<DeliveryResult> {
    let key = secret(attempt, request, "api_key")?;
    let email = email(attempt, request.fields)?;
    let base = &urls.sendgrid;
    let call = |method, segments: &[&str]| {
        Call::new(method, endpoint(base, segments), Auth::Bearer(key.clone()))
    };
    match action(request) {
        "send_template_email" => {
            let template = rule_setting(attempt, request, "id", "the dynamic template id")?;
            let from = optional_rule_setting(request, "value")
                .or_else(|| {
                    request
                        .connection
                        .metadata
                        .get("from")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .ok_or_else(|| {
                    attempt.fail(
                        Outcome::RejectedClientError,
                        "SendGrid needs a sender: the rule's metadata.value or the connection's from"
                            .into(),
                    )
                })?;
            let mut to = json!({"email": email});
            if let Some(name) = full_name(request.fields) {
                to["name"] = name.into();
            }
            let body = json!({
                "personalizations": [{"to": [to], "dynamic_template_data": request.fields}],
                "from": address(&from),
                "template_id": template,
                "custom_args": {"switchyard_delivery": request.delivery.id.to_string()},
            });
            let answer = attempt
                .send(call(Method::POST, &["v3", "mail", "send"]).json(body))
                .await?;
            Ok(attempt.answered(answer))
        }
        "remove_from_list" => {
            let list = rule_setting(attempt, request, "id", "the list id")?;
            let search = call(
                Method::POST,
                &["v3", "marketing", "contacts", "search", "emails"],
            )
            .json(json!({"emails": [email]}));
            let found = attempt.send(search).await?;
            if found.status == 404 {
                return Ok(attempt.classified(found, Outcome::Delivered, None));
            }
            if !found.is_success() {
                return Err(attempt.answered(found));
            }
            let body = found.json();
            let contact = body["result"]
                .as_object()
                .and_then(|r| r.values().next())
                .and_then(|entry| entry["contact"]["id"].as_str())
                .map(str::to_owned);
            let Some(contact) = contact else {
                return Ok(attempt.classified(found, Outcome::Delivered, None));
            };
            let mut remove = call(
                Method::DELETE,
                &["v3", "marketing", "lists", &list, "contacts"],
            );
            remove
                .url
                .query_pairs_mut()
                .append_pair("contact_ids", &contact);
            let answer = attempt.send(remove).await?;
            Ok(attempt.answered(answer))
        }
        _ => {
            let list = rule_setting(attempt, request, "id", "the list id")?;
            let mut contact = json!({"email": email});
            if let Some(first) = first_name(request.fields) {
                contact["first_name"] = first.into();
            }
            if let Some(last) = last_name(request.fields) {
                contact["last_name"] = last.into();
            }
            if let Some(phone) = text(request.fields, "phone") {
                contact["phone_number"] = phone.into();
            }
            let upsert = call(Method::PUT, &["v3", "marketing", "contacts"])
                .json(json!({"list_ids": [list], "contacts": [contact]}));
            let answer = attempt.send(upsert).await?;
            Ok(attempt.answered(answer))
        }
    }
}

/// `Name <email>` or a bare address as SendGrid's `{email, name?}`.
fn address(from: &str) -> Value {
    match from.rsplit_once('<') {
        Some((name, rest)) if rest.ends_with('>') => {
            let email = rest.trim_end_matches('>').trim();
            let name = name.trim().trim_matches('"').trim();
            if name.is_empty() {
                json!({"email": email})
            } else {
                json!({"email": email, "name": name})
            }
        }
        _ => json!({"email": from.trim()}),
    }
}

pub(crate) async fn validate(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    metadata: &Map<String, Value>,
) -> Result<(), ValidationErrors> {
    let key = super::validation::required(metadata, "api_key")?;
    let call = Call::new(
        Method::GET,
        endpoint(&urls.sendgrid, &["v3", "scopes"]),
        Auth::Bearer(key),
    );
    super::validation::key_accepted(attempt, call, "SendGrid", "metadata.api_key").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_are_split_into_name_and_address() {
        assert_eq!(
            address("Acme <hi@acme.test>"),
            json!({"email": "hi@acme.test", "name": "Acme"})
        );
        assert_eq!(
            address("\"Acme, Inc\" <hi@acme.test>"),
            json!({"email": "hi@acme.test", "name": "Acme, Inc"})
        );
        assert_eq!(address("hi@acme.test"), json!({"email": "hi@acme.test"}));
    }
}
