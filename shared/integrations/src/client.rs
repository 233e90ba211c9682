//! The one outbound HTTP client: pooled, rustls, bounded in time, never following redirects
//! (a 3xx is the destination's answer, and following it could lead anywhere), never through a
//! proxy, and connecting only to addresses the [`AddressPolicy`] allows — checked after DNS
//! resolution on every new connection (see [`crate::resolve`]) and, for IP-literal URLs, which
//! reqwest connects to without resolving, before the request is sent.

use std::error::Error as _;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::redirect::Policy;
use switchyard_core::outcome::Outcome;
use url::{Host, Url};

use crate::address::{AddressPolicy, AddressRefused};
use crate::resolve::{GuardedResolver, Lookup, ResolveError, SystemLookup};

/// Idle keep-alive connections kept per destination: its most concurrent attempts.
const IDLE_PER_DESTINATION: usize = switchyard_core::fair_share::DEFAULT_PER_DESTINATION;

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

#[derive(Clone)]
pub struct OutboundClient {
    pub(crate) http: reqwest::Client,
    pub(crate) settings: ClientSettings,
    lookup: Arc<dyn Lookup>,
    pub(crate) policy: AddressPolicy,
}

impl fmt::Debug for OutboundClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboundClient")
            .field("settings", &self.settings)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl OutboundClient {
    /// A client over the system resolver that refuses every non-public address, loopback
    /// included. [`crate::Integrations::new`] applies the deployment's [`UrlPolicy`].
    ///
    /// [`UrlPolicy`]: switchyard_core::webhook::UrlPolicy
    pub fn new(settings: ClientSettings) -> Result<Self, reqwest::Error> {
        Self::with_lookup(settings, Arc::new(SystemLookup))
    }

    /// A client that resolves names through `lookup` (e.g. a [`crate::HostsTable`]).
    pub fn with_lookup(
        settings: ClientSettings,
        lookup: Arc<dyn Lookup>,
    ) -> Result<Self, reqwest::Error> {
        Self::build(settings, lookup, AddressPolicy::default())
    }

    /// The same client under another address policy.
    pub fn with_policy(&self, policy: AddressPolicy) -> Result<Self, reqwest::Error> {
        Self::build(self.settings, self.lookup.clone(), policy)
    }

    fn build(
        settings: ClientSettings,
        lookup: Arc<dyn Lookup>,
        policy: AddressPolicy,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(Policy::none())
            // A proxy would resolve and connect on our behalf, out of the guard's sight.
            .no_proxy()
            .dns_resolver(GuardedResolver::new(lookup.clone(), policy))
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.total_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            // Keep-alive connections are reused per destination (host and port); this bounds
            // the idle ones kept for each to its share of attempt slots (fair_share.rs), so
            // a burst to one destination does not leave hundreds of sockets open.
            .pool_max_idle_per_host(IDLE_PER_DESTINATION)
            .user_agent(concat!("Switchyard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            settings,
            lookup,
            policy,
        })
    }

    pub fn policy(&self) -> AddressPolicy {
        self.policy
    }

    pub(crate) fn resolver(&self) -> GuardedResolver {
        GuardedResolver::new(self.lookup.clone(), self.policy)
    }

    /// Checks a URL whose host is an IP literal: reqwest connects to those without asking the
    /// resolver, so the guard would never see them.
    pub fn check_literal(&self, url: &Url) -> Result<(), AddressRefused> {
        match url.host() {
            Some(Host::Ipv4(ip)) => self.policy.check(ip.into()),
            Some(Host::Ipv6(ip)) => self.policy.check(ip.into()),
            _ => Ok(()),
        }
    }
}

/// The outcome and a tenant-safe message for a request that got no HTTP answer. The URL is
/// left out (its query may carry tokens); the rest of the error chain carries no secrets.
pub(crate) fn describe_send_error(error: reqwest::Error) -> (Outcome, String) {
    let mut source = error.source();
    while let Some(e) = source {
        if let Some(resolve) = e.downcast_ref::<ResolveError>() {
            return (Outcome::NetworkError, resolve.to_string());
        }
        source = e.source();
    }
    let outcome = if error.is_timeout() {
        Outcome::Timeout
    } else {
        Outcome::NetworkError
    };
    let error = error.without_url();
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = e.source();
    }
    (outcome, parts.join(": "))
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
