//! Typed identifiers: a rule id cannot be passed where a connection id is expected.
//!
//! The contract says ids are UUIDs; we mint v7 so they sort by creation time, which makes
//! cursor pagination stable without a second index.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

id_type!(
    /// An organization: the billing and credential boundary.
    OrgId,
    /// A workspace: the isolation boundary for connections, rules and history.
    WorkspaceId,
    /// A configured destination inside a workspace.
    ConnectionId,
    /// A routing rule: event type (+ filters) → connection action.
    RuleId,
    /// An event accepted by ingest.
    EventId,
    /// One event delivered through one rule (the contract's `rule_event`).
    DeliveryId,
    /// One try at a delivery.
    AttemptId,
);
