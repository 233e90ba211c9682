//! HubSpot: `add_to_list`, `remove_from_list` (rule `id` = the list's ILS id) and
//! `update_property` (rule `id` = the property, `value` = a `{{field}}` template).
//! Contacts are upserted by e-mail, then list membership changes by record id:
//! <https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/batch/upsert-contacts>,
//! <https://developers.hubspot.com/docs/api-reference/legacy/crm/lists/memberships/add-to-list>.
//! Rate limits: 429 with `errorType: RATE_LIMIT`; the window comes in
//! `X-HubSpot-RateLimit-Interval-Milliseconds`.
//!
//! Quirk: batch upsert answers 207 Multi-Status when an input failed (an unknown property…):
//! that is a rejection, not a success.

use reqwest::Method;
use serde_json::{Map, Value, json};
use switchyard_core::field_catalog::{DestinationField, FieldKind};
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult};

use super::call::{Attempt, Auth, Call, Step};
use super::fields::{action, email, endpoint, first_name, last_name, rule_setting, secret, text};
use super::settings::ProviderUrls;
use super::template::render;

/// The contact properties (<https://developers.hubspot.com/docs/api-reference/crm-properties-v3/core/get-crm-v3-properties-objectType>):
/// what `update_property` can set, typed. Hidden properties are HubSpot's own bookkeeping and
/// are left out.
pub(crate) async fn field_catalog(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    token: String,
) -> Step<Vec<DestinationField>> {
    let call = Call::new(
        Method::GET,
        endpoint(&urls.hubspot, &["crm", "v3", "properties", "contacts"]),
        Auth::Bearer(token),
    );
    let answer = attempt.send_ok(call).await?;
    let body = answer.json();
    Ok(body["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["hidden"] != true)
        .filter_map(property_field)
        .collect())
}

/// One HubSpot property as a typed field: `type` with `fieldType` decides the kind
/// (<https://developers.hubspot.com/docs/guides/api/crm/properties#property-type-and-fieldtype-values>).
fn property_field(property: &Value) -> Option<DestinationField> {
    let key = property["name"].as_str()?;
    let kind = property["type"].as_str().unwrap_or_default();
    let widget = property["fieldType"].as_str().unwrap_or_default();
    let mut field = DestinationField::new(
        key,
        match (kind, widget) {
            ("string" | "phone_number", _) => FieldKind::String,
            ("number", _) => FieldKind::Number,
            ("bool", _) | ("enumeration", "booleancheckbox") => FieldKind::Boolean,
            ("date", _) => FieldKind::Date,
            ("datetime", _) => FieldKind::Datetime,
            ("enumeration", "checkbox") => FieldKind::MultiEnum,
            ("enumeration", _) => FieldKind::Enum,
            ("object_coordinates" | "json", _) => FieldKind::Json,
            _ => FieldKind::Unknown,
        },
    );
    field.label = property["label"].as_str().map(str::to_owned);
    field.description = property["description"]
        .as_str()
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    let constraints = &mut field.constraints;
    if key == "email" {
        constraints.format = Some("email");
        constraints.required = Some(true);
    } else if kind == "phone_number" || widget == "phonenumber" {
        constraints.format = Some("phone");
    }
    if property["modificationMetadata"]["readOnlyValue"] == true || property["calculated"] == true {
        constraints.read_only = Some(true);
    }
    if matches!(field.kind, FieldKind::Enum | FieldKind::MultiEnum) {
        constraints.allowed_values = Some(
            property["options"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|o| o["hidden"] != true)
                .filter_map(|o| o["value"].as_str().map(str::to_owned))
                .collect(),
        );
    }
    field.provider_meta = Some(json!({
        "type": kind,
        "fieldType": widget,
        "groupName": property["groupName"],
    }));
    Some(field)
}

pub(crate) async fn deliver(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    request: &DeliveryRequest<'_>,
) -> Step<DeliveryResult> {
    let token = secret(attempt, request, "access_token")?;
    let email = email(attempt, request.fields)?;
    let mut properties = Map::new();
    if let Some(first) = first_name(request.fields) {
        properties.insert("firstname".into(), first.into());
    }
    if let Some(last) = last_name(request.fields) {
        properties.insert("lastname".into(), last.into());
    }
    if let Some(phone) = text(request.fields, "phone") {
        properties.insert("phone".into(), phone.into());
    }
    let action = action(request);
    let list = match action {
        "update_property" => {
            let property = rule_setting(attempt, request, "id", "the property")?;
            // Required: a missing template would silently clear the property.
            let template = rule_setting(attempt, request, "value", "the value template")?;
            let value = render(&template, request.fields, str::to_owned);
            properties.insert(property, value.into());
            None
        }
        _ => Some(rule_setting(attempt, request, "id", "the list id")?),
    };
    let upsert = Call::new(
        Method::POST,
        endpoint(
            &urls.hubspot,
            &["crm", "v3", "objects", "contacts", "batch", "upsert"],
        ),
        Auth::Bearer(token.clone()),
    )
    .json(json!({"inputs": [{"idProperty": "email", "id": email, "properties": properties}]}));
    let answer = attempt.send_ok(upsert).await?;
    if answer.status == 207 {
        return Err(attempt.classified(
            answer,
            Outcome::RejectedClientError,
            Some("HubSpot refused the contact's properties".into()),
        ));
    }
    let Some(list) = list else {
        return Ok(attempt.answered(answer));
    };
    let record = answer.json()["results"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| {
            attempt.classified(
                answer,
                Outcome::RejectedServerError,
                Some("HubSpot's upsert answer has no record id".into()),
            )
        })?;
    let verb = if action == "remove_from_list" {
        "remove"
    } else {
        "add"
    };
    let membership = Call::new(
        Method::PUT,
        endpoint(
            &urls.hubspot,
            &["crm", "v3", "lists", &list, "memberships", verb],
        ),
        Auth::Bearer(token),
    )
    .json(json!([record]));
    let answer = attempt.send(membership).await?;
    Ok(attempt.answered(answer))
}
