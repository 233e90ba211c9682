//! What lies within a caller's reach. A machine key reaches its whole organization (the
//! store's reads are already keyed by it); a session reaches its workspace and — a resource
//! session — only its resource's events and deliveries. Anything else reads as absent (404),
//! the same answer another organization's ids get, so ids outside the scope reveal nothing.

use switchyard_core::WorkspaceId;
use switchyard_core::domain::Event;
use switchyard_core::ports::EventFilter;

use super::auth::Caller;
use super::error::{ApiError, ApiResult};

impl Caller {
    /// 404 (as `what`) unless `workspace` is within reach.
    pub fn reach_workspace(&self, workspace: WorkspaceId, what: &str) -> ApiResult<()> {
        match self {
            Caller::Session(s) if s.workspace != workspace => Err(ApiError::not_found(what)),
            _ => Ok(()),
        }
    }

    /// The workspace a list is narrowed to: the one named, or — for a session — its own
    /// (naming another is a 404).
    pub fn list_workspace(&self, named: Option<WorkspaceId>) -> ApiResult<Option<WorkspaceId>> {
        match self {
            Caller::Machine(_) => Ok(named),
            Caller::Session(s) => {
                if let Some(ws) = named {
                    self.reach_workspace(ws, "Workspace")?;
                }
                Ok(Some(s.workspace))
            }
        }
    }

    /// 404 unless the event (and so its deliveries and attempts) is within reach.
    pub fn reach_event(&self, event: &Event) -> ApiResult<()> {
        self.reach_workspace(event.workspace, "Event")?;
        match self {
            Caller::Session(s)
                if !s.sees_resource(&event.resource, event.resource_id.as_deref()) =>
            {
                Err(ApiError::not_found("Event"))
            }
            _ => Ok(()),
        }
    }

    /// An event list's filter, narrowed to what the caller may see: a session's workspace
    /// and a resource session's resource. Asking for another resource is a 404.
    pub fn event_filter(&self, mut filter: EventFilter) -> ApiResult<EventFilter> {
        filter.workspace = self.list_workspace(filter.workspace)?;
        if let Caller::Session(s) = self
            && let (Some(resource), Some(resource_id)) = (&s.resource, &s.resource_id)
        {
            let conflicts =
                |asked: &Option<String>, own: &String| asked.as_ref().is_some_and(|a| a != own);
            if conflicts(&filter.resource, resource) || conflicts(&filter.resource_id, resource_id)
            {
                return Err(ApiError::not_found("Resource"));
            }
            filter.resource = Some(resource.clone());
            filter.resource_id = Some(resource_id.clone());
        }
        Ok(filter)
    }
}

/// The loads every route makes of a path's id: the organization's record, then the reach
/// check — so a route cannot load without checking.
impl Caller {
    pub async fn workspace(
        &self,
        deps: &crate::Deps,
        id: WorkspaceId,
    ) -> ApiResult<switchyard_core::domain::Workspace> {
        self.reach_workspace(id, "Workspace")?;
        super::load_workspace(deps, self.org(), id).await
    }

    pub async fn connection(
        &self,
        deps: &crate::Deps,
        id: switchyard_core::ConnectionId,
    ) -> ApiResult<switchyard_core::domain::Connection> {
        let connection = super::load_connection(deps, self.org(), id).await?;
        self.reach_workspace(connection.workspace, "Connection")?;
        Ok(connection)
    }

    pub async fn rule(
        &self,
        deps: &crate::Deps,
        id: switchyard_core::RuleId,
    ) -> ApiResult<switchyard_core::domain::Rule> {
        let rule = deps
            .rules()
            .rule(self.org(), id)
            .await?
            .ok_or_else(|| ApiError::not_found("Rule"))?;
        self.reach_workspace(rule.workspace, "Rule")?;
        Ok(rule)
    }

    pub async fn event(
        &self,
        deps: &crate::Deps,
        id: switchyard_core::EventId,
    ) -> ApiResult<Event> {
        let event = deps
            .events()
            .event(self.org(), id)
            .await?
            .ok_or_else(|| ApiError::not_found("Event"))?;
        self.reach_event(&event)?;
        Ok(event)
    }
}
