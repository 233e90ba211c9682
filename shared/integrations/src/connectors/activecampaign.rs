//! ActiveCampaign: `sync_contact`, `add_to_list`, `remove_from_list` (rule `id` = the list id),
//! `add_tag`, `remove_tag` (rule `id` = the tag id). Every action first syncs the contact by
//! e-mail (<https://developers.activecampaign.com/reference/sync-a-contacts-data>), then:
//! list status 1/2 (<https://developers.activecampaign.com/reference/update-list-status-for-contact>),
//! tag add (<https://developers.activecampaign.com/reference/create-contact-tag>) or remove
//! (<https://developers.activecampaign.com/reference/delete-contact-tag>). The account's own
//! host is the connection's `api_url`; the key goes in `Api-Token`
//! (<https://developers.activecampaign.com/reference/authentication>). Key check: `GET /users/me`.
//! Rate limit: 5 requests per second, answered 429
//! (<https://developers.activecampaign.com/reference/rate-limits>).
//!
//! Quirk: removing a tag the contact does not carry is already done: delivered.

use reqwest::Method;
use serde_json::{Map, Value, json};
use switchyard_core::ValidationErrors;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult};
use switchyard_core::webhook::UrlPolicy;
use url::Url;

use super::call::{Attempt, Auth, Call, Step};
use super::fields::{
    action, connection_setting, email, endpoint, first_name, last_name, rule_setting, secret,
    tenant_base_url, text,
};

pub(crate) async fn deliver(
    attempt: &mut Attempt<'_>,
    policy: UrlPolicy,
    request: &DeliveryRequest<'_>,
) -> Step<DeliveryResult> {
    let key = secret(attempt, request, "api_key")?;
    let raw = connection_setting(attempt, request, "api_url")?;
    let base = api_root(tenant_base_url(attempt, &raw, "api_url", policy)?);
    let email = email(attempt, request.fields)?;
    let action = action(request);
    let target = match action {
        "sync_contact" => None,
        "add_tag" | "remove_tag" => Some(rule_setting(attempt, request, "id", "the tag id")?),
        _ => Some(rule_setting(attempt, request, "id", "the list id")?),
    };
    let call = |method, segments: &[&str]| {
        Call::new(
            method,
            endpoint(&base, segments),
            Auth::Header("api-token", key.clone()),
        )
    };
    let mut contact = json!({"email": email});
    if let Some(first) = first_name(request.fields) {
        contact["firstName"] = first.into();
    }
    if let Some(last) = last_name(request.fields) {
        contact["lastName"] = last.into();
    }
    if let Some(phone) = text(request.fields, "phone") {
        contact["phone"] = phone.into();
    }
    let synced = attempt
        .send_ok(call(Method::POST, &["contact", "sync"]).json(json!({"contact": contact})))
        .await?;
    let Some(target) = target else {
        return Ok(attempt.answered(synced));
    };
    let body = synced.json();
    let Some(contact) = id_text(&body["contact"]["id"]) else {
        return Err(attempt.classified(
            synced,
            Outcome::RejectedServerError,
            Some("ActiveCampaign's answer has no contact id".into()),
        ));
    };
    let change = match action {
        "add_tag" => call(Method::POST, &["contactTags"])
            .json(json!({"contactTag": {"contact": contact, "tag": target}})),
        "remove_tag" => {
            let tags = attempt
                .send_ok(call(Method::GET, &["contacts", &contact, "contactTags"]))
                .await?;
            let link = tags.json()["contactTags"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| id_text(&t["tag"]).as_deref() == Some(target.as_str()))
                .and_then(|t| id_text(&t["id"]));
            let Some(link) = link else {
                return Ok(attempt.classified(tags, Outcome::Delivered, None));
            };
            call(Method::DELETE, &["contactTags", &link])
        }
        other => {
            // 1 = subscribed, 2 = unsubscribed.
            let status = if other == "remove_from_list" { 2 } else { 1 };
            call(Method::POST, &["contactLists"]).json(
                json!({"contactList": {"list": target, "contact": contact, "status": status}}),
            )
        }
    };
    let answer = attempt.send(change).await?;
    Ok(attempt.answered(answer))
}

pub(crate) async fn validate(
    attempt: &mut Attempt<'_>,
    policy: UrlPolicy,
    metadata: &Map<String, Value>,
) -> Result<(), ValidationErrors> {
    let raw = super::validation::required(metadata, "api_url")?;
    let key = super::validation::required(metadata, "api_key")?;
    let url = tenant_base_url(attempt, &raw, "api_url", policy).map_err(|failed| {
        ValidationErrors::single("metadata.api_url", failed.error.unwrap_or_default())
    })?;
    let call = Call::new(
        Method::GET,
        endpoint(&api_root(url), &["users", "me"]),
        Auth::Header("api-token", key),
    );
    super::validation::key_accepted(attempt, call, "ActiveCampaign", "metadata.api_key").await
}

/// `https://account.api-us1.com` → `…/api/3` (also when the user pasted the `/api/3` form).
pub(crate) fn api_root(url: Url) -> Url {
    if url.path().trim_end_matches('/').ends_with("/api/3") {
        url
    } else {
        endpoint(&url, &["api", "3"])
    }
}

/// ActiveCampaign writes ids as strings, sometimes as numbers.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
