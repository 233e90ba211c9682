//! `send_webhook`: the envelope (or the raw payload) as JSON to the connection's URL.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use switchyard_core::envelope::Envelope;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult, Integration};
use switchyard_core::webhook::{PayloadMode, UrlPolicy, WebhookConfig};

use crate::client::{OutboundClient, bounded_body};

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

#[async_trait]
impl Integration for Webhook {
    async fn deliver(&self, request: DeliveryRequest<'_>) -> DeliveryResult {
        let started = Instant::now();
        // Checked again at delivery: the policy may be stricter than when the connection was made.
        let config =
            match WebhookConfig::from_metadata(&request.connection.metadata, self.url_policy) {
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
        let body = match config.payload_mode {
            PayloadMode::Wrapped => {
                serde_json::to_vec(&Envelope::new(request.event, request.sent_at))
            }
            PayloadMode::Raw => serde_json::to_vec(&request.event.payload),
        }
        .expect("JSON values serialise");
        let method = reqwest::Method::from_bytes(config.method.as_str().as_bytes())
            .expect("POST, PUT and PATCH are valid methods");
        let sent = self
            .client
            .http
            .request(method, config.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", request.delivery.id.to_string())
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
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
                let outcome = if e.is_timeout() {
                    Outcome::Timeout
                } else {
                    Outcome::NetworkError
                };
                // Without the URL: it may carry credentials in its query.
                let error = e.without_url().to_string();
                failure(outcome, summary, error, started)
            }
        }
    }
}
