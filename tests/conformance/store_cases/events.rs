//! `Events`: filters and routing marks.

use anyhow::Result;
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::{EventFilter, Store};

use super::{ids, page, record};
use switchyard_core::EventId;
use switchyard_core::domain::{DeliveryStatus, Event, EventStatus};
use switchyard_core::outcome::Outcome;
use uuid::Uuid;

use super::super::store_fixtures::*;

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

pub async fn events_are_marked_routed(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let ev = stored_event(store, &t, "user.created").await?;
    assert!(!store.is_routed(t.org, ev.id).await?);
    // Routing is storing the event's deliveries (none here), and idempotent.
    store.insert_deliveries(t.org, ev.id, &[]).await?;
    store.insert_deliveries(t.org, ev.id, &[]).await?;
    assert!(store.is_routed(t.org, ev.id).await?);
    assert!(!store.is_routed(t.org, EventId::new()).await?);
    Ok(())
}

/// The status filter follows `EventStatus::derive` through each kind of delivery write, with
/// three deliveries: under way, canceled, failed, restarted and completed — SQLite's
/// shortcuts in its triggers and its full reading alike.
pub async fn event_status_follows_every_delivery_write(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let e = stored_event(store, &t, "user.created").await?;
    let mut deliveries = Vec::new();
    for _ in 0..3 {
        let rule = stored_rule(store, &t, "user.created").await?;
        deliveries.push(delivery(&e, &rule));
    }
    let [a, b, c] = [deliveries[0].id, deliveries[1].id, deliveries[2].id];
    let listed_as = || async {
        let mut found = Vec::new();
        for status in [
            EventStatus::Pending,
            EventStatus::Processing,
            EventStatus::Completed,
            EventStatus::Failed,
        ] {
            let filter = EventFilter {
                workspace: Some(t.workspace.id),
                status: Some(status),
                ..Default::default()
            };
            let listed = store
                .list_events(t.org, &filter, PageRequest::default())
                .await?;
            if listed.records.iter().any(|x| x.id == e.id) {
                found.push(status);
            }
        }
        Ok::<_, anyhow::Error>(found)
    };
    let expect = |step: &'static str| async move {
        let statuses: Vec<DeliveryStatus> = store
            .deliveries_for_event(t.org, e.id)
            .await?
            .iter()
            .map(|d| d.status)
            .collect();
        let derived = EventStatus::derive(&statuses, store.is_routed(t.org, e.id).await?);
        assert_eq!(listed_as().await?, vec![derived], "{step}: {statuses:?}");
        Ok::<_, anyhow::Error>(derived)
    };
    let of = |id| {
        deliveries
            .iter()
            .find(|d| d.id == id)
            .expect("one of three")
    };
    let end = |id, number, status| {
        let d = of(id);
        let outcome = match status {
            DeliveryStatus::Completed => Outcome::Delivered,
            DeliveryStatus::Failed => Outcome::RejectedClientError,
            _ => Outcome::RejectedServerError,
        };
        record(attempt(d, number, outcome, 500), status)
    };

    // Inserting the deliveries marks the event routed.
    store.insert_deliveries(t.org, e.id, &deliveries).await?;
    assert_eq!(expect("routed").await?, EventStatus::Pending);
    store.begin_attempt(t.org, e.id, a, now()).await?;
    // `processing` on SQLite; DynamoDB stores nothing when an attempt begins.
    expect("under way").await?;
    store
        .finish_attempt(of(a), &end(a, 1, DeliveryStatus::Retrying))
        .await?;
    assert_eq!(expect("retrying").await?, EventStatus::Processing);
    store.cancel_delivery(t.org, e.id, b, now()).await?;
    store.begin_attempt(t.org, e.id, c, now()).await?;
    store
        .finish_attempt(of(c), &end(c, 1, DeliveryStatus::Failed))
        .await?;
    assert_eq!(
        expect("one failed, one retrying").await?,
        EventStatus::Processing
    );
    store.begin_attempt(t.org, e.id, a, now()).await?;
    store
        .finish_attempt(of(a), &end(a, 2, DeliveryStatus::Completed))
        .await?;
    assert_eq!(expect("all final, one failed").await?, EventStatus::Failed);
    store.restart_delivery(t.org, e.id, c, now()).await?;
    assert_eq!(
        expect("the failure restarted").await?,
        EventStatus::Processing
    );
    store.begin_attempt(t.org, e.id, c, now()).await?;
    assert_eq!(
        expect("its attempt under way").await?,
        EventStatus::Processing
    );
    store
        .finish_attempt(of(c), &end(c, 2, DeliveryStatus::Completed))
        .await?;
    assert_eq!(
        expect("all final, none failed").await?,
        EventStatus::Completed
    );
    Ok(())
}

/// An event of the tenant's workspace whose id was minted `hours_ago` (ids carry the time the
/// range filters read).
fn event_at(t: &Tenant, name: &str, hours_ago: u64) -> Event {
    let now = u64::try_from(now().unix_timestamp()).expect("after 1970") * 1000;
    let floor = EventId::floor_at_ms(now - hours_ago * 3_600_000);
    let mut e = event(&t.workspace, name);
    e.id = EventId(Uuid::from_u128(
        floor.as_u128() | (Uuid::new_v4().as_u128() & ((1 << 62) - 1)),
    ));
    e
}

/// The extensions' filters: the derived status (as `EventStatus::derive` reads the
/// deliveries) and the time range (`since` inclusive, `until` exclusive), alone, together
/// and across pages.
pub async fn event_status_and_time_filters_apply(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let rule = stored_rule(store, &t, "user.created").await?;
    // Routed, with one delivery ending as `status` after one attempt (None: left pending).
    let routed = |hours_ago: u64, ends: Option<DeliveryStatus>| {
        let (t, rule) = (&t, &rule);
        async move {
            let e = event_at(t, "user.created", hours_ago);
            store.insert_event(&e).await?;
            let d = delivery(&e, rule);
            store
                .insert_deliveries(t.org, e.id, std::slice::from_ref(&d))
                .await?;
            match ends {
                Some(DeliveryStatus::Canceled) => {
                    store.cancel_delivery(t.org, d.event, d.id, now()).await?;
                }
                Some(status) => {
                    let outcome = match status {
                        DeliveryStatus::Completed => Outcome::Delivered,
                        DeliveryStatus::Failed => Outcome::RejectedClientError,
                        _ => Outcome::RejectedServerError,
                    };
                    store.begin_attempt(t.org, d.event, d.id, now()).await?;
                    let a = attempt(&d, 1, outcome, 500);
                    store.finish_attempt(&d, &record(a, status)).await?;
                }
                None => {}
            }
            Ok::<_, anyhow::Error>(e.id.0)
        }
    };
    let unrouted = event_at(&t, "user.created", 9);
    store.insert_event(&unrouted).await?;
    let waiting = routed(8, None).await?;
    let failed = routed(7, Some(DeliveryStatus::Failed)).await?;
    let retrying = routed(6, Some(DeliveryStatus::Retrying)).await?;
    let completed = routed(5, Some(DeliveryStatus::Completed)).await?;
    let canceled = routed(4, Some(DeliveryStatus::Canceled)).await?;
    let no_rule = event_at(&t, "order.paid", 3);
    store.insert_event(&no_rule).await?;
    store.insert_deliveries(t.org, no_rule.id, &[]).await?;

    // Half an hour past each event's hour, so the bounds never meet an event's own time.
    let hours_ago = |h: u64| {
        let now = u64::try_from(now().unix_timestamp()).expect("after 1970") * 1000;
        now - h * 3_600_000 - 1_800_000
    };
    let list = |filter: EventFilter, p: PageRequest| async move {
        let filter = EventFilter {
            workspace: Some(t.workspace.id),
            ..filter
        };
        Ok::<_, anyhow::Error>(store.list_events(t.org, &filter, p).await?)
    };
    let all = PageRequest::default();
    let status = |s| EventFilter {
        status: Some(s),
        ..Default::default()
    };
    let found = |p: Page<Event>| ids(&p, |e| e.id.0);
    assert_eq!(
        found(list(status(EventStatus::Failed), all).await?),
        [failed]
    );
    assert_eq!(
        found(list(status(EventStatus::Processing), all).await?),
        [retrying]
    );
    assert_eq!(
        found(list(status(EventStatus::Completed), all).await?),
        [no_rule.id.0, canceled, completed]
    );
    assert_eq!(
        found(list(status(EventStatus::Pending), all).await?),
        [waiting, unrouted.id.0]
    );

    let range = |since: Option<u64>, until: Option<u64>| EventFilter {
        since_ms: since.map(hours_ago),
        until_ms: until.map(hours_ago),
        ..Default::default()
    };
    assert_eq!(
        found(list(range(Some(4), None), all).await?),
        [no_rule.id.0, canceled]
    );
    assert_eq!(
        found(list(range(None, Some(7)), all).await?),
        [waiting, unrouted.id.0]
    );
    assert_eq!(
        found(list(range(Some(7), Some(5)), all).await?),
        [retrying, failed]
    );
    assert!(found(list(range(Some(5), Some(7)), all).await?).is_empty());
    let completed_earlier = EventFilter {
        status: Some(EventStatus::Completed),
        ..range(None, Some(4))
    };
    assert_eq!(found(list(completed_earlier, all).await?), [completed]);

    // One at a time: every page follows the cursor and the range's end together.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let p = list(
            EventFilter {
                status: Some(EventStatus::Completed),
                ..range(Some(6), None)
            },
            page(1, cursor),
        )
        .await?;
        seen.extend(ids(&p, |e| e.id.0));
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, [no_rule.id.0, canceled, completed]);
    Ok(())
}
