//! `Connections`.

use anyhow::Result;
use switchyard_core::ports::Store;

use time::Duration;

use super::super::store_fixtures::*;

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
