//! Destinations behind one trait. [`Integrations`] dispatches each attempt to the connector of
//! the connection's type; today that is the webhook connector.

mod client;
mod webhook;

use std::sync::Arc;

use async_trait::async_trait;
use switchyard_core::domain::IntegrationType;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult, Integration};
use switchyard_core::webhook::UrlPolicy;

pub use client::{ClientSettings, OutboundClient};
pub use webhook::Webhook;

/// Every connector this build has, by type.
pub struct Integrations {
    webhook: Arc<Webhook>,
}

impl Integrations {
    pub fn new(client: OutboundClient, url_policy: UrlPolicy) -> Self {
        Self {
            webhook: Arc::new(Webhook::new(client, url_policy)),
        }
    }
}

#[async_trait]
impl Integration for Integrations {
    async fn deliver(&self, request: DeliveryRequest<'_>) -> DeliveryResult {
        match request.connection.kind {
            IntegrationType::Webhook => self.webhook.deliver(request).await,
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
