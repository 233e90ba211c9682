//! Discord `send_message`: the rule's `{{field}}` template posted to a channel through the
//! connection's incoming webhook (`webhook_url`, write-only: its last segment is the token).
//! Execute: <https://discord.com/developers/docs/resources/webhook#execute-webhook>
//! (`POST /webhooks/{id}/{token}?wait=true` `{content, username?, allowed_mentions}`; content at
//! most 2,000 characters). Check on create: "Get Webhook with Token"
//! (<https://discord.com/developers/docs/resources/webhook#get-webhook-with-token>).
//! Rate limits: <https://discord.com/developers/docs/topics/rate-limits> — 429 with
//! `Retry-After` and a JSON `retry_after` in (fractional) seconds.
//!
//! The URL is only read for its id and token, and only on Discord's own hosts: the call goes to
//! the configured Discord API, so a connection cannot aim it anywhere else. Mentions are
//! disabled (`allowed_mentions.parse = []`), so event data cannot ping `@everyone`; a longer
//! message is cut to Discord's 2,000 characters rather than refused.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Map, Value, json};
use switchyard_core::ValidationErrors;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult};
use url::Url;

use super::call::{Answer, Attempt, Auth, Call, Step};
use super::fields::{endpoint, optional_rule_setting, secret};
use super::settings::ProviderUrls;
use super::template::render;

/// Discord's limit on a message's `content`, in characters.
const MAX_CONTENT: usize = 2000;

const HOSTS: [&str; 5] = [
    "discord.com",
    "discordapp.com",
    "ptb.discord.com",
    "canary.discord.com",
    "ptb.discordapp.com",
];

/// An incoming webhook's id and token.
#[derive(Debug, PartialEq)]
struct Hook {
    id: String,
    token: String,
}

pub(crate) async fn deliver(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    request: &DeliveryRequest<'_>,
) -> Step<DeliveryResult> {
    let raw = secret(attempt, request, "webhook_url")?;
    let hook = parse_hook(&raw).map_err(|why| {
        attempt.fail(
            Outcome::RejectedClientError,
            format!("the connection's webhook_url {why}"),
        )
    })?;
    let template = optional_rule_setting(request, "value")
        .or_else(|| optional_rule_setting(request, "template"))
        .ok_or_else(|| {
            attempt.fail(
                Outcome::RejectedClientError,
                "the rule's metadata.value (the message template) is required".into(),
            )
        })?;
    let content = truncate(render(&template, request.fields, str::to_owned));
    let mut body = json!({"content": content, "allowed_mentions": {"parse": []}});
    if let Some(name) = request
        .connection
        .metadata
        .get("username")
        .and_then(Value::as_str)
    {
        body["username"] = name.into();
    }
    let mut url = endpoint(&urls.discord, &["webhooks", &hook.id, &hook.token]);
    url.set_query(Some("wait=true"));
    let call = Call::new(Method::POST, url, Auth::InPath)
        .hiding(hook.token)
        .json(body);
    let mut answer = attempt.send(call).await?;
    if answer.status == 429 && answer.retry_after.is_none() {
        answer.retry_after = body_retry_after(&answer);
    }
    Ok(attempt.answered(answer))
}

pub(crate) async fn validate(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    metadata: &Map<String, Value>,
) -> Result<(), ValidationErrors> {
    const PARAM: &str = "metadata.webhook_url";
    let raw = super::validation::required(metadata, "webhook_url")?;
    let hook = parse_hook(&raw).map_err(|why| ValidationErrors::single(PARAM, why))?;
    let call = Call::new(
        Method::GET,
        endpoint(&urls.discord, &["webhooks", &hook.id, &hook.token]),
        Auth::InPath,
    )
    .hiding(hook.token);
    match attempt.send(call).await {
        Ok(answer) if answer.is_success() => Ok(()),
        // 401 Invalid Webhook Token, 404 Unknown Webhook: deleted or mistyped.
        Ok(answer) if matches!(answer.status, 401 | 403 | 404) => Err(ValidationErrors::single(
            PARAM,
            "was rejected by Discord: the webhook was deleted or its token is wrong",
        )),
        Ok(answer) => Err(ValidationErrors::single(
            PARAM,
            format!(
                "could not be checked: Discord answered HTTP {}",
                answer.status
            ),
        )),
        Err(failed) => Err(ValidationErrors::single(
            PARAM,
            format!(
                "could not be checked: Discord did not answer ({})",
                failed.error.unwrap_or_default()
            ),
        )),
    }
}

/// `https://discord.com/api[/v10]/webhooks/{id}/{token}`, as Discord shows it. The words of
/// an error never repeat the URL (it is a credential).
fn parse_hook(raw: &str) -> Result<Hook, &'static str> {
    const SHAPE: &str =
        "must be a Discord webhook URL (https://discord.com/api/webhooks/<id>/<token>)";
    let url = Url::parse(raw.trim()).map_err(|_| SHAPE)?;
    let host = url.host_str().unwrap_or_default();
    if url.scheme() != "https" || !HOSTS.contains(&host) || url.port().is_some() {
        return Err(SHAPE);
    }
    let mut segments = url.path_segments().ok_or(SHAPE)?.filter(|s| !s.is_empty());
    if segments.next() != Some("api") {
        return Err(SHAPE);
    }
    let mut next = segments.next();
    if next.is_some_and(|v| v.starts_with('v') && v[1..].chars().all(|c| c.is_ascii_digit())) {
        next = segments.next();
    }
    let (Some("webhooks"), Some(id), Some(token), None) =
        (next, segments.next(), segments.next(), segments.next())
    else {
        return Err(SHAPE);
    };
    let token_ok = |t: &str| {
        !t.is_empty()
            && t.len() <= 200
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) || !token_ok(token) {
        return Err(SHAPE);
    }
    Ok(Hook {
        id: id.to_owned(),
        token: token.to_owned(),
    })
}

/// At most [`MAX_CONTENT`] characters, the last one an ellipsis when cut.
fn truncate(content: String) -> String {
    if content.chars().count() <= MAX_CONTENT {
        return content;
    }
    let mut cut: String = content.chars().take(MAX_CONTENT - 1).collect();
    cut.push('…');
    cut
}

/// A 429's `retry_after` (seconds, fractional) from its JSON body.
fn body_retry_after(answer: &Answer) -> Option<Duration> {
    answer.json()["retry_after"]
        .as_f64()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(86_400.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_discord_webhook_urls_are_read() {
        let hook = parse_hook("https://discord.com/api/webhooks/123456/AbC-d_e").unwrap();
        assert_eq!(
            hook,
            Hook {
                id: "123456".into(),
                token: "AbC-d_e".into()
            }
        );
        assert!(parse_hook("https://discordapp.com/api/v10/webhooks/1/t/").is_ok());
        for bad in [
            "http://discord.com/api/webhooks/1/t",
            "https://discord.com.evil.test/api/webhooks/1/t",
            "https://example.com/api/webhooks/1/t",
            "https://discord.com:8443/api/webhooks/1/t",
            "https://discord.com/api/webhooks/1",
            "https://discord.com/api/webhooks/x/t",
            "https://discord.com/api/webhooks/1/t/slack",
            "https://discord.com/api/webhooks/1/t%2F..",
        ] {
            assert!(parse_hook(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn long_messages_are_cut_to_discords_limit() {
        let cut = truncate("é".repeat(2500));
        assert_eq!(cut.chars().count(), MAX_CONTENT);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("short".into()), "short");
    }
}
