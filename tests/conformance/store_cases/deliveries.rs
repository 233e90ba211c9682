//! `Deliveries`: the delivery state machine as the store keeps it.

use std::slice;

use anyhow::{Result, ensure};
use switchyard_core::domain::*;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::Store;

use switchyard_core::{AttemptId, DeliveryId, RuleId};
use time::Duration;

use super::super::store_fixtures::*;
use super::record;

pub async fn insert_deliveries_is_idempotent_per_event_and_rule(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let r1 = stored_rule(store, &t, "user.created").await?;
    let r2 = stored_rule(store, &t, "user.created").await?;
    let ev = stored_event(store, &t, "user.created").await?;
    let other_ev = stored_event(store, &t, "user.created").await?;

    let d1 = delivery(&ev, &r1);
    assert_eq!(
        store
            .insert_deliveries(t.org, ev.id, slice::from_ref(&d1))
            .await?,
        vec![d1.clone()]
    );
    // The same write marks the event routed; what it returned is what is stored.
    assert!(store.is_routed(t.org, ev.id).await?);
    assert_eq!(
        store.deliveries_for_event(t.org, ev.id).await?,
        vec![d1.clone()]
    );

    // Routing again mints new ids; the (event, rule) pair already delivered keeps its first.
    let d1_again = delivery(&ev, &r1);
    let d2 = delivery(&ev, &r2);
    let all = store
        .insert_deliveries(t.org, ev.id, &[d1_again.clone(), d2.clone()])
        .await?;
    assert_eq!(all, vec![d1.clone(), d2.clone()]);
    assert_eq!(
        store.delivery(t.org, d1_again.event, d1_again.id).await?,
        None
    );
    assert_eq!(
        store
            .insert_deliveries(t.org, ev.id, &[d1.clone(), d2.clone()])
            .await?,
        all
    );
    assert_eq!(store.insert_deliveries(t.org, ev.id, &[]).await?, all);
    assert_eq!(store.deliveries_for_event(t.org, ev.id).await?, all);

    // An event no rule matched is routed all the same.
    let unmatched = stored_event(store, &t, "user.created").await?;
    assert_eq!(
        store.insert_deliveries(t.org, unmatched.id, &[]).await?,
        vec![]
    );
    assert!(store.is_routed(t.org, unmatched.id).await?);

    // The same rule on another event is another delivery.
    let other = delivery(&other_ev, &r1);
    assert_eq!(
        store
            .insert_deliveries(t.org, other_ev.id, slice::from_ref(&other))
            .await?,
        vec![other]
    );
    assert_eq!(store.deliveries_for_event(t.org, ev.id).await?, all);
    Ok(())
}

pub async fn begin_attempt_refuses_final_deliveries(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    for status in [
        DeliveryStatus::Pending,
        DeliveryStatus::Retrying,
        DeliveryStatus::Processing,
    ] {
        let d = stored_delivery_with(store, &t, status).await?;
        let first = now();
        let begun = store
            .begin_attempt(t.org, d.event, d.id, first)
            .await?
            .ok_or_else(|| anyhow::anyhow!("{status} delivery refused"))?;
        assert_eq!(begun.status, DeliveryStatus::Processing);
        assert_eq!(begun.started_at, Some(first));
        assert_eq!(begun.updated_at, first);
        // Stored now, or left as it was until the attempt is recorded (the port allows both).
        let stored = store.delivery(t.org, d.event, d.id).await?;
        let persisted = stored.as_ref() == Some(&begun);
        ensure!(
            persisted || stored.as_ref() == Some(&d),
            "begin_attempt stored something else: {stored:?}"
        );

        // A second begin (a redelivered message) keeps a stored first start time.
        let later = first + Duration::seconds(30);
        let again = store.begin_attempt(t.org, d.event, d.id, later).await?;
        let again = again.ok_or_else(|| anyhow::anyhow!("processing delivery refused"))?;
        if persisted {
            assert_eq!(again.started_at, Some(first));
        }
        assert_eq!(again.updated_at, later);

        // Recording the attempt leaves the delivery's start at the first attempt's.
        let mut a = attempt(&d, 1, Outcome::RejectedServerError, 503);
        a.started_at = first;
        let done = store
            .finish_attempt(&d, &record(a, DeliveryStatus::Retrying))
            .await?;
        assert_eq!(done.started_at, Some(first), "{status}");
    }
    for status in [
        DeliveryStatus::Completed,
        DeliveryStatus::Failed,
        DeliveryStatus::Canceled,
    ] {
        let d = stored_delivery_with(store, &t, status).await?;
        assert_eq!(
            store.begin_attempt(t.org, d.event, d.id, now()).await?,
            None,
            "{status}"
        );
        assert_eq!(
            store.delivery(t.org, d.event, d.id).await?,
            Some(d),
            "{status} unchanged"
        );
    }
    let unknown = DeliveryId::new();
    let event = stored_event(store, &t, "user.created").await?;
    assert_eq!(
        store.begin_attempt(t.org, event.id, unknown, now()).await?,
        None
    );
    Ok(())
}

pub async fn finish_attempt_records_attempt_and_moves_status(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let d = stored_delivery(store, &t).await?;
    // Minted in reverse so that ordering by number, not id, is what is observed.
    let second_id = AttemptId::new();

    store.begin_attempt(t.org, d.event, d.id, now()).await?;
    let first = attempt(&d, 1, Outcome::RejectedServerError, 503);
    let retry = record(first.clone(), DeliveryStatus::Retrying);
    let after_first = store.finish_attempt(&d, &retry).await?;
    assert_eq!(after_first.status, DeliveryStatus::Retrying);
    assert_eq!(after_first.attempt_count, 1);
    assert_eq!(after_first.next_attempt_at, retry.next_attempt_at);
    assert_eq!(after_first.last_error.as_deref(), Some("HTTP 503"));
    assert_eq!(after_first.completed_at, None);
    assert_eq!(
        store.delivery(t.org, d.event, d.id).await?,
        Some(after_first)
    );

    store.begin_attempt(t.org, d.event, d.id, now()).await?;
    let mut second = attempt(&d, 2, Outcome::Delivered, 200);
    second.id = second_id;
    let done = store
        .finish_attempt(&d, &record(second.clone(), DeliveryStatus::Completed))
        .await?;
    assert_eq!(done.status, DeliveryStatus::Completed);
    assert_eq!(done.attempt_count, 2);
    assert_eq!(done.next_attempt_at, None);
    assert_eq!(done.last_error, None);
    let ended = second.started_at + Duration::milliseconds(second.duration_ms as i64);
    assert_eq!(done.completed_at, Some(ended));
    assert_eq!(store.delivery(t.org, d.event, d.id).await?, Some(done));
    assert_eq!(
        store.attempts(t.org, d.event, d.id).await?,
        vec![first, second]
    );

    // Failing for good also completes the delivery's life.
    let f = stored_delivery(store, &t).await?;
    store.begin_attempt(t.org, f.event, f.id, now()).await?;
    let rejected = attempt(&f, 1, Outcome::RejectedClientError, 400);
    let failed = store
        .finish_attempt(&f, &record(rejected.clone(), DeliveryStatus::Failed))
        .await?;
    assert_eq!(failed.status, DeliveryStatus::Failed);
    assert_eq!(failed.attempt_count, 1);
    assert!(failed.completed_at.is_some());
    assert_eq!(failed.last_error.as_deref(), Some("HTTP 400"));
    assert_eq!(store.attempts(t.org, f.event, f.id).await?, vec![rejected]);

    // A record of another delivery than the one named as attempted is refused.
    let mut elsewhere = record(
        attempt(&d, 3, Outcome::Delivered, 200),
        DeliveryStatus::Completed,
    );
    elsewhere.attempt.delivery = DeliveryId::new();
    ensure!(store.finish_attempt(&d, &elsewhere).await.is_err());
    assert_eq!(store.attempts(t.org, d.event, d.id).await?.len(), 2);
    Ok(())
}

pub async fn canceled_delivery_stays_canceled_after_an_attempt(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    // Canceled while an attempt was in flight: the attempt still ends and is recorded.
    for next in [DeliveryStatus::Completed, DeliveryStatus::Retrying] {
        let d = stored_delivery_with(store, &t, DeliveryStatus::Canceled).await?;
        let a = if next == DeliveryStatus::Completed {
            attempt(&d, 1, Outcome::Delivered, 200)
        } else {
            attempt(&d, 1, Outcome::RejectedServerError, 502)
        };
        let after = store.finish_attempt(&d, &record(a.clone(), next)).await?;
        assert_eq!(
            after.status,
            DeliveryStatus::Canceled,
            "after a {next} attempt"
        );
        assert_eq!(after.attempt_count, 1);
        assert_eq!(after.next_attempt_at, None, "no retry is scheduled for it");
        assert_eq!(store.delivery(t.org, d.event, d.id).await?, Some(after));
        assert_eq!(store.attempts(t.org, d.event, d.id).await?, vec![a]);
        assert_eq!(
            store.begin_attempt(t.org, d.event, d.id, now()).await?,
            None
        );
    }
    Ok(())
}

/// The first attempt of a routing's own message may take its delivery from the copy of the
/// claim that message carries (`claimed_delivery`): the answer is nothing (read the delivery)
/// or that copy. A cancel the copy does not show is kept by the attempt's record, as a cancel
/// made while the attempt ran.
pub async fn a_claimed_delivery_is_the_delivery_or_nothing(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let d = stored_delivery(store, &t).await?;

    let claimed = store.claimed_delivery(&d).await?;
    ensure!(
        claimed.is_none() || claimed == Some(d.clone()),
        "the claim is the routed delivery: {claimed:?}"
    );

    // Canceled after the routing, then attempted from its copy: recorded, still canceled.
    let attempted = claimed.unwrap_or(d.clone());
    let canceled = store.cancel_delivery(t.org, d.event, d.id, now()).await?;
    assert_eq!(canceled.map(|c| c.status), Some(DeliveryStatus::Canceled));
    let a = attempt(&attempted, 1, Outcome::Delivered, 200);
    let after = store
        .finish_attempt(&attempted, &record(a.clone(), DeliveryStatus::Completed))
        .await?;
    let stored = store.delivery(t.org, d.event, d.id).await?;
    let stored = stored.expect("still stored");
    assert_eq!(stored.status, DeliveryStatus::Canceled);
    assert_eq!(stored.attempt_count, 1);
    assert_eq!(store.attempts(t.org, d.event, d.id).await?, vec![a]);
    // The answer is the delivery as stored — or, where a successful first attempt is recorded
    // apart from its delivery (DynamoDB), as the attempt left it: the cancel is not read back.
    ensure!(
        after == stored || (after.status == DeliveryStatus::Completed && after.attempt_count == 1),
        "answered {after:?}"
    );
    Ok(())
}

/// SQS may deliver a message twice and both copies may run: the second attempt of the same
/// number is recorded beside the first and moves nothing, so the next attempt (number + 1)
/// is still the one the delivery expects.
pub async fn a_duplicate_attempt_is_recorded_and_moves_nothing(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let d = stored_delivery(store, &t).await?;
    let first = attempt(&d, 1, Outcome::RejectedServerError, 503);
    let after_first = store
        .finish_attempt(&d, &record(first.clone(), DeliveryStatus::Retrying))
        .await?;
    assert_eq!(after_first.attempt_count, 1);

    // The duplicate ends differently (delivered), and later: it changes nothing but history.
    let mut duplicate = attempt(&d, 1, Outcome::Delivered, 200);
    duplicate.started_at = first.started_at + Duration::milliseconds(5);
    let after_duplicate = store
        .finish_attempt(&d, &record(duplicate.clone(), DeliveryStatus::Completed))
        .await?;
    assert_eq!(
        store.delivery(t.org, d.event, d.id).await?,
        Some(after_first.clone())
    );
    // As stored — or, where a successful first attempt is recorded apart (DynamoDB), as the
    // attempt left it.
    ensure!(
        after_duplicate == after_first || after_duplicate.status == DeliveryStatus::Completed,
        "answered {after_duplicate:?}"
    );
    assert_eq!(
        store.attempts(t.org, d.event, d.id).await?,
        vec![first.clone(), duplicate.clone()]
    );

    // Attempt 2 is not mistaken for a stale one: it moves the delivery.
    let second = attempt(&d, 2, Outcome::Delivered, 200);
    let done = store
        .finish_attempt(&d, &record(second.clone(), DeliveryStatus::Completed))
        .await?;
    assert_eq!(done.status, DeliveryStatus::Completed);
    assert_eq!(done.attempt_count, 2);
    assert_eq!(
        store.attempts(t.org, d.event, d.id).await?,
        vec![first, duplicate, second]
    );
    Ok(())
}

/// A retry's message goes out before its predecessor is recorded, so the retry (attempt 2)
/// can finish first: the count becomes 2 and the predecessor's late record moves nothing.
pub async fn an_attempt_recorded_after_its_retry_moves_nothing(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let d = stored_delivery(store, &t).await?;
    let retry = attempt(&d, 2, Outcome::Delivered, 200);
    let done = store
        .finish_attempt(&d, &record(retry.clone(), DeliveryStatus::Completed))
        .await?;
    assert_eq!(done.status, DeliveryStatus::Completed);
    assert_eq!(done.attempt_count, 2);

    let mut first = attempt(&d, 1, Outcome::RejectedServerError, 503);
    first.started_at = retry.started_at - Duration::milliseconds(5);
    let late = record(first.clone(), DeliveryStatus::Retrying);
    let after = store.finish_attempt(&d, &late).await?;
    assert_eq!(after, done);
    assert_eq!(store.delivery(t.org, d.event, d.id).await?, Some(done));
    let mut attempts = store.attempts(t.org, d.event, d.id).await?;
    attempts.sort_by_key(|a| a.number);
    assert_eq!(attempts, vec![first, retry]);
    Ok(())
}

pub async fn cancel_stops_non_final_deliveries_only(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    for status in [
        DeliveryStatus::Pending,
        DeliveryStatus::Processing,
        DeliveryStatus::Retrying,
    ] {
        let d = stored_delivery_with(store, &t, status).await?;
        let canceled = store.cancel_delivery(t.org, d.event, d.id, now()).await?;
        assert_eq!(
            canceled.map(|c| c.status),
            Some(DeliveryStatus::Canceled),
            "from {status}"
        );
        assert_eq!(
            store.begin_attempt(t.org, d.event, d.id, now()).await?,
            None
        );
    }
    for status in [
        DeliveryStatus::Completed,
        DeliveryStatus::Failed,
        DeliveryStatus::Canceled,
    ] {
        let d = stored_delivery_with(store, &t, status).await?;
        assert_eq!(
            store.cancel_delivery(t.org, d.event, d.id, now()).await?,
            None,
            "from {status}"
        );
        assert_eq!(
            store
                .delivery(t.org, d.event, d.id)
                .await?
                .map(|d| d.status),
            Some(status)
        );
    }
    let other = tenant(store).await?;
    let d = stored_delivery_with(store, &t, DeliveryStatus::Pending).await?;
    assert_eq!(
        store
            .cancel_delivery(other.org, d.event, d.id, now())
            .await?,
        None
    );
    assert_eq!(
        store
            .delivery(t.org, d.event, d.id)
            .await?
            .map(|d| d.status),
        Some(DeliveryStatus::Pending)
    );
    Ok(())
}

pub async fn restart_begins_a_fresh_schedule(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let d = stored_delivery_with(store, &t, DeliveryStatus::Pending).await?;
    store.begin_attempt(t.org, d.event, d.id, now()).await?;
    let failed = store
        .finish_attempt(
            &d,
            &record(
                attempt(&d, 1, Outcome::RejectedServerError, 500),
                DeliveryStatus::Failed,
            ),
        )
        .await?;
    assert_eq!(failed.status, DeliveryStatus::Failed);

    let restarted = store
        .restart_delivery(t.org, d.event, d.id, now())
        .await?
        .expect("restartable");
    assert_eq!(restarted.status, DeliveryStatus::Pending);
    assert_eq!(restarted.attempt_count, 1, "earlier attempts are kept");
    assert_eq!(restarted.schedule_base, 1);
    assert_eq!(restarted.completed_at, None);
    assert_eq!(store.attempts(t.org, d.event, d.id).await?.len(), 1);
    assert!(
        store
            .begin_attempt(t.org, d.event, d.id, now())
            .await?
            .is_some()
    );
    // Pending or processing: a retry is already under way.
    assert_eq!(
        store.restart_delivery(t.org, d.event, d.id, now()).await?,
        None
    );
    let other = tenant(store).await?;
    assert_eq!(
        store
            .restart_delivery(other.org, d.event, d.id, now())
            .await?,
        None
    );
    Ok(())
}

/// A replay on request claims the delivery: of 50 concurrent replays of one completed
/// delivery exactly one wins; another within the window is refused even after the replayed
/// attempt completed; after the window one may replay again.
pub async fn concurrent_replays_of_one_delivery_have_one_winner(store: &dyn Store) -> Result<()> {
    replays_of_one_delivery(store, true).await
}

/// The same, one replay after another: for moto, whose conditional writes are not atomic
/// across its request threads the way DynamoDB's are.
pub async fn replays_of_one_delivery_have_one_winner_one_at_a_time(
    store: &dyn Store,
) -> Result<()> {
    replays_of_one_delivery(store, false).await
}

async fn replays_of_one_delivery(store: &dyn Store, concurrent: bool) -> Result<()> {
    let t = tenant(store).await?;
    let d = stored_delivery_with(store, &t, DeliveryStatus::Pending).await?;
    let complete = |number: u32| {
        let d = d.clone();
        async move {
            store.begin_attempt(t.org, d.event, d.id, now()).await?;
            store
                .finish_attempt(
                    &d,
                    &record(
                        attempt(&d, number, Outcome::Delivered, 200),
                        DeliveryStatus::Completed,
                    ),
                )
                .await
        }
    };
    complete(1).await?;

    let at = now();
    let since = at - Duration::seconds(5);
    let replays = super::all(
        concurrent,
        (0..50).map(|_| store.replay_delivery(t.org, d.event, d.id, at, since)),
    )
    .await
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    let winners: Vec<&Delivery> = replays.iter().flatten().collect();
    ensure!(winners.len() == 1, "{} replays won", winners.len());
    ensure!(winners[0].status == DeliveryStatus::Pending);
    ensure!(winners[0].schedule_base == 1);

    // The replayed attempt completes at once; a replay within the window is still refused.
    complete(2).await?;
    let soon = at + Duration::seconds(1);
    ensure!(
        store
            .replay_delivery(t.org, d.event, d.id, soon, soon - Duration::seconds(5))
            .await?
            .is_none()
    );
    let later = at + Duration::seconds(6);
    let again = store
        .replay_delivery(t.org, d.event, d.id, later, later - Duration::seconds(5))
        .await?;
    ensure!(again.is_some_and(|d| d.schedule_base == 2));
    // Another organization cannot replay it.
    let other = tenant(store).await?;
    let far = at + Duration::hours(1);
    ensure!(
        store
            .replay_delivery(other.org, d.event, d.id, far, far - Duration::seconds(5))
            .await?
            .is_none()
    );
    Ok(())
}

/// Where the adapters may differ, measured rather than described: the stored status of a
/// delivery between `begin_attempt` and `finish_attempt`. Each adapter's suite asserts its own
/// answer.
pub struct AdapterChoices {
    pub status_during_attempt: DeliveryStatus,
    /// Whether `claimed_delivery` answers a freshly routed delivery from its claim (and so
    /// spares its first attempt a read), or leaves it to `delivery`.
    pub answers_from_claim: bool,
}

pub async fn adapter_choices(store: &dyn Store) -> Result<AdapterChoices> {
    let t = tenant(store).await?;
    let d = stored_delivery(store, &t).await?;
    let claimed = store.claimed_delivery(&d).await?;
    let seen = store.begin_attempt(t.org, d.event, d.id, now()).await?;
    ensure!(
        seen.map(|d| d.status) == Some(DeliveryStatus::Processing),
        "begin_attempt answers the delivery as its attempt sees it"
    );
    let stored = store.delivery(t.org, d.event, d.id).await?;
    Ok(AdapterChoices {
        status_during_attempt: stored.expect("the delivery is stored").status,
        answers_from_claim: claimed.is_some(),
    })
}

/// The dashboard's counts: a workspace's deliveries since a time, per bucket and status;
/// other workspaces' and older deliveries are not counted.
pub async fn delivery_counts_are_per_workspace_bucket_and_status(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let rule = stored_rule(store, &t, "user.created").await?;
    let made = |status: DeliveryStatus, age: Duration| {
        let rule = &rule;
        let t = &t;
        async move {
            let mut e = event(&t.workspace, "user.created");
            let at = now() - age;
            let at_ms = u64::try_from(at.unix_timestamp_nanos() / 1_000_000)?;
            e.id = switchyard_core::EventId(uuid::Uuid::from_u128(
                switchyard_core::EventId::floor_at_ms(at_ms).as_u128() | u128::from(rand_bits()),
            ));
            store.insert_event(&e).await?;
            let mut d = with_status(delivery(&e, rule), status);
            d.created_at = at;
            store
                .insert_deliveries(t.org, e.id, slice::from_ref(&d))
                .await?;
            Ok::<_, anyhow::Error>(())
        }
    };
    made(DeliveryStatus::Completed, Duration::minutes(5)).await?;
    made(DeliveryStatus::Completed, Duration::minutes(4)).await?;
    made(DeliveryStatus::Failed, Duration::minutes(3)).await?;
    made(DeliveryStatus::Pending, Duration::minutes(2)).await?;
    made(DeliveryStatus::Failed, Duration::hours(3)).await?; // before the window
    let staging = workspace(t.org, "staging");
    store.create_workspace(&staging).await?;
    let other = event(&staging, "user.created");
    store.insert_event(&other).await?;
    let other_rule = rule_for(&staging, &rule);
    store
        .insert_deliveries(t.org, other.id, &[delivery(&other, &other_rule)])
        .await?;

    let since = now() - Duration::hours(1);
    let since_ms = u64::try_from(since.unix_timestamp_nanos() / 1_000_000)?;
    let bucket = 600_000;
    let counted = store
        .delivery_counts(t.org, t.workspace.id, since_ms, bucket)
        .await?;
    ensure!(counted.complete, "{counted:?}");
    let total = |status| -> u64 {
        counted
            .counts
            .iter()
            .filter(|c| c.1 == status)
            .map(|c| c.2)
            .sum()
    };
    assert_eq!(total(DeliveryStatus::Completed), 2, "{counted:?}");
    assert_eq!(total(DeliveryStatus::Failed), 1, "{counted:?}");
    assert_eq!(total(DeliveryStatus::Pending), 1, "{counted:?}");
    assert_eq!(counted.counts.iter().map(|c| c.2).sum::<u64>(), 4);
    for (start, _, _) in &counted.counts {
        ensure!(
            start % bucket == 0 && *start + bucket > since_ms,
            "{counted:?}"
        );
    }
    Ok(())
}

/// The random low bits of a fresh UUIDv7, for ids minted at a chosen time.
fn rand_bits() -> u64 {
    uuid::Uuid::now_v7().as_u128() as u64 & ((1 << 62) - 1)
}

/// A rule like `rule` in another workspace (a fresh id; the store does not check it exists).
fn rule_for(ws: &Workspace, rule: &Rule) -> Rule {
    Rule {
        id: RuleId::new(),
        workspace: ws.id,
        ..rule.clone()
    }
}
/// A delivery of a fresh event through `rule`, minted at `at` (its id's time), in `status`.
async fn delivery_at(
    store: &dyn Store,
    t: &Tenant,
    rule: &Rule,
    at: time::OffsetDateTime,
    status: DeliveryStatus,
) -> Result<Delivery> {
    let event = stored_event(store, t, &rule.event).await?;
    let nanos = at.unix_timestamp_nanos();
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        (nanos / 1_000_000_000) as u64,
        (nanos % 1_000_000_000) as u32,
    );
    let d = Delivery {
        id: DeliveryId(uuid::Uuid::new_v7(ts)),
        created_at: at,
        ..with_status(delivery(&event, rule), status)
    };
    store
        .insert_deliveries(t.org, event.id, slice::from_ref(&d))
        .await?;
    Ok(d)
}

/// Every failed delivery a walk in pages of `limit` finds, and the pages' sizes.
async fn walk_failed(
    store: &dyn Store,
    t: &Tenant,
    connection: switchyard_core::ConnectionId,
    range: (time::OffsetDateTime, time::OffsetDateTime),
    limit: u32,
) -> Result<Vec<DeliveryId>> {
    let mut found = Vec::new();
    let mut after = None;
    for _ in 0..20 {
        let page = store
            .failed_deliveries(t.org, connection, range.0, range.1, after, limit)
            .await?;
        ensure!(
            page.deliveries.len() <= limit as usize,
            "a page within its limit"
        );
        found.extend(page.deliveries.iter().map(|d| d.id));
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(found),
        }
    }
    anyhow::bail!("the walk did not end")
}

pub async fn failed_deliveries_are_found_by_connection_and_time(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let ours = stored_rule(store, &t, "user.created").await?;
    let other_connection = Connection {
        name: "another hook".into(),
        ..connection(&t.workspace)
    };
    store.create_connection(&other_connection).await?;
    let other_rule = rule(&other_connection, "user.created");
    store.create_rule(&other_rule).await?;
    let base = now() - Duration::hours(2);
    let at = |minutes: i64| base + Duration::minutes(minutes);
    use DeliveryStatus::*;
    let _before = delivery_at(store, &t, &ours, at(-10), Failed).await?;
    let d1 = delivery_at(store, &t, &ours, at(1), Failed).await?;
    let d2 = delivery_at(store, &t, &ours, at(2), Failed).await?;
    let _done = delivery_at(store, &t, &ours, at(3), Completed).await?;
    let _elsewhere = delivery_at(store, &t, &other_rule, at(4), Failed).await?;
    let d5 = delivery_at(store, &t, &ours, at(5), Failed).await?;
    let _after = delivery_at(store, &t, &ours, at(60), Failed).await?;
    let range = (at(0), at(60));

    let all = store
        .failed_deliveries(t.org, t.connection.id, range.0, range.1, None, 10)
        .await?;
    assert_eq!(
        all.deliveries.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![d1.id, d2.id, d5.id],
        "failed, this connection, in [from, to), oldest first"
    );
    assert_eq!(all.next, None);
    assert_eq!(all.deliveries[0], d1, "read back as written");
    for limit in [1, 2] {
        assert_eq!(
            walk_failed(store, &t, t.connection.id, range, limit).await?,
            vec![d1.id, d2.id, d5.id],
            "pages of {limit} neither skip nor repeat"
        );
    }

    // Restarted: no longer failed. Failed again by an attempt: found again.
    store
        .restart_delivery(t.org, d1.event, d1.id, now())
        .await?;
    assert_eq!(
        walk_failed(store, &t, t.connection.id, range, 10).await?,
        vec![d2.id, d5.id]
    );
    store.begin_attempt(t.org, d1.event, d1.id, now()).await?;
    store
        .finish_attempt(
            &d1,
            &record(
                attempt(&d1, 1, Outcome::RejectedClientError, 400),
                DeliveryStatus::Failed,
            ),
        )
        .await?;
    assert_eq!(
        walk_failed(store, &t, t.connection.id, range, 10).await?,
        vec![d1.id, d2.id, d5.id]
    );

    // Another organization finds nothing of this one's, even naming its connection.
    let other = tenant(store).await?;
    assert_eq!(
        walk_failed(store, &other, t.connection.id, range, 10).await?,
        Vec::<DeliveryId>::new()
    );
    Ok(())
}
