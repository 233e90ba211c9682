use time::OffsetDateTime;

use crate::keyring::Sealed;
use crate::{OrgId, WorkspaceId};

/// The tenant that owns workspaces and machine keys.
#[derive(Clone, Debug, PartialEq)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub created_at: OffsetDateTime,
}

/// A machine key: the access key is public (the JWT `kid`), the secret signs JWTs and is
/// stored sealed because HS256 needs it back to verify.
#[derive(Clone, Debug, PartialEq)]
pub struct MachineKey {
    pub access_key: String,
    pub org: OrgId,
    pub name: String,
    pub secret: Sealed,
    pub created_at: OffsetDateTime,
    /// When the key stops working. In the future for a console session's key: its session's end.
    pub revoked_at: Option<OffsetDateTime>,
}

impl MachineKey {
    /// Refused at `now`.
    pub fn is_revoked(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_some_and(|at| at <= now)
    }

    /// When a key that still works at `now` will stop by itself.
    pub fn expires_at(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.revoked_at.filter(|at| *at > now)
    }
}

/// A workspace's publishable key. Looked up by hash; the key itself is kept sealed so it can be
/// shown again on `GET /workspaces/{id}`.
#[derive(Clone, Debug, PartialEq)]
pub struct PublishableKey {
    pub key_hash: String,
    pub org: OrgId,
    pub workspace: WorkspaceId,
    pub name: String,
    pub key: Sealed,
    pub created_at: OffsetDateTime,
    /// Set when the key has been rotated out; it stops working after this instant.
    pub expires_at: Option<OffsetDateTime>,
}
