//! `KeyClaims`: idempotency keys and OAuth states, each claimed once.

use anyhow::{Result, ensure};
use switchyard_core::ports::Store;

use switchyard_core::EventId;
use time::Duration;

use super::super::store_fixtures::*;

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
