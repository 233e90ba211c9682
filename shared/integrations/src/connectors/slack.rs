//! Slack `send_message`: `chat.postMessage` with the rule's template filled from the fields.
//! <https://api.slack.com/methods/chat.postMessage>, errors: <https://api.slack.com/web#errors>,
//! rate limits: <https://api.slack.com/apis/rate-limits> (HTTP 429 with `Retry-After`).
//!
//! Quirk: Slack answers most failures with HTTP 200 and `{"ok": false, "error": "<code>"}`, so
//! the outcome comes from the body's error code, not the status.

use reqwest::Method;
use serde_json::json;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult};

use super::call::{Answer, Attempt, Auth, Call, Step};
use super::fields::{optional_rule_setting, rule_setting, secret};
use super::settings::ProviderUrls;
use super::template::render;

pub(crate) async fn deliver(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    request: &DeliveryRequest<'_>,
) -> Step<DeliveryResult> {
    let token = secret(attempt, request, "access_token")?;
    let channel = rule_setting(attempt, request, "id", "the channel")?;
    let template = optional_rule_setting(request, "value")
        .or_else(|| optional_rule_setting(request, "template"))
        .ok_or_else(|| {
            attempt.fail(
                Outcome::RejectedClientError,
                "the rule's metadata.value (the message template) is required".into(),
            )
        })?;
    let text = render(&template, request.fields, escape);
    let url = super::fields::endpoint(&urls.slack, &["chat.postMessage"]);
    let call = Call::new(Method::POST, url, Auth::Bearer(token))
        .json(json!({"channel": channel, "text": text}));
    let answer = attempt.send(call).await?;
    Ok(classify(attempt, answer))
}

fn classify(attempt: &Attempt<'_>, answer: Answer) -> DeliveryResult {
    if !answer.is_success() {
        return attempt.answered(answer);
    }
    let body = answer.json();
    if body["ok"].as_bool() == Some(true) {
        return attempt.classified(answer, Outcome::Delivered, None);
    }
    let code = body["error"].as_str().unwrap_or("unknown_error").to_owned();
    let outcome = match code.as_str() {
        "invalid_auth" | "not_authed" | "account_inactive" | "token_revoked" | "token_expired"
        | "no_permission" | "missing_scope" | "ekm_access_denied" | "org_login_required" => {
            Outcome::AuthFailed
        }
        "ratelimited" | "rate_limited" => Outcome::RateLimited,
        "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout" => {
            Outcome::RejectedServerError
        }
        // channel_not_found, not_in_channel, is_archived, msg_too_long, no_text …
        _ => Outcome::RejectedClientError,
    };
    attempt.classified(answer, outcome, Some(format!("Slack answered {code}")))
}

/// Slack's mrkdwn control characters, escaped in inserted values so event data cannot
/// produce mentions or links (<https://api.slack.com/reference/surfaces/formatting#escaping>).
fn escape(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserted_values_cannot_mention() {
        assert_eq!(escape("<!channel> & co"), "&lt;!channel&gt; &amp; co");
    }
}
