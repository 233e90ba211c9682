//! Which adapters the runtime and the operator commands run on, chosen in this one place:
//! the embedded default (one SQLite file in the data directory) or AWS (DynamoDB, SQS and
//! Secrets Manager — moto when `AWS_ENDPOINT_URL` points there). `serve` records the choice in
//! `<data-dir>/backend.json`, so `switchyard dlq …`, `keys …` and the rest find the same
//! backend from the data directory alone.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use switchyard_core::ports::QueueConsumer;
use switchyard_core::webhook::UrlPolicy;
use switchyard_embedded::SqliteStore;
use switchyard_handlers::Deps;
use switchyard_handlers::limits::RateLimit;

use crate::cli::{MigrateArgs, TargetArg};
use crate::embedded;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// One SQLite file in the data directory.
    Embedded,
    /// DynamoDB, SQS and Secrets Manager; the endpoint comes from `AWS_ENDPOINT_URL`.
    Aws,
}

#[derive(Args, Debug, Clone, Serialize, Deserialize)]
pub struct BackendArgs {
    /// Where data and queues live.
    #[arg(
        long,
        value_enum,
        env = "SWITCHYARD_BACKEND",
        default_value = "embedded"
    )]
    pub backend: BackendKind,
    /// AWS backend: resource names are `<prefix>-config`, `<prefix>-events` … (a SAM stack of
    /// stage S uses `switchyard-S`).
    #[arg(
        long,
        env = "SWITCHYARD_AWS_PREFIX",
        default_value = "switchyard-local"
    )]
    pub aws_prefix: String,
    /// AWS backend: create missing tables, queues and the master-key secret first (for moto).
    #[arg(long, env = "SWITCHYARD_AWS_BOOTSTRAP")]
    pub aws_bootstrap: bool,
}

/// The handlers' dependencies and the queue the runtime's pollers receive from.
pub struct Backend {
    pub deps: Deps,
    pub consumer: Arc<dyn QueueConsumer>,
    /// The embedded store, whose history retention this process enforces (on AWS, DynamoDB's
    /// TTL does).
    pub history: Option<Arc<SqliteStore>>,
}

fn choice_file(data_dir: &Path) -> PathBuf {
    data_dir.join("backend.json")
}

/// Opens the backend `serve` was asked for, creating the data directory (and, with
/// `--aws-bootstrap`, the AWS resources), and records the choice there.
pub async fn open(
    data_dir: &Path,
    args: &BackendArgs,
    url_policy: UrlPolicy,
    rate_limit: Option<RateLimit>,
) -> anyhow::Result<Backend> {
    let backend = match args.backend {
        BackendKind::Embedded => {
            let e = embedded::open(data_dir, url_policy, rate_limit)?;
            Backend {
                deps: e.deps,
                consumer: e.queue,
                history: Some(e.store),
            }
        }
        BackendKind::Aws => {
            embedded::create_data_dir(data_dir)?;
            open_aws(args, url_policy, rate_limit).await?
        }
    };
    let choice = serde_json::to_string_pretty(args)?;
    std::fs::write(choice_file(data_dir), choice)
        .with_context(|| format!("cannot write {}", choice_file(data_dir).display()))?;
    Ok(backend)
}

/// Opens the backend an existing data directory was served with (operator commands).
pub async fn open_existing(data_dir: &Path) -> anyhow::Result<Backend> {
    let path = choice_file(data_dir);
    let args: Option<BackendArgs> = match std::fs::read_to_string(&path) {
        Ok(text) => Some(
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a backend choice", path.display()))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    match args {
        Some(args) if args.backend == BackendKind::Aws => {
            let args = BackendArgs {
                aws_bootstrap: false,
                ..args
            };
            open_aws(&args, UrlPolicy::default(), None).await
        }
        _ => {
            let e = embedded::open_existing(data_dir)?;
            Ok(Backend {
                deps: e.deps,
                consumer: e.queue,
                history: Some(e.store),
            })
        }
    }
}

/// What an operator command acts on (`orgs`, `keys`, `workspaces`, `dlq`, `console`).
pub struct Target {
    pub backend: Backend,
    /// The deployed stack's API origin, when the command named a stack.
    pub stack_url: Option<String>,
}

/// The backend of `--stack <name>`, or else the one the data directory was served with.
pub async fn open_target(target: &TargetArg) -> anyhow::Result<Target> {
    match &target.stack {
        Some(name) => open_stack(name).await,
        None => Ok(Target {
            backend: open_existing(&target.data.data_dir).await?,
            stack_url: None,
        }),
    }
}

/// The AWS adapters, compiled in with the `aws` feature (`cargo build -p switchyard --features
/// aws`); the default build leaves the AWS SDK out so a first `cargo run` stays light.
#[cfg(feature = "aws")]
async fn open_aws(
    args: &BackendArgs,
    url_policy: UrlPolicy,
    rate_limit: Option<RateLimit>,
) -> anyhow::Result<Backend> {
    let clients = switchyard_aws::Clients::from_env().await;
    let resources = if args.aws_bootstrap {
        switchyard_aws::bootstrap(
            &clients,
            &args.aws_prefix,
            switchyard_aws::default_queue_attributes,
        )
        .await
    } else {
        switchyard_aws::resolve(&clients, &args.aws_prefix).await
    }
    .map_err(anyhow::Error::msg)?;
    aws_backend(&clients, &resources, url_policy, rate_limit).await
}

/// A deployed stack, by the resources its outputs name; nothing is created.
#[cfg(feature = "aws")]
async fn open_stack(name: &str) -> anyhow::Result<Target> {
    let stack = crate::stack::describe(name).await?;
    let clients = switchyard_aws::Clients::from_env().await;
    Ok(Target {
        backend: aws_backend(&clients, &stack.resources, UrlPolicy::default(), None).await?,
        stack_url: Some(stack.base_url),
    })
}

#[cfg(feature = "aws")]
async fn aws_backend(
    clients: &switchyard_aws::Clients,
    resources: &switchyard_aws::AwsResources,
    url_policy: UrlPolicy,
    rate_limit: Option<RateLimit>,
) -> anyhow::Result<Backend> {
    let mut aws = switchyard_aws::build_deps(clients, resources, url_policy)
        .await
        .map_err(anyhow::Error::msg)?;
    // A table an older Switchyard wrote holds credentials the clients refuse: say so, now.
    aws.store.check_format().await.map_err(anyhow::Error::msg)?;
    aws.deps.live.ingest_limiter =
        Arc::new(switchyard_handlers::limits::IngestLimiter::new(rate_limit));
    Ok(Backend {
        deps: aws.deps,
        consumer: aws.queue,
        history: None,
    })
}

/// `switchyard migrate`: brings tables an older Switchyard wrote to the current layout. On AWS
/// (a prefix, or a deployed stack by name) that moves events from the one partition per
/// organization to its shards; the embedded backend migrates itself on open.
#[cfg(feature = "aws")]
pub async fn migrate(args: &MigrateArgs) -> anyhow::Result<()> {
    if args.stack.is_none() && args.backend.backend != BackendKind::Aws {
        println!("nothing to migrate: the embedded backend migrates its database on start");
        return Ok(());
    }
    let clients = switchyard_aws::Clients::from_env().await;
    let resources = match &args.stack {
        Some(name) => crate::stack::describe(name).await?.resources,
        None => switchyard_aws::resolve(&clients, &args.backend.aws_prefix)
            .await
            .map_err(anyhow::Error::msg)?,
    };
    let aws = switchyard_aws::build_deps(&clients, &resources, UrlPolicy::default())
        .await
        .map_err(anyhow::Error::msg)?;
    let moved = aws.store.migrate_event_keys().await?;
    println!(
        "moved {moved} event items of {} to their shards",
        resources.history_table
    );
    Ok(())
}

#[cfg(not(feature = "aws"))]
pub async fn migrate(args: &MigrateArgs) -> anyhow::Result<()> {
    if args.stack.is_none() && args.backend.backend != BackendKind::Aws {
        println!("nothing to migrate: the embedded backend migrates its database on start");
        return Ok(());
    }
    anyhow::bail!(
        "this switchyard was built without the AWS backend; build it with \
         `cargo build -p switchyard --features aws`"
    )
}

#[cfg(not(feature = "aws"))]
const WITHOUT_AWS: &str = "this switchyard was built without the AWS backend; build it with \
                           `cargo build -p switchyard --features aws`";

#[cfg(not(feature = "aws"))]
async fn open_aws(
    _args: &BackendArgs,
    _url_policy: UrlPolicy,
    _rate_limit: Option<RateLimit>,
) -> anyhow::Result<Backend> {
    anyhow::bail!(WITHOUT_AWS)
}

#[cfg(not(feature = "aws"))]
async fn open_stack(_name: &str) -> anyhow::Result<Target> {
    anyhow::bail!(WITHOUT_AWS)
}
