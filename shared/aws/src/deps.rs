//! Building the handlers' `Deps` on AWS — once, in one place, for the four Lambda mains and the
//! local runtime alike.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use switchyard_core::SystemClock;
use switchyard_core::keyring::Remembering;
use switchyard_core::outcome::Outcome;
use switchyard_core::plan::PlanLimits;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult, Integration};
use switchyard_core::webhook::UrlPolicy;
use switchyard_handlers::intake::QueueFirstIntake;
use switchyard_handlers::oauth::OAuth;
use switchyard_handlers::{Deps, Live, Settings};
use switchyard_integrations::oauth::OAuthClient;
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

/// What the delivery path calls: the integrations and the OAuth clients.
type Destinations = (Arc<dyn Integration>, OAuth);

/// What a Lambda function's cold start does: clients from the environment, resources from the
/// template's variables, the master key read once. Webhooks must be `https://`; only
/// `SWITCHYARD_ALLOW_LOOPBACK_HTTP=true` (the tests' runs against moto — the template never
/// sets it) also allows `http://` to loopback addresses.
pub async fn deps_from_env() -> Result<Deps, String> {
    let (clients, resources, url_policy) = from_env().await?;
    Ok(build_deps(&clients, &resources, url_policy).await?.deps)
}

/// [`deps_from_env`] for the delivery function, whose store keeps configuration for at most
/// 5 s ([`DynamoStore::with_hot_path_cache`]).
pub async fn hot_path_deps_from_env() -> Result<Deps, String> {
    let (clients, resources, url_policy) = from_env().await?;
    Ok(build_hot_path_deps(&clients, &resources, url_policy)
        .await?
        .deps)
}

/// [`hot_path_deps_from_env`] for the ingest and router functions, which never call a
/// destination: no integrations and no OAuth clients. Nothing on this path names them, so
/// the connectors are not linked into these bootstraps and no OAuth secret is read.
pub async fn routing_deps_from_env() -> Result<Deps, String> {
    let (clients, resources, url_policy) = from_env().await?;
    let none: Destinations = (Arc::new(NoDestinations), OAuth::default());
    Ok(build(&clients, &resources, url_policy, true, none)
        .await?
        .deps)
}

async fn from_env() -> Result<(Clients, AwsResources, UrlPolicy), String> {
    let clients = Clients::from_lambda_env();
    let resources = AwsResources::from_env()?;
    let url_policy = UrlPolicy {
        allow_loopback_http: std::env::var("SWITCHYARD_ALLOW_LOOPBACK_HTTP").as_deref()
            == Ok("true"),
    };
    Ok((clients, resources, url_policy))
}

/// The adapters and `Deps` for the API and `serve`: every read sees every write.
pub async fn build_deps(
    clients: &Clients,
    resources: &AwsResources,
    url_policy: UrlPolicy,
) -> Result<AwsBackend, String> {
    let destinations = destinations(clients, url_policy).await?;
    build(clients, resources, url_policy, false, destinations).await
}

/// [`build_deps`] with the hot path's caches, as the delivery function runs (ingest and router
/// also keep them, without the destinations: [`routing_deps_from_env`]).
pub async fn build_hot_path_deps(
    clients: &Clients,
    resources: &AwsResources,
    url_policy: UrlPolicy,
) -> Result<AwsBackend, String> {
    let destinations = destinations(clients, url_policy).await?;
    build(clients, resources, url_policy, true, destinations).await
}

/// The integrations, with the providers' URLs from the environment, and the OAuth clients.
async fn destinations(clients: &Clients, url_policy: UrlPolicy) -> Result<Destinations, String> {
    let client = OutboundClient::new(ClientSettings::default())
        .map_err(|e| format!("cannot build the outbound HTTP client: {e}"))?;
    let oauth_secret = std::env::var("SWITCHYARD_OAUTH_SECRET").ok();
    let oauth = oauth_clients(clients, oauth_secret.as_deref(), &client, url_policy).await?;
    let integrations =
        Integrations::new(client, url_policy).with_provider_urls(ProviderUrls::from_env()?);
    Ok((Arc::new(integrations), oauth))
}

/// `hot_path`: the store keeps configuration for at most 5 s.
async fn build(
    clients: &Clients,
    resources: &AwsResources,
    url_policy: UrlPolicy,
    hot_path: bool,
    (integrations, oauth): Destinations,
) -> Result<AwsBackend, String> {
    let keys = load_key_ring(&clients.secrets, &resources.master_key_secret).await?;
    let store = DynamoStore::new(
        clients.dynamodb.clone(),
        &resources.config_table,
        &resources.history_table,
        Duration::from_secs(u64::from(resources.retention_days) * 86_400),
    );
    let store = Arc::new(if hot_path {
        store.with_hot_path_cache()
    } else {
        store
    });
    let queue = Arc::new(SqsQueue::new(
        clients.sqs.clone(),
        resources.queue_urls.clone(),
    ));
    let deps = Deps {
        store: store.clone(),
        queue: queue.clone(),
        dead_letters: Some(queue.clone()),
        intake: Arc::new(QueueFirstIntake::new(store.clone(), queue.clone())),
        keys: Arc::new(Remembering::new(keys)),
        clock: Arc::new(SystemClock),
        integrations,
        settings: Settings {
            url_policy,
            plan: PlanLimits {
                retention_days: resources.retention_days,
                ..PlanLimits::from_lookup(|name| std::env::var(name).ok())?
            },
            ..Settings::default()
        },
        live: Live {
            oauth: Arc::new(oauth),
            ..Live::default()
        },
    };
    Ok(AwsBackend { deps, store, queue })
}

/// The integrations of a function that never calls a destination. An attempt here would be a
/// wiring mistake, recorded as an internal error rather than made.
struct NoDestinations;

#[async_trait]
impl Integration for NoDestinations {
    async fn deliver(&self, _request: DeliveryRequest<'_>) -> DeliveryResult {
        DeliveryResult {
            outcome: Outcome::InternalError,
            status_code: None,
            request: String::new(),
            response_body: None,
            error: Some("this function does not deliver".into()),
            retry_after: None,
            duration: Duration::ZERO,
        }
    }
}

/// The OAuth clients: `secret_id` (`SWITCHYARD_OAUTH_SECRET`) names one Secrets Manager
/// secret, a JSON object of the same `SWITCHYARD_OAUTH_<TYPE>_*` names the embedded runtime
/// reads from its environment (read once per cold start); without it, the environment alone.
pub async fn oauth_clients(
    clients: &Clients,
    secret_id: Option<&str>,
    client: &OutboundClient,
    url_policy: UrlPolicy,
) -> Result<OAuth, String> {
    let mut vars = serde_json::Map::new();
    if let Some(secret_id) = secret_id.filter(|id| !id.is_empty()) {
        vars = crate::secrets::secret_string(&clients.secrets, secret_id, "OAuth")
            .await?
            .and_then(|text| serde_json::from_str(&text).ok())
            .ok_or(format!("the OAuth secret {secret_id} is not a JSON object"))?;
    }
    let tokens = OAuthClient::new(
        client
            .with_policy(url_policy.into())
            .map_err(|e| format!("cannot build the OAuth client: {e}"))?,
        Arc::new(SystemClock),
    );
    OAuth::from_vars(
        |name| match vars.get(name) {
            Some(value) => value.as_str().map(str::to_owned),
            None => std::env::var(name).ok(),
        },
        Arc::new(tokens),
    )
}
