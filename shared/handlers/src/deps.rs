//! What every handler is given: the ports and the settings, built once per process (per cold
//! start on Lambda) and shared.

use std::sync::Arc;

use switchyard_core::Clock;
use switchyard_core::keyring::KeyRing;
use switchyard_core::ports::{EventIntake, Integration, Queue, Store};
use switchyard_core::retry::RetryPolicy;
use switchyard_core::webhook::UrlPolicy;

#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub url_policy: UrlPolicy,
    pub retry: RetryPolicy,
    /// Per-workspace ingest rate limits (unlimited by default).
    pub ingest_limiter: std::sync::Arc<crate::limits::IngestLimiter>,
    /// What each organization may use (unlimited by default).
    pub plan: switchyard_core::plan::PlanLimits,
    /// Per-connection circuit breakers and in-flight caps.
    pub protection: std::sync::Arc<crate::protection::Protection>,
    /// OAuth providers, the token endpoint client and refreshes in flight (none by default).
    pub oauth: std::sync::Arc<crate::oauth::OAuth>,
}

#[derive(Clone)]
pub struct Deps {
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    /// Ingest's write path: events and their routing messages, all or none.
    pub intake: Arc<dyn EventIntake>,
    pub keys: Arc<dyn KeyRing>,
    pub clock: Arc<dyn Clock>,
    pub integrations: Arc<dyn Integration>,
    pub settings: Settings,
}

impl Deps {
    /// Now, to the millisecond: the precision every stored time has.
    pub fn now(&self) -> time::OffsetDateTime {
        switchyard_core::clock::truncated_to_millis(self.clock.now())
    }
}
