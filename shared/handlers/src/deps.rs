//! What every handler is given: the ports, the settings and the process's live state, built
//! once per process (per cold start on Lambda) and shared.

use std::sync::Arc;

use switchyard_core::Clock;
use switchyard_core::keyring::KeyRing;
use switchyard_core::ports::{
    Catalog, Connections, Deliveries, EventIntake, Events, Integration, KeyClaims, Mappings,
    Metering, Queue, QueueConsumer, Rules, Sessions, Store, Tenants, Workspaces,
};
use switchyard_core::retry::RetryPolicy;
use switchyard_core::webhook::UrlPolicy;

/// Configuration: fixed once the process has started.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub url_policy: UrlPolicy,
    pub retry: RetryPolicy,
    /// What each organization may use (unlimited by default).
    pub plan: switchyard_core::plan::PlanLimits,
}

/// What the handlers of one process share and change as they run, kept apart from the
/// configuration: rate-limit buckets, destination guards, OAuth refreshes in flight.
#[derive(Clone, Debug, Default)]
pub struct Live {
    /// Per-workspace ingest rate limits (unlimited by default).
    pub ingest_limiter: Arc<crate::limits::IngestLimiter>,
    /// Per-destination circuit breakers and fair shares of the attempts in flight.
    pub protection: Arc<crate::protection::Protection>,
    /// OAuth providers, the token endpoint client and refreshes in flight (none by default).
    pub oauth: Arc<crate::oauth::OAuth>,
}

#[derive(Clone)]
pub struct Deps {
    /// Every store role; handlers reach it through the role accessors below, so each module
    /// shows which roles it uses.
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    /// The receiving side, for the DLQ routes (list, redrive); `None` where this process may
    /// not operate the DLQs (the API answers 501).
    pub dead_letters: Option<Arc<dyn QueueConsumer>>,
    /// Ingest's write path: events and their routing messages, all or none.
    pub intake: Arc<dyn EventIntake>,
    pub keys: Arc<dyn KeyRing>,
    pub clock: Arc<dyn Clock>,
    pub integrations: Arc<dyn Integration>,
    pub settings: Settings,
    pub live: Live,
}

impl Deps {
    pub fn tenants(&self) -> &dyn Tenants {
        &*self.store
    }
    pub fn workspaces(&self) -> &dyn Workspaces {
        &*self.store
    }
    pub fn connections(&self) -> &dyn Connections {
        &*self.store
    }
    pub fn mappings(&self) -> &dyn Mappings {
        &*self.store
    }
    pub fn rules(&self) -> &dyn Rules {
        &*self.store
    }
    pub fn events(&self) -> &dyn Events {
        &*self.store
    }
    pub fn deliveries(&self) -> &dyn Deliveries {
        &*self.store
    }
    pub fn key_claims(&self) -> &dyn KeyClaims {
        &*self.store
    }
    pub fn metering(&self) -> &dyn Metering {
        &*self.store
    }
    pub fn catalog(&self) -> &dyn Catalog {
        &*self.store
    }
    pub fn sessions(&self) -> &dyn Sessions {
        &*self.store
    }

    /// Now, to the millisecond: the precision every stored time has.
    pub fn now(&self) -> time::OffsetDateTime {
        switchyard_core::clock::truncated_to_millis(self.clock.now())
    }
}
