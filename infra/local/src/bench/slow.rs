//! The slow destination phase: one destination that accepts and never answers, in the
//! bench's first workspace, beside healthy destinations of another workspace and of another
//! organization, all offered the same rate. What the healthy ones' ingest→receipt latency is
//! while it hangs shows whether a hanging tenant holds only its own share of the delivery slots.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use super::api::Api;
use super::load::{await_webhooks, open_loop};
use super::receiver::Receiver;
use super::server::Server;
use super::stats::{Percentiles, percentiles};
use super::verify::Expected;
use crate::credentials_file::Credentials;

/// The phase's event type; every tenant of the phase has a rule for it.
const EVENT: &str = "bench.slow";
/// The receiver's destinations for the healthy rules (after the fan-out ones).
const OTHER_WORKSPACE: u16 = 10;
const OTHER_ORGANIZATION: u16 = 11;

#[derive(Serialize, Debug, Clone)]
pub struct SlowDestination {
    /// Events offered per second to each of the three destinations.
    pub offered_per_sec: f64,
    pub seconds: f64,
    /// Requests the hanging destination held unanswered at the end of the phase.
    pub hung_requests: u64,
    pub other_workspace: Percentiles,
    pub other_organization: Percentiles,
}

/// Runs the phase; the healthy deliveries join `expected`.
pub async fn measure(
    binary: &Path,
    server: &Server,
    api: &Api,
    receiver: &Receiver,
    (rate, duration, drain): (f64, Duration, Duration),
    expected: &mut Vec<Expected>,
) -> anyhow::Result<SlowDestination> {
    let receipts = &receiver.receipts;
    api.webhook_rule(&receiver.url("/hang"), EVENT).await?;
    let other_workspace = api.new_workspace("bench other workspace").await?;
    let other_organization = Api::new(&second_organization(binary, server)?)?;
    let healthy = [
        (&other_workspace, OTHER_WORKSPACE),
        (&other_organization, OTHER_ORGANIZATION),
    ];
    let mut rules = Vec::new();
    for (client, destination) in healthy {
        let url = receiver.url(&format!("/d/{destination}"));
        rules.push(client.webhook_rule(&url, EVENT).await?);
    }

    receipts.take_latencies();
    let seen_before = receipts.webhooks.load(std::sync::atomic::Ordering::Relaxed);
    let (_, to_workspace, to_organization) = tokio::try_join!(
        open_loop(api, receipts, EVENT, rate, duration),
        open_loop(&other_workspace, receipts, EVENT, rate, duration),
        open_loop(&other_organization, receipts, EVENT, rate, duration),
    )?;
    let want = (to_workspace.ids.len() + to_organization.ids.len()) as u64;
    let progress = super::bar(want, "beside a slow destination");
    let done = await_webhooks(receipts, seen_before + want, drain, &progress).await;
    progress.finish();
    let hung_requests = receipts.hung.load(std::sync::atomic::Ordering::Relaxed);
    // Answer what it holds, so the server's in-flight attempts end and it stops promptly.
    receiver.release_hung();
    anyhow::ensure!(
        done,
        "beside a slow destination: deliveries did not all arrive in time"
    );

    let mut by_destination = receipts.take_latencies_by_destination();
    let mut latency = |d: u16| percentiles(by_destination.remove(&d).unwrap_or_default());
    let report = SlowDestination {
        offered_per_sec: rate,
        seconds: duration.as_secs_f64(),
        hung_requests,
        other_workspace: latency(OTHER_WORKSPACE),
        other_organization: latency(OTHER_ORGANIZATION),
    };
    for ((sent, (client, destination)), rule_id) in [to_workspace, to_organization]
        .into_iter()
        .zip(healthy)
        .zip(rules)
    {
        for event_id in sent.ids {
            expected.push(Expected {
                event_id,
                destination,
                rule_id: rule_id.clone(),
                api: Some(client.clone()),
            });
        }
    }
    Ok(report)
}

/// Another organization on the same server, made by `switchyard orgs create`.
fn second_organization(binary: &Path, server: &Server) -> anyhow::Result<Credentials> {
    let output = Command::new(binary)
        .args(["orgs", "create", "bench other organization", "--data-dir"])
        .arg(server.data_dir())
        .env_remove("SWITCHYARD_BACKEND")
        .output()
        .context("cannot run switchyard orgs create")?;
    anyhow::ensure!(
        output.status.success(),
        "switchyard orgs create: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let field = |k: &str| -> anyhow::Result<String> {
        Ok(created[k]
            .as_str()
            .with_context(|| format!("orgs create printed no {k}"))?
            .to_owned())
    };
    Ok(Credentials {
        api_url: server.creds.api_url.clone(),
        org_id: field("org_id")?,
        access_key: field("access_key")?,
        secret_key: field("secret_key")?,
        workspace_id: field("workspace_id")?,
        publishable_key: field("publishable_key")?,
    })
}
