use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::domain::IntegrationType;
use crate::{ConnectionId, OrgId, RuleId, WorkspaceId};

/// Routes events of one type (optionally one resource / resource id) to a connection action.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub id: RuleId,
    pub org: OrgId,
    pub workspace: WorkspaceId,
    pub connection: ConnectionId,
    /// The connection's type, denormalised so listing rules needs no join.
    pub kind: IntegrationType,
    pub event: String,
    pub resource: Option<String>,
    pub resource_id: Option<String>,
    /// `{action, id?, value?, ...}` as the contract describes.
    pub metadata: Map<String, Value>,
    /// The extension's filter on the event; `None` matches every event the rest selects.
    pub conditions: Option<crate::conditions::Conditions>,
    pub active: bool,
    pub hidden: bool,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// The filters of `GET /rules`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleFilter {
    pub workspace: Option<WorkspaceId>,
    pub connection: Option<crate::ConnectionId>,
    pub event: Option<String>,
    pub resource: Option<String>,
    pub resource_id: Option<String>,
}
