//! The store, by role. Each handler and API module names the roles it uses; each adapter
//! implements every role, one file per role, and passes the conformance suite of each.

mod catalog;
mod connections;
mod deliveries;
mod events;
mod key_claims;
mod mappings;
mod metering;
mod rules;
mod sessions;
mod tenants;
mod workspaces;

pub use catalog::Catalog;
pub use connections::Connections;
pub use deliveries::{
    ATTEMPT_UNDER_WAY_AFTER, AttemptRecord, Deliveries, DeliveryCounts, FailedPage,
};
pub use events::{EventFilter, Events};
pub use key_claims::KeyClaims;
pub use mappings::Mappings;
pub use metering::Metering;
pub use rules::Rules;
pub use sessions::{SessionFilter, Sessions};
pub use tenants::Tenants;
pub use workspaces::Workspaces;

/// Every role: what a backend provides and what the runtime wires into the handlers.
///
/// Every read of a tenant's data takes the organization, so an unscoped lookup cannot be
/// written; an id of another organization reads as absent (the API answers 404).
pub trait Store:
    Tenants
    + Workspaces
    + Connections
    + Mappings
    + Rules
    + Events
    + Deliveries
    + KeyClaims
    + Metering
    + Catalog
    + Sessions
{
}

impl<T> Store for T where
    T: Tenants
        + Workspaces
        + Connections
        + Mappings
        + Rules
        + Events
        + Deliveries
        + KeyClaims
        + Metering
        + Catalog
        + Sessions
{
}
