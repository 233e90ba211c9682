//! Pipedrive (API v1): `upsert_person` (find the person by e-mail, then update or create it)
//! and `create_deal` (the person upserted, then a deal titled by the rule's `value` template;
//! rule `id` = the stage, optional, else the default pipeline's first stage).
//! <https://developers.pipedrive.com/docs/api/v1/Persons#searchPersons> (`GET /persons/search
//! ?term=&fields=email&exact_match=true`), `#updatePerson` (`PUT /persons/{id}`), `#addPerson`
//! (`POST /persons`), <https://developers.pipedrive.com/docs/api/v1/Deals#addDeal>.
//! The API lives on the company's domain, `https://{company}.pipedrive.com/api/v1`
//! (<https://pipedrive.readme.io/docs/how-to-get-the-company-domain>); the personal API token
//! goes in the `x-api-token` header, not the query
//! (<https://pipedrive.readme.io/docs/core-api-concepts-authentication>). Key check:
//! `GET /users/me`. Rate limits: 429 with `x-ratelimit-reset` (seconds to wait):
//! <https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting>.

use reqwest::Method;
use serde_json::{Map, Value, json};
use switchyard_core::ValidationErrors;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult};
use url::Url;

use super::call::{Answer, Attempt, Auth, Call, Step};
use super::fields::{
    action, connection_setting, email, endpoint, full_name, optional_rule_setting, rule_setting,
    secret, text,
};
use super::settings::ProviderUrls;
use super::template::render;

pub(crate) async fn deliver(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    request: &DeliveryRequest<'_>,
) -> Step<DeliveryResult> {
    let token = secret(attempt, request, "api_token")?;
    let company = connection_setting(attempt, request, "company_domain")?;
    let base = base_url(urls, &company).map_err(|why| {
        attempt.fail(
            Outcome::RejectedClientError,
            format!("the connection's metadata.company_domain {why}"),
        )
    })?;
    let email = email(attempt, request.fields)?;
    // A deal without its title template would be refused by Pipedrive: checked before any call.
    let title = if action(request) == "create_deal" {
        Some(rule_setting(
            attempt,
            request,
            "value",
            "the deal title template",
        )?)
    } else {
        None
    };
    let call = |method, segments: &[&str]| {
        Call::new(
            method,
            endpoint(&base, segments),
            Auth::Header("x-api-token", token.clone()),
        )
    };

    let mut search = call(Method::GET, &["persons", "search"]);
    search
        .url
        .query_pairs_mut()
        .append_pair("term", &email)
        .append_pair("fields", "email")
        .append_pair("exact_match", "true")
        .append_pair("limit", "1");
    let found = attempt.send_ok(search).await?;
    let existing = id_of(&found.json()["data"]["items"][0]["item"]["id"]);
    let mut person = Map::new();
    if let Some(name) = full_name(request.fields) {
        person.insert("name".into(), name.into());
    }
    if let Some(phone) = text(request.fields, "phone") {
        person.insert("phone".into(), json!([{"value": phone, "primary": true}]));
    }
    let saved = match &existing {
        Some(_) if person.is_empty() => found,
        Some(id) => {
            attempt
                .send_ok(call(Method::PUT, &["persons", id]).json(Value::Object(person)))
                .await?
        }
        None => {
            person.entry("name").or_insert_with(|| email.clone().into());
            person.insert(
                "email".into(),
                json!([{"value": email, "primary": true, "label": "work"}]),
            );
            attempt
                .send_ok(call(Method::POST, &["persons"]).json(Value::Object(person)))
                .await?
        }
    };
    let Some(title) = title else {
        return Ok(attempt.answered(saved));
    };
    let person_id = existing.or_else(|| id_of(&saved.json()["data"]["id"]));
    let Some(person_id) = person_id else {
        return Err(no_id(attempt, saved));
    };
    let mut deal = json!({
        "title": render(&title, request.fields, str::to_owned),
        "person_id": person_id.parse::<u64>().map(Value::from).unwrap_or(Value::String(person_id)),
    });
    if let Some(stage) = optional_rule_setting(request, "id") {
        deal["stage_id"] = stage
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or(Value::String(stage));
    }
    if let Some(amount) = request.fields.get("amount").filter(|v| v.is_number()) {
        deal["value"] = amount.clone();
        if let Some(currency) = text(request.fields, "currency") {
            deal["currency"] = currency.into();
        }
    }
    let answer = attempt
        .send(call(Method::POST, &["deals"]).json(deal))
        .await?;
    Ok(attempt.answered(answer))
}

fn no_id(attempt: &Attempt<'_>, answer: Answer) -> DeliveryResult {
    attempt.classified(
        answer,
        Outcome::RejectedServerError,
        Some("Pipedrive's answer has no person id".into()),
    )
}

/// Pipedrive ids are numbers.
fn id_of(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

pub(crate) async fn validate(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    metadata: &Map<String, Value>,
) -> Result<(), ValidationErrors> {
    let company = super::validation::required(metadata, "company_domain")?;
    let token = super::validation::required(metadata, "api_token")?;
    let base = base_url(urls, &company)
        .map_err(|why| ValidationErrors::single("metadata.company_domain", why))?;
    let call = Call::new(
        Method::GET,
        endpoint(&base, &["users", "me"]),
        Auth::Header("x-api-token", token),
    );
    super::validation::key_accepted(attempt, call, "Pipedrive", "metadata.api_token").await
}

/// The company's API root. `company` is the subdomain (`acme`), also accepted as
/// `acme.pipedrive.com` or `https://acme.pipedrive.com`.
pub(crate) fn base_url(urls: &ProviderUrls, company: &str) -> Result<Url, String> {
    let company = company.trim().to_ascii_lowercase();
    let company = company
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .trim_end_matches(".pipedrive.com");
    let valid = !company.is_empty()
        && company.len() <= 63
        && company
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        return Err(
            "must be your Pipedrive company domain (the `acme` of acme.pipedrive.com)".into(),
        );
    }
    Url::parse(&urls.pipedrive.replace("{company}", company))
        .map_err(|_| "the Pipedrive API URL is not valid".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_company_domain_names_the_host() {
        let urls = ProviderUrls::default();
        for given in ["acme", "Acme.pipedrive.com", "https://acme.pipedrive.com/"] {
            assert_eq!(
                base_url(&urls, given).unwrap().as_str(),
                "https://acme.pipedrive.com/api/v1",
                "{given}"
            );
        }
        for bad in ["", "evil.com/x", "a.b", "acme@evil.test"] {
            assert!(base_url(&urls, bad).is_err(), "{bad}");
        }
    }
}
