//! Building the handlers' `Deps` on AWS — once, in one place, for the four Lambda mains and the
//! local runtime alike.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use switchyard_core::SystemClock;
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

/// What a function does, and so what its `Deps` carry.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The API and `serve`: every read sees every write; destinations checked and called.
    Management,
    /// Delivery: configuration kept at most 5 s ([`DynamoStore::with_hot_path_cache`]);
    /// destinations called.
    Delivery,
    /// Ingest and router: configuration cached as for delivery, and no destination ever
    /// called — so none is linked into their bootstraps, and no OAuth secret is read.
    Routing,
}

/// What a Lambda function's cold start does: clients from the environment, resources from the
/// template's variables, the master key read once. Webhooks must be `https://`; only
/// `SWITCHYARD_ALLOW_LOOPBACK_HTTP=true` (the tests' runs against moto — the template never
/// sets it) also allows `http://` to loopback addresses.
pub async fn deps_from_env() -> Result<Deps, String> {
    from_env(Role::Management).await
}

/// [`deps_from_env`] for the delivery function, whose store keeps configuration for at most
/// 5 s ([`DynamoStore::with_hot_path_cache`]).
pub async fn hot_path_deps_from_env() -> Result<Deps, String> {
    from_env(Role::Delivery).await
}

/// [`hot_path_deps_from_env`] for the ingest and router functions, which never call a
/// destination: their `Deps` carry no integrations.
pub async fn routing_deps_from_env() -> Result<Deps, String> {
    from_env(Role::Routing).await
}

async fn from_env(role: Role) -> Result<Deps, String> {
    let clients = Clients::from_env().await;
    let resources = AwsResources::from_env()?;
    let url_policy = UrlPolicy {
        allow_loopback_http: std::env::var("SWITCHYARD_ALLOW_LOOPBACK_HTTP").as_deref()
            == Ok("true"),
    };
    Ok(build(&clients, &resources, url_policy, role).await?.deps)
}

/// The adapters and `Deps` for the API and `serve`: every read sees every write.
pub async fn build_deps(
    clients: &Clients,
    resources: &AwsResources,
    url_policy: UrlPolicy,
) -> Result<AwsBackend, String> {
    build(clients, resources, url_policy, Role::Management).await
}

/// [`build_deps`] with the hot path's caches, as the ingest, router and delivery functions run.
pub async fn build_hot_path_deps(
    clients: &Clients,
    resources: &AwsResources,
    url_policy: UrlPolicy,
) -> Result<AwsBackend, String> {
    build(clients, resources, url_policy, Role::Delivery).await
}

async fn build(
    clients: &Clients,
    resources: &AwsResources,
    url_policy: UrlPolicy,
    role: Role,
) -> Result<AwsBackend, String> {
    let keys = load_key_ring(&clients.secrets, &resources.master_key_secret).await?;
    let store = DynamoStore::new(
        clients.dynamodb.clone(),
        &resources.config_table,
        &resources.history_table,
        Duration::from_secs(u64::from(resources.retention_days) * 86_400),
    );
    let store = Arc::new(match role {
        Role::Management => store,
        Role::Delivery | Role::Routing => store.with_hot_path_cache(),
    });
    let queue = Arc::new(SqsQueue::new(
        clients.sqs.clone(),
        resources.queue_urls.clone(),
    ));
    let (integrations, oauth): (Arc<dyn Integration>, OAuth) = if role == Role::Routing {
        (Arc::new(NoDestinations), OAuth::default())
    } else {
        let client = OutboundClient::new(ClientSettings::default())
            .map_err(|e| format!("cannot build the outbound HTTP client: {e}"))?;
        let oauth_secret = std::env::var("SWITCHYARD_OAUTH_SECRET").ok();
        let oauth = oauth_clients(clients, oauth_secret.as_deref(), &client, url_policy).await?;
        let integrations =
            Integrations::new(client, url_policy).with_provider_urls(ProviderUrls::from_env()?);
        (Arc::new(integrations), oauth)
    };
    let deps = Deps {
        store: store.clone(),
        queue: queue.clone(),
        dead_letters: Some(queue.clone()),
        intake: Arc::new(QueueFirstIntake::new(store.clone(), queue.clone())),
        keys: Arc::new(keys),
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
