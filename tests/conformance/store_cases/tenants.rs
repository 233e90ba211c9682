//! `Tenants`: organizations and their keys.

use anyhow::Result;
use switchyard_core::domain::*;
use switchyard_core::ports::Store;

use time::Duration;

use super::super::store_fixtures::*;

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

pub async fn a_deleted_machine_key_is_gone_and_another_orgs_is_kept(
    store: &dyn Store,
) -> Result<()> {
    let t = tenant(store).await?;
    let other = tenant(store).await?;
    let key = machine_key(t.org);
    let kept = machine_key(t.org);
    let theirs = machine_key(other.org);
    for k in [&key, &kept, &theirs] {
        store.put_machine_key(k).await?;
    }
    assert!(
        !store.delete_machine_key(other.org, &key.access_key).await?,
        "another organization's key is not deleted"
    );
    assert_eq!(store.machine_key(&key.access_key).await?, Some(key.clone()));

    assert!(store.delete_machine_key(t.org, &key.access_key).await?);
    assert_eq!(store.machine_key(&key.access_key).await?, None);
    assert_eq!(store.machine_keys(t.org).await?, vec![kept]);
    assert_eq!(store.machine_keys(other.org).await?, vec![theirs]);
    assert!(
        !store.delete_machine_key(t.org, &key.access_key).await?,
        "already gone"
    );
    Ok(())
}
