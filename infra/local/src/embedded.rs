//! The embedded default's adapters, wired once for `serve` and the operator commands: one
//! SQLite file for store and queue, the file key ring, the outbound client.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use switchyard_core::keyring::Remembering;
use switchyard_core::ports::QueueName;
use switchyard_core::webhook::UrlPolicy;
use switchyard_core::{Clock, SystemClock};
use switchyard_embedded::{
    Db, QueueSettings, SqliteIntake, SqliteQueue, SqliteStore, open_file_key_ring,
};
use switchyard_handlers::limits::{IngestLimiter, RateLimit};
use switchyard_handlers::oauth::OAuth;
use switchyard_handlers::{Deps, Live, Settings, failpoint};
use switchyard_integrations::oauth::OAuthClient;
use switchyard_integrations::{ClientSettings, Integrations, OutboundClient, ProviderUrls};

/// Queue attributes, as the SAM template sets them on AWS.
pub fn queue_settings(queue: QueueName) -> QueueSettings {
    match queue {
        // A delivery attempt may take the client's 30 s total timeout; keep it invisible longer.
        QueueName::Deliveries => QueueSettings {
            visibility_timeout: Duration::from_secs(60),
            max_receive_count: 5,
        },
        _ => QueueSettings {
            visibility_timeout: Duration::from_secs(30),
            max_receive_count: 5,
        },
    }
}

/// The smallest group commit the `db.group_commit` failpoint fires in.
const GROUP_FAILPOINT_WRITES: usize = 8;

pub struct Embedded {
    pub deps: Deps,
    pub store: Arc<SqliteStore>,
    pub queue: Arc<SqliteQueue>,
}

/// Creates the data directory if missing, private to its owner (mode 0700).
pub fn create_data_dir(data_dir: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
    fs::set_permissions(data_dir, fs::Permissions::from_mode(0o700))?;
    Ok(())
}

/// Opens (creating on first use) the data directory, mode 0700, and everything in it.
pub fn open(
    data_dir: &Path,
    url_policy: UrlPolicy,
    rate_limit: Option<RateLimit>,
) -> anyhow::Result<Embedded> {
    create_data_dir(data_dir)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let db = Db::open(&data_dir.join("switchyard.db"))?;
    // The crash test's point: a commit carrying many writes (an idle server's groups are a
    // few receives), killed after they ran and before they are durable.
    db.before_group_commit(Arc::new(|writes| {
        if writes >= GROUP_FAILPOINT_WRITES {
            failpoint::hit("db.group_commit");
        }
    }));
    let store = Arc::new(SqliteStore::open(db.clone())?);
    let queue = Arc::new(SqliteQueue::open(db, clock.clone(), queue_settings)?);
    let keys = Arc::new(Remembering::new(open_file_key_ring(
        &data_dir.join("master.key"),
    )?));
    let client = OutboundClient::new(ClientSettings::default())?;
    let oauth = OAuth::from_vars(
        |name| std::env::var(name).ok(),
        Arc::new(OAuthClient::new(
            client.with_policy(url_policy.into())?,
            clock.clone(),
        )),
    )
    .map_err(anyhow::Error::msg)?;
    let intake = SqliteIntake::new((*queue).clone())
        .with_before_commit(Arc::new(|| failpoint::hit("ingest.commit")));
    let deps = Deps {
        store: store.clone(),
        queue: queue.clone(),
        dead_letters: Some(queue.clone()),
        intake: Arc::new(intake),
        keys,
        clock,
        integrations: Arc::new(
            Integrations::new(client, url_policy)
                .with_provider_urls(ProviderUrls::from_env().map_err(anyhow::Error::msg)?),
        ),
        settings: Settings {
            url_policy,
            ..Settings::default()
        },
        live: Live {
            ingest_limiter: Arc::new(IngestLimiter::new(rate_limit)),
            oauth: Arc::new(oauth),
            ..Live::default()
        },
    };
    Ok(Embedded { deps, store, queue })
}

/// Opens an existing data directory (operator commands never create one).
pub fn open_existing(data_dir: &Path) -> anyhow::Result<Embedded> {
    anyhow::ensure!(
        data_dir.join("switchyard.db").exists(),
        "no Switchyard data in {}; run `switchyard serve` first",
        data_dir.display()
    );
    open(data_dir, UrlPolicy::default(), None)
}
