use async_trait::async_trait;

use crate::domain::*;
use crate::page::{Page, PageRequest};
use crate::{EventId, OrgId, StoreError, WorkspaceId};

/// The filters of `GET /events`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventFilter {
    pub workspace: Option<WorkspaceId>,
    pub event: Option<String>,
    pub resource: Option<String>,
    pub resource_id: Option<String>,
    /// Extension: only events whose derived status ([`EventStatus::derive`]) is this one.
    pub status: Option<EventStatus>,
    /// Extension: only events received at or after this instant (epoch ms; the event id's
    /// UUIDv7 time, so the id order that pages serves the range too).
    pub since_ms: Option<u64>,
    /// Extension: only events received before this instant (epoch ms, exclusive).
    pub until_ms: Option<u64>,
}

impl EventFilter {
    /// The id bounds of the time range: `lower <= id < upper`.
    pub fn id_bounds(&self) -> (Option<uuid::Uuid>, Option<uuid::Uuid>) {
        (
            self.since_ms.map(EventId::floor_at_ms),
            self.until_ms.map(EventId::floor_at_ms),
        )
    }
}

/// The accepted events and whether the router has expanded them.
#[async_trait]
pub trait Events: Send + Sync + 'static {
    async fn insert_event(&self, event: &Event) -> Result<(), StoreError>;

    /// Stores events whose ids were minted for this request (nothing can be stored under
    /// them yet): a store may write them in bulk, without a per-event condition. By default,
    /// one [`Events::insert_event`] each.
    async fn insert_new_events(&self, events: &[Event]) -> Result<(), StoreError> {
        for event in events {
            self.insert_event(event).await?;
        }
        Ok(())
    }

    async fn event(&self, org: OrgId, id: EventId) -> Result<Option<Event>, StoreError>;

    async fn list_events(
        &self,
        org: OrgId,
        filter: &EventFilter,
        page: PageRequest,
    ) -> Result<Page<Event>, StoreError>;

    /// Whether the event was routed: set by [`super::Deliveries::insert_deliveries`], in the
    /// write that stores its deliveries.
    async fn is_routed(&self, org: OrgId, id: EventId) -> Result<bool, StoreError>;
}
