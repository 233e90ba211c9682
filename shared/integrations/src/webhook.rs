//! `send_webhook`: the envelope (or the raw payload) as JSON to the connection's URL, with the
//! connection's auth, custom headers and signatures; the answer classified into an outcome.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::header::RETRY_AFTER;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult, Integration};
use switchyard_core::webhook::{UrlPolicy, WebhookConfig};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

use crate::client::{OutboundClient, bounded_body, describe_send_error};
use crate::webhook_request::WebhookRequest;

pub struct Webhook {
    client: OutboundClient,
    url_policy: UrlPolicy,
}

impl Webhook {
    pub fn new(client: OutboundClient, url_policy: UrlPolicy) -> Self {
        Self { client, url_policy }
    }
}

/// `POST https://host/path` — without the query string, which may carry tokens.
fn describe_request(config: &WebhookConfig) -> String {
    let url = &config.url;
    let host = url.host_str().unwrap_or_default();
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!(
        "{} {}://{host}{port}{}",
        config.method.as_str(),
        url.scheme(),
        url.path()
    )
}

fn failure(outcome: Outcome, request: String, error: String, started: Instant) -> DeliveryResult {
    DeliveryResult {
        outcome,
        status_code: None,
        request,
        response_body: None,
        error: Some(error),
        retry_after: None,
        duration: started.elapsed(),
    }
}

/// `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3), relative to `sent_at`.
/// A date in the past means "now". Clamping is the retry policy's business.
pub(crate) fn parse_retry_after(value: &str, sent_at: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = OffsetDateTime::parse(value, &Rfc2822).ok()?;
    Some(Duration::try_from(at - sent_at).unwrap_or(Duration::ZERO))
}

#[async_trait]
impl Integration for Webhook {
    async fn deliver(&self, request: DeliveryRequest<'_>) -> DeliveryResult {
        let started = Instant::now();
        // Checked again at delivery: the policy may be stricter than when the connection was made.
        let config = match WebhookConfig::from_connection(
            &request.connection.metadata,
            request.secrets,
            self.url_policy,
        ) {
            Ok(c) => c,
            Err(errors) => {
                let why = errors
                    .0
                    .iter()
                    .map(|e| format!("{} {}", e.param, e.msg))
                    .collect::<Vec<_>>()
                    .join("; ");
                return failure(
                    Outcome::InternalError,
                    String::new(),
                    format!("invalid webhook settings: {why}"),
                    started,
                );
            }
        };
        let summary = describe_request(&config);
        if let Err(refused) = self.client.check_literal(&config.url) {
            return failure(Outcome::NetworkError, summary, refused.to_string(), started);
        }
        let wire = match WebhookRequest::build(&config, &request) {
            Ok(wire) => wire,
            Err(invalid) => {
                return failure(Outcome::InternalError, summary, invalid.0, started);
            }
        };
        let method = reqwest::Method::from_bytes(config.method.as_str().as_bytes())
            .expect("POST, PUT and PATCH are valid methods");
        let sent = self
            .client
            .http
            .request(method, config.url.clone())
            .headers(wire.headers)
            .body(wire.body)
            // The connection's `timeout_ms`, never longer than the client's own total: a
            // request's timeout replaces the client's rather than adding to it.
            .timeout(config.timeout.min(self.client.settings.total_timeout))
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, request.sent_at));
                let body = bounded_body(response).await;
                DeliveryResult {
                    outcome: Outcome::from_http_status(status),
                    status_code: Some(status),
                    request: summary,
                    response_body: Some(body),
                    error: None,
                    retry_after,
                    duration: started.elapsed(),
                }
            }
            Err(e) => {
                let (outcome, error) = describe_send_error(e);
                failure(outcome, summary, error, started)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_as_seconds_or_http_date() {
        let sent = OffsetDateTime::from_unix_timestamp(784_111_717).unwrap(); // 1994-11-06 08:48:37 UTC
        assert_eq!(
            parse_retry_after("120", sent),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", sent),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", sent),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", sent), None);
    }
}
