//! Flat under growth: the same measures with history already stored. For each level, a
//! server's data directory is seeded (straight SQL, one transaction, server stopped) with that
//! many events of the bench's workspace — each with its delivery and attempt, as history is —
//! plus some events past retention (100,000; 1,000 with `--quick`); then the retention purge
//! of those is timed (the
//! server's own `purge_history`, on the same file), and with the server running, fan-out-1
//! delivered/s and `GET /events` latency are measured.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::ProgressBar;
use rusqlite::{Connection, params};
use serde::Serialize;
use uuid::{NoContext, Timestamp, Uuid};

use super::api::Api;
use super::load::{await_webhooks, closed_loop};
use super::receiver::Receiver;
use super::server::Server;
use super::stats::{Percentiles, percentiles};

/// `GET /events` calls per level, one at a time.
const LIST_CALLS: usize = 200;

#[derive(Serialize, Debug, Clone)]
pub struct GrowthPoint {
    /// Events stored (each with a delivery and an attempt) before the measures.
    pub stored_events: u64,
    pub seed_seconds: f64,
    /// Seconds to purge expired events (with their deliveries and attempts), per 100,000.
    pub purge_seconds_per_100k: f64,
    pub delivered_per_sec: f64,
    pub list_events: Percentiles,
}

/// Measures each level in `levels`, delivering `events` events at fan-out 1 per level and
/// purging `expired` events past retention.
pub async fn measure(
    binary: &Path,
    receiver: &Receiver,
    levels: &[u64],
    (events, expired): (usize, u64),
) -> anyhow::Result<Vec<GrowthPoint>> {
    let mut points = Vec::new();
    for &stored in levels {
        points.push(level(binary, receiver, stored, events, expired).await?);
    }
    Ok(points)
}

async fn level(
    binary: &Path,
    receiver: &Receiver,
    stored: u64,
    events: usize,
    expired: u64,
) -> anyhow::Result<GrowthPoint> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    // First start: the schema, the organization, a webhook rule.
    let server = Server::start_in(binary, &data, &[])?;
    let creds = server.creds.clone();
    Api::new(&creds)?
        .webhook_rule(&receiver.url("/d/21"), "bench.growth")
        .await?;
    server.stop();

    let db = data.join("switchyard.db");
    let seeding = Instant::now();
    let bar = super::bar(stored + expired, &format!("seeding {stored} events"));
    seed(
        &db,
        (&creds.org_id, &creds.workspace_id),
        stored,
        expired,
        &bar,
    )?;
    bar.finish();
    let seed_seconds = seeding.elapsed().as_secs_f64();

    let purge = {
        let store = switchyard_embedded::SqliteStore::open(switchyard_embedded::Db::open(&db)?)?;
        let started = Instant::now();
        let purged = store
            .purge_history(time::OffsetDateTime::now_utc() - time::Duration::days(365))
            .await?;
        anyhow::ensure!(purged as u64 == expired, "purged {purged} of {expired}");
        started.elapsed().as_secs_f64()
    };

    let server = Server::start_in(binary, &data, &[])?;
    let api = Api::new(&server.creds)?;
    let receipts = &receiver.receipts;
    let seen = receipts.webhooks.load(Ordering::Relaxed);
    let started_us = receipts.now_us();
    closed_loop(
        &api,
        receipts,
        "bench.growth",
        events,
        super::SENDERS,
        &ProgressBar::hidden(),
    )
    .await?;
    let progress = super::bar(events as u64, &format!("{stored} stored: deliveries"));
    let done = await_webhooks(
        receipts,
        seen + events as u64,
        Duration::from_secs(180),
        &progress,
    )
    .await;
    progress.finish();
    anyhow::ensure!(
        done,
        "{stored} stored: deliveries did not all arrive in time"
    );
    let elapsed_us = receipts
        .last_receipt_us
        .load(Ordering::Relaxed)
        .saturating_sub(started_us)
        .max(1);

    let mut list_us = Vec::with_capacity(LIST_CALLS);
    for _ in 0..LIST_CALLS {
        let started = Instant::now();
        api.list_events().await?;
        list_us.push(started.elapsed().as_micros() as u64);
    }
    server.stop();
    Ok(GrowthPoint {
        stored_events: stored,
        seed_seconds,
        purge_seconds_per_100k: purge * 100_000.0 / expired.max(1) as f64,
        delivered_per_sec: events as f64 / (elapsed_us as f64 / 1e6),
        list_events: percentiles(list_us),
    })
}

/// A v7 id (hyphenated, as the server writes them) for a time `ms` epoch milliseconds.
fn id_at(ms: u64, n: u64) -> String {
    let ts = Timestamp::from_unix(NoContext, ms / 1000, ((ms % 1000) * 1_000_000) as u32);
    let mut id = *Uuid::new_v7(ts).as_bytes();
    // The low bytes are random; the counter keeps ids of the same millisecond distinct.
    id[8..16].copy_from_slice(&(n | 0x8000_0000_0000_0000).to_be_bytes());
    Uuid::from_bytes(id).hyphenated().to_string()
}

/// `stored` recent events and `expired` ones from 400 days ago, each with one completed
/// delivery and its attempt, in one transaction with the journal off (the server is stopped;
/// a failure leaves a directory the bench throws away).
fn seed(
    db: &Path,
    (org, workspace): (&str, &str),
    stored: u64,
    expired: u64,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let mut conn = Connection::open(db)?;
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;",
    )?;
    let (rule, connection): (String, String) = conn
        .query_row(
            "SELECT id, connection FROM rules WHERE event = 'bench.growth'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .context("the growth rule")?;
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() as u64 * 1000;
    let old_ms = now_ms - 400 * 86_400_000;
    let tx = conn.transaction()?;
    {
        let mut event = tx.prepare(
            "INSERT INTO events (id, org, workspace, event, resource, resource_id, payload,
                                 created_by, created_at, routed)
             VALUES (?1, ?2, ?3, 'bench.growth', 'global', NULL, '{\"sent_us\":0}', 'bench', ?4, 1)",
        )?;
        let mut delivery = tx.prepare(
            "INSERT INTO deliveries (id, org, workspace, event, event_name, rule, connection,
                                     kind, status, attempt_count, schedule_base, started_at,
                                     completed_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'bench.growth', ?5, ?6, 'webhook', 'completed', 1, 0,
                     ?7, ?7, ?7, ?7)",
        )?;
        let mut attempt = tx.prepare(
            "INSERT INTO attempts (id, org, delivery, number, outcome, status_code, request,
                                   response_body, error, duration_ms, started_at)
             VALUES (?1, ?2, ?3, 1, 'delivered', 200, 'POST /d/21', '', NULL, 1, ?4)",
        )?;
        // Oldest first, as they would have arrived; one millisecond apart.
        let expired = (0..expired).map(|i| old_ms + i);
        let recent = (0..stored).map(|i| now_ms - stored + i);
        for (i, at) in expired.chain(recent).enumerate() {
            let n = i as u64 * 3;
            let (e, d, a) = (id_at(at, n), id_at(at, n + 1), id_at(at, n + 2));
            event.execute(params![e, org, workspace, at])?;
            delivery.execute(params![d, org, workspace, e, rule, connection, at])?;
            attempt.execute(params![a, org, d, at])?;
            if (i + 1) % 10_000 == 0 {
                bar.inc(10_000);
            }
        }
    }
    tx.commit()?;
    conn.execute_batch("PRAGMA journal_mode = WAL;")?;
    Ok(())
}
