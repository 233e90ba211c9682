//! The `Store` conformance suite against DynamoDB (the `DynamoStore` adapter) on a real moto
//! server: the same cases as the SQLite run, each on its own freshly created tables.

// One case (SQLITE_ONLY, below) is not run here.
#[allow(dead_code)]
#[path = "../conformance/store_cases/mod.rs"]
mod store_cases;
#[path = "../conformance/store_fixtures.rs"]
mod store_fixtures;

use std::time::Duration;

use anyhow::Result;
use switchyard_aws::{DynamoStore, default_queue_attributes};
use switchyard_tests::require_moto;

/// A store over fresh tables on moto, or `None` (having said why) without a server.
async fn store() -> Option<DynamoStore> {
    store_and_history().await.map(|(store, _)| store)
}

/// [`store`], and the history table as a client and its name, to look at items directly.
async fn store_and_history() -> Option<(DynamoStore, (aws_sdk_dynamodb::Client, String))> {
    let moto = require_moto!(None);
    let clients = moto.clients(None).await;
    let r = moto.resources(&clients, default_queue_attributes).await;
    let store = DynamoStore::new(
        clients.dynamodb.clone(),
        r.config_table,
        r.history_table.clone(),
        Duration::from_secs(30 * 86_400),
    );
    Some((store, (clients.dynamodb, r.history_table)))
}

/// An event of `t` routed to `rules` new rules: its deliveries, claimed and not yet written,
/// by id.
async fn routed_event(
    store: &DynamoStore,
    t: &store_fixtures::Tenant,
    rules: usize,
) -> Result<(
    switchyard_core::domain::Event,
    Vec<switchyard_core::domain::Delivery>,
)> {
    use switchyard_core::ports::Deliveries;
    let e = store_fixtures::stored_event(store, t, "user.created").await?;
    let mut routed = Vec::new();
    for _ in 0..rules {
        let rule = store_fixtures::stored_rule(store, t, "user.created").await?;
        routed.push(store_fixtures::delivery(&e, &rule));
    }
    routed.sort_by_key(|d| d.id);
    store.insert_deliveries(t.org, e.id, &routed).await?;
    Ok((e, routed))
}

macro_rules! dynamodb_cases {
    ($($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() -> Result<()> {
                let Some(store) = store().await else { return Ok(()) };
                store_cases::$case(&store).await
            }
        )*
        /// Every case the SQLite run has runs here too: a case added there and not here fails.
        #[test]
        fn every_sqlite_case_also_runs_on_dynamodb() {
            let ours = [$(stringify!($case)),*];
            let sqlite = include_str!("../local/store_conformance.rs");
            let start = sqlite.find("sqlite_cases!(\n").expect("the sqlite case list");
            let list = &sqlite[start..];
            let list = &list[..list.find(");").expect("end of the case list")];
            for case in list.lines().skip(1).map(|l| l.trim().trim_end_matches(',')) {
                if !case.is_empty() && !SQLITE_ONLY.contains(&case) {
                    assert!(ours.contains(&case), "{case} does not run on DynamoDB");
                }
            }
        }
    };
}

/// Cases that cannot run on moto: its server runs requests on threads with no lock around a
/// conditional write or a transaction, so concurrent creates can overshoot, and two of 50
/// concurrent replays both win (seen in CI), where DynamoDB's conditional writes and
/// serializable transactions cannot. The same cases run one call at a time.
const SQLITE_ONLY: &[&str] = &[
    "limited_creates_never_exceed_the_limit_under_concurrency",
    "concurrent_replays_of_one_delivery_have_one_winner",
];

dynamodb_cases!(
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
    // moto's conditional writes are not atomic across its request threads (see the case).
    limited_creates_never_exceed_the_limit_one_at_a_time,
    replays_of_one_delivery_have_one_winner_one_at_a_time,
    oauth_states_are_spent_once,
    sessions_read_back_and_are_scoped_by_org,
    sessions_are_listed_newest_first_by_filter,
    sessions_refresh_until_revoked_and_revoke_keeps_the_first_time,
    launch_tokens_are_spent_once_while_unexpired,
);

// What only the DynamoDB adapter has: payloads stored apart from their event when large.

use switchyard_core::page::PageRequest;
use switchyard_core::ports::{EventFilter, Events};

/// Large payloads live in their own item; reads, lists (filtered too) and paging put each
/// back with its event, interleaved with small inline ones.
/// DynamoDB's choices where adapters may differ: `begin_attempt` writes nothing (the attempt's
/// one write is `finish_attempt`, which saves a write per attempt), and a fresh delivery's
/// first attempt reads its claim, not its (absent) item.
#[tokio::test]
async fn dynamodb_saves_the_begin_write() -> Result<()> {
    let Some(store) = store().await else {
        return Ok(());
    };
    let choices = store_cases::adapter_choices(&store).await?;
    assert_eq!(
        choices.status_during_attempt,
        switchyard_core::domain::DeliveryStatus::Pending
    );
    assert!(choices.answers_from_claim);
    Ok(())
}

/// A routed delivery is its claim on the event item until an attempt or a cancel writes it:
/// routing an event to three rules is one write, every read answers the same pending
/// deliveries before, a first attempt that delivers is written to its event's outcomes (no
/// item of its own) and a cancel before the first attempt writes the item canceled.
#[tokio::test]
async fn a_delivery_is_its_claim_until_written_and_reads_the_same_before() -> Result<()> {
    use aws_sdk_dynamodb::types::AttributeValue;
    use switchyard_core::domain::DeliveryStatus;
    use switchyard_core::outcome::Outcome;
    use switchyard_core::ports::{AttemptRecord, Deliveries};

    let Some((store, (db, history_table))) = store_and_history().await else {
        return Ok(());
    };
    let item_status = |d: &switchyard_core::domain::Delivery| {
        let (db, table, key) = (
            db.clone(),
            history_table.clone(),
            format!("DL#{}#{}", d.org, d.id),
        );
        async move {
            let out = db
                .get_item()
                .table_name(table)
                .key("pk", AttributeValue::S(key))
                .key("sk", AttributeValue::S("D".into()))
                .consistent_read(true)
                .send()
                .await?;
            anyhow::Ok(
                out.item
                    .and_then(|i| i.get("st").and_then(|s| s.as_s().ok().cloned())),
            )
        }
    };
    let t = store_fixtures::tenant(&store).await?;
    let e = store_fixtures::stored_event(&store, &t, "user.created").await?;
    let mut routed = Vec::new();
    for _ in 0..3 {
        let rule = store_fixtures::stored_rule(&store, &t, "user.created").await?;
        routed.push(store_fixtures::delivery(&e, &rule));
    }
    routed.sort_by_key(|d| d.id);

    let before = store.meter().total().write_units;
    assert_eq!(store.insert_deliveries(t.org, e.id, &routed).await?, routed);
    assert_eq!(store.meter().total().write_units - before, 1.0, "one write");
    for d in &routed {
        assert_eq!(
            item_status(d).await?,
            None,
            "no item before the first attempt"
        );
        assert_eq!(store.delivery(t.org, e.id, d.id).await?.as_ref(), Some(d));
    }
    assert_eq!(store.deliveries_for_event(t.org, e.id).await?, routed);
    // Routed again: the same deliveries, still one write.
    assert_eq!(store.insert_deliveries(t.org, e.id, &[]).await?, routed);

    let [attempted, canceled, waiting] = [&routed[0], &routed[1], &routed[2]];
    let begun = store
        .begin_attempt(t.org, e.id, attempted.id, store_fixtures::now())
        .await?
        .expect("attemptable");
    let record = AttemptRecord {
        attempt: store_fixtures::attempt(attempted, 1, Outcome::Delivered, 200),
        status: DeliveryStatus::Completed,
        next_attempt_at: None,
        last_error: None,
    };
    let before = store.meter().total().write_units;
    let done = store.finish_attempt(&begun, &record).await?;
    assert_eq!(store.meter().total().write_units - before, 1.0, "one write");
    assert_eq!(
        item_status(attempted).await?,
        None,
        "its event's outcomes hold it"
    );
    assert_eq!(done.status, DeliveryStatus::Completed);
    assert_eq!(store.delivery(t.org, e.id, attempted.id).await?, Some(done));
    assert_eq!(
        store.attempts(t.org, attempted.event, attempted.id).await?,
        vec![record.attempt]
    );

    let now = store_fixtures::now();
    let stopped = store.cancel_delivery(t.org, e.id, canceled.id, now).await?;
    assert_eq!(stopped.map(|d| d.status), Some(DeliveryStatus::Canceled));
    assert_eq!(item_status(canceled).await?.as_deref(), Some("canceled"));
    assert_eq!(
        store.begin_attempt(t.org, e.id, canceled.id, now).await?,
        None
    );
    assert_eq!(
        store.cancel_delivery(t.org, e.id, canceled.id, now).await?,
        None
    );

    let statuses: Vec<_> = store
        .deliveries_for_event(t.org, e.id)
        .await?
        .iter()
        .map(|d| (d.id, d.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (attempted.id, DeliveryStatus::Completed),
            (canceled.id, DeliveryStatus::Canceled),
            (waiting.id, DeliveryStatus::Pending)
        ]
    );
    // Another event's id finds none of them.
    let other = store_fixtures::stored_event(&store, &t, "user.created").await?;
    assert_eq!(store.delivery(t.org, other.id, waiting.id).await?, None);
    assert_eq!(store.delivery(t.org, other.id, attempted.id).await?, None);
    Ok(())
}

/// A delivery function's instance writes the successful first attempts of one event that end
/// together in one update: three deliveries attempted side by side cost one write unit. A
/// sibling that fails releases the others at once and writes its own item; a restart of a
/// delivery its outcome alone holds writes its item first; every read shows each delivery as
/// its own item would.
#[tokio::test]
async fn an_events_first_attempts_that_end_together_are_one_write() -> Result<()> {
    use futures::future::join_all;
    use switchyard_core::domain::DeliveryStatus;
    use switchyard_core::outcome::Outcome;
    use switchyard_core::ports::{AttemptRecord, Deliveries};

    let Some(store) = store().await else {
        return Ok(());
    };
    let store = store.with_hot_path_cache();
    let t = store_fixtures::tenant(&store).await?;
    let record = |d: &switchyard_core::domain::Delivery, delivered: bool| {
        let (outcome, code, status) = if delivered {
            (Outcome::Delivered, 200, DeliveryStatus::Completed)
        } else {
            (Outcome::RejectedServerError, 503, DeliveryStatus::Retrying)
        };
        AttemptRecord {
            attempt: store_fixtures::attempt(d, 1, outcome, code),
            status,
            next_attempt_at: (!delivered).then(store_fixtures::now),
            last_error: (!delivered).then(|| "HTTP 503".to_owned()),
        }
    };

    let (e, routed) = routed_event(&store, &t, 3).await?;
    let mut begun = Vec::new();
    for d in &routed {
        let current = store.claimed_delivery(d).await?;
        let current = current.expect("its claim");
        begun.push(
            store
                .begin_attempt_of(&current, store_fixtures::now())
                .await?
                .expect("attemptable"),
        );
    }
    let records: Vec<_> = begun.iter().map(|b| record(b, true)).collect();
    let before = store.meter().total().write_units;
    let done = join_all(
        begun
            .iter()
            .zip(&records)
            .map(|(b, r)| store.finish_attempt(b, r)),
    )
    .await;
    assert_eq!(
        store.meter().total().write_units - before,
        1.0,
        "one write for three"
    );
    let done = done.into_iter().collect::<Result<Vec<_>, _>>()?;
    assert!(done.iter().all(|d| d.status == DeliveryStatus::Completed));
    assert_eq!(store.deliveries_for_event(t.org, e.id).await?, done);
    for (d, r) in done.iter().zip(&records) {
        assert_eq!(store.delivery(t.org, e.id, d.id).await?.as_ref(), Some(d));
        assert_eq!(
            store.attempts(t.org, e.id, d.id).await?,
            vec![r.attempt.clone()]
        );
    }

    // Replayed: its item is written from the outcome, then restarted.
    let replayed = store
        .replay_delivery(
            t.org,
            e.id,
            done[0].id,
            store_fixtures::now(),
            store_fixtures::now() - time::Duration::seconds(5),
        )
        .await?
        .expect("a completed delivery replays");
    assert_eq!(replayed.status, DeliveryStatus::Pending);
    assert_eq!((replayed.attempt_count, replayed.schedule_base), (1, 1));
    assert_eq!(
        store.delivery(t.org, e.id, done[0].id).await?,
        Some(replayed)
    );
    assert_eq!(store.attempts(t.org, e.id, done[0].id).await?.len(), 1);
    assert_eq!(
        store
            .cancel_delivery(t.org, e.id, done[1].id, store_fixtures::now())
            .await?,
        None,
        "completed"
    );

    // One of two fails: the other is written as soon as that one is recorded.
    let (e, routed) = routed_event(&store, &t, 2).await?;
    let mut begun = Vec::new();
    for d in &routed {
        begun.push(
            store
                .begin_attempt_of(d, store_fixtures::now())
                .await?
                .expect("attemptable"),
        );
    }
    let (ok, failed) = (record(&begun[0], true), record(&begun[1], false));
    let before = store.meter().total().write_units;
    let (delivered, retrying) = tokio::join!(
        store.finish_attempt(&begun[0], &ok),
        store.finish_attempt(&begun[1], &failed)
    );
    assert_eq!(delivered?.status, DeliveryStatus::Completed);
    assert_eq!(retrying?.status, DeliveryStatus::Retrying);
    assert!(
        store.meter().total().write_units - before >= 2.0,
        "its outcome, and the failure's item"
    );
    let statuses: Vec<_> = store
        .deliveries_for_event(t.org, e.id)
        .await?
        .iter()
        .map(|d| d.status)
        .collect();
    assert_eq!(
        statuses,
        [DeliveryStatus::Completed, DeliveryStatus::Retrying]
    );
    Ok(())
}

/// An event's outcomes item is one DynamoDB item, 400 KB at most: a successful first attempt
/// that would pass that (hundreds of deliveries of one event) is recorded on its delivery's
/// own item instead, and reads the same.
#[tokio::test]
async fn a_first_attempt_past_a_full_outcomes_item_is_recorded_on_its_own() -> Result<()> {
    use aws_sdk_dynamodb::types::AttributeValue;
    use switchyard_core::domain::DeliveryStatus;
    use switchyard_core::outcome::Outcome;
    use switchyard_core::ports::{AttemptRecord, Deliveries};

    let Some((store, (db, history_table))) = store_and_history().await else {
        return Ok(());
    };
    let t = store_fixtures::tenant(&store).await?;
    let (e, routed) = routed_event(&store, &t, 1).await?;
    let routed = &routed[0];
    // The event's outcomes item, a couple of hundred bytes short of the limit (moto's: 405,000
    // bytes of names and values; DynamoDB's is 400 KB).
    db.put_item()
        .table_name(&history_table)
        .item("pk", AttributeValue::S(format!("DL#{}#{}", t.org, e.id)))
        .item("sk", AttributeValue::S("O".into()))
        .item("filler", AttributeValue::S("x".repeat(405_000 - 200)))
        .send()
        .await?;

    let begun = store
        .begin_attempt(t.org, e.id, routed.id, store_fixtures::now())
        .await?
        .expect("attemptable");
    let record = AttemptRecord {
        attempt: store_fixtures::attempt(&begun, 1, Outcome::Delivered, 200),
        status: DeliveryStatus::Completed,
        next_attempt_at: None,
        last_error: None,
    };
    let done = store.finish_attempt(&begun, &record).await?;
    assert_eq!(done.status, DeliveryStatus::Completed);
    let own = db
        .get_item()
        .table_name(&history_table)
        .key(
            "pk",
            AttributeValue::S(format!("DL#{}#{}", t.org, routed.id)),
        )
        .key("sk", AttributeValue::S("D".into()))
        .consistent_read(true)
        .send()
        .await?
        .item
        .expect("the delivery's own item");
    assert_eq!(
        own.get("st")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("completed")
    );
    assert_eq!(store.delivery(t.org, e.id, routed.id).await?, Some(done));
    assert_eq!(
        store.attempts(t.org, e.id, routed.id).await?,
        vec![record.attempt]
    );
    Ok(())
}

/// moto stores an updated item's keys before it applies the update, so a read racing a
/// delivery's first attempt can find an item holding its keys alone (DynamoDB never shows one):
/// every read takes the delivery for its claim, still pending, instead of answering 500.
#[tokio::test]
async fn a_delivery_item_holding_only_its_keys_reads_as_its_claim() -> Result<()> {
    use aws_sdk_dynamodb::types::AttributeValue;
    use switchyard_core::ports::Deliveries;

    let Some((store, (db, history_table))) = store_and_history().await else {
        return Ok(());
    };
    let t = store_fixtures::tenant(&store).await?;
    let (e, routed) = routed_event(&store, &t, 1).await?;
    let routed = &routed[0];
    db.put_item()
        .table_name(history_table)
        .item(
            "pk",
            AttributeValue::S(format!("DL#{}#{}", t.org, routed.id)),
        )
        .item("sk", AttributeValue::S("D".into()))
        .send()
        .await?;

    assert_eq!(
        store.delivery(t.org, e.id, routed.id).await?,
        Some(routed.clone())
    );
    assert_eq!(
        store.deliveries_for_event(t.org, e.id).await?,
        vec![routed.clone()]
    );
    assert_eq!(
        store.attempts(t.org, routed.event, routed.id).await?,
        vec![]
    );
    Ok(())
}

#[tokio::test]
async fn large_payloads_read_back_with_their_events_in_gets_and_pages() -> Result<()> {
    let Some(store) = store().await else {
        return Ok(());
    };
    let t = store_fixtures::tenant(&store).await?;
    let mut written = Vec::new();
    for i in 0..7 {
        let mut e = store_fixtures::event(&t.workspace, "user.created");
        if i % 2 == 0 {
            e.payload = serde_json::json!({"blob": "x".repeat(2000 + i), "n": i});
        }
        store.insert_event(&e).await?;
        written.push(e);
    }
    for e in &written {
        assert_eq!(store.event(t.org, e.id).await?.as_ref(), Some(e));
    }
    let filter = EventFilter {
        workspace: Some(t.workspace.id),
        ..EventFilter::default()
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_events(t.org, &filter, PageRequest { limit: 2, cursor })
            .await?;
        seen.extend(page.records);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let newest_first: Vec<_> = written.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);
    Ok(())
}

/// A table written before events were sharded: its events, moved back to the one partition
/// per organization they used to share (`EV#<org>`), are invisible to this version until
/// `migrate_event_keys` (`switchyard migrate --backend aws`) moves them; then they read and
/// list as before, and a second run moves nothing.
#[tokio::test]
async fn events_of_the_unsharded_layout_are_migrated_to_their_shards() -> Result<()> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let Some((store, (db, history_table))) = store_and_history().await else {
        return Ok(());
    };
    let t = store_fixtures::tenant(&store).await?;
    let mut written = Vec::new();
    for i in 0..5 {
        let mut e = store_fixtures::event(&t.workspace, "user.created");
        if i == 2 {
            e.payload = serde_json::json!({"blob": "x".repeat(900)});
        }
        store.insert_event(&e).await?;
        written.push(e);
    }
    // Rewrite every item of these events under the old key.
    let items = db.scan().table_name(&history_table).send().await?;
    let legacy = format!("EV#{}", t.org);
    for item in items.items() {
        let Some(AttributeValue::S(pk)) = item.get("pk") else {
            continue;
        };
        if !pk.starts_with(&format!("{legacy}#")) {
            continue;
        }
        let mut old = item.clone();
        old.insert("pk".into(), AttributeValue::S(legacy.clone()));
        db.put_item()
            .table_name(&history_table)
            .set_item(Some(old))
            .send()
            .await?;
        db.delete_item()
            .table_name(&history_table)
            .key("pk", AttributeValue::S(pk.clone()))
            .key("sk", item["sk"].clone())
            .send()
            .await?;
    }
    assert_eq!(store.event(t.org, written[0].id).await?, None);

    assert_eq!(
        store.migrate_event_keys().await?,
        6,
        "five events, one payload"
    );
    for e in &written {
        assert_eq!(store.event(t.org, e.id).await?.as_ref(), Some(e));
    }
    let filter = EventFilter {
        workspace: Some(t.workspace.id),
        ..EventFilter::default()
    };
    let listed = store
        .list_events(
            t.org,
            &filter,
            PageRequest {
                limit: 10,
                cursor: None,
            },
        )
        .await?;
    let newest_first: Vec<_> = written.iter().rev().cloned().collect();
    assert_eq!(listed.records, newest_first);
    assert_eq!(store.migrate_event_keys().await?, 0, "nothing left to move");
    Ok(())
}
