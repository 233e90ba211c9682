//! Building the handlers' `Deps` on AWS — once, in one place, for the four Lambda mains and the
//! local runtime alike.

use std::sync::Arc;
use std::time::Duration;

use switchyard_core::SystemClock;
use switchyard_core::plan::PlanLimits;
use switchyard_core::webhook::UrlPolicy;
use switchyard_handlers::{Deps, Settings};
use switchyard_integrations::{ClientSettings, Integrations, OutboundClient, ProviderUrls};

use crate::{AwsResources, Clients, DynamoStore, SqsQueue, load_key_ring};

/// The AWS adapters, and the `Deps` over them. The concrete store and queue are kept for what
/// only a runtime needs (receiving, metering).
#[derive(Clone)]
pub struct AwsBackend {
    pub deps: Deps,
    pub store: Arc<DynamoStore>,
    pub queue: Arc<SqsQueue>,
}

/// What a Lambda function's cold start does: clients from the environment, resources from the
/// template's variables, the master key read once. Webhooks must be `https://`; only
/// `SWITCHYARD_ALLOW_LOOPBACK_HTTP=true` (the tests' runs against moto — the template never
/// sets it) also allows `http://` to loopback addresses.
pub async fn deps_from_env() -> Result<Deps, String> {
    let clients = Clients::from_env().await;
    let resources = AwsResources::from_env()?;
    let url_policy = UrlPolicy {
        allow_loopback_http: std::env::var("SWITCHYARD_ALLOW_LOOPBACK_HTTP").as_deref()
            == Ok("true"),
    };
    Ok(build_deps(&clients, &resources, url_policy).await?.deps)
}

pub async fn build_deps(
    clients: &Clients,
    resources: &AwsResources,
    url_policy: UrlPolicy,
) -> Result<AwsBackend, String> {
    let keys = load_key_ring(&clients.secrets, &resources.master_key_secret).await?;
    let store = Arc::new(DynamoStore::new(
        clients.dynamodb.clone(),
        &resources.config_table,
        &resources.history_table,
        Duration::from_secs(u64::from(resources.retention_days) * 86_400),
    ));
    let queue = Arc::new(SqsQueue::new(
        clients.sqs.clone(),
        resources.queue_urls.clone(),
    ));
    let client = OutboundClient::new(ClientSettings::default())
        .map_err(|e| format!("cannot build the outbound HTTP client: {e}"))?;
    let deps = Deps {
        store: store.clone(),
        queue: queue.clone(),
        keys: Arc::new(keys),
        clock: Arc::new(SystemClock),
        integrations: Arc::new(
            Integrations::new(client, url_policy).with_provider_urls(ProviderUrls::from_env()?),
        ),
        settings: Settings {
            url_policy,
            ..Settings::default()
        },
            plan: PlanLimits {
                retention_days: resources.retention_days,
                ..PlanLimits::from_lookup(|name| std::env::var(name).ok())?
            },
    };
    Ok(AwsBackend { deps, store, queue })
}
