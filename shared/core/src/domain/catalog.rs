use time::OffsetDateTime;

use crate::{OrgId, WorkspaceId};

/// The two per-workspace catalogs: event types and resources seen or configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CatalogKind {
    EventType,
    Resource,
}

impl CatalogKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EventType => "event_type",
            Self::Resource => "resource",
        }
    }
}

/// One key of a workspace's catalog (`user.signup`, `invoice`), first seen at `created_at`.
#[derive(Clone, Debug, PartialEq)]
pub struct CatalogEntry {
    pub org: OrgId,
    pub workspace: WorkspaceId,
    pub kind: CatalogKind,
    pub key: String,
    pub created_at: OffsetDateTime,
}
