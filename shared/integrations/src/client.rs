//! The one outbound HTTP client: pooled, rustls, bounded in time, never following redirects
//! (a 3xx is the destination's answer, and following it could lead anywhere).

use std::time::Duration;

use reqwest::redirect::Policy;

#[derive(Clone, Copy, Debug)]
pub struct ClientSettings {
    pub connect_timeout: Duration,
    /// The whole request, from connecting to the last byte of the (bounded) response.
    pub total_timeout: Duration,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(30),
        }
    }
}

/// Response bodies are read up to this many bytes and stored truncated to it.
pub const MAX_RESPONSE_BODY: usize = 4 * 1024;

#[derive(Clone, Debug)]
pub struct OutboundClient {
    pub(crate) http: reqwest::Client,
}

impl OutboundClient {
    pub fn new(settings: ClientSettings) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(Policy::none())
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.total_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("Switchyard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http })
    }
}

/// Reads at most [`MAX_RESPONSE_BODY`] bytes of a response body, as lossy UTF-8.
pub(crate) async fn bounded_body(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < MAX_RESPONSE_BODY {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(MAX_RESPONSE_BODY);
    String::from_utf8_lossy(&body).into_owned()
}
