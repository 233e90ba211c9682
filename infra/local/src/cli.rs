//! Command-line interface.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::{admin, credentials_file, dlq, listen, mcp, runtime, token};

#[derive(Parser, Debug)]
#[command(
    name = "switchyard",
    version,
    about = "Emit once; Switchyard routes, retries and delivers."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run Switchyard locally: API, router and delivery in one process over SQLite.
    Serve(ServeArgs),
    /// Print a fresh machine JWT (30 s) from credentials.json, for curl.
    Token(DataDirArg),
    /// Print shell exports of the local credentials: `eval "$(switchyard env)"`.
    Env(DataDirArg),
    /// Print a one-time login link to the web console for the organization (valid 10 min; the
    /// session it opens lasts 1 h).
    Console {
        /// Where the console is served (default: the API URL in credentials.json).
        #[arg(long)]
        url: Option<String>,
        #[command(flatten)]
        org: OrgArg,
        #[command(flatten)]
        target: TargetArg,
    },
    /// Receive webhooks on a local port and print them (for trying Switchyard out).
    Listen(ListenArgs),
    /// Inspect or redrive a dead-letter queue.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Create organizations (each with a machine key and a `default` workspace).
    #[command(subcommand)]
    Orgs(OrgsCommand),
    /// Manage an organization's machine keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage an organization's workspaces.
    #[command(subcommand)]
    Workspaces(WorkspacesCommand),
    /// Serve the MCP tools over stdio, for an agent: against the local server of the data
    /// directory, or a deployed stack (`--url` and a machine key).
    Mcp(McpArgs),
    /// Mint, list and revoke MCP tokens: long-lived, revocable workspace credentials for an
    /// agent calling `/mcp` over HTTP.
    #[command(subcommand)]
    McpToken(McpTokenCommand),
    /// Bring tables an older Switchyard wrote to this version's layout (`--backend aws` or
    /// `--stack`: move events into their shards; idempotent, run once after upgrading).
    Migrate(MigrateArgs),
    /// Print the API's OpenAPI 3.1 document (what docs/openapi.json holds).
    Openapi,
    /// Measure throughput, latency and resource use of `serve` on this machine.
    Bench(crate::bench::BenchArgs),
}

/// The organization to act on; defaults to the one in credentials.json.
#[derive(Args, Debug, Clone)]
pub struct OrgArg {
    #[arg(long)]
    pub org: Option<String>,
}

#[derive(Subcommand, Debug)]
enum OrgsCommand {
    /// Create an organization; prints its credentials once.
    Create {
        name: String,
        #[command(flatten)]
        target: TargetArg,
    },
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// Issue a machine key; prints the secret once.
    Create {
        #[arg(long, default_value = "cli")]
        name: String,
        #[command(flatten)]
        org: OrgArg,
        #[command(flatten)]
        target: TargetArg,
    },
    List {
        #[command(flatten)]
        org: OrgArg,
        #[command(flatten)]
        target: TargetArg,
    },
    /// Revoke a machine key: tokens signed with it stop working at once.
    Revoke {
        access_key: String,
        #[command(flatten)]
        org: OrgArg,
        #[command(flatten)]
        target: TargetArg,
    },
}

#[derive(Subcommand, Debug)]
enum WorkspacesCommand {
    /// Create a workspace; prints its publishable key.
    Create {
        name: String,
        #[command(flatten)]
        org: OrgArg,
        #[command(flatten)]
        target: TargetArg,
    },
    List {
        #[command(flatten)]
        org: OrgArg,
        #[command(flatten)]
        target: TargetArg,
    },
    /// Issue a new publishable key; the current one keeps working for the grace period.
    RotateKey {
        workspace: String,
        #[arg(long, default_value_t = 86_400)]
        grace_seconds: i64,
        #[command(flatten)]
        org: OrgArg,
        #[command(flatten)]
        target: TargetArg,
    },
}

#[derive(Subcommand, Debug)]
enum DlqCommand {
    /// List messages in a dead-letter queue without removing them.
    List {
        #[command(flatten)]
        target: TargetArg,
        #[arg(long, value_enum, default_value = "deliveries")]
        queue: DlqQueue,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Move every message of a dead-letter queue back to its source queue. A failed delivery
    /// redriven this way is attempted again on a fresh retry schedule.
    Redrive {
        #[command(flatten)]
        target: TargetArg,
        #[arg(long, value_enum, default_value = "deliveries")]
        queue: DlqQueue,
    },
}

/// Which dead-letter queue.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum DlqQueue {
    Deliveries,
    Events,
}

/// Where `switchyard mcp` sends its API calls, and as whom. Unset values come from the data
/// directory's credentials.json (the local server's URL and machine key).
#[derive(Args, Debug, Clone)]
pub struct McpArgs {
    /// The API's base URL (e.g. a deployed stack's `https://…`), without `/api/v1`.
    #[arg(long, env = "SWITCHYARD_URL")]
    pub url: Option<String>,
    /// The organization of the machine key.
    #[arg(long, env = "SWITCHYARD_ORG_ID")]
    pub org_id: Option<String>,
    /// A machine key's access key (`mk_…`).
    #[arg(long, env = "SWITCHYARD_ACCESS_KEY")]
    pub access_key: Option<String>,
    /// The machine key's secret; prefer the environment to the command line.
    #[arg(long, env = "SWITCHYARD_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    #[command(flatten)]
    pub data: DataDirArg,
}

#[derive(Subcommand, Debug)]
enum McpTokenCommand {
    /// Mint a token for one workspace; prints it once.
    Create {
        /// The workspace the token reaches (and nothing else).
        #[arg(long)]
        workspace: String,
        /// `member` reads; `admin` and `owner` also write (connections, rules, retries).
        #[arg(long, default_value = "member")]
        role: String,
        /// Lifetime in days.
        #[arg(long, default_value_t = 90)]
        days: u32,
        /// A label to recognise it by in `list`.
        #[arg(long, default_value = "agent")]
        name: String,
        #[command(flatten)]
        org: OrgArg,
        #[command(flatten)]
        data: TargetArg,
    },
    List {
        #[command(flatten)]
        org: OrgArg,
        #[command(flatten)]
        data: TargetArg,
    },
    /// Revoke a token by its id: it stops working at once.
    Revoke {
        id: String,
        #[command(flatten)]
        org: OrgArg,
        #[command(flatten)]
        data: TargetArg,
    },
}

#[derive(Args, Debug, Clone)]
pub struct ListenArgs {
    /// Address to listen on.
    #[arg(default_value = "127.0.0.1:9000")]
    pub addr: SocketAddr,
    /// Status code to answer every request with (e.g. 500 to watch retries).
    #[arg(long, default_value_t = 200)]
    pub status: u16,
}

/// Where an operator command acts: the backend a data directory was served with, or a deployed
/// stack.
#[derive(Args, Debug, Clone)]
pub struct TargetArg {
    #[command(flatten)]
    pub data: DataDirArg,
    /// A deployed SAM stack by name (e.g. `switchyard-dev`): act on the tables and queues its
    /// outputs name, with this shell's AWS credentials; no server starts.
    #[arg(long, env = "SWITCHYARD_STACK")]
    pub stack: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub backend: crate::backend::BackendArgs,
    /// A deployed SAM stack by name (e.g. `switchyard-dev`): migrate the tables its outputs
    /// name, with this shell's AWS credentials (instead of `--backend aws --aws-prefix`).
    #[arg(long, env = "SWITCHYARD_STACK")]
    pub stack: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct DataDirArg {
    /// Where the database, master key and credentials.json live.
    #[arg(long, env = "SWITCHYARD_DATA_DIR", default_value = ".switchyard")]
    pub data_dir: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address the HTTP API listens on (port 0 picks a free port).
    #[arg(long, env = "SWITCHYARD_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub data: DataDirArg,
    /// Also allow http:// webhook URLs to loopback addresses (local development only).
    #[arg(long, env = "SWITCHYARD_ALLOW_LOOPBACK_HTTP")]
    pub allow_loopback_http: bool,
    #[command(flatten)]
    pub backend: crate::backend::BackendArgs,
    /// Per-workspace ingest limit, events per second (unlimited when unset).
    #[arg(long, env = "SWITCHYARD_INGEST_RATE")]
    pub ingest_rate: Option<u32>,
    /// Burst allowed above the ingest rate (default: twice the rate).
    #[arg(long, env = "SWITCHYARD_INGEST_BURST")]
    pub ingest_burst: Option<u32>,
    #[command(flatten)]
    pub plan: PlanArgs,
    #[command(flatten)]
    pub listener: crate::listener::ListenerArgs,
}

/// What each organization may use; unset is unlimited. Refusals are loud: 429 `QuotaExceeded`
/// for events, 403 `PlanLimitReached` for the rest.
#[derive(Args, Debug, Clone)]
pub struct PlanArgs {
    /// Events each organization may send per calendar month (UTC).
    #[arg(long, env = "SWITCHYARD_PLAN_EVENTS_PER_MONTH")]
    pub plan_events_per_month: Option<u64>,
    /// Workspaces per organization (created through the API).
    #[arg(long, env = "SWITCHYARD_PLAN_WORKSPACES")]
    pub plan_workspaces: Option<u64>,
    /// Connections per organization.
    #[arg(long, env = "SWITCHYARD_PLAN_CONNECTIONS")]
    pub plan_connections: Option<u64>,
    /// Rules per organization.
    #[arg(long, env = "SWITCHYARD_PLAN_RULES")]
    pub plan_rules: Option<u64>,
    /// Days the delivery history (events, deliveries, attempts) is kept.
    #[arg(long, env = "SWITCHYARD_RETENTION_DAYS", default_value_t = switchyard_core::plan::DEFAULT_RETENTION_DAYS,
          value_parser = clap::value_parser!(u32).range(3..=60))]
    pub retention_days: u32,
}

impl PlanArgs {
    pub fn limits(&self) -> switchyard_core::plan::PlanLimits {
        switchyard_core::plan::PlanLimits {
            events_per_month: self.plan_events_per_month,
            workspaces: self.plan_workspaces,
            connections: self.plan_connections,
            rules: self.plan_rules,
            retention_days: self.retention_days,
        }
    }
}

impl Cli {
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Serve(args) => {
                init_tracing();
                tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()?
                    .block_on(runtime::serve(args))
            }
            Command::Token(args) => {
                let creds = credentials_file::read(&args.data_dir)?;
                println!("{}", token::mint(&creds, 30)?);
                Ok(())
            }
            Command::Env(args) => {
                let creds = credentials_file::read(&args.data_dir)?;
                println!("export SWITCHYARD_API={}/api/v1", creds.api_url);
                println!("export SWITCHYARD_WORKSPACE={}", creds.workspace_id);
                println!(
                    "export SWITCHYARD_PUBLISHABLE_KEY={}",
                    creds.publishable_key
                );
                Ok(())
            }
            Command::Migrate(args) => block_on(crate::backend::migrate(&args)),
            Command::Console { url, org, target } => {
                block_on(admin::console_link(&target, org.org, url))
            }
            Command::Orgs(OrgsCommand::Create { name, target }) => {
                block_on(admin::create_org(&target, &name))
            }
            Command::Keys(command) => block_on(async {
                match command {
                    KeysCommand::Create { name, org, target } => {
                        admin::create_key(&target, org.org, &name).await
                    }
                    KeysCommand::List { org, target } => admin::list_keys(&target, org.org).await,
                    KeysCommand::Revoke {
                        access_key,
                        org,
                        target,
                    } => admin::revoke_key(&target, org.org, &access_key).await,
                }
            }),
            Command::Workspaces(command) => block_on(async {
                match command {
                    WorkspacesCommand::Create { name, org, target } => {
                        admin::create_workspace(&target, org.org, &name).await
                    }
                    WorkspacesCommand::List { org, target } => {
                        admin::list_workspaces(&target, org.org).await
                    }
                    WorkspacesCommand::RotateKey {
                        workspace,
                        grace_seconds,
                        org,
                        target,
                    } => admin::rotate_key(&target, org.org, &workspace, grace_seconds).await,
                }
            }),
            Command::Dlq(command) => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                match command {
                    DlqCommand::List {
                        target,
                        queue,
                        limit,
                    } => rt.block_on(dlq::list(&target, queue, limit)),
                    DlqCommand::Redrive { target, queue } => {
                        rt.block_on(dlq::redrive(&target, queue))
                    }
                }
            }
            Command::Mcp(args) => {
                init_stderr_tracing();
                block_on(mcp::serve_stdio(args))
            }
            Command::McpToken(command) => block_on(async {
                match command {
                    McpTokenCommand::Create {
                        workspace,
                        role,
                        days,
                        name,
                        org,
                        data,
                    } => mcp::create_token(&data, org.org, &workspace, &role, days, &name).await,
                    McpTokenCommand::List { org, data } => mcp::list_tokens(&data, org.org).await,
                    McpTokenCommand::Revoke { id, org, data } => {
                        mcp::revoke_token(&data, org.org, &id).await
                    }
                }
            }),
            Command::Bench(args) => crate::bench::run(args),
            Command::Openapi => {
                print!("{}", switchyard_handlers::api::openapi::document_json());
                Ok(())
            }
            Command::Listen(args) => {
                let status = axum::http::StatusCode::from_u16(args.status)?;
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?
                    .block_on(listen::listen(args.addr, status))
            }
        }
    }
}

/// Warnings only, on stderr: stdout carries the MCP protocol.
fn init_stderr_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .init();
}

/// Human-readable logs on stderr (`RUST_LOG` overrides the level), each line with its span's
/// fields (an event's `trace_id` among them); spans exported over OTLP when configured.
fn init_tracing() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer, filter::LevelFilter};
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .with_filter(filter);
    // Filtered only when export is on: an absent layer must not make info spans live.
    let traces = switchyard_telemetry::layer_from_env("switchyard")
        .map(|l| l.with_filter(LevelFilter::INFO));
    tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .init();
}

/// Runs an operator command to completion on a small runtime.
fn block_on<F: std::future::Future<Output = anyhow::Result<()>>>(f: F) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f)
}
