//! Typed identifiers: a rule id cannot be passed where a connection id is expected.
//!
//! The contract says ids are UUIDs; we mint v7 so they sort by creation time, which makes
//! cursor pagination stable without a second index. Organization ids are the exception: the
//! official clients refuse an organization id that is not a UUID of version 1–5, so those are
//! v4 (nothing pages by them).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident = $mint:path),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new id, minted by the type's UUID version.
            pub fn new() -> Self {
                Self($mint())
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
    /// An organization: the billing and credential boundary. Random (v4), as the clients
    /// require.
    OrgId = Uuid::new_v4,
    /// A workspace: the isolation boundary for connections, rules and history.
    WorkspaceId = Uuid::now_v7,
    /// A configured destination inside a workspace.
    ConnectionId = Uuid::now_v7,
    /// A routing rule: event type (+ filters) → connection action.
    RuleId = Uuid::now_v7,
    /// An event accepted by ingest.
    EventId = Uuid::now_v7,
    /// One event delivered through one rule (the contract's `rule_event`).
    DeliveryId = Uuid::now_v7,
    /// An embed session: one workspace's access for one of a customer's users.
    SessionId = Uuid::now_v7,
    /// One try at a delivery.
    AttemptId = Uuid::now_v7,
);

/// Below every UUIDv7 minted at or after `t` and above every one minted before: the bound that
/// turns a time range into an id range (v7 ids start with their Unix time in milliseconds).
pub fn v7_floor(t: time::OffsetDateTime) -> Uuid {
    let ms = (t.unix_timestamp_nanos() / 1_000_000).clamp(0, (1 << 48) - 1) as u128;
    Uuid::from_u128(ms << 80)
}

impl OrgId {
    /// Whether the official clients accept this id: an RFC 4122 UUID of version 1–5. Ids
    /// minted before organizations were v4 (v7) are refused there.
    pub fn is_client_compatible(self) -> bool {
        self.0.get_variant() == uuid::Variant::RFC4122
            && (1..=5).contains(&self.0.get_version_num())
    }
}

/// The random bits of a UUIDv7 (the low 62), where [`EventId::nth`] counts.
const V7_RANDOM: u128 = (1 << 62) - 1;

impl EventId {
    /// The id of item `index` of a request whose first item is `self`: the same UUIDv7 with
    /// `index` added to its random bits, so an idempotent retry of a bulk request names the
    /// same events without storing a list of them.
    pub fn nth(self, index: usize) -> Self {
        let bits = self.0.as_u128();
        let random = (bits & V7_RANDOM).wrapping_add(index as u128) & V7_RANDOM;
        Self(Uuid::from_u128((bits & !V7_RANDOM) | random))
    }

    /// The `index` for which `first.nth(index)` is this id: its position in that request.
    pub fn position_after(self, first: EventId) -> usize {
        ((self.0.as_u128() & V7_RANDOM).wrapping_sub(first.0.as_u128() & V7_RANDOM) & V7_RANDOM)
            as usize
    }

    /// The smallest UUIDv7 minted at epoch millisecond `ms`: every id minted then or later
    /// sorts at or above it (as a number and as hyphenated text), every earlier one below.
    pub fn floor_at_ms(ms: u64) -> Uuid {
        let ms = u128::from(ms.min((1 << 48) - 1));
        Uuid::from_u128((ms << 80) | (0x7 << 76) | (0b10 << 62))
    }

    /// When the id was minted (UUIDv7's millisecond timestamp), if it is a v7 id.
    pub fn minted_at_ms(self) -> Option<u64> {
        let (secs, nanos) = self.0.get_timestamp()?.to_unix();
        Some(secs * 1000 + u64::from(nanos) / 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ids_floor_bounds_it_by_its_millisecond() {
        let id = EventId::new();
        let ms = id.minted_at_ms().unwrap();
        let (floor, next) = (EventId::floor_at_ms(ms), EventId::floor_at_ms(ms + 1));
        assert!(floor <= id.0 && id.0 < next);
        assert!(floor.hyphenated().to_string() <= id.to_string());
        assert!(id.to_string() < next.hyphenated().to_string());
        assert_eq!(EventId(floor).minted_at_ms(), Some(ms));
    }

    #[test]
    fn nth_ids_are_distinct_v7_ids_of_the_same_instant() {
        let first = EventId::new();
        let ids: Vec<EventId> = (0..100).map(|i| first.nth(i)).collect();
        assert_eq!(ids[0], first);
        let unique: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), 100);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(id.position_after(first), i);
        }
        for id in &ids {
            assert_eq!(id.0.get_version_num(), 7);
            assert_eq!(id.0.get_variant(), uuid::Variant::RFC4122);
            assert_eq!(id.minted_at_ms(), first.minted_at_ms());
        }
    }

    #[test]
    fn organization_ids_are_v4_and_the_rest_time_ordered_v7() {
        let org = OrgId::new();
        assert_eq!(org.0.get_version_num(), 4);
        assert!(org.is_client_compatible());
        assert!(!OrgId(Uuid::now_v7()).is_client_compatible());
        assert_eq!(WorkspaceId::new().0.get_version_num(), 7);
    }

    #[test]
    fn nth_wraps_inside_the_random_bits() {
        let max = EventId(Uuid::from_u128(Uuid::now_v7().as_u128() | ((1 << 62) - 1)));
        let next = max.nth(1);
        assert_eq!(next.0.get_version_num(), 7);
        assert_eq!(next.minted_at_ms(), max.minted_at_ms());
        assert_ne!(next, max);
    }
}
