//! The domain, in the contract's words: organizations own workspaces; a workspace owns
//! connections, rules and events; an event routed through a rule is a delivery, tried in attempts.

mod branding;
mod catalog;
mod connection;
mod credential;
mod delivery;
mod event;
mod rule;
mod session;
mod workspace;

pub use branding::{Branding, BrandingInput, Theme};
pub use catalog::{CatalogEntry, CatalogKind};
pub use connection::{
    AUTHENTICATION_INVALID, Connection, InactiveReason, IntegrationType, SecretsError,
};
pub use credential::{MachineKey, Organization, PublishableKey};
pub use delivery::{Attempt, Delivery, DeliveryStatus};
pub use event::{Event, EventStatus};
pub use rule::{Rule, RuleFilter};
pub use session::{Access, LaunchPage, PAYLOAD_READ_SCOPE, Session, SessionRole, SessionType};
pub use workspace::Workspace;
