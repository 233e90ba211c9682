//! Tenant scoping across every role: what one organization writes, another never reads or changes.

use std::slice;

use anyhow::{Result, ensure};
use switchyard_core::StoreError;
use switchyard_core::domain::*;
use switchyard_core::outcome::Outcome;
use switchyard_core::page::PageRequest;
use switchyard_core::ports::{EventFilter, Store};

use super::{ids, record};
use switchyard_core::OrgId;
use time::Duration;

use super::super::store_fixtures::*;

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
    assert_eq!(store.delivery(org.id, d.event, d.id).await?, Some(d));
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
    store.begin_attempt(t.org, d.event, d.id, now()).await?;
    let a = attempt(&d, 1, Outcome::RejectedServerError, 503);
    store
        .finish_attempt(&d, &record(a.clone(), DeliveryStatus::Retrying))
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
    assert_eq!(store.delivery(other, d.event, d.id).await?, None);
    assert!(store.deliveries_for_event(other, ev.id).await?.is_empty());
    assert!(store.attempts(other, d.event, d.id).await?.is_empty());
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

    // Writes through another org's ids change nothing: routing another org's event (with no
    // deliveries) is refused or stores nothing, and leaves it unrouted.
    let unrouted = stored_event(store, &t, "user.created").await?;
    ensure!(
        store
            .insert_deliveries(other, unrouted.id, &[])
            .await
            .map_or(true, |stored| stored.is_empty()),
        "routing another org's event stored deliveries"
    );
    assert!(!store.is_routed(t.org, unrouted.id).await?);
    assert!(!store.is_routed(other, unrouted.id).await?);
    assert_eq!(
        store.begin_attempt(other, d.event, d.id, now()).await?,
        None
    );
    let before = store.delivery(t.org, d.event, d.id).await?;
    let foreign = attempt(&d, 2, Outcome::Delivered, 200);
    let refused = store
        .finish_attempt(
            &Delivery {
                org: other,
                ..d.clone()
            },
            &record(foreign, DeliveryStatus::Completed),
        )
        .await;
    ensure!(
        refused.is_err(),
        "finish_attempt through another org: {refused:?}"
    );
    assert_eq!(store.delivery(t.org, d.event, d.id).await?, before);
    assert_eq!(store.attempts(t.org, d.event, d.id).await?, vec![a]);
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
