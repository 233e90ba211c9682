//! Resend: `add_to_segment`, `remove_from_segment` (rule `id` = the segment id) and
//! `send_email_template` (rule `id` = the template id or alias; `value` = the sender, else the
//! connection's `from`, else the template's own). Contacts are global, addressed by e-mail:
//! <https://resend.com/docs/api-reference/contacts/create-contact>,
//! <https://resend.com/docs/api-reference/contacts/add-contact-to-segment>,
//! <https://resend.com/docs/api-reference/emails/send-email> (`template: {id, variables}`),
//! errors and limits: <https://resend.com/docs/api-reference/errors>,
//! <https://resend.com/docs/api-reference/introduction#rate-limit> (429 with `retry-after`).
//! Key check: `GET /domains`; a sending-only key answers `restricted_api_key`, which still
//! proves the key genuine.
//!
//! Quirks: creating a contact that exists is not a failure for `add_to_segment`; e-mails carry
//! the delivery id as `Idempotency-Key`, so a retried attempt never sends twice.

use reqwest::Method;
use serde_json::{Map, Value, json};
use switchyard_core::ValidationErrors;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult};

use super::call::{Answer, Attempt, Auth, Call, Step};
use super::fields::{
    action, email, endpoint, first_name, last_name, optional_rule_setting, rule_setting, secret,
};
use super::settings::ProviderUrls;

pub(crate) async fn deliver(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    request: &DeliveryRequest<'_>,
) -> Step<DeliveryResult> {
    let key = secret(attempt, request, "api_key")?;
    let email = email(attempt, request.fields)?;
    match action(request) {
        "send_email_template" => {
            let template = rule_setting(attempt, request, "id", "the template id")?;
            let variables: Map<String, Value> = request
                .fields
                .iter()
                .filter(|(_, v)| v.is_string() || v.is_number())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let mut body =
                json!({"to": [email], "template": {"id": template, "variables": variables}});
            let from = optional_rule_setting(request, "value").or_else(|| {
                request
                    .connection
                    .metadata
                    .get("from")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
            if let Some(from) = from {
                body["from"] = from.into();
            }
            let call = Call::new(
                Method::POST,
                endpoint(&urls.resend, &["emails"]),
                Auth::Bearer(key),
            )
            .header("idempotency-key", request.delivery.id.to_string())
            .json(body);
            let answer = attempt.send(call).await?;
            Ok(attempt.answered(answer))
        }
        "remove_from_segment" => {
            let segment = rule_setting(attempt, request, "id", "the segment id")?;
            let call = Call::new(
                Method::DELETE,
                endpoint(&urls.resend, &["contacts", &email, "segments", &segment]),
                Auth::Bearer(key),
            );
            let answer = attempt.send(call).await?;
            Ok(attempt.answered(answer))
        }
        _ => {
            let segment = rule_setting(attempt, request, "id", "the segment id")?;
            let mut contact = json!({"email": email});
            if let Some(first) = first_name(request.fields) {
                contact["first_name"] = first.into();
            }
            if let Some(last) = last_name(request.fields) {
                contact["last_name"] = last.into();
            }
            let create = Call::new(
                Method::POST,
                endpoint(&urls.resend, &["contacts"]),
                Auth::Bearer(key.clone()),
            )
            .json(contact);
            let created = attempt.send(create).await?;
            if !created.is_success() && !already_exists(&created) {
                return Err(attempt.answered(created));
            }
            let add = Call::new(
                Method::POST,
                endpoint(&urls.resend, &["contacts", &email, "segments", &segment]),
                Auth::Bearer(key),
            );
            let answer = attempt.send(add).await?;
            Ok(attempt.answered(answer))
        }
    }
}

/// A create refused because the contact is already there: a 409, or a validation error that
/// says so.
fn already_exists(answer: &Answer) -> bool {
    answer.status == 409
        || (matches!(answer.status, 400 | 422)
            && answer.json()["message"]
                .as_str()
                .is_some_and(|m| m.to_ascii_lowercase().contains("already exist")))
}

pub(crate) async fn validate(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    metadata: &Map<String, Value>,
) -> Result<(), ValidationErrors> {
    let key = super::validation::required(metadata, "api_key")?;
    let call = Call::new(
        Method::GET,
        endpoint(&urls.resend, &["domains"]),
        Auth::Bearer(key),
    );
    super::validation::key_accepted_or(attempt, call, "Resend", "metadata.api_key", |answer| {
        answer.status == 401 && answer.json()["name"] == "restricted_api_key"
    })
    .await
}
