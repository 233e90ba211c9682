//! `Events`: filters and routing marks.

use anyhow::Result;
use switchyard_core::page::PageRequest;
use switchyard_core::ports::{EventFilter, Store};

use super::ids;
use switchyard_core::EventId;

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
    store.mark_routed(t.org, ev.id).await?;
    store.mark_routed(t.org, ev.id).await?;
    assert!(store.is_routed(t.org, ev.id).await?);
    assert!(!store.is_routed(t.org, EventId::new()).await?);
    Ok(())
}
