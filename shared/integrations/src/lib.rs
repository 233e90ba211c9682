//! Destinations behind one trait. [`Integrations`] dispatches each attempt to the connector of
//! the connection's type: the webhook connector or one of the SaaS [`connectors`]. Also here: the outbound HTTP
//! client with its SSRF guard ([`address`], [`resolve`]) and the endpoint [`probe`] used when a
//! connection is created.

pub mod address;
mod client;
pub mod connectors;
pub mod oauth;
mod probe;
pub mod resolve;
mod webhook;
mod webhook_request;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};
use switchyard_core::ValidationErrors;
use switchyard_core::domain::{Connection, IntegrationType};
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult, Integration, ReadFields};
use switchyard_core::webhook::{UrlPolicy, WebhookConfig};
use url::Url;

pub use address::{AddressClass, AddressPolicy, AddressRefused, classify};
pub use client::{ClientSettings, MAX_RESPONSE_BODY, OutboundClient};
pub use connectors::{Connectors, ProviderUrls};
pub use probe::probe;
pub use resolve::{HostsTable, Lookup, SystemLookup};
pub use webhook::Webhook;

/// Every connector this build has, by type.
pub struct Integrations {
    webhook: Arc<Webhook>,
    connectors: Arc<Connectors>,
    client: OutboundClient,
    url_policy: UrlPolicy,
}

impl Integrations {
    /// Applies the deployment's one `url_policy` to the URLs (scheme, host) and, through the
    /// client, to every address connected to.
    pub fn new(client: OutboundClient, url_policy: UrlPolicy) -> Self {
        let client = client
            .with_policy(url_policy.into())
            .expect("the client was built once with the same settings");
        Self {
            webhook: Arc::new(Webhook::new(client.clone(), url_policy)),
            connectors: Arc::new(Connectors::new(
                client.clone(),
                ProviderUrls::default(),
                url_policy,
            )),
            client,
            url_policy,
        }
    }

    /// The same integrations with the SaaS providers' APIs at `urls` (see [`ProviderUrls`]).
    pub fn with_provider_urls(mut self, urls: ProviderUrls) -> Self {
        self.connectors = Arc::new(Connectors::new(self.client.clone(), urls, self.url_policy));
        self
    }

    /// Endpoint validation for connection create: the URL policy, then resolution, the address
    /// policy and one TCP connection, as deliveries will see them. `Err` is a message for the
    /// API's 422 (`metadata.url`).
    pub async fn probe(&self, url: &Url) -> Result<(), String> {
        self.url_policy.check(url)?;
        probe::probe_with(
            &self.client.resolver(),
            url,
            self.client.settings.connect_timeout,
        )
        .await
    }

    /// Validation of a destination before a connection of `kind` is saved: for a webhook, its
    /// settings (as [`WebhookConfig::from_metadata`]) and then [`Self::probe`] of its URL; for
    /// a SaaS type, [`Connectors::validate`] (an API key tried with one call). The errors name
    /// the `metadata.*` param; a probe failure is `metadata.url` (the API's 422).
    pub async fn check_destination(
        &self,
        kind: IntegrationType,
        metadata: &Map<String, Value>,
    ) -> Result<(), ValidationErrors> {
        if kind != IntegrationType::Webhook {
            return self.connectors.validate(kind, metadata).await;
        }
        let config = WebhookConfig::from_metadata(metadata, self.url_policy)?;
        self.probe(&config.url)
            .await
            .map_err(|msg| ValidationErrors::single("metadata.url", msg))
    }
}

#[async_trait]
impl Integration for Integrations {
    async fn validate_destination(
        &self,
        kind: IntegrationType,
        metadata: &Map<String, Value>,
    ) -> Result<(), ValidationErrors> {
        self.check_destination(kind, metadata).await
    }

    async fn rule_targets(
        &self,
        connection: &Connection,
        secrets: &Map<String, Value>,
        refresh: bool,
    ) -> Result<Vec<Value>, String> {
        if connection.kind == IntegrationType::Webhook {
            return Ok(Vec::new());
        }
        self.connectors
            .rule_targets(connection, secrets, refresh)
            .await
    }

    async fn field_catalog(
        &self,
        connection: &Connection,
        secrets: &Map<String, Value>,
        refresh: bool,
    ) -> Result<ReadFields, String> {
        if connection.kind == IntegrationType::Webhook {
            return Ok(ReadFields {
                fields: Vec::new(),
                read_at: None,
            });
        }
        self.connectors
            .field_catalog(connection, secrets, refresh)
            .await
    }

    async fn deliver(&self, request: DeliveryRequest<'_>) -> DeliveryResult {
        match request.connection.kind {
            IntegrationType::Webhook => self.webhook.deliver(request).await,
            kind if Connectors::handles(kind) => self.connectors.deliver(request).await,
            other => DeliveryResult {
                outcome: Outcome::InternalError,
                status_code: None,
                request: String::new(),
                response_body: None,
                error: Some(format!(
                    "{other} connections are not available in this version"
                )),
                retry_after: None,
                duration: std::time::Duration::ZERO,
            },
        }
    }
}
