//! Customer.io (Track API v1): `identify` (create or update the person with the fields as
//! attributes), `track_event` (rule `id` = the event name, else the Switchyard event's own),
//! `add_to_segment`, `remove_from_segment` (rule `id` = a manual segment's id).
//! <https://docs.customer.io/integrations/api/track/> — `PUT /customers/{identifier}`,
//! `POST /customers/{identifier}/events` `{name, data}`,
//! `POST /segments/{id}/add_customers|remove_customers?id_type=` `{ids}`.
//! Auth: HTTP Basic `site_id:api_key` (the Track API key). Region: `us` (track.customer.io,
//! the default) or `eu` (track-eu.customer.io). Key check: `GET /accounts/region`, which any
//! valid Track credential answers. Limits: about 100 requests per second, answered 429.
//! Segments are listed only by the App API (<https://docs.customer.io/api/app/>, `GET
//! /v1/segments`, Bearer), so a connection lists them when it also holds an `app_api_key`.
//!
//! The person is addressed by the fields' `customer_id` (or `id`), else their `email`
//! (workspaces that identify people by e-mail).

use reqwest::Method;
use serde_json::{Map, Value, json};
use switchyard_core::ValidationErrors;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult};
use url::Url;

use super::call::{Attempt, Auth, Call, Step};
use super::fields::{
    action, connection_setting, endpoint, optional_rule_setting, rule_setting, secret, text,
};
use super::settings::ProviderUrls;

/// Field names that carry the person's Customer.io id, in order of preference.
const ID_FIELDS: [&str; 2] = ["customer_id", "id"];

pub(crate) async fn deliver(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    request: &DeliveryRequest<'_>,
) -> Step<DeliveryResult> {
    let key = secret(attempt, request, "api_key")?;
    let site = connection_setting(attempt, request, "site_id")?;
    let region = request
        .connection
        .metadata
        .get("region")
        .and_then(Value::as_str);
    let base = track_url(urls, region).map_err(|why| {
        attempt.fail(
            Outcome::RejectedClientError,
            format!("the connection's metadata.region {why}"),
        )
    })?;
    let auth = Auth::Basic {
        user: site,
        password: key,
    };
    let (person, id_type) = identifier(request.fields).ok_or_else(|| {
        attempt.fail(
            Outcome::MappingError,
            "the fields have no `customer_id`, `id` or `email`: map one to this connection".into(),
        )
    })?;
    let call = match action(request) {
        "track_event" => {
            let name =
                optional_rule_setting(request, "id").unwrap_or_else(|| request.event.event.clone());
            Call::new(
                Method::POST,
                endpoint(&base, &["customers", &person, "events"]),
                auth,
            )
            .json(json!({"name": name, "data": attributes(request.fields)}))
        }
        action @ ("add_to_segment" | "remove_from_segment") => {
            let segment = rule_setting(attempt, request, "id", "the manual segment's id")?;
            let verb = if action == "add_to_segment" {
                "add_customers"
            } else {
                "remove_customers"
            };
            let mut url = endpoint(&base, &["segments", &segment, verb]);
            url.query_pairs_mut().append_pair("id_type", id_type);
            Call::new(Method::POST, url, auth).json(json!({"ids": [person]}))
        }
        _ => Call::new(Method::PUT, endpoint(&base, &["customers", &person]), auth)
            .json(Value::Object(attributes(request.fields))),
    };
    let answer = attempt.send(call).await?;
    Ok(attempt.answered(answer))
}

/// The person's identifier and its Customer.io `id_type`.
fn identifier(fields: &Map<String, Value>) -> Option<(String, &'static str)> {
    ID_FIELDS
        .into_iter()
        .find_map(|name| text(fields, name))
        .map(|id| (id, "id"))
        .or_else(|| text(fields, "email").map(|email| (email, "email")))
}

/// The fields as the person's attributes (or the event's data), less `customer_id`, which
/// only addresses the person.
fn attributes(fields: &Map<String, Value>) -> Map<String, Value> {
    fields
        .iter()
        .filter(|(k, v)| k.as_str() != "customer_id" && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

pub(crate) async fn validate(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    metadata: &Map<String, Value>,
) -> Result<(), ValidationErrors> {
    let site = super::validation::required(metadata, "site_id")?;
    let key = super::validation::required(metadata, "api_key")?;
    let region = metadata.get("region").and_then(Value::as_str);
    let base =
        track_url(urls, region).map_err(|why| ValidationErrors::single("metadata.region", why))?;
    let call = Call::new(
        Method::GET,
        endpoint(&base, &["accounts", "region"]),
        Auth::Basic {
            user: site,
            password: key,
        },
    );
    super::validation::key_accepted(attempt, call, "Customer.io", "metadata.api_key").await?;
    let Some(app_key) = metadata
        .get("app_api_key")
        .and_then(Value::as_str)
        .filter(|k| !k.trim().is_empty())
    else {
        return Ok(());
    };
    let call = segments(urls, region, app_key.trim().to_owned())
        .map_err(|why| ValidationErrors::single("metadata.region", why))?;
    super::validation::key_accepted(attempt, call, "Customer.io", "metadata.app_api_key").await
}

/// The App API's segment list, for the connection's region.
pub(crate) fn segments(
    urls: &ProviderUrls,
    region: Option<&str>,
    app_key: String,
) -> Result<Call, String> {
    let base = match Region::parse(region)? {
        Region::Us => &urls.customer_io_app_us,
        Region::Eu => &urls.customer_io_app_eu,
    };
    Ok(Call::new(
        Method::GET,
        endpoint(base, &["segments"]),
        Auth::Bearer(app_key),
    ))
}

/// The Track API of the account's region.
fn track_url(urls: &ProviderUrls, region: Option<&str>) -> Result<Url, String> {
    Ok(match Region::parse(region)? {
        Region::Us => urls.customer_io_us.clone(),
        Region::Eu => urls.customer_io_eu.clone(),
    })
}

/// A Customer.io account's data region: `us` when unset.
enum Region {
    Us,
    Eu,
}

impl Region {
    fn parse(region: Option<&str>) -> Result<Self, String> {
        match region.map(str::trim).unwrap_or("us") {
            "" | "us" => Ok(Self::Us),
            "eu" => Ok(Self::Eu),
            _ => Err("must be `us` or `eu`".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_addressed_by_id_before_email() {
        let fields = json!({"email": "ada@example.com", "id": 42, "customer_id": "u-1"});
        let fields = fields.as_object().unwrap();
        assert_eq!(identifier(fields), Some(("u-1".into(), "id")));
        let fields = json!({"email": "ada@example.com"});
        assert_eq!(
            identifier(fields.as_object().unwrap()),
            Some(("ada@example.com".into(), "email"))
        );
        assert_eq!(identifier(&Map::new()), None);
    }

    #[test]
    fn regions_choose_the_track_host() {
        let urls = ProviderUrls::default();
        assert_eq!(
            track_url(&urls, None).unwrap().as_str(),
            "https://track.customer.io/api/v1"
        );
        assert_eq!(
            track_url(&urls, Some("eu")).unwrap().as_str(),
            "https://track-eu.customer.io/api/v1"
        );
        assert!(track_url(&urls, Some("apac")).is_err());
        let listing = segments(&urls, Some("eu"), "k".into()).unwrap();
        assert_eq!(
            listing.url.as_str(),
            "https://api-eu.customer.io/v1/segments"
        );
    }
}
