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
