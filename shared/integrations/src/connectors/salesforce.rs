//! Salesforce: `add_to_campaign`, `remove_from_campaign` (rule `id` = the campaign id) and
//! `update_property` (rule `id` = the field's API name, `value` = a `{{field}}` template) on
//! the Contact — or, when there is none, the Lead — with the fields' e-mail. REST API v60.0 at
//! the connection's `instance_url`: SOQL query
//! (<https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm>),
//! sObject create/update/delete
//! (<https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/using_resources_working_with_records.htm>),
//! errors (<https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm>).
//!
//! Quirks: the API limit is a **403** `REQUEST_LIMIT_EXCEEDED` (rate limited, not auth); adding a
//! member twice is a 400 `DUPLICATE_VALUE` and removing a non-member finds nothing — both are
//! the wanted state: delivered.

use reqwest::Method;
use serde_json::json;
use switchyard_core::field_catalog::{DestinationField, FieldKind};
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult};
use switchyard_core::webhook::UrlPolicy;
use url::Url;

use super::call::{Answer, Attempt, Auth, Call, Step};
use super::fields::{
    action, connection_setting, email, endpoint, rule_setting, secret, tenant_base_url,
};
use super::template::render;

const API: [&str; 3] = ["services", "data", "v60.0"];

struct Api<'a> {
    base: Url,
    token: &'a str,
}

impl Api<'_> {
    fn call(&self, method: Method, segments: &[&str]) -> Call {
        let mut path: Vec<&str> = API.to_vec();
        path.extend(segments);
        Call::new(
            method,
            endpoint(&self.base, &path),
            Auth::Bearer(self.token.to_owned()),
        )
    }

    fn query(&self, soql: &str) -> Call {
        let mut call = self.call(Method::GET, &["query"]);
        call.url.query_pairs_mut().append_pair("q", soql);
        call
    }
}

pub(crate) async fn deliver(
    attempt: &mut Attempt<'_>,
    policy: UrlPolicy,
    request: &DeliveryRequest<'_>,
) -> Step<DeliveryResult> {
    let token = secret(attempt, request, "access_token")?;
    let raw = connection_setting(attempt, request, "instance_url")?;
    let api = Api {
        base: tenant_base_url(attempt, &raw, "instance_url", policy)?,
        token: &token,
    };
    let target = rule_setting(attempt, request, "id", "the campaign id or field name")?;
    if !target
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(attempt.fail(
            Outcome::RejectedClientError,
            "the rule's metadata.id must be a Salesforce id or field name".into(),
        ));
    }
    let email = email(attempt, request.fields)?;
    let (object, record) = find_person(attempt, &api, &email).await?;
    let action = action(request);
    let answer = match action {
        "update_property" => {
            // Required: a missing template would silently clear the property.
            let template = rule_setting(attempt, request, "value", "the value template")?;
            let value = render(&template, request.fields, str::to_owned);
            let call = api
                .call(Method::PATCH, &["sobjects", object, &record])
                .json(json!({ target.as_str(): value }));
            attempt.send(call).await?
        }
        "remove_from_campaign" => {
            let soql = format!(
                "SELECT Id FROM CampaignMember WHERE CampaignId = '{target}' AND {object}Id = '{record}' LIMIT 1"
            );
            let found = attempt.send(api.query(&soql)).await?;
            if !found.is_success() {
                return Ok(classify(attempt, found));
            }
            let Some(member) = first_id(&found) else {
                return Ok(attempt.classified(found, Outcome::Delivered, None));
            };
            attempt
                .send(api.call(Method::DELETE, &["sobjects", "CampaignMember", &member]))
                .await?
        }
        _ => {
            let key = format!("{object}Id");
            let call = api
                .call(Method::POST, &["sobjects", "CampaignMember"])
                .json(json!({"CampaignId": target, key: record}));
            let answer = attempt.send(call).await?;
            if answer.status == 400 && error_code(&answer) == Some("DUPLICATE_VALUE".into()) {
                return Ok(attempt.classified(answer, Outcome::Delivered, None));
            }
            answer
        }
    };
    Ok(classify(attempt, answer))
}

/// The Contact's fields, from the sObject describe
/// (<https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm>):
/// what `update_property` can set (on a Lead, fields of the same API name), typed.
pub(crate) async fn field_catalog(
    attempt: &mut Attempt<'_>,
    policy: UrlPolicy,
    connection: &switchyard_core::domain::Connection,
    token: String,
) -> Step<Vec<DestinationField>> {
    let raw = connection
        .metadata
        .get("instance_url")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let api = Api {
        base: tenant_base_url(attempt, &raw, "instance_url", policy)?,
        token: &token,
    };
    let answer = attempt
        .send_ok(api.call(Method::GET, &["sobjects", "Contact", "describe"]))
        .await?;
    let body = answer.json();
    Ok(body["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(describe_field)
        .collect())
}

/// One described field as a typed field
/// (<https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/field_types.htm>).
fn describe_field(described: &serde_json::Value) -> Option<DestinationField> {
    let key = described["name"].as_str()?;
    let kind = described["type"].as_str().unwrap_or_default();
    let mut field = DestinationField::new(
        key,
        match kind {
            "string" | "textarea" | "email" | "phone" | "url" | "id" | "reference" | "combobox"
            | "encryptedstring" | "base64" | "time" => FieldKind::String,
            "int" | "long" | "double" | "currency" | "percent" => FieldKind::Number,
            "boolean" => FieldKind::Boolean,
            "date" => FieldKind::Date,
            "datetime" => FieldKind::Datetime,
            "picklist" => FieldKind::Enum,
            "multipicklist" => FieldKind::MultiEnum,
            "address" | "location" => FieldKind::Object,
            _ => FieldKind::Unknown,
        },
    );
    field.label = described["label"].as_str().map(str::to_owned);
    let constraints = &mut field.constraints;
    constraints.format = match kind {
        "email" => Some("email"),
        "phone" => Some("phone"),
        "url" => Some("url"),
        "date" => Some("date"),
        _ => None,
    };
    if described["updateable"] == false {
        constraints.read_only = Some(true);
    }
    if described["nillable"] == false
        && described["createable"] == true
        && described["defaultedOnCreate"] != true
    {
        constraints.required = Some(true);
    }
    if field.kind == FieldKind::String
        && let Some(length) = described["length"].as_u64().filter(|l| *l > 0)
    {
        constraints.max_length = Some(length);
    }
    if matches!(field.kind, FieldKind::Enum | FieldKind::MultiEnum) {
        constraints.allowed_values = Some(
            described["picklistValues"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|v| v["active"] != false)
                .filter_map(|v| v["value"].as_str().map(str::to_owned))
                .collect(),
        );
    }
    field.provider_meta = Some(json!({"type": kind}));
    Some(field)
}

/// The Contact with this e-mail, else the Lead.
async fn find_person(
    attempt: &mut Attempt<'_>,
    api: &Api<'_>,
    email: &str,
) -> Step<(&'static str, String)> {
    let quoted = soql_string(email);
    for object in ["Contact", "Lead"] {
        let soql = format!("SELECT Id FROM {object} WHERE Email = '{quoted}' LIMIT 1");
        let answer = attempt.send(api.query(&soql)).await?;
        if !answer.is_success() {
            return Err(classify(attempt, answer));
        }
        if let Some(id) = first_id(&answer) {
            return Ok((object, id));
        }
    }
    Err(attempt.fail(
        Outcome::RejectedClientError,
        "Salesforce has no Contact or Lead with the fields' email".into(),
    ))
}

fn first_id(answer: &Answer) -> Option<String> {
    answer.json()["records"][0]["Id"]
        .as_str()
        .map(str::to_owned)
}

/// Salesforce errors are a JSON array of `{message, errorCode}`.
fn error_code(answer: &Answer) -> Option<String> {
    answer.json()[0]["errorCode"].as_str().map(str::to_owned)
}

fn classify(attempt: &Attempt<'_>, answer: Answer) -> DeliveryResult {
    if answer.status == 403 && error_code(&answer).as_deref() == Some("REQUEST_LIMIT_EXCEEDED") {
        return attempt.classified(
            answer,
            Outcome::RateLimited,
            Some("Salesforce API request limit exceeded".into()),
        );
    }
    attempt.answered(answer)
}

/// A SOQL string literal's content: backslash and quote escaped
/// (<https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm>).
fn soql_string(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "\\'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soql_strings_cannot_break_out() {
        assert_eq!(
            soql_string(r"o'hara\x@example.com"),
            r"o\'hara\\x@example.com"
        );
    }
}
