//! The `Store` port's conformance cases. Each takes `&dyn Store`, so every adapter (SQLite
//! here, DynamoDB on moto later) runs the same cases and must show the same behaviour.

use std::slice;

use anyhow::{Result, ensure};
use switchyard_core::StoreError;
use switchyard_core::domain::*;
use switchyard_core::outcome::Outcome;
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::{AttemptRecord, EventFilter, Store};
use switchyard_core::{AttemptId, DeliveryId, EventId, OrgId, WorkspaceId};
use time::Duration;
use uuid::Uuid;

use super::store_fixtures::*;

fn page(limit: u32, cursor: Option<Uuid>) -> PageRequest {
    PageRequest { limit, cursor }
}

fn ids<T>(page: &Page<T>, id: impl Fn(&T) -> Uuid) -> Vec<Uuid> {
    page.records.iter().map(id).collect()
}

/// A record that ends an attempt: the attempt and the delivery's next status.
fn record(attempt: Attempt, status: DeliveryStatus) -> AttemptRecord {
    let retrying = status == DeliveryStatus::Retrying;
    AttemptRecord {
        last_error: attempt.error.clone(),
        next_attempt_at: retrying.then(|| attempt.started_at + Duration::minutes(1)),
        attempt,
        status,
    }
}

pub async fn records_read_back_as_written(store: &dyn Store) -> Result<()> {
    let org = organization();
    store.create_organization(&org).await?;
    assert_eq!(store.organization(org.id).await?, Some(org.clone()));
    assert_eq!(store.organization(OrgId::new()).await?, None);

    let ws = workspace(org.id, "production");
    store.create_workspace(&ws).await?;
    assert_eq!(store.workspace(org.id, ws.id).await?, Some(ws.clone()));

    let mut conn = connection(&ws);
    conn.hidden = true;
    store.create_connection(&conn).await?;
    assert_eq!(store.connection(org.id, conn.id).await?, Some(conn.clone()));

    let mut no_secrets = connection(&ws);
    no_secrets.secrets = None;
    store.create_connection(&no_secrets).await?;
    assert_eq!(
        store.connection(org.id, no_secrets.id).await?,
        Some(no_secrets)
    );

    let mut r = rule(&conn, "user.created");
    r.resource = Some("user".into());
    r.resource_id = Some("u_1".into());
    r.active = false;
    store.create_rule(&r).await?;
    assert_eq!(store.rule(org.id, r.id).await?, Some(r.clone()));

    let ev = event(&ws, "user.created");
    store.insert_event(&ev).await?;
    assert_eq!(store.event(org.id, ev.id).await?, Some(ev.clone()));

    let mut d = delivery(&ev, &r);
    d.status = DeliveryStatus::Retrying;
    d.attempt_count = 2;
    d.started_at = Some(now());
    d.next_attempt_at = Some(now() + Duration::minutes(5));
    d.last_error = Some("HTTP 503".into());
    let stored = store
        .insert_deliveries(org.id, ev.id, slice::from_ref(&d))
        .await?;
    assert_eq!(stored, vec![d.clone()]);
    assert_eq!(store.delivery(org.id, d.id).await?, Some(d));
    Ok(())
}

pub async fn workspace_names_are_unique_per_org(store: &dyn Store) -> Result<()> {
    let a = organization();
    let b = organization();
    store
        .create_workspace(&workspace(a.id, "production"))
        .await?;

    let taken = store.create_workspace(&workspace(a.id, "production")).await;
    assert!(
        matches!(taken, Err(StoreError::Conflict(_))),
        "second workspace of the same name in one org: {taken:?}"
    );
    store.create_workspace(&workspace(a.id, "staging")).await?;
    store
        .create_workspace(&workspace(b.id, "production"))
        .await?;

    let names: Vec<String> = store
        .list_workspaces(a.id, PageRequest::default())
        .await?
        .records
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, ["staging", "production"]);
    assert_eq!(
        store
            .list_workspaces(b.id, PageRequest::default())
            .await?
            .records
            .len(),
        1
    );
    Ok(())
}

pub async fn another_orgs_ids_read_as_absent(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let r = stored_rule(store, &t, "user.created").await?;
    let ev = stored_event(store, &t, "user.created").await?;
    let d = delivery(&ev, &r);
    store
        .insert_deliveries(t.org, ev.id, slice::from_ref(&d))
        .await?;
    store.begin_attempt(t.org, d.id, now()).await?;
    let a = attempt(&d, 1, Outcome::RejectedServerError, 503);
    store
        .finish_attempt(t.org, &record(a.clone(), DeliveryStatus::Retrying))
        .await?;
    store
        .put_publishable_key(&publishable_key(&t.workspace, "web"))
        .await?;

    let other = tenant(store).await?.org;
    let all = PageRequest::default();

    assert_eq!(store.workspace(other, t.workspace.id).await?, None);
    assert_eq!(store.connection(other, t.connection.id).await?, None);
    assert_eq!(store.rule(other, r.id).await?, None);
    assert_eq!(store.event(other, ev.id).await?, None);
    assert_eq!(store.delivery(other, d.id).await?, None);
    assert!(store.deliveries_for_event(other, ev.id).await?.is_empty());
    assert!(store.attempts(other, d.id).await?.is_empty());
    assert!(
        store
            .publishable_keys(other, t.workspace.id)
            .await?
            .is_empty()
    );
    assert!(
        store
            .active_rules(other, t.workspace.id, "user.created")
            .await?
            .is_empty()
    );

    // Lists, even when filtered by the first tenant's workspace.
    let other_workspaces = ids(&store.list_workspaces(other, all).await?, |w| w.id.0);
    assert!(!other_workspaces.contains(&t.workspace.id.0));
    let ws = Some(t.workspace.id);
    assert!(
        store
            .list_connections(other, ws, all)
            .await?
            .records
            .is_empty()
    );
    let rule_filter = RuleFilter {
        workspace: ws,
        ..RuleFilter::default()
    };
    assert!(
        store
            .list_rules(other, &rule_filter, all)
            .await?
            .records
            .is_empty()
    );
    let event_filter = EventFilter {
        workspace: ws,
        ..EventFilter::default()
    };
    assert!(
        store
            .list_events(other, &event_filter, all)
            .await?
            .records
            .is_empty()
    );
    assert!(
        store
            .list_events(other, &EventFilter::default(), all)
            .await?
            .records
            .is_empty()
    );

    // Writes through another org's ids change nothing. (An event without deliveries: an
    // adapter may mark an event routed when its deliveries are inserted.)
    let unrouted = stored_event(store, &t, "user.created").await?;
    store.mark_routed(other, unrouted.id).await?;
    assert!(!store.is_routed(t.org, unrouted.id).await?);
    assert!(!store.is_routed(other, unrouted.id).await?);
    assert_eq!(store.begin_attempt(other, d.id, now()).await?, None);
    let before = store.delivery(t.org, d.id).await?;
    let foreign = attempt(&d, 2, Outcome::Delivered, 200);
    let refused = store
        .finish_attempt(other, &record(foreign, DeliveryStatus::Completed))
        .await;
    ensure!(
        refused.is_err(),
        "finish_attempt through another org: {refused:?}"
    );
    assert_eq!(store.delivery(t.org, d.id).await?, before);
    assert_eq!(store.attempts(t.org, d.id).await?, vec![a]);
    Ok(())
}

/// The paginated lists, driven alike by the pagination case.
#[derive(Clone, Copy, Debug)]
enum Listed {
    Workspaces,
    Connections,
    Rules,
    Events,
}

async fn create_listed(store: &dyn Store, t: &Tenant, kind: Listed) -> Result<Uuid> {
    Ok(match kind {
        Listed::Workspaces => {
            let ws = workspace(t.org, &format!("ws-{}", Uuid::new_v4()));
            store.create_workspace(&ws).await?;
            ws.id.0
        }
        Listed::Connections => {
            let conn = connection(&t.workspace);
            store.create_connection(&conn).await?;
            conn.id.0
        }
        Listed::Rules => stored_rule(store, t, "user.created").await?.id.0,
        Listed::Events => stored_event(store, t, "user.created").await?.id.0,
    })
}

async fn list_listed(
    store: &dyn Store,
    t: &Tenant,
    kind: Listed,
    req: PageRequest,
) -> Result<Page<Uuid>> {
    let ws = Some(t.workspace.id);
    Ok(match kind {
        Listed::Workspaces => store.list_workspaces(t.org, req).await?.map(|w| w.id.0),
        Listed::Connections => store
            .list_connections(t.org, ws, req)
            .await?
            .map(|c| c.id.0),
        Listed::Rules => {
            let filter = RuleFilter {
                workspace: ws,
                event: Some("user.created".into()),
                ..RuleFilter::default()
            };
            store.list_rules(t.org, &filter, req).await?.map(|r| r.id.0)
        }
        Listed::Events => {
            let filter = EventFilter {
                workspace: ws,
                ..EventFilter::default()
            };
            store
                .list_events(t.org, &filter, req)
                .await?
                .map(|e| e.id.0)
        }
    })
}

pub async fn lists_are_newest_first_and_paginate_without_skips_or_repeats(
    store: &dyn Store,
) -> Result<()> {
    for kind in [
        Listed::Workspaces,
        Listed::Connections,
        Listed::Rules,
        Listed::Events,
    ] {
        let t = tenant(store).await?;
        let mut originals = match kind {
            Listed::Workspaces => vec![t.workspace.id.0],
            Listed::Connections => vec![t.connection.id.0],
            Listed::Rules | Listed::Events => vec![],
        };
        for _ in 0..7 {
            originals.push(create_listed(store, &t, kind).await?);
        }

        let mut seen = Vec::new();
        let mut cursor = None;
        let mut newest = None;
        for _ in 0..originals.len() {
            let p = list_listed(store, &t, kind, page(3, cursor)).await?;
            assert!(p.records.len() <= 3, "{kind:?}: page over its limit");
            assert_eq!(p.limit, 3);
            seen.extend(p.records.iter().copied());
            // Records arriving mid-walk are newer than any cursor and must not show up.
            newest = Some(create_listed(store, &t, kind).await?);
            match p.next_cursor {
                Some(next) => {
                    assert_eq!(
                        Some(&next),
                        p.records.last(),
                        "{kind:?}: cursor is the last id"
                    );
                    cursor = Some(next);
                }
                None => break,
            }
        }
        let expected: Vec<Uuid> = originals.iter().rev().copied().collect();
        assert_eq!(
            seen, expected,
            "{kind:?}: newest first, each original exactly once"
        );

        let fresh = list_listed(store, &t, kind, page(1, None)).await?;
        assert_eq!(
            fresh.records.first().copied(),
            newest,
            "{kind:?}: fresh page"
        );
    }
    Ok(())
}

pub async fn rule_filters_apply(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let staging = workspace(t.org, "staging");
    store.create_workspace(&staging).await?;
    let staging_conn = connection(&staging);
    store.create_connection(&staging_conn).await?;

    let mut user_1 = rule(&t.connection, "user.created");
    user_1.resource = Some("user".into());
    user_1.resource_id = Some("u_1".into());
    let mut user_any = rule(&t.connection, "user.created");
    user_any.resource = Some("user".into());
    let order = rule(&t.connection, "order.paid");
    let elsewhere = rule(&staging_conn, "user.created");
    for r in [&user_1, &user_any, &order, &elsewhere] {
        store.create_rule(r).await?;
    }

    let listed = |filter: RuleFilter| async move {
        let p = store
            .list_rules(t.org, &filter, PageRequest::default())
            .await?;
        Ok::<_, anyhow::Error>(ids(&p, |r| r.id.0))
    };
    let ws = Some(t.workspace.id);
    assert_eq!(
        listed(RuleFilter::default()).await?,
        [elsewhere.id.0, order.id.0, user_any.id.0, user_1.id.0]
    );
    assert_eq!(
        listed(RuleFilter {
            workspace: ws,
            ..Default::default()
        })
        .await?,
        [order.id.0, user_any.id.0, user_1.id.0]
    );
    assert_eq!(
        listed(RuleFilter {
            event: Some("user.created".into()),
            ..Default::default()
        })
        .await?,
        [elsewhere.id.0, user_any.id.0, user_1.id.0]
    );
    assert_eq!(
        listed(RuleFilter {
            workspace: ws,
            event: Some("user.created".into()),
            ..Default::default()
        })
        .await?,
        [user_any.id.0, user_1.id.0]
    );
    assert_eq!(
        listed(RuleFilter {
            resource: Some("user".into()),
            ..Default::default()
        })
        .await?,
        [user_any.id.0, user_1.id.0]
    );
    assert_eq!(
        listed(RuleFilter {
            resource: Some("user".into()),
            resource_id: Some("u_1".into()),
            ..Default::default()
        })
        .await?,
        [user_1.id.0]
    );
    assert!(
        listed(RuleFilter {
            workspace: Some(WorkspaceId::new()),
            ..Default::default()
        })
        .await?
        .is_empty()
    );
    Ok(())
}

pub async fn event_and_connection_filters_apply(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let staging = workspace(t.org, "staging");
    store.create_workspace(&staging).await?;
    let staging_conn = connection(&staging);
    store.create_connection(&staging_conn).await?;

    let all = PageRequest::default();
    let conns = |ws| async move {
        let p = store.list_connections(t.org, ws, all).await?;
        Ok::<_, anyhow::Error>(ids(&p, |c| c.id.0))
    };
    assert_eq!(conns(None).await?, [staging_conn.id.0, t.connection.id.0]);
    assert_eq!(conns(Some(staging.id)).await?, [staging_conn.id.0]);

    let created = stored_event(store, &t, "user.created").await?;
    let mut other_user = event(&t.workspace, "user.created");
    other_user.resource_id = Some("u_2".into());
    store.insert_event(&other_user).await?;
    let mut order = event(&t.workspace, "order.paid");
    order.resource = "order".into();
    order.resource_id = None;
    store.insert_event(&order).await?;
    let elsewhere = event(&staging, "user.created");
    store.insert_event(&elsewhere).await?;

    let events = |filter: EventFilter| async move {
        let p = store.list_events(t.org, &filter, all).await?;
        Ok::<_, anyhow::Error>(ids(&p, |e| e.id.0))
    };
    assert_eq!(
        events(EventFilter::default()).await?,
        [elsewhere.id.0, order.id.0, other_user.id.0, created.id.0]
    );
    assert_eq!(
        events(EventFilter {
            workspace: Some(t.workspace.id),
            ..Default::default()
        })
        .await?,
        [order.id.0, other_user.id.0, created.id.0]
    );
    assert_eq!(
        events(EventFilter {
            workspace: Some(t.workspace.id),
            event: Some("user.created".into()),
            ..Default::default()
        })
        .await?,
        [other_user.id.0, created.id.0]
    );
    assert_eq!(
        events(EventFilter {
            resource: Some("order".into()),
            ..Default::default()
        })
        .await?,
        [order.id.0]
    );
    assert_eq!(
        events(EventFilter {
            resource: Some("user".into()),
            resource_id: Some("u_2".into()),
            ..Default::default()
        })
        .await?,
        [other_user.id.0]
    );
    Ok(())
}

pub async fn active_rules_exclude_inactive_and_other_event_types_and_workspaces(
    store: &dyn Store,
) -> Result<()> {
    let t = tenant(store).await?;
    let staging = workspace(t.org, "staging");
    store.create_workspace(&staging).await?;
    let staging_conn = connection(&staging);
    store.create_connection(&staging_conn).await?;

    let first = stored_rule(store, &t, "user.created").await?;
    let mut inactive = rule(&t.connection, "user.created");
    inactive.active = false;
    store.create_rule(&inactive).await?;
    stored_rule(store, &t, "order.paid").await?;
    store
        .create_rule(&rule(&staging_conn, "user.created"))
        .await?;
    let second = stored_rule(store, &t, "user.created").await?;

    let active = store
        .active_rules(t.org, t.workspace.id, "user.created")
        .await?;
    assert_eq!(active, vec![first, second], "active rules, oldest first");
    assert!(
        store
            .active_rules(t.org, t.workspace.id, "user.deleted")
            .await?
            .is_empty()
    );
    Ok(())
}

pub async fn events_are_marked_routed(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let ev = stored_event(store, &t, "user.created").await?;
    assert!(!store.is_routed(t.org, ev.id).await?);
    store.mark_routed(t.org, ev.id).await?;
    store.mark_routed(t.org, ev.id).await?;
    assert!(store.is_routed(t.org, ev.id).await?);
    assert!(!store.is_routed(t.org, EventId::new()).await?);
    Ok(())
}

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

    // Routing again mints new ids; the (event, rule) pair already delivered keeps its first.
    let d1_again = delivery(&ev, &r1);
    let d2 = delivery(&ev, &r2);
    let all = store
        .insert_deliveries(t.org, ev.id, &[d1_again.clone(), d2.clone()])
        .await?;
    assert_eq!(all, vec![d1.clone(), d2.clone()]);
    assert_eq!(store.delivery(t.org, d1_again.id).await?, None);
    assert_eq!(
        store
            .insert_deliveries(t.org, ev.id, &[d1.clone(), d2.clone()])
            .await?,
        all
    );
    assert_eq!(store.insert_deliveries(t.org, ev.id, &[]).await?, all);
    assert_eq!(store.deliveries_for_event(t.org, ev.id).await?, all);

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
            .begin_attempt(t.org, d.id, first)
            .await?
            .ok_or_else(|| anyhow::anyhow!("{status} delivery refused"))?;
        assert_eq!(begun.status, DeliveryStatus::Processing);
        assert_eq!(begun.started_at, Some(first));
        assert_eq!(begun.updated_at, first);
        // Stored now, or left as it was until the attempt is recorded (the port allows both).
        let stored = store.delivery(t.org, d.id).await?;
        let persisted = stored.as_ref() == Some(&begun);
        ensure!(
            persisted || stored.as_ref() == Some(&d),
            "begin_attempt stored something else: {stored:?}"
        );

        // A second begin (a redelivered message) keeps a stored first start time.
        let later = first + Duration::seconds(30);
        let again = store.begin_attempt(t.org, d.id, later).await?;
        let again = again.ok_or_else(|| anyhow::anyhow!("processing delivery refused"))?;
        if persisted {
            assert_eq!(again.started_at, Some(first));
        }
        assert_eq!(again.updated_at, later);

        // Recording the attempt leaves the delivery's start at the first attempt's.
        let mut a = attempt(&d, 1, Outcome::RejectedServerError, 503);
        a.started_at = first;
        let done = store
            .finish_attempt(t.org, &record(a, DeliveryStatus::Retrying))
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
            store.begin_attempt(t.org, d.id, now()).await?,
            None,
            "{status}"
        );
        assert_eq!(
            store.delivery(t.org, d.id).await?,
            Some(d),
            "{status} unchanged"
        );
    }
    assert_eq!(
        store.begin_attempt(t.org, DeliveryId::new(), now()).await?,
        None
    );
    Ok(())
}

pub async fn finish_attempt_records_attempt_and_moves_status(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let d = stored_delivery(store, &t).await?;
    // Minted in reverse so that ordering by number, not id, is what is observed.
    let second_id = AttemptId::new();

    store.begin_attempt(t.org, d.id, now()).await?;
    let first = attempt(&d, 1, Outcome::RejectedServerError, 503);
    let retry = record(first.clone(), DeliveryStatus::Retrying);
    let after_first = store.finish_attempt(t.org, &retry).await?;
    assert_eq!(after_first.status, DeliveryStatus::Retrying);
    assert_eq!(after_first.attempt_count, 1);
    assert_eq!(after_first.next_attempt_at, retry.next_attempt_at);
    assert_eq!(after_first.last_error.as_deref(), Some("HTTP 503"));
    assert_eq!(after_first.completed_at, None);
    assert_eq!(store.delivery(t.org, d.id).await?, Some(after_first));

    store.begin_attempt(t.org, d.id, now()).await?;
    let mut second = attempt(&d, 2, Outcome::Delivered, 200);
    second.id = second_id;
    let done = store
        .finish_attempt(t.org, &record(second.clone(), DeliveryStatus::Completed))
        .await?;
    assert_eq!(done.status, DeliveryStatus::Completed);
    assert_eq!(done.attempt_count, 2);
    assert_eq!(done.next_attempt_at, None);
    assert_eq!(done.last_error, None);
    let ended = second.started_at + Duration::milliseconds(second.duration_ms as i64);
    assert_eq!(done.completed_at, Some(ended));
    assert_eq!(store.delivery(t.org, d.id).await?, Some(done));
    assert_eq!(store.attempts(t.org, d.id).await?, vec![first, second]);

    // Failing for good also completes the delivery's life.
    let f = stored_delivery(store, &t).await?;
    store.begin_attempt(t.org, f.id, now()).await?;
    let rejected = attempt(&f, 1, Outcome::RejectedClientError, 400);
    let failed = store
        .finish_attempt(t.org, &record(rejected.clone(), DeliveryStatus::Failed))
        .await?;
    assert_eq!(failed.status, DeliveryStatus::Failed);
    assert_eq!(failed.attempt_count, 1);
    assert!(failed.completed_at.is_some());
    assert_eq!(failed.last_error.as_deref(), Some("HTTP 400"));
    assert_eq!(store.attempts(t.org, f.id).await?, vec![rejected]);

    let missing = attempt(&d, 1, Outcome::Delivered, 200);
    let mut missing = record(missing, DeliveryStatus::Completed);
    missing.attempt.delivery = DeliveryId::new();
    ensure!(store.finish_attempt(t.org, &missing).await.is_err());
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
        let after = store
            .finish_attempt(t.org, &record(a.clone(), next))
            .await?;
        assert_eq!(
            after.status,
            DeliveryStatus::Canceled,
            "after a {next} attempt"
        );
        assert_eq!(after.attempt_count, 1);
        assert_eq!(after.next_attempt_at, None, "no retry is scheduled for it");
        assert_eq!(store.delivery(t.org, d.id).await?, Some(after));
        assert_eq!(store.attempts(t.org, d.id).await?, vec![a]);
        assert_eq!(store.begin_attempt(t.org, d.id, now()).await?, None);
    }
    Ok(())
}

pub async fn publishable_key_lookup_by_hash(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let old = publishable_key(&t.workspace, "web");
    store.put_publishable_key(&old).await?;
    let mut new = publishable_key(&t.workspace, "web");
    new.created_at = old.created_at + Duration::seconds(1);
    store.put_publishable_key(&new).await?;
    let staging = workspace(t.org, "staging");
    store.create_workspace(&staging).await?;
    let elsewhere = publishable_key(&staging, "web");
    store.put_publishable_key(&elsewhere).await?;

    assert_eq!(
        store.publishable_key(&old.key_hash).await?,
        Some(old.clone())
    );
    assert_eq!(
        store.publishable_key(&elsewhere.key_hash).await?,
        Some(elsewhere)
    );
    assert_eq!(store.publishable_key("sha256:unknown").await?, None);
    assert_eq!(
        store.publishable_keys(t.org, t.workspace.id).await?,
        vec![new.clone(), old.clone()]
    );

    // Rotation puts the old key again with an expiry.
    let rotated = PublishableKey {
        expires_at: Some(now() + Duration::hours(24)),
        ..old
    };
    store.put_publishable_key(&rotated).await?;
    assert_eq!(
        store.publishable_key(&rotated.key_hash).await?,
        Some(rotated.clone())
    );
    assert_eq!(
        store.publishable_keys(t.org, t.workspace.id).await?,
        vec![new, rotated]
    );
    Ok(())
}

pub async fn machine_key_lookup(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let key = machine_key(t.org);
    store.put_machine_key(&key).await?;
    store.put_machine_key(&machine_key(t.org)).await?;

    assert_eq!(store.machine_key(&key.access_key).await?, Some(key.clone()));
    assert_eq!(store.machine_key("ak_unknown").await?, None);

    let revoked = MachineKey {
        revoked_at: Some(now()),
        ..key
    };
    store.put_machine_key(&revoked).await?;
    assert_eq!(store.machine_key(&revoked.access_key).await?, Some(revoked));
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
        let canceled = store.cancel_delivery(t.org, d.id, now()).await?;
        assert_eq!(
            canceled.map(|c| c.status),
            Some(DeliveryStatus::Canceled),
            "from {status}"
        );
        assert_eq!(store.begin_attempt(t.org, d.id, now()).await?, None);
    }
    for status in [
        DeliveryStatus::Completed,
        DeliveryStatus::Failed,
        DeliveryStatus::Canceled,
    ] {
        let d = stored_delivery_with(store, &t, status).await?;
        assert_eq!(
            store.cancel_delivery(t.org, d.id, now()).await?,
            None,
            "from {status}"
        );
        assert_eq!(
            store.delivery(t.org, d.id).await?.map(|d| d.status),
            Some(status)
        );
    }
    let other = tenant(store).await?;
    let d = stored_delivery_with(store, &t, DeliveryStatus::Pending).await?;
    assert_eq!(store.cancel_delivery(other.org, d.id, now()).await?, None);
    assert_eq!(
        store.delivery(t.org, d.id).await?.map(|d| d.status),
        Some(DeliveryStatus::Pending)
    );
    Ok(())
}

pub async fn restart_begins_a_fresh_schedule(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let d = stored_delivery_with(store, &t, DeliveryStatus::Pending).await?;
    store.begin_attempt(t.org, d.id, now()).await?;
    let failed = store
        .finish_attempt(
            t.org,
            &record(
                attempt(&d, 1, Outcome::RejectedServerError, 500),
                DeliveryStatus::Failed,
            ),
        )
        .await?;
    assert_eq!(failed.status, DeliveryStatus::Failed);

    let restarted = store
        .restart_delivery(t.org, d.id, now())
        .await?
        .expect("restartable");
    assert_eq!(restarted.status, DeliveryStatus::Pending);
    assert_eq!(restarted.attempt_count, 1, "earlier attempts are kept");
    assert_eq!(restarted.schedule_base, 1);
    assert_eq!(restarted.completed_at, None);
    assert_eq!(store.attempts(t.org, d.id).await?.len(), 1);
    assert!(store.begin_attempt(t.org, d.id, now()).await?.is_some());
    // Pending or processing: a retry is already under way.
    assert_eq!(store.restart_delivery(t.org, d.id, now()).await?, None);
    let other = tenant(store).await?;
    assert_eq!(store.restart_delivery(other.org, d.id, now()).await?, None);
    Ok(())
}

pub async fn updates_and_deletes_are_scoped_by_org(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let other = tenant(store).await?;

    let mut ws = t.workspace.clone();
    ws.name = "renamed".into();
    ws.description = None;
    let mut foreign = ws.clone();
    foreign.org = other.org;
    assert!(
        !store.update_workspace(&foreign).await?,
        "another org cannot rename it"
    );
    assert!(store.update_workspace(&ws).await?);
    assert_eq!(store.workspace(t.org, ws.id).await?, Some(ws.clone()));
    let taken = workspace(t.org, "taken");
    store.create_workspace(&taken).await?;
    let mut clash = ws.clone();
    clash.name = "taken".into();
    assert!(matches!(
        store.update_workspace(&clash).await,
        Err(StoreError::Conflict(_))
    ));

    let mut conn = t.connection.clone();
    conn.name = "renamed hook".into();
    conn.hidden = true;
    let mut foreign = conn.clone();
    foreign.org = other.org;
    assert!(!store.update_connection(&foreign).await?);
    assert!(store.update_connection(&conn).await?);
    assert_eq!(store.connection(t.org, conn.id).await?, Some(conn.clone()));

    let a = stored_rule(store, &t, "user.created").await?;
    let b = stored_rule(store, &t, "user.deleted").await?;
    let by_connection = RuleFilter {
        connection: Some(conn.id),
        ..Default::default()
    };
    let page = PageRequest::default();
    assert_eq!(
        store
            .list_rules(t.org, &by_connection, page)
            .await?
            .records
            .len(),
        2
    );
    let unrelated = RuleFilter {
        connection: Some(other.connection.id),
        ..Default::default()
    };
    assert!(
        store
            .list_rules(t.org, &unrelated, page)
            .await?
            .records
            .is_empty()
    );

    assert!(!store.delete_rule(other.org, a.id).await?);
    assert!(store.delete_rule(t.org, a.id).await?);
    assert_eq!(store.rule(t.org, a.id).await?, None);
    assert!(!store.delete_rule(t.org, a.id).await?);

    assert!(!store.delete_connection(other.org, conn.id).await?);
    assert!(store.delete_connection(t.org, conn.id).await?);
    assert_eq!(store.connection(t.org, conn.id).await?, None);
    assert_eq!(store.rule(t.org, b.id).await?, None, "its rules go with it");
    assert!(
        store
            .connection(other.org, other.connection.id)
            .await?
            .is_some()
    );
    Ok(())
}

pub async fn catalog_keeps_first_seen_keys_per_workspace(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let other = tenant(store).await?;
    let entry = |t: &Tenant, kind, key: &str, at| CatalogEntry {
        org: t.org,
        workspace: t.workspace.id,
        kind,
        key: key.into(),
        created_at: at,
    };
    let first = now();
    let later = first + Duration::seconds(5);
    store
        .add_to_catalog(&[
            entry(&t, CatalogKind::EventType, "user.signup", first),
            entry(&t, CatalogKind::Resource, "user", first),
        ])
        .await?;
    store
        .add_to_catalog(&[
            entry(&t, CatalogKind::EventType, "user.signup", later),
            entry(&t, CatalogKind::EventType, "invoice.paid", later),
            entry(&other, CatalogKind::EventType, "secret.thing", later),
        ])
        .await?;
    let types = store
        .catalog(t.org, t.workspace.id, CatalogKind::EventType)
        .await?;
    assert_eq!(
        types,
        vec![
            entry(&t, CatalogKind::EventType, "invoice.paid", later),
            entry(&t, CatalogKind::EventType, "user.signup", first),
        ]
    );
    let resources = store
        .catalog(t.org, t.workspace.id, CatalogKind::Resource)
        .await?;
    assert_eq!(
        resources,
        vec![entry(&t, CatalogKind::Resource, "user", first)]
    );
    assert!(
        store
            .catalog(other.org, t.workspace.id, CatalogKind::EventType)
            .await?
            .is_empty()
    );
    Ok(())
}

pub async fn machine_keys_are_listed_per_org_and_revoked_in_place(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let other = tenant(store).await?;
    let first = machine_key(t.org);
    let mut second = machine_key(t.org);
    second.created_at = first.created_at + Duration::seconds(1);
    store.put_machine_key(&first).await?;
    store.put_machine_key(&second).await?;
    store.put_machine_key(&machine_key(other.org)).await?;
    assert_eq!(
        store.machine_keys(t.org).await?,
        vec![first.clone(), second.clone()]
    );

    let mut revoked = first.clone();
    revoked.revoked_at = Some(now());
    store.put_machine_key(&revoked).await?;
    assert_eq!(
        store.machine_keys(t.org).await?,
        vec![revoked.clone(), second]
    );
    assert_eq!(store.machine_key(&first.access_key).await?, Some(revoked));
    Ok(())
}

pub async fn rule_conditions_read_back_as_written(store: &dyn Store) -> Result<()> {
    use switchyard_core::conditions::Conditions;

    let t = tenant(store).await?;
    let mut filtered = rule(&t.connection, "order.placed");
    // Floats, large integers and nesting must survive the adapter's encoding unchanged.
    filtered.conditions = Some(
        Conditions::parse(&serde_json::json!({"all": [
            {"path": "payload.plan", "equals": "pro"},
            {"any": [
                {"path": "payload.country", "in": ["DE", "FR", 49]},
                {"not": {"path": "payload.email", "suffix": "@test.com"}}
            ]},
            {"path": "payload.amount", "gte": 100.0, "lt": 18_446_744_073_709_551_615u64},
            {"path": "payload.items.0.sku", "prefix": "A-"},
            {"path": "resource_id", "exists": true}
        ]}))
        .map_err(|e| anyhow::anyhow!("fixture conditions: {e:?}"))?,
    );
    store.create_rule(&filtered).await?;
    let plain = stored_rule(store, &t, "order.placed").await?;
    ensure!(plain.conditions.is_none());

    assert_eq!(
        store.rule(t.org, filtered.id).await?,
        Some(filtered.clone())
    );
    assert_eq!(store.rule(t.org, plain.id).await?, Some(plain.clone()));
    assert_eq!(
        store
            .active_rules(t.org, t.workspace.id, "order.placed")
            .await?,
        vec![filtered.clone(), plain]
    );
    let listed = store
        .list_rules(t.org, &RuleFilter::default(), PageRequest::default())
        .await?;
    ensure!(listed.records.contains(&filtered));
    Ok(())
}

pub async fn idempotency_keys_are_claimed_once_per_workspace_until_expiry(
    store: &dyn Store,
) -> Result<()> {
    let t = tenant(store).await?;
    let other = tenant(store).await?;
    let (first, second) = (EventId::new(), EventId::new());
    let start = now();
    let until = start + Duration::hours(24);
    let ws = t.workspace.id;
    assert_eq!(
        store
            .claim_idempotency_key(t.org, ws, "k1", first, start, until)
            .await?,
        None
    );
    assert_eq!(
        store
            .claim_idempotency_key(t.org, ws, "k1", second, start, until)
            .await?,
        Some(first),
        "a repeated key names the first event"
    );
    // Another workspace or organization has its own keys.
    let elsewhere = other.workspace.id;
    assert_eq!(
        store
            .claim_idempotency_key(other.org, elsewhere, "k1", second, start, until)
            .await?,
        None
    );
    // Expired claims give way.
    let later = until + Duration::seconds(1);
    let again = later + Duration::hours(24);
    assert_eq!(
        store
            .claim_idempotency_key(t.org, ws, "k1", second, later, again)
            .await?,
        None
    );
    assert_eq!(
        store
            .claim_idempotency_key(t.org, ws, "k1", first, later, again)
            .await?,
        Some(second)
    );
    Ok(())
}

pub async fn idempotency_claims_are_read_and_released_only_by_their_holder(
    store: &dyn Store,
) -> Result<()> {
    let t = tenant(store).await?;
    let ws = t.workspace.id;
    let (first, second) = (EventId::new(), EventId::new());
    let start = now();
    let until = start + Duration::hours(24);
    ensure!(
        store
            .idempotency_claim(t.org, ws, "k2", start)
            .await?
            .is_none()
    );
    ensure!(
        store
            .claim_idempotency_key(t.org, ws, "k2", first, start, until)
            .await?
            .is_none()
    );
    ensure!(store.idempotency_claim(t.org, ws, "k2", start).await? == Some(first));
    ensure!(
        store
            .idempotency_claim(t.org, ws, "k2", until + Duration::seconds(1))
            .await?
            .is_none(),
        "an expired claim reads as none"
    );
    // Only the holder releases it.
    store
        .release_idempotency_key(t.org, ws, "k2", second)
        .await?;
    ensure!(store.idempotency_claim(t.org, ws, "k2", start).await? == Some(first));
    store
        .release_idempotency_key(t.org, ws, "k2", first)
        .await?;
    ensure!(
        store
            .idempotency_claim(t.org, ws, "k2", start)
            .await?
            .is_none()
    );
    ensure!(
        store
            .claim_idempotency_key(t.org, ws, "k2", second, start, until)
            .await?
            .is_none(),
        "a released key is free for a fresh request"
    );
    Ok(())
}

pub async fn connection_mappings_are_versioned_scoped_and_deleted_with_their_connection(
    store: &dyn Store,
) -> Result<()> {
    use switchyard_core::mapping::{FieldMapping, VersionedMapping};

    let parse = |body: serde_json::Value| {
        FieldMapping::parse(&body).map_err(|e| anyhow::anyhow!("fixture mapping: {e:?}"))
    };
    // Floats, large integers and nested literals must survive the adapter's encoding.
    let first = parse(serde_json::json!({"schema_version": 1, "fields": [
        {"dest": "email", "source": {"type": "path", "value": "user.email"},
         "transforms": [{"type": "trim"}, {"type": "lower"}], "on_error": "fail_action"},
        {"dest": "score", "source": {"type": "literal", "value": {"n": 1.5, "big": 18_446_744_073_709_551_615u64}},
         "transforms": [{"type": "substring", "start": 0, "length": 10}], "on_error": "skip_field"}
    ]}))?;
    let second = parse(serde_json::json!({"schema_version": 1, "fields": [
        {"dest": "text", "source": {"type": "path", "value": "email"},
         "transforms": [{"type": "default", "value": "unknown"}], "on_error": "warn_action"}
    ]}))?;
    let t = tenant(store).await?;
    let other = tenant(store).await?;
    let id = t.connection.id;

    // Times in whole milliseconds, as both adapters keep them.
    let (at1, at2) = (
        time::macros::datetime!(2026-03-01 10:00:00.123 UTC),
        time::macros::datetime!(2026-03-02 11:30:00.456 UTC),
    );
    ensure!(store.connection_mapping(t.org, id).await?.is_none());
    ensure!(
        store
            .put_connection_mapping(t.org, id, &first, 0, at1)
            .await?
            == 1
    );
    let v1 = VersionedMapping {
        mapping: first.clone(),
        version: 1,
        created_at: at1,
        updated_at: at1,
    };
    assert_eq!(store.connection_mapping(t.org, id).await?, Some(v1.clone()));

    // A writer that has not seen version 1 (or guesses ahead) changes nothing.
    for stale in [0, 2, 7, u64::MAX] {
        let e = store
            .put_connection_mapping(t.org, id, &second, stale, at2)
            .await;
        ensure!(
            matches!(e, Err(StoreError::Conflict(_))),
            "expected {stale}: {e:?}"
        );
    }
    assert_eq!(store.connection_mapping(t.org, id).await?, Some(v1));
    ensure!(
        store
            .put_connection_mapping(t.org, id, &second, 1, at2)
            .await?
            == 2
    );
    // A later version keeps the first one's creation time.
    assert_eq!(
        store.connection_mapping(t.org, id).await?,
        Some(VersionedMapping {
            mapping: second.clone(),
            version: 2,
            created_at: at1,
            updated_at: at2,
        })
    );

    // Another organization neither reads it nor writes over it.
    ensure!(store.connection_mapping(other.org, id).await?.is_none());
    ensure!(
        store
            .put_connection_mapping(other.org, other.connection.id, &first, 0, at1)
            .await?
            == 1
    );
    ensure!(
        store
            .connection_mapping(t.org, id)
            .await?
            .map(|m| m.version)
            == Some(2)
    );
    // A mapping is not a connection: lists are unchanged.
    let listed = store
        .list_connections(t.org, None, PageRequest::default())
        .await?;
    assert_eq!(listed.records, vec![t.connection.clone()]);

    // Deleting the connection deletes its mapping, and only its own.
    ensure!(store.delete_connection(t.org, id).await?);
    ensure!(store.connection_mapping(t.org, id).await?.is_none());
    ensure!(
        store
            .connection_mapping(other.org, other.connection.id)
            .await?
            .is_some()
    );
    Ok(())
}

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

/// The compare-and-set write two processes refreshing one OAuth token rely on: the first
/// writer of a version wins, a second writer that read the same version is refused.
pub async fn connection_updates_can_be_conditional_on_what_was_read(
    store: &dyn Store,
) -> Result<()> {
    use switchyard_core::keyring::Sealed;
    let t = tenant(store).await?;
    let read = store
        .connection(t.org, t.connection.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("connection missing"))?;
    let mut first = read.clone();
    first.secrets = Some(Sealed("v1.local1.Zmlyc3Q".into()));
    first.updated_at = read.updated_at + Duration::milliseconds(5);
    assert!(
        store
            .update_connection_if_unchanged(&first, read.updated_at)
            .await?
    );
    let mut second = read.clone();
    second.secrets = Some(Sealed("v1.local1.c2Vjb25k".into()));
    second.updated_at = read.updated_at + Duration::milliseconds(7);
    assert!(
        !store
            .update_connection_if_unchanged(&second, read.updated_at)
            .await?,
        "the version moved: the second writer loses"
    );
    assert_eq!(store.connection(t.org, read.id).await?, Some(first.clone()));

    let other = tenant(store).await?;
    let mut foreign = first.clone();
    foreign.org = other.org;
    assert!(
        !store
            .update_connection_if_unchanged(&foreign, first.updated_at)
            .await?,
        "another org's connection reads as absent"
    );
    let mut absent = first.clone();
    absent.id = switchyard_core::ConnectionId::new();
    assert!(
        !store
            .update_connection_if_unchanged(&absent, first.updated_at)
            .await?
    );
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

/// Awaits `calls` all at once, or one after another.
async fn all<T>(
    concurrent: bool,
    calls: impl IntoIterator<Item = impl Future<Output = T>>,
) -> Vec<T> {
    if concurrent {
        return futures::future::join_all(calls).await;
    }
    let mut out = Vec::new();
    for call in calls {
        out.push(call.await);
    }
    out
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

/// A replay on request claims the delivery: of 50 concurrent replays of one completed
/// delivery exactly one wins; another within the window is refused even after the replayed
/// attempt completed; after the window one may replay again.
pub async fn concurrent_replays_of_one_delivery_have_one_winner(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let d = stored_delivery_with(store, &t, DeliveryStatus::Pending).await?;
    let complete = |number: u32| {
        let d = d.clone();
        async move {
            store.begin_attempt(t.org, d.id, now()).await?;
            store
                .finish_attempt(
                    t.org,
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
    let replays =
        futures::future::join_all((0..50).map(|_| store.replay_delivery(t.org, d.id, at, since)))
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
            .replay_delivery(t.org, d.id, soon, soon - Duration::seconds(5))
            .await?
            .is_none()
    );
    let later = at + Duration::seconds(6);
    let again = store
        .replay_delivery(t.org, d.id, later, later - Duration::seconds(5))
        .await?;
    ensure!(again.is_some_and(|d| d.schedule_base == 2));
    // Another organization cannot replay it.
    let other = tenant(store).await?;
    let far = at + Duration::hours(1);
    ensure!(
        store
            .replay_delivery(other.org, d.id, far, far - Duration::seconds(5))
            .await?
            .is_none()
    );
    Ok(())
}

/// An OAuth state is spent once: of 50 concurrent uses exactly one succeeds; it stays spent
/// until its expiry; another organization's nonce is its own.
pub async fn oauth_states_are_spent_once(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let at = now();
    let expires = at + Duration::minutes(10);
    let uses = futures::future::join_all(
        (0..50).map(|_| store.consume_oauth_state(t.org, "nonce-1", at, expires)),
    )
    .await
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    ensure!(
        uses.iter().filter(|u| **u).count() == 1,
        "uses that succeeded: {uses:?}"
    );
    let later = at + Duration::minutes(9);
    ensure!(
        !store
            .consume_oauth_state(t.org, "nonce-1", later, expires)
            .await?
    );
    ensure!(
        store
            .consume_oauth_state(t.org, "nonce-2", at, expires)
            .await?
    );
    let other = tenant(store).await?;
    ensure!(
        store
            .consume_oauth_state(other.org, "nonce-1", at, expires)
            .await?
    );
    // After its expiry the marker no longer matters (the state itself is refused as expired).
    let after = expires + Duration::seconds(1);
    ensure!(
        store
            .consume_oauth_state(t.org, "nonce-1", after, after + Duration::minutes(10))
            .await?
    );
    Ok(())
}
