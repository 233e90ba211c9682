use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{EventId, OrgId, StoreError, WorkspaceId};

/// Keys a request may claim once: `Idempotency-Key`s (until they expire) and OAuth states.
#[async_trait]
pub trait KeyClaims: Send + Sync + 'static {
    /// Claims an `Idempotency-Key` of a workspace for `event` until `expires_at`. Returns the
    /// event that already holds the key when an unexpired claim exists (nothing is written
    /// then); `None` when this call claimed it.
    async fn claim_idempotency_key(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        key: &str,
        event: EventId,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Option<EventId>, StoreError>;

    /// The event an unexpired claim of `key` names, if any. A read: nothing is claimed.
    async fn idempotency_claim(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<Option<EventId>, StoreError>;

    /// Releases `key` if `event` still holds it, so that the client's retry of a request that
    /// failed starts afresh.
    async fn release_idempotency_key(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        key: &str,
        event: EventId,
    ) -> Result<(), StoreError>;

    /// Spends an OAuth authorisation state, by its nonce, until `expires_at` (the state's own
    /// expiry): `true` for the first use, `false` for any later one — a consent makes one
    /// connection however often its callback is replayed.
    async fn consume_oauth_state(
        &self,
        org: OrgId,
        nonce: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}
