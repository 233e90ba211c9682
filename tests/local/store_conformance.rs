//! The `Store` conformance suite against the embedded SQLite adapter. The cases live in
//! `conformance/store_cases/` (one file per role) and take `&dyn Store`, so other adapters can run them too.

#[path = "../conformance/store_cases/mod.rs"]
mod store_cases;
#[path = "../conformance/store_fixtures.rs"]
pub(crate) mod store_fixtures;

use std::slice;

use anyhow::Result;
use switchyard_core::domain::DeliveryStatus;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{
    AttemptRecord, Connections, Deliveries, Events, KeyClaims, Rules, Tenants, Workspaces,
};
use switchyard_embedded::{Db, SqliteStore};

use store_fixtures::*;

/// One `#[tokio::test]` per case, each on a fresh private in-memory database.
macro_rules! sqlite_cases {
    ($($case:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $case() -> Result<()> {
            let store = SqliteStore::open(Db::in_memory()?)?;
            store_cases::$case(&store).await
        }
    )*};
}

sqlite_cases!(
    records_read_back_as_written,
    workspace_names_are_unique_per_org,
    another_orgs_ids_read_as_absent,
    lists_are_newest_first_and_paginate_without_skips_or_repeats,
    event_pages_neither_skip_nor_repeat_under_concurrent_writes,
    rule_filters_apply,
    rules_are_switched_on_and_off_in_place,
    event_and_connection_filters_apply,
    event_status_and_time_filters_apply,
    event_status_follows_every_delivery_write,
    active_rules_exclude_inactive_and_other_event_types_and_workspaces,
    events_are_marked_routed,
    insert_deliveries_is_idempotent_per_event_and_rule,
    delivery_counts_are_per_workspace_bucket_and_status,
    begin_attempt_refuses_final_deliveries,
    finish_attempt_records_attempt_and_moves_status,
    canceled_delivery_stays_canceled_after_an_attempt,
    a_claimed_delivery_is_the_delivery_or_nothing,
    a_duplicate_attempt_is_recorded_and_moves_nothing,
    an_attempt_recorded_after_its_retry_moves_nothing,
    publishable_key_lookup_by_hash,
    machine_key_lookup,
    cancel_stops_non_final_deliveries_only,
    restart_begins_a_fresh_schedule,
    failed_deliveries_are_found_by_connection_and_time,
    updates_and_deletes_are_scoped_by_org,
    catalog_keeps_first_seen_keys_per_workspace,
    a_key_given_twice_in_one_call_is_kept_once,
    machine_keys_are_listed_per_org_and_revoked_in_place,
    a_deleted_machine_key_is_gone_and_another_orgs_is_kept,
    idempotency_keys_are_claimed_once_per_workspace_until_expiry,
    idempotency_claims_are_read_and_released_only_by_their_holder,
    rule_conditions_read_back_as_written,
    connection_mappings_are_versioned_scoped_and_deleted_with_their_connection,
    usage_counts_an_orgs_resources_and_events_within_its_limit,
    connection_updates_can_be_conditional_on_what_was_read,
    limited_creates_never_exceed_the_limit_under_concurrency,
    limited_creates_never_exceed_the_limit_one_at_a_time,
    concurrent_replays_of_one_delivery_have_one_winner,
    replays_of_one_delivery_have_one_winner_one_at_a_time,
    oauth_states_are_spent_once,
    sessions_read_back_and_are_scoped_by_org,
    sessions_are_listed_newest_first_by_filter,
    sessions_refresh_until_revoked_and_revoke_keeps_the_first_time,
    launch_tokens_are_spent_once_while_unexpired,
);

/// SQLite's choices where adapters may differ: an attempt in flight reads `processing` (one
/// write per attempt is cheap here), and a delivery is always read as stored (its one row).
#[tokio::test]
async fn sqlite_stores_processing_while_an_attempt_runs() -> Result<()> {
    let store = SqliteStore::open(Db::in_memory()?)?;
    let choices = store_cases::adapter_choices(&store).await?;
    assert_eq!(choices.status_during_attempt, DeliveryStatus::Processing);
    assert!(!choices.answers_from_claim);
    Ok(())
}

/// SQLite-specific: what was committed is there after the file is closed and opened again
/// (and opening an existing file does not recreate or clear its tables).
#[tokio::test]
async fn data_survives_reopening_the_file() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("switchyard.db");

    let (t, rule, event, delivery, key, attempt) = {
        let store = SqliteStore::open(Db::open(&path)?)?;
        let t = tenant(&store).await?;
        let rule = stored_rule(&store, &t, "user.created").await?;
        let event = stored_event(&store, &t, "user.created").await?;
        let d = delivery(&event, &rule);
        store
            .insert_deliveries(t.org, event.id, slice::from_ref(&d))
            .await?;
        store.begin_attempt(t.org, d.event, d.id, now()).await?;
        let a = attempt(&d, 1, Outcome::Delivered, 200);
        let done = store
            .finish_attempt(
                &d,
                &AttemptRecord {
                    attempt: a.clone(),
                    status: DeliveryStatus::Completed,
                    next_attempt_at: None,
                    last_error: None,
                },
            )
            .await?;
        let key = machine_key(t.org);
        store.put_machine_key(&key).await?;
        (t, rule, event, done, key, a)
    };

    let store = SqliteStore::open(Db::open(&path)?)?;
    assert_eq!(
        store.workspace(t.org, t.workspace.id).await?,
        Some(t.workspace.clone())
    );
    assert_eq!(
        store.connection(t.org, t.connection.id).await?,
        Some(t.connection.clone())
    );
    assert_eq!(store.rule(t.org, rule.id).await?, Some(rule));
    assert_eq!(store.event(t.org, event.id).await?, Some(event.clone()));
    assert!(store.is_routed(t.org, event.id).await?);
    assert_eq!(
        store.deliveries_for_event(t.org, event.id).await?,
        vec![delivery.clone()]
    );
    assert_eq!(
        store.attempts(t.org, delivery.event, delivery.id).await?,
        vec![attempt]
    );
    assert_eq!(store.machine_key(&key.access_key).await?, Some(key));
    Ok(())
}

/// SQLite-specific: stored conditions that no longer parse fail the read as a backend error,
/// rather than reading as "no conditions" and routing every event through the rule.
#[tokio::test]
async fn unparseable_stored_conditions_are_a_backend_error() -> Result<()> {
    let db = Db::in_memory()?;
    let store = SqliteStore::open(db.clone())?;
    let t = tenant(&store).await?;
    let rule = stored_rule(&store, &t, "user.created").await?;
    for damaged in [r#"{"all": []}"#, "not json"] {
        db.call_sync(|c| {
            c.execute(
                "UPDATE rules SET conditions = ?1 WHERE id = ?2",
                [damaged, &rule.id.to_string()],
            )
        })?;
        let read = store.rule(t.org, rule.id).await;
        assert!(
            matches!(read, Err(switchyard_core::StoreError::Backend(_))),
            "{damaged}: {read:?}"
        );
    }
    Ok(())
}

/// SQLite-specific: retention on the embedded runtime deletes events older than the cut-off
/// with their deliveries and attempts, and keeps everything newer.
#[tokio::test]
async fn purging_history_removes_old_events_with_their_deliveries() -> Result<()> {
    let store = SqliteStore::open(Db::in_memory()?)?;
    let t = tenant(&store).await?;
    let rule = stored_rule(&store, &t, "user.created").await?;
    let mut old = event(&t.workspace, "user.created");
    old.created_at = now() - time::Duration::days(40);
    store.insert_event(&old).await?;
    let recent = stored_event(&store, &t, "user.created").await?;
    let mut deliveries = Vec::new();
    for e in [&old, &recent] {
        let d = delivery(e, &rule);
        store
            .insert_deliveries(t.org, e.id, slice::from_ref(&d))
            .await?;
        store.begin_attempt(t.org, d.event, d.id, now()).await?;
        let a = attempt(&d, 1, Outcome::Delivered, 200);
        store
            .finish_attempt(
                &d,
                &AttemptRecord {
                    attempt: a,
                    status: DeliveryStatus::Completed,
                    next_attempt_at: None,
                    last_error: None,
                },
            )
            .await?;
        deliveries.push(d);
    }

    let purged = store
        .purge_history(now() - time::Duration::days(30))
        .await?;
    assert_eq!(purged, 1);
    assert_eq!(store.event(t.org, old.id).await?, None);
    assert_eq!(
        store
            .delivery(t.org, deliveries[0].event, deliveries[0].id)
            .await?,
        None
    );
    assert!(
        store
            .attempts(t.org, deliveries[0].event, deliveries[0].id)
            .await?
            .is_empty()
    );
    assert_eq!(store.event(t.org, recent.id).await?, Some(recent));
    assert_eq!(
        store
            .attempts(t.org, deliveries[1].event, deliveries[1].id)
            .await?
            .len(),
        1
    );
    Ok(())
}

/// SQLite-specific: ingest's intake writes the claim, the events and their routing in one
/// transaction — an events-queue message, or (routed at intake) the deliveries and their
/// delivery messages. A failure before the commit (here a panic, as a full disk would fail
/// the write) leaves nothing: no event, no message, no delivery, the key free.
#[tokio::test]
async fn intake_commits_claim_events_and_routing_together() -> Result<()> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;
    use switchyard_core::SystemClock;
    use switchyard_core::domain::EventStatus;
    use switchyard_core::page::PageRequest;
    use switchyard_core::ports::{
        Accepted, Claim, EventFilter, EventIntake, Events, Intake, OutgoingMessage, QueueConsumer,
        QueueName, Routing,
    };
    use switchyard_embedded::{QueueSettings, SqliteIntake, SqliteQueue};

    let db = Db::in_memory()?;
    let store = SqliteStore::open(db.clone())?;
    let queue = SqliteQueue::open(db, Arc::new(SystemClock), |_| QueueSettings::default())?;
    let fail = Arc::new(AtomicBool::new(true));
    let hook = fail.clone();
    let intake = SqliteIntake::new(queue.clone()).with_before_commit(Arc::new(move || {
        assert!(
            !hook.load(Ordering::SeqCst),
            "injected failure before commit"
        );
    }));
    assert!(intake.routes_at_intake());
    let t = tenant(&store).await?;
    let rule = stored_rule(&store, &t, "a.b").await?;
    let [queued, expanded, unmatched] = [
        event(&t.workspace, "a.b"),
        event(&t.workspace, "a.b"),
        event(&t.workspace, "c.d"),
    ];
    let routed = delivery(&expanded, &rule);
    let request = || Intake {
        events: vec![queued.clone(), expanded.clone(), unmatched.clone()],
        routing: vec![
            Routing::Queued(OutgoingMessage::now(queued.id.to_string())),
            Routing::Expanded {
                deliveries: vec![routed.clone()],
                messages: vec![OutgoingMessage::now(routed.id.to_string())],
            },
            Routing::Expanded {
                deliveries: Vec::new(),
                messages: Vec::new(),
            },
        ],
        catalog: Vec::new(),
        ..Intake::default()
    };
    let claim = Claim {
        org: t.org,
        workspace: t.workspace.id,
        key: "k".into(),
        first: queued.id,
        now: now(),
        expires_at: now() + time::Duration::hours(1),
    };
    let wait = Duration::from_millis(10);
    let bodies = |queue: &SqliteQueue, name| {
        let queue = queue.clone();
        async move {
            let received = queue.receive(name, 10, wait).await?;
            anyhow::Ok(received.into_iter().map(|m| m.body).collect::<Vec<_>>())
        }
    };

    assert!(intake.accept(Some(&claim), request()).await.is_err());
    for e in [&queued, &expanded, &unmatched] {
        assert!(store.event(t.org, e.id).await?.is_none(), "rolled back");
    }
    assert!(bodies(&queue, QueueName::Events).await?.is_empty());
    assert!(bodies(&queue, QueueName::Deliveries).await?.is_empty());
    assert!(
        store
            .deliveries_for_event(t.org, expanded.id)
            .await?
            .is_empty()
    );
    assert!(
        store
            .idempotency_claim(t.org, t.workspace.id, "k", now())
            .await?
            .is_none()
    );

    fail.store(false, Ordering::SeqCst);
    assert_eq!(
        intake.accept(Some(&claim), request()).await?,
        Accepted::Stored
    );
    assert_eq!(
        bodies(&queue, QueueName::Events).await?,
        vec![queued.id.to_string()],
        "the queued event's message alone"
    );
    assert_eq!(
        bodies(&queue, QueueName::Deliveries).await?,
        vec![routed.id.to_string()]
    );
    assert!(!store.is_routed(t.org, queued.id).await?);
    assert!(store.is_routed(t.org, expanded.id).await?);
    assert_eq!(
        store.deliveries_for_event(t.org, expanded.id).await?,
        vec![routed.clone()]
    );
    // Stored routed, with the status its deliveries give it (EventStatus::derive); an event
    // no rule matched is complete at once.
    for (status, mut expected) in [
        (EventStatus::Pending, vec![queued.id, expanded.id]),
        (EventStatus::Completed, vec![unmatched.id]),
    ] {
        let filter = EventFilter {
            status: Some(status),
            ..EventFilter::default()
        };
        let page = store
            .list_events(t.org, &filter, PageRequest::default())
            .await?;
        let mut listed: Vec<_> = page.records.into_iter().map(|e| e.id).collect();
        listed.sort();
        expected.sort();
        assert_eq!(listed, expected, "{status:?}");
    }

    // The key now answers the first request; nothing is written again.
    let twin = Claim {
        first: switchyard_core::EventId::new(),
        ..claim.clone()
    };
    assert_eq!(
        intake.accept(Some(&twin), request()).await?,
        Accepted::KeyHeld(queued.id)
    );
    // Completing a request whose events are stored routes none of them again.
    assert_eq!(intake.accept(None, request()).await?, Accepted::Stored);
    assert!(bodies(&queue, QueueName::Events).await?.is_empty());
    assert!(bodies(&queue, QueueName::Deliveries).await?.is_empty());
    assert_eq!(
        store.deliveries_for_event(t.org, expanded.id).await?,
        vec![routed]
    );
    Ok(())
}
