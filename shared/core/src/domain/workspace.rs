use time::OffsetDateTime;

use crate::{OrgId, WorkspaceId};

/// The isolation boundary: connections, rules and history belong to exactly one workspace.
#[derive(Clone, Debug, PartialEq)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub org: OrgId,
    pub name: String,
    pub description: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}
