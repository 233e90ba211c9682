//! `Catalog`.

use anyhow::Result;
use switchyard_core::domain::*;
use switchyard_core::ports::Store;

use time::Duration;

use super::super::store_fixtures::*;

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

/// A bulk request names the same key once per event that carries it, each seen a moment apart:
/// one call with a key twice keeps it once, first seen at its first time. (DynamoDB refuses a
/// batch read that names a key twice; a bulk of two `user.signup` events answered 500.)
pub async fn a_key_given_twice_in_one_call_is_kept_once(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let first = now();
    let entry = |at| CatalogEntry {
        org: t.org,
        workspace: t.workspace.id,
        kind: CatalogKind::EventType,
        key: "user.signup".into(),
        created_at: at,
    };
    store
        .add_to_catalog(&[entry(first), entry(first + Duration::milliseconds(1))])
        .await?;
    let types = store
        .catalog(t.org, t.workspace.id, CatalogKind::EventType)
        .await?;
    assert_eq!(types, vec![entry(first)]);
    Ok(())
}
