//! `Rules`: filters, the router's query, conditions.

use anyhow::{Result, ensure};
use switchyard_core::domain::*;
use switchyard_core::page::PageRequest;
use switchyard_core::ports::Store;

use super::ids;
use switchyard_core::WorkspaceId;

use super::super::store_fixtures::*;

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

/// The active switch: an inactive rule stays stored but the router's query leaves it out;
/// another organization's rule id changes nothing.
pub async fn rules_are_switched_on_and_off_in_place(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let rule = stored_rule(store, &t, "user.created").await?;
    let active = || async {
        let rules = store
            .active_rules(t.org, t.workspace.id, "user.created")
            .await?;
        Ok::<_, anyhow::Error>(rules.iter().map(|r| r.id).collect::<Vec<_>>())
    };
    assert_eq!(active().await?, [rule.id]);

    let later = now() + time::Duration::seconds(5);
    let off = store
        .set_rule_active(t.org, rule.id, false, later)
        .await?
        .expect("the rule");
    assert!(!off.active);
    assert_eq!(off.updated_at, later);
    assert_eq!(off.event, rule.event);
    assert!(active().await?.is_empty());
    assert!(!store.rule(t.org, rule.id).await?.expect("kept").active);

    let other = tenant(store).await?;
    assert!(
        store
            .set_rule_active(other.org, rule.id, true, later)
            .await?
            .is_none()
    );
    assert!(active().await?.is_empty());

    store.set_rule_active(t.org, rule.id, true, later).await?;
    assert_eq!(active().await?, [rule.id]);
    Ok(())
}
