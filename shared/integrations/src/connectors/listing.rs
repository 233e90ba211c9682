//! What a provider account offers as rule targets — Slack channels, HubSpot lists, Mailchimp
//! audiences … — the live options of `GET /connections/{id}/actions`. Each entry is
//! `{kind, id, name}`; `id` is what a rule's `metadata.id` takes. One page of each (the first
//! 100–200): enough to pick from, bounded in time.

use reqwest::Method;
use serde_json::{Map, Value, json};
use switchyard_core::domain::{Connection, IntegrationType};
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::DeliveryResult;
use switchyard_core::webhook::UrlPolicy;
use url::Url;

use super::call::{Attempt, Auth, Call, Step};
use super::fields::{endpoint, tenant_base_url};
use super::settings::ProviderUrls;

/// Where the entries sit in an answer, and which keys hold their id and name.
struct Shape {
    kind: &'static str,
    array: &'static str,
    id: &'static str,
    name: &'static str,
    /// Keep only entries whose key has this value, when they carry the key.
    only: Option<(&'static str, &'static str)>,
    /// Cursor pagination: the JSON pointer of the next page's cursor in an answer, and the
    /// query parameter that asks for it.
    cursor: Option<(&'static str, &'static str)>,
}

/// Pages read per listing at most, so a huge account cannot hold a request for long.
const MAX_PAGES: usize = 5;

const fn shape(
    kind: &'static str,
    array: &'static str,
    id: &'static str,
    name: &'static str,
) -> Shape {
    Shape {
        kind,
        array,
        id,
        name,
        only: None,
        cursor: None,
    }
}

pub(crate) async fn list(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    policy: UrlPolicy,
    connection: &Connection,
    secrets: &Map<String, Value>,
) -> Step<Vec<Value>> {
    let secret = |key: &str| {
        secrets
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                attempt.fail(Outcome::AuthFailed, format!("the connection has no {key}"))
            })
    };
    let setting = |key: &str| {
        connection.metadata.get(key).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let get = |base: &Url, segments: &[&str], query: &str, auth: Auth| {
        let mut url = endpoint(base, segments);
        if !query.is_empty() {
            url.set_query(Some(query));
        }
        Call::new(Method::GET, url, auth)
    };
    let mut calls: Vec<(Call, Shape)> = Vec::new();
    match connection.kind {
        // A Discord webhook posts to its one channel.
        IntegrationType::Webhook | IntegrationType::Discord => return Ok(Vec::new()),
        // Segments are listed by Customer.io's App API only: with the optional App API key.
        IntegrationType::CustomerIo => {
            let Some(key) = secrets.get("app_api_key").and_then(Value::as_str) else {
                return Ok(Vec::new());
            };
            let call =
                super::customer_io::segments(urls, setting("region").as_deref(), key.to_owned())
                    .map_err(|why| attempt.fail(Outcome::RejectedClientError, why))?;
            // Only manual segments take people through the API.
            calls.push((
                call,
                Shape {
                    only: Some(("type", "manual")),
                    ..shape("segment", "segments", "id", "name")
                },
            ));
        }
        IntegrationType::Sendgrid => {
            let key = secret("api_key")?;
            calls.push((
                get(
                    &urls.sendgrid,
                    &["v3", "marketing", "lists"],
                    "page_size=100",
                    Auth::Bearer(key.clone()),
                ),
                shape("list", "result", "id", "name"),
            ));
            calls.push((
                get(
                    &urls.sendgrid,
                    &["v3", "templates"],
                    "generations=dynamic&page_size=100",
                    Auth::Bearer(key),
                ),
                shape("template", "result", "id", "name"),
            ));
        }
        IntegrationType::Pipedrive => {
            let token = secret("api_token")?;
            let company = setting("company_domain").unwrap_or_default();
            let base = super::pipedrive::base_url(urls, &company)
                .map_err(|why| attempt.fail(Outcome::RejectedClientError, why))?;
            calls.push((
                get(&base, &["stages"], "", Auth::Header("x-api-token", token)),
                shape("stage", "data", "id", "name"),
            ));
        }
        IntegrationType::Slack => {
            let token = secret("access_token")?;
            calls.push((
                get(
                    &urls.slack,
                    &["conversations.list"],
                    "types=public_channel,private_channel&exclude_archived=true&limit=200",
                    Auth::Bearer(token),
                ),
                Shape {
                    cursor: Some(("/response_metadata/next_cursor", "cursor")),
                    ..shape("channel", "channels", "id", "name")
                },
            ));
        }
        IntegrationType::Hubspot => {
            let token = secret("access_token")?;
            calls.push((
                Call::new(
                    Method::POST,
                    endpoint(&urls.hubspot, &["crm", "v3", "lists", "search"]),
                    Auth::Bearer(token),
                )
                .json(
                    json!({"query": "", "count": 100, "processingTypes": ["MANUAL", "SNAPSHOT"]}),
                ),
                // Contact lists only (object type 0-1): the actions add contacts.
                Shape {
                    only: Some(("objectTypeId", "0-1")),
                    ..shape("list", "lists", "listId", "name")
                },
            ));
        }
        IntegrationType::Mailchimp => {
            let key = secret("api_key")?;
            let base = super::mailchimp::base_url(urls, setting("data_center").as_deref(), &key)
                .map_err(|why| attempt.fail(Outcome::RejectedClientError, why))?;
            calls.push((
                get(
                    &base,
                    &["lists"],
                    "count=100&fields=lists.id,lists.name",
                    super::mailchimp::basic(key),
                ),
                shape("list", "lists", "id", "name"),
            ));
        }
        IntegrationType::Resend => {
            let key = secret("api_key")?;
            calls.push((
                get(&urls.resend, &["segments"], "", Auth::Bearer(key.clone())),
                shape("segment", "data", "id", "name"),
            ));
            calls.push((
                get(&urls.resend, &["templates"], "limit=100", Auth::Bearer(key)),
                shape("template", "data", "id", "name"),
            ));
        }
        IntegrationType::Intercom => {
            let token = secret("access_token")?;
            calls.push((
                get(&urls.intercom, &["tags"], "", Auth::Bearer(token))
                    .header("intercom-version", super::intercom::VERSION),
                shape("tag", "data", "id", "name"),
            ));
        }
        IntegrationType::ActiveCampaign => {
            let key = secret("api_key")?;
            let raw = setting("api_url").unwrap_or_default();
            let base =
                super::activecampaign::api_root(tenant_base_url(attempt, &raw, "api_url", policy)?);
            calls.push((
                get(
                    &base,
                    &["lists"],
                    "limit=100",
                    Auth::Header("api-token", key.clone()),
                ),
                shape("list", "lists", "id", "name"),
            ));
            calls.push((
                get(
                    &base,
                    &["tags"],
                    "limit=100",
                    Auth::Header("api-token", key),
                ),
                shape("tag", "tags", "id", "tag"),
            ));
        }
        IntegrationType::Aweber => {
            let token = secret("access_token")?;
            let Some(account) = setting("account_id") else {
                return Err(attempt.fail(
                    Outcome::RejectedClientError,
                    "the connection's metadata.account_id is required to list AWeber lists".into(),
                ));
            };
            calls.push((
                get(
                    &urls.aweber,
                    &["accounts", &account, "lists"],
                    "",
                    Auth::Bearer(token),
                ),
                shape("list", "entries", "id", "name"),
            ));
        }
        IntegrationType::Mailerlite => {
            let key = secret("api_key")?;
            calls.push((
                get(
                    &urls.mailerlite,
                    &["groups"],
                    "limit=100",
                    Auth::Bearer(key),
                ),
                shape("group", "data", "id", "name"),
            ));
        }
        IntegrationType::Zoom => {
            let token = secret("access_token")?;
            calls.push((
                get(
                    &urls.zoom,
                    &["users", "me", "meetings"],
                    "type=upcoming&page_size=100",
                    Auth::Bearer(token.clone()),
                ),
                shape("meeting", "meetings", "id", "topic"),
            ));
            calls.push((
                get(
                    &urls.zoom,
                    &["users", "me", "webinars"],
                    "page_size=100",
                    Auth::Bearer(token),
                ),
                shape("webinar", "webinars", "id", "topic"),
            ));
        }
        IntegrationType::Salesforce => {
            let token = secret("access_token")?;
            let raw = setting("instance_url").unwrap_or_default();
            let base = tenant_base_url(attempt, &raw, "instance_url", policy)?;
            let mut url = endpoint(&base, &["services", "data", "v60.0", "query"]);
            url.query_pairs_mut().append_pair(
                "q",
                "SELECT Id, Name FROM Campaign WHERE IsActive = true LIMIT 200",
            );
            calls.push((
                Call::new(Method::GET, url, Auth::Bearer(token)),
                shape("campaign", "records", "Id", "Name"),
            ));
        }
    }
    let mut entries = Vec::new();
    let mut pending: std::collections::VecDeque<(Call, Shape, usize)> = calls
        .into_iter()
        .map(|(call, shape)| (call, shape, 1))
        .collect();
    while let Some((call, shape, page)) = pending.pop_front() {
        let again = call.clone();
        let answer = attempt.send_ok(call).await?;
        let body = answer.json();
        // Slack: errors in a 200.
        if connection.kind == IntegrationType::Slack && body["ok"] != true {
            let code = body["error"].as_str().unwrap_or("unknown_error").to_owned();
            return Err(attempt.classified(
                answer,
                Outcome::RejectedClientError,
                Some(format!("Slack answered {code}")),
            ));
        }
        for item in body[shape.array].as_array().into_iter().flatten() {
            if let Some((key, wanted)) = shape.only
                && item.get(key).is_some_and(|v| v != wanted)
            {
                continue;
            }
            let id = match &item[shape.id] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => continue,
            };
            let name = item[shape.name].as_str().unwrap_or(&id).to_owned();
            entries.push(json!({"kind": shape.kind, "id": id, "name": name}));
        }
        let next = shape
            .cursor
            .and_then(|(pointer, param)| Some((body.pointer(pointer)?.as_str()?, param)))
            .filter(|(cursor, _)| !cursor.is_empty());
        if let Some((cursor, param)) = next
            && page < MAX_PAGES
        {
            let mut again = again;
            let kept: Vec<(String, String)> = again
                .url
                .query_pairs()
                .filter(|(k, _)| k != param)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            again
                .url
                .query_pairs_mut()
                .clear()
                .extend_pairs(kept)
                .append_pair(param, cursor);
            pending.push_front((again, shape, page + 1));
        }
    }
    Ok(entries)
}

/// The failure of a listing in words for the API's answer.
pub(crate) fn describe_failure(result: &DeliveryResult) -> String {
    let status = result
        .status_code
        .map(|s| format!(" (HTTP {s})"))
        .unwrap_or_default();
    let why = result
        .error
        .as_deref()
        .map(|e| format!(": {e}"))
        .unwrap_or_default();
    format!("the provider's answer was {}{status}{why}", result.outcome)
}
