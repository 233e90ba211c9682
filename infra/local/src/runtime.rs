//! The embedded runtime: one process that plays API Gateway (axum), the SQS event source
//! mappings (consumers over the queue, each message its own task within bounded, fairly
//! shared slots) and the Lambda functions (the shared typed handlers, called directly).

use std::path::Path;

use std::sync::Arc;

use anyhow::Context;
use switchyard_core::circuit::BreakerPolicy;
use switchyard_core::fair_share::Shares;
use switchyard_core::message::{DeliveryMessage, EventMessage};
use switchyard_core::ports::QueueName;
use switchyard_core::webhook::UrlPolicy;
use switchyard_handlers::protection::Protection;
use switchyard_handlers::{Deps, delivery, event_source, router, tenancy};
use tokio::sync::watch;

use switchyard_handlers::limits::RateLimit;

use crate::backend::{self, Backend};
use crate::cli::ServeArgs;
use crate::credentials_file::{self, Credentials};

/// Delivery attempts in flight at once, each its own task. Their fair shares
/// ([`Shares::of`]): a workspace at most half, an organization at most three quarters, a
/// destination at most 16; an attempt over a share is deferred, not counted.
const DELIVERY_SLOTS: usize = 64;
/// Receive loops feeding the delivery slots (one receive takes up to ten messages).
const DELIVERY_POLLERS: usize = 2;
/// Events routed at once, each its own task.
const ROUTING_SLOTS: usize = 16;

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let data_dir = &args.data.data_dir;
    let url_policy = UrlPolicy {
        allow_loopback_http: args.allow_loopback_http,
    };
    let rate_limit = args.ingest_rate.map(|per_sec| RateLimit {
        per_sec,
        burst: args
            .ingest_burst
            .unwrap_or(per_sec.saturating_mul(2))
            .max(1),
    });
    let Backend {
        mut deps,
        consumer,
        history,
    } = backend::open(data_dir, &args.backend, url_policy, rate_limit).await?;
    deps.settings.plan = args.plan.limits();
    deps.live.protection = Arc::new(Protection::new(
        BreakerPolicy::default(),
        Shares::of(DELIVERY_SLOTS),
    ));

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let api_url = format!("http://{}", listener.local_addr()?);
    let (creds, first_start) = ensure_credentials(&deps, data_dir, &api_url).await?;
    print_banner(&creds, first_start, data_dir, args.allow_loopback_http);
    if args.allow_loopback_http {
        tracing::warn!(
            "--allow-loopback-http: webhooks may use http:// to loopback addresses (local development only)"
        );
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut workers = tokio::task::JoinSet::new();
    {
        let deps = deps.clone();
        let consumer = consumer.clone();
        let stop = stop_rx.clone();
        // Boxed as it is made: the event source moves a handler's future into its task, and
        // each move of an unboxed one copies all of it (kilobytes), a pointer once boxed.
        let route = move |message: EventMessage| {
            let deps = deps.clone();
            Box::pin(async move { router::route(&deps, message).await })
        };
        workers.spawn(event_source::run(
            consumer,
            QueueName::Events,
            ROUTING_SLOTS,
            1,
            route,
            stop,
        ));
    }
    if let Some(store) = history {
        let (clock, days, stop) = (
            deps.clock.clone(),
            args.plan.retention_days,
            stop_rx.clone(),
        );
        workers.spawn(crate::retention::sweep(store, clock, days, stop));
    }
    {
        let deps = deps.clone();
        let deliver = move |message: DeliveryMessage| {
            let deps = deps.clone();
            Box::pin(async move { delivery::deliver(&deps, message).await })
        };
        workers.spawn(event_source::run(
            consumer.clone(),
            QueueName::Deliveries,
            DELIVERY_SLOTS,
            DELIVERY_POLLERS,
            deliver,
            stop_rx.clone(),
        ));
    }

    tracing::info!(%api_url, "listening");
    println!("listening on {api_url}");
    let api = switchyard_handlers::api::router(deps.clone());
    let app = switchyard_mcp::with_mcp(api, deps)
        .merge(switchyard_handlers::metrics::router(consumer.clone()));
    let max_connections = crate::listener::fit_descriptors(args.listener.max_connections)?;
    crate::listener::serve(
        listener,
        app,
        &args.listener,
        max_connections,
        shutdown_signal(),
    )
    .await?;
    tracing::info!("shutting down: finishing the messages in hand");
    let _ = stop_tx.send(true);
    while workers.join_next().await.is_some() {}
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Reads credentials.json, or on first start creates the organization, its machine key and
/// the `default` workspace, and writes them there. Keeps `api_url` current.
async fn ensure_credentials(
    deps: &Deps,
    data_dir: &Path,
    api_url: &str,
) -> anyhow::Result<(Credentials, bool)> {
    if credentials_file::path(data_dir).exists() {
        let mut creds = credentials_file::read(data_dir)?;
        anyhow::ensure!(
            creds.is_client_compatible(),
            "{} holds credentials of an older Switchyard (organization id {}, access key {}…) \
             that the official Meshes clients refuse; move the data directory aside (or delete \
             it) and start again",
            credentials_file::path(data_dir).display(),
            creds.org_id,
            creds.access_key.chars().take(3).collect::<String>(),
        );
        if creds.api_url != api_url {
            creds.api_url = api_url.to_owned();
            credentials_file::write(data_dir, &creds)?;
        }
        return Ok((creds, false));
    }
    let (org, key) = tenancy::create_organization(deps, "local").await?;
    let (workspace, publishable_key) = tenancy::create_workspace(
        deps,
        org.id,
        "default",
        Some("Created on first start".into()),
    )
    .await?;
    let creds = Credentials {
        api_url: api_url.to_owned(),
        org_id: org.id.to_string(),
        access_key: key.access_key,
        secret_key: key.secret_key,
        workspace_id: workspace.id.to_string(),
        publishable_key,
    };
    credentials_file::write(data_dir, &creds)?;
    Ok((creds, true))
}

fn print_banner(creds: &Credentials, first_start: bool, data_dir: &Path, loopback_http: bool) {
    let file = credentials_file::path(data_dir);
    if first_start {
        println!(
            "Switchyard is set up. Credentials written to {} (mode 0600):",
            file.display()
        );
        println!("  org_id           {}", creds.org_id);
        println!("  access_key       {}", creds.access_key);
        println!("  secret_key       {}", creds.secret_key);
        println!("  workspace_id     {}  (default)", creds.workspace_id);
        println!("  publishable_key  {}", creds.publishable_key);
    } else {
        println!("Switchyard: credentials in {}", file.display());
    }
    println!();
    println!("Send an event:");
    println!(
        "  curl -s {}/api/v1/events -H 'X-Meshes-Publishable-Key: {}' -H 'Content-Type: application/json' \\\n    -d '{{\"event\":\"user.signup\",\"payload\":{{\"email\":\"ada@example.com\"}}}}'",
        creds.api_url, creds.publishable_key
    );
    println!("Call the management API:");
    println!(
        "  curl -s {}/api/v1/workspaces -H \"Authorization: Bearer $(switchyard token --data-dir {})\"",
        creds.api_url,
        data_dir.display()
    );
    if loopback_http {
        println!("Webhooks may use http:// to loopback addresses (--allow-loopback-http).");
    }
    println!();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
