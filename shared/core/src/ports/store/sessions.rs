use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::Session;
use crate::page::{Page, PageRequest};
use crate::{OrgId, SessionId, StoreError, WorkspaceId};

/// What `GET /sessions` narrows to; `None` means "any".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionFilter {
    pub workspace: Option<WorkspaceId>,
    /// `Some(true)`: revoked ones only; `Some(false)`: not revoked.
    pub revoked: Option<bool>,
    pub resource: Option<String>,
    pub resource_id: Option<String>,
}

/// Embed sessions. Tokens are stored as hashes only; a token names its organization and
/// session, so every read here is keyed by both.
#[async_trait]
pub trait Sessions: Send + Sync + 'static {
    async fn create_session(&self, session: &Session) -> Result<(), StoreError>;

    async fn session(&self, org: OrgId, id: SessionId) -> Result<Option<Session>, StoreError>;

    /// Newest first.
    async fn list_sessions(
        &self,
        org: OrgId,
        filter: &SessionFilter,
        page: PageRequest,
    ) -> Result<Page<Session>, StoreError>;

    /// Replaces the access token (by its hash) and its expiry, while the session is not
    /// revoked: `false` when it is revoked or absent (nothing written).
    async fn refresh_session(
        &self,
        org: OrgId,
        id: SessionId,
        token_hash: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Revokes the session at `at`; `false` when absent. Revoking twice keeps the first time.
    async fn revoke_session(
        &self,
        org: OrgId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Spends the session's launch token, given its hash: `true` exactly once — for the first
    /// call while the hash matches, the launch has not expired (`now`) and the session is not
    /// revoked; `false` for every other call, concurrent ones included.
    async fn spend_launch(
        &self,
        org: OrgId,
        id: SessionId,
        launch_hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}
