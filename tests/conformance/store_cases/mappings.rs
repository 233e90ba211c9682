//! `Mappings`.

use anyhow::{Result, ensure};
use switchyard_core::StoreError;
use switchyard_core::page::PageRequest;
use switchyard_core::ports::Store;

use super::super::store_fixtures::*;

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
