//! `Metering`, and the plan-limited creates of `Workspaces`, `Connections` and `Rules`.

use anyhow::{Result, ensure};
use switchyard_core::StoreError;
use switchyard_core::domain::*;
use switchyard_core::ports::Store;

use super::super::store_fixtures::*;
use super::all;

pub async fn usage_counts_an_orgs_resources_and_events_within_its_limit(
    store: &dyn Store,
) -> Result<()> {
    use switchyard_core::plan::{Usage, UsagePeriod};
    let t = tenant(store).await?;
    stored_rule(store, &t, "a.b").await?;
    stored_rule(store, &t, "c.d").await?;
    for _ in 0..3 {
        stored_event(store, &t, "a.b").await?;
    }
    let other = tenant(store).await?;
    stored_event(store, &other, "a.b").await?;

    let resources = Usage {
        workspaces: 1,
        connections: 1,
        rules: 2,
        ..Usage::default()
    };
    assert_eq!(store.usage(t.org, None).await?, resources);
    let period = UsagePeriod::containing(now());
    assert_eq!(
        store.usage(t.org, Some(&period)).await?,
        Usage {
            events_stored: 3,
            ..resources
        }
    );
    let next = UsagePeriod::containing(period.end);
    assert_eq!(store.usage(t.org, Some(&next)).await?.events_stored, 0);

    // The counter admits what fits the limit and nothing of what does not.
    assert_eq!(store.count_events(t.org, &period.key, 2, 3).await?, Some(2));
    assert_eq!(store.count_events(t.org, &period.key, 2, 3).await?, None);
    assert_eq!(store.count_events(t.org, &period.key, 1, 3).await?, Some(3));
    assert_eq!(store.count_events(t.org, &period.key, 1, 3).await?, None);
    assert_eq!(
        store.count_events(other.org, &period.key, 4, 3).await?,
        None
    );
    assert_eq!(
        store.count_events(other.org, &period.key, 1, 3).await?,
        Some(1)
    );
    assert_eq!(store.count_events(t.org, &next.key, 1, 3).await?, Some(1));
    let usage = store.usage(t.org, Some(&period)).await?;
    assert_eq!(usage.events_counted, Some(3));
    assert_eq!(usage.events(), 3);
    Ok(())
}

/// Plan-limited creates counted atomically: 50 concurrent creates of each resource against a
/// limit of 5 store exactly 5, and the rest are refused with nothing written. A delete makes
/// room again; a duplicate is still a conflict.
pub async fn limited_creates_never_exceed_the_limit_under_concurrency(
    store: &dyn Store,
) -> Result<()> {
    limited_creates(store, true).await
}

/// The same, one create after another: for moto, whose server runs requests on threads with
/// no lock around a conditional write or a transaction, so its `TransactWriteItems` is not
/// atomic under concurrency the way DynamoDB's (serializable) is.
pub async fn limited_creates_never_exceed_the_limit_one_at_a_time(store: &dyn Store) -> Result<()> {
    limited_creates(store, false).await
}

async fn limited_creates(store: &dyn Store, concurrent: bool) -> Result<()> {
    const LIMIT: u64 = 5;
    let org = organization();
    store.create_organization(&org).await?;
    let ws = workspace(org.id, "production");
    ensure!(store.create_workspace_within(&ws, LIMIT).await?);

    let candidates: Vec<Workspace> = (0..50)
        .map(|n| workspace(org.id, &format!("ws-{n}")))
        .collect();
    let created = all(
        concurrent,
        candidates
            .iter()
            .map(|w| store.create_workspace_within(w, LIMIT)),
    )
    .await;
    let created = created.into_iter().collect::<Result<Vec<_>, _>>()?;
    ensure!(
        created.iter().filter(|c| **c).count() == LIMIT as usize - 1,
        "workspaces created: {created:?}"
    );
    ensure!(store.usage(org.id, None).await?.workspaces == LIMIT);

    let connections: Vec<Connection> = (0..50).map(|_| connection(&ws)).collect();
    let created = all(
        concurrent,
        connections
            .iter()
            .map(|c| store.create_connection_within(c, LIMIT)),
    )
    .await
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    ensure!(
        created.iter().filter(|c| **c).count() == LIMIT as usize,
        "connections created: {created:?}"
    );
    ensure!(store.usage(org.id, None).await?.connections == LIMIT);
    let first = connections
        .iter()
        .zip(&created)
        .find(|(_, c)| **c)
        .map(|(conn, _)| conn.clone())
        .expect("one was created");

    let rules: Vec<Rule> = (0..50).map(|_| rule(&first, "user.created")).collect();
    let created = all(
        concurrent,
        rules.iter().map(|r| store.create_rule_within(r, LIMIT)),
    )
    .await
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    ensure!(
        created.iter().filter(|c| **c).count() == LIMIT as usize,
        "rules created: {created:?}"
    );
    ensure!(store.usage(org.id, None).await?.rules == LIMIT);

    // At the limit, nothing more; a delete makes room for exactly one.
    ensure!(
        !store
            .create_connection_within(&connection(&ws), LIMIT)
            .await?
    );
    let stored = rules
        .iter()
        .zip(&created)
        .find(|(_, c)| **c)
        .map(|(r, _)| r.id)
        .expect("one was created");
    ensure!(store.delete_rule(org.id, stored).await?);
    ensure!(
        store
            .create_rule_within(&rule(&first, "user.created"), LIMIT)
            .await?
    );
    ensure!(
        !store
            .create_rule_within(&rule(&first, "user.created"), LIMIT)
            .await?
    );

    // Under the limit, a taken workspace name is still a conflict.
    let other = organization();
    store.create_organization(&other).await?;
    ensure!(
        store
            .create_workspace_within(&workspace(other.id, "same"), LIMIT)
            .await?
    );
    let taken = store
        .create_workspace_within(&workspace(other.id, "same"), LIMIT)
        .await;
    ensure!(
        matches!(taken, Err(StoreError::Conflict(_))),
        "a taken name: {taken:?}"
    );
    Ok(())
}
