//! The shared half of every SaaS connector: one provider call on the wire (auth header marked
//! sensitive, JSON body), the answer read bounded, classified into the contract's outcome, and
//! the provider's rate-limit reset honoured as `retry_after`. A connector is a short sequence of
//! calls; the first one that fails ends the attempt with its classified result.

use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::DeliveryResult;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use url::Url;

use crate::client::{OutboundClient, bounded_body, describe_send_error};
use crate::webhook::parse_retry_after;

/// A finished attempt, whichever way it ended; `Err` short-circuits a connector's sequence.
pub(crate) type Step<T> = Result<T, DeliveryResult>;

/// How a provider wants its credential presented.
#[derive(Clone)]
pub(crate) enum Auth {
    Bearer(String),
    /// HTTP Basic (Mailchimp's `anystring:<api key>`, Customer.io's `site_id:api_key`).
    Basic {
        user: String,
        password: String,
    },
    /// A provider-specific header (ActiveCampaign's `Api-Token`).
    Header(&'static str, String),
    /// The credential is in the URL's path (a Discord webhook's token): see [`Call::hiding`].
    InPath,
}

/// One provider call. Extra headers are public (API versions), never credentials.
#[derive(Clone)]
pub(crate) struct Call {
    pub method: Method,
    pub url: Url,
    pub auth: Auth,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Value>,
    /// A path segment that is a credential, left out of the attempt's description.
    pub hidden: Option<String>,
}

impl Call {
    pub fn new(method: Method, url: Url, auth: Auth) -> Self {
        Self {
            method,
            url,
            auth,
            headers: Vec::new(),
            body: None,
            hidden: None,
        }
    }

    /// Describes the call with `segment` (a credential in the path) as `***`.
    pub fn hiding(mut self, segment: impl Into<String>) -> Self {
        self.hidden = Some(segment.into());
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// What a provider answered.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: String,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON, `Null` when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// One delivery attempt to a provider: the calls made so far and the clock.
pub(crate) struct Attempt<'a> {
    client: &'a OutboundClient,
    sent_at: OffsetDateTime,
    started: Instant,
    /// The last call, described without query or credentials.
    summary: String,
}

impl<'a> Attempt<'a> {
    pub fn new(client: &'a OutboundClient, sent_at: OffsetDateTime) -> Self {
        Self {
            client,
            sent_at,
            started: Instant::now(),
            summary: String::new(),
        }
    }

    /// Sends one call; `Err` only when no HTTP answer came (refused address, network, timeout).
    pub async fn send(&mut self, call: Call) -> Step<Answer> {
        self.summary = match &call.hidden {
            Some(hidden) => describe(&call.method, &masked(&call.url, hidden)),
            None => describe(&call.method, &call.url),
        };
        if let Err(refused) = self.client.check_literal(&call.url) {
            return Err(self.fail(Outcome::NetworkError, refused.to_string()));
        }
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        for (name, value) in &call.headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
        if let Some((name, value)) = credential_header(&call.auth) {
            let Ok(mut value) = HeaderValue::from_str(&value) else {
                return Err(self.fail(
                    Outcome::AuthFailed,
                    "the stored credential is not a valid header value".into(),
                ));
            };
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let mut builder = self
            .client
            .http
            .request(call.method, call.url)
            .headers(headers);
        if let Some(body) = &call.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(body).expect("JSON values serialise"));
        }
        match builder.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = rate_limit_reset(response.headers(), self.sent_at);
                let body = bounded_body(response).await;
                Ok(Answer {
                    status,
                    retry_after,
                    body,
                })
            }
            Err(e) => {
                let (outcome, error) = describe_send_error(e);
                Err(self.fail(outcome, error))
            }
        }
    }

    /// Sends one call and keeps going only on a 2xx; any other answer ends the attempt,
    /// classified by its status.
    pub async fn send_ok(&mut self, call: Call) -> Step<Answer> {
        let answer = self.send(call).await?;
        if answer.is_success() {
            Ok(answer)
        } else {
            Err(self.answered(answer))
        }
    }

    /// The attempt's result from an answer, classified by its HTTP status. Unlike a webhook's,
    /// a provider API's 3xx is not success: the call was not carried out, and redirects are
    /// never followed.
    pub fn answered(&self, answer: Answer) -> DeliveryResult {
        if (300..400).contains(&answer.status) {
            let error = format!(
                "the provider redirected (HTTP {}); redirects are not followed",
                answer.status
            );
            return self.classified(answer, Outcome::RejectedClientError, Some(error));
        }
        let outcome = Outcome::from_http_status(answer.status);
        self.classified(answer, outcome, None)
    }

    /// The attempt's result from an answer a provider quirk reclassifies (an error in a 200
    /// body, a rate limit sent as 403 …).
    pub fn classified(
        &self,
        answer: Answer,
        outcome: Outcome,
        error: Option<String>,
    ) -> DeliveryResult {
        let retry_after = match outcome {
            Outcome::RateLimited | Outcome::RejectedServerError => answer.retry_after,
            _ => None,
        };
        DeliveryResult {
            outcome,
            status_code: Some(answer.status),
            request: self.summary.clone(),
            response_body: Some(answer.body),
            error,
            retry_after,
            duration: self.started.elapsed(),
        }
    }

    /// The attempt ended without a provider answer to show.
    pub fn fail(&self, outcome: Outcome, error: String) -> DeliveryResult {
        DeliveryResult {
            outcome,
            status_code: None,
            request: self.summary.clone(),
            response_body: None,
            error: Some(error),
            retry_after: None,
            duration: self.started.elapsed(),
        }
    }
}

/// The header that carries the credential, if it travels in one.
fn credential_header(auth: &Auth) -> Option<(HeaderName, String)> {
    Some(match auth {
        Auth::InPath => return None,
        Auth::Bearer(token) => (AUTHORIZATION, format!("Bearer {token}")),
        Auth::Basic { user, password } => {
            use base64::Engine;
            let pair =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            (AUTHORIZATION, format!("Basic {pair}"))
        }
        Auth::Header(name, value) => (HeaderName::from_static(name), value.clone()),
    })
}

/// `url` with each path segment equal to `hidden` shown as `***`.
fn masked(url: &Url, hidden: &str) -> Url {
    let mut shown = url.clone();
    let segments: Vec<String> = url
        .path_segments()
        .into_iter()
        .flatten()
        .map(|s| if s == hidden { "***".into() } else { s.into() })
        .collect();
    if let Ok(mut path) = shown.path_segments_mut() {
        path.clear().extend(segments);
    }
    shown
}

/// `POST https://host/path` — without the query string, which may carry e-mail addresses.
pub(crate) fn describe(method: &Method, url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{method} {}://{host}{port}{}", url.scheme(), url.path())
}

/// When the provider says to come back, from the headers providers document: `Retry-After`
/// (seconds or an HTTP date; Slack, Zoom, Resend, MailerLite), `X-RateLimit-Reset` /
/// `RateLimit-Reset` (an epoch second — Intercom — or a number of seconds — Resend),
/// `X-RateLimit-Retry-After` and HubSpot's `X-HubSpot-RateLimit-Interval-Milliseconds` (the
/// window the limit applies to).
pub(crate) fn rate_limit_reset(headers: &HeaderMap, sent_at: OffsetDateTime) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(value) = text("retry-after") {
        // Zoom documents an RFC 3339 time here (`2020-05-31T00:00:00Z`).
        let at = || OffsetDateTime::parse(value.trim(), &Rfc3339).ok();
        if let Some(after) = parse_retry_after(value, sent_at)
            .or_else(|| at().map(|at| Duration::try_from(at - sent_at).unwrap_or(Duration::ZERO)))
        {
            return Some(after);
        }
    }
    for name in [
        "x-ratelimit-reset",
        "ratelimit-reset",
        "x-ratelimit-retry-after",
    ] {
        if let Some(n) = text(name).and_then(|v| v.trim().parse::<u64>().ok()) {
            return Some(seconds_or_epoch(n, sent_at));
        }
    }
    text("x-hubspot-ratelimit-interval-milliseconds")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
}

/// A reset value that is either a delay in seconds or a Unix time: no delay is 30 years long.
fn seconds_or_epoch(n: u64, sent_at: OffsetDateTime) -> Duration {
    const EPOCH_THRESHOLD: u64 = 1_000_000_000;
    if n < EPOCH_THRESHOLD {
        return Duration::from_secs(n);
    }
    let now = u64::try_from(sent_at.unix_timestamp()).unwrap_or(0);
    Duration::from_secs(n.saturating_sub(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn reset_headers_as_seconds_or_epoch() {
        let sent = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let secs = |d: Option<Duration>| d.map(|d| d.as_secs());
        assert_eq!(
            secs(rate_limit_reset(&headers(&[("retry-after", "30")]), sent)),
            Some(30)
        );
        assert_eq!(
            secs(rate_limit_reset(
                &headers(&[("x-ratelimit-reset", "1800000045")]),
                sent
            )),
            Some(45)
        );
        assert_eq!(
            secs(rate_limit_reset(
                &headers(&[("ratelimit-reset", "7")]),
                sent
            )),
            Some(7)
        );
        assert_eq!(
            secs(rate_limit_reset(
                &headers(&[("retry-after", "2027-01-15T08:00:20Z")]),
                sent
            )),
            Some(20)
        );
        assert_eq!(
            rate_limit_reset(
                &headers(&[("x-hubspot-ratelimit-interval-milliseconds", "10000")]),
                sent
            ),
            Some(Duration::from_secs(10))
        );
        assert_eq!(rate_limit_reset(&HeaderMap::new(), sent), None);
    }

    #[test]
    fn a_credential_in_the_path_is_masked_whole() {
        let url = Url::parse("https://discord.com/api/webhooks/123/t").unwrap();
        assert_eq!(
            describe(&Method::POST, &masked(&url, "t")),
            "POST https://discord.com/api/webhooks/123/***"
        );
    }

    #[test]
    fn requests_are_described_without_query() {
        let url = Url::parse("https://api.example.com:8443/v1/x?email=a@b.c").unwrap();
        assert_eq!(
            describe(&Method::DELETE, &url),
            "DELETE https://api.example.com:8443/v1/x"
        );
    }
}
