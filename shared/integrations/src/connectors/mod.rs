//! The SaaS connectors: one module per provider, each a short sequence of calls to the
//! provider's public API through the shared [`call`] framework, dispatched by connection type.

mod activecampaign;
mod aweber;
mod call;
mod customer_io;
mod discord;
mod field_cache;
mod field_catalog;
mod fields;
mod hubspot;
mod intercom;
mod listing;
mod mailchimp;
mod mailerlite;
mod pipedrive;
mod resend;
mod salesforce;
mod sendgrid;
mod settings;
mod slack;
mod template;
mod validation;
mod zoom;

use serde_json::{Map, Value};
use switchyard_core::ValidationErrors;
use switchyard_core::domain::{Connection, IntegrationType};
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult, ReadFields};
use switchyard_core::webhook::UrlPolicy;

pub use settings::ProviderUrls;

use crate::client::OutboundClient;
use call::Attempt;

/// Every SaaS connector, over the one outbound client.
pub struct Connectors {
    client: OutboundClient,
    urls: ProviderUrls,
    url_policy: UrlPolicy,
    targets: field_cache::FieldCache<Vec<Value>>,
    catalogs: field_cache::FieldCache<ReadFields>,
}

impl Connectors {
    pub fn new(client: OutboundClient, urls: ProviderUrls, url_policy: UrlPolicy) -> Self {
        Self {
            client,
            urls,
            url_policy,
            targets: field_cache::FieldCache::default(),
            catalogs: field_cache::FieldCache::default(),
        }
    }

    /// The provider account's rule targets for `connection` (see [`listing`]), from the cache
    /// unless `refresh` or stale.
    pub async fn rule_targets(
        &self,
        connection: &Connection,
        secrets: &Map<String, Value>,
        refresh: bool,
    ) -> Result<Vec<Value>, String> {
        let key = (connection.id, connection.updated_at);
        if !refresh && let Some(targets) = self.targets.get(key) {
            return Ok(targets);
        }
        let mut attempt = Attempt::new(&self.client, time::OffsetDateTime::now_utc());
        let targets = listing::list(
            &mut attempt,
            &self.urls,
            self.url_policy,
            connection,
            secrets,
        )
        .await
        .map_err(|failed| listing::describe_failure(&failed))?;
        self.targets.put(key, targets.clone());
        Ok(targets)
    }

    /// The destination's typed fields (see [`field_catalog`]), from the cache unless `refresh`
    /// or stale.
    pub async fn field_catalog(
        &self,
        connection: &Connection,
        secrets: &Map<String, Value>,
        refresh: bool,
    ) -> Result<ReadFields, String> {
        let key = (connection.id, connection.updated_at);
        if !refresh && let Some(read) = self.catalogs.get(key) {
            return Ok(read);
        }
        let now = time::OffsetDateTime::now_utc();
        let mut attempt = Attempt::new(&self.client, now);
        let read = field_catalog::read(
            &mut attempt,
            &self.urls,
            self.url_policy,
            connection,
            secrets,
        )
        .await
        .map_err(|failed| listing::describe_failure(&failed))?;
        self.catalogs.put(key, read.clone());
        Ok(read)
    }

    /// Whether this build has a connector for `kind`.
    pub fn handles(kind: IntegrationType) -> bool {
        kind != IntegrationType::Webhook
    }

    pub async fn deliver(&self, request: DeliveryRequest<'_>) -> DeliveryResult {
        let mut attempt = Attempt::new(&self.client, request.sent_at);
        let result = match request.connection.kind {
            IntegrationType::Slack => slack::deliver(&mut attempt, &self.urls, &request).await,
            IntegrationType::Hubspot => hubspot::deliver(&mut attempt, &self.urls, &request).await,
            IntegrationType::Mailchimp => {
                mailchimp::deliver(&mut attempt, &self.urls, &request).await
            }
            IntegrationType::Resend => resend::deliver(&mut attempt, &self.urls, &request).await,
            IntegrationType::Zoom => zoom::deliver(&mut attempt, &self.urls, &request).await,
            IntegrationType::Mailerlite => {
                mailerlite::deliver(&mut attempt, &self.urls, &request).await
            }
            IntegrationType::Intercom => {
                intercom::deliver(&mut attempt, &self.urls, &request).await
            }
            IntegrationType::Aweber => aweber::deliver(&mut attempt, &self.urls, &request).await,
            IntegrationType::ActiveCampaign => {
                activecampaign::deliver(&mut attempt, self.url_policy, &request).await
            }
            IntegrationType::Salesforce => {
                salesforce::deliver(&mut attempt, self.url_policy, &request).await
            }
            IntegrationType::CustomerIo => {
                customer_io::deliver(&mut attempt, &self.urls, &request).await
            }
            IntegrationType::Discord => discord::deliver(&mut attempt, &self.urls, &request).await,
            IntegrationType::Sendgrid => {
                sendgrid::deliver(&mut attempt, &self.urls, &request).await
            }
            IntegrationType::Pipedrive => {
                pipedrive::deliver(&mut attempt, &self.urls, &request).await
            }
            other => Err(attempt.fail(
                Outcome::InternalError,
                format!("{other} connections are not available in this version"),
            )),
        };
        result.unwrap_or_else(|finished| finished)
    }

    /// Checks what a connection of `kind` needs before it is saved; API keys are tried with
    /// one cheap authenticated call.
    pub async fn validate(
        &self,
        kind: IntegrationType,
        metadata: &Map<String, Value>,
    ) -> Result<(), ValidationErrors> {
        let mut attempt = Attempt::new(&self.client, time::OffsetDateTime::now_utc());
        match kind {
            IntegrationType::Mailchimp => {
                mailchimp::validate(&mut attempt, &self.urls, metadata).await
            }
            IntegrationType::Resend => resend::validate(&mut attempt, &self.urls, metadata).await,
            IntegrationType::Mailerlite => {
                mailerlite::validate(&mut attempt, &self.urls, metadata).await
            }
            IntegrationType::ActiveCampaign => {
                activecampaign::validate(&mut attempt, self.url_policy, metadata).await
            }
            IntegrationType::CustomerIo => {
                customer_io::validate(&mut attempt, &self.urls, metadata).await
            }
            IntegrationType::Discord => discord::validate(&mut attempt, &self.urls, metadata).await,
            IntegrationType::Sendgrid => {
                sendgrid::validate(&mut attempt, &self.urls, metadata).await
            }
            IntegrationType::Pipedrive => {
                pipedrive::validate(&mut attempt, &self.urls, metadata).await
            }
            IntegrationType::Salesforce => match metadata.get("instance_url") {
                // Connections are often made before the OAuth flow fills it in.
                None => Ok(()),
                Some(raw) => {
                    let raw = raw.as_str().unwrap_or_default();
                    fields::tenant_base_url(&attempt, raw, "instance_url", self.url_policy)
                        .map(drop)
                        .map_err(|failed| {
                            ValidationErrors::single(
                                "metadata.instance_url",
                                failed.error.unwrap_or_default(),
                            )
                        })
                }
            },
            _ => Ok(()),
        }
    }
}
