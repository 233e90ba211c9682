//! The key design. Two on-demand tables, chosen so that every access pattern of the `Store`
//! port is a GetItem, a BatchGetItem or a Query on a partition that carries the organization —
//! no Scan anywhere but one of at most one item, at a `serve`'s start on a table without its
//! format marker (`format.rs`) — and so that a delivered event costs as few write units as possible
//! (docs/aws.md has the table of patterns and their costs).
//!
//! **config** (`pk`, `sk`; local index `by_scope` on `scope`): what tenants configure.
//!
//! | item | pk | sk | scope |
//! |---|---|---|---|
//! | organization | `ORG#<org>` | `ORG` | |
//! | workspace | `ORG#<org>` | `WS#<id>` | |
//! | workspace name (uniqueness) | `ORG#<org>` | `WSN#<name>` | |
//! | connection | `ORG#<org>` | `CN#<id>` | `CN#<ws>#<id>` |
//! | connection's field mapping | `ORG#<org>` | `MAP#<connection id>` | |
//! | rule | `ORG#<org>` | `RU#<id>` | `RU#<ws>#<len>:<event>#<id>` |
//! | catalog key | `ORG#<org>` | `CAT#<ws>#<kind>#<key>` | |
//! | machine key, by access key | `MK#<access key>` | `KEY` | |
//! | machine key, in its org | `ORG#<org>` | `MK#<access key>` | |
//! | publishable key, by hash | `PK#<hash>` | `KEY` | |
//! | publishable key, in its org | `ORG#<org>` | `PK#<ws>#<hash>` | |
//! | embed session (tokens as hashes) | `ORG#<org>` | `SE#<id>` | `SE#<ws>#<id>` |
//! | format marker (credential formats) | `SWITCHYARD` | `FORMAT` | |
//!
//! **history** (`pk`, `sk`; TTL on `ttl`; global index `failed_by_connection` on `conn`, `fsk`):
//! what happened, expiring after the retention period.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | event (+ `r_<rule>` = the rule's claim, its delivery until attempted; `rt` = routed) | `EV#<org>#<shard>` | `<event id>` |
//! | event payload, when too large to keep inline | `EV#<org>#<shard>` | `<event id>#P` |
//! | delivery, from its first attempt, carrying its attempts in `att` (+ `fsk` = its id while failed) | `DL#<org>#<delivery id>` | `D` |
//! | an event's deliveries' successful first attempts (`a_<attempt id>`), when no item of their own holds them | `DL#<org>#<event id>` | `O` |
//! | `Idempotency-Key` claim (expires by TTL) | `IK#<org>#<ws>#<key>` | `K` |
//!
//! No partition is written by every event of an organization: events spread over
//! [`EVENT_SHARDS`] partitions by the low bits of their id; deliveries and claims have a
//! partition each.
//!
//! Ids are UUID v7 text (organizations' are v4: nothing sorts by them), so a sort key ending in an id sorts by creation time and newest-first
//! pages are a descending Query. The event name inside a rule's scope is length-prefixed
//! because event names may contain `#`.

use switchyard_core::domain::CatalogKind;
use switchyard_core::{ConnectionId, DeliveryId, EventId, OrgId, RuleId, SessionId, WorkspaceId};

pub(crate) const PK: &str = "pk";
pub(crate) const SK: &str = "sk";
pub(crate) const SCOPE: &str = "scope";
pub(crate) const TTL: &str = "ttl";
pub(crate) const SCOPE_INDEX: &str = "by_scope";
/// The history table's one global index: failed deliveries by connection (hash `conn`, the
/// delivery's connection; range `fsk`, its id, set only while it is failed — a sparse index).
pub(crate) const FAILED_INDEX: &str = "failed_by_connection";
pub(crate) const FAILED_HASH: &str = "conn";
pub(crate) const FAILED_SORT: &str = "fsk";

/// The sort key of the singleton items (organization, key lookups, a delivery).
pub(crate) const ORG_SK: &str = "ORG";
pub(crate) const LOOKUP_SK: &str = "KEY";
pub(crate) const DELIVERY_SK: &str = "D";

pub(crate) const WORKSPACES: &str = "WS#";
pub(crate) const CONNECTIONS: &str = "CN#";
pub(crate) const RULES: &str = "RU#";
pub(crate) const MACHINE_KEYS: &str = "MK#";
pub(crate) const SESSIONS: &str = "SE#";

pub(crate) fn org_pk(org: OrgId) -> String {
    format!("ORG#{org}")
}

pub(crate) fn workspace_sk(id: WorkspaceId) -> String {
    format!("{WORKSPACES}{id}")
}

pub(crate) fn workspace_name_sk(name: &str) -> String {
    format!("WSN#{name}")
}

pub(crate) fn connection_sk(id: ConnectionId) -> String {
    format!("{CONNECTIONS}{id}")
}

/// Not under `CN#`, which would put mappings in the connection lists' range.
pub(crate) fn mapping_sk(connection: ConnectionId) -> String {
    format!("MAP#{connection}")
}

pub(crate) fn connection_scope_prefix(ws: WorkspaceId) -> String {
    format!("{CONNECTIONS}{ws}#")
}

pub(crate) fn rule_sk(id: RuleId) -> String {
    format!("{RULES}{id}")
}

pub(crate) fn rule_scope_prefix(ws: WorkspaceId, event: &str) -> String {
    format!("{RULES}{ws}#{}:{event}#", event.len())
}

pub(crate) fn catalog_prefix(ws: WorkspaceId, kind: CatalogKind) -> String {
    format!("CAT#{ws}#{}#", kind.as_str())
}

pub(crate) fn session_sk(id: SessionId) -> String {
    format!("{SESSIONS}{id}")
}

pub(crate) fn session_scope_prefix(ws: WorkspaceId) -> String {
    format!("{SESSIONS}{ws}#")
}

pub(crate) fn machine_key_pk(access_key: &str) -> String {
    format!("{MACHINE_KEYS}{access_key}")
}

pub(crate) fn machine_key_org_sk(access_key: &str) -> String {
    format!("{MACHINE_KEYS}{access_key}")
}

pub(crate) fn publishable_key_pk(hash: &str) -> String {
    format!("PK#{hash}")
}

pub(crate) fn publishable_keys_prefix(ws: WorkspaceId) -> String {
    format!("PK#{ws}#")
}

/// Partitions an organization's events are spread over. Each DynamoDB partition takes about
/// 1,000 write units a second; an event costs two there (its insert, its routing claim), so 32
/// shards carry 16,000 one-KiB events a second for one organization before any of them
/// throttles, and a history page is 32 parallel Queries (docs/aws.md, "Keys that scale").
pub(crate) const EVENT_SHARDS: u32 = 32;

/// An event's shard, from the low bits of its id: random for a single event, consecutive for
/// the items of one bulk request (`EventId::nth`), so either way they spread evenly, and every
/// reader finds the event from its id alone.
pub(crate) fn event_shard(id: EventId) -> u32 {
    (id.0.as_u128() % u128::from(EVENT_SHARDS)) as u32
}

/// The partition of one shard of an organization's events.
pub(crate) fn event_shard_pk(org: OrgId, shard: u32) -> String {
    format!("EV#{org}#{shard:02}")
}

/// The partition holding event `id` (and its payload item).
pub(crate) fn events_pk(org: OrgId, id: EventId) -> String {
    event_shard_pk(org, event_shard(id))
}

/// The partition all of an organization's events shared before sharding (`switchyard migrate
/// --backend aws` moves them).
pub(crate) fn legacy_events_pk(org: OrgId) -> String {
    format!("EV#{org}")
}

pub(crate) fn event_sk(id: EventId) -> String {
    id.to_string()
}

pub(crate) fn payload_sk(id: EventId) -> String {
    format!("{id}#P")
}

pub(crate) fn delivery_pk(org: OrgId, id: DeliveryId) -> String {
    format!("DL#{org}#{id}")
}

/// The item holding an event's deliveries' successful first attempts (`outcomes.rs`): keyed by
/// the event, so it shares no partition with another event's.
pub(crate) fn outcomes_pk(org: OrgId, event: EventId) -> String {
    format!("DL#{org}#{event}")
}

pub(crate) const OUTCOMES_SK: &str = "O";

/// An outcome's attribute on that item: `a_<attempt id>`.
pub(crate) const OUTCOME_ATTR_PREFIX: &str = "a_";

pub(crate) const IDEMPOTENCY_SK: &str = "K";

/// A spent OAuth authorisation state (history table, expiring with the state).
pub(crate) fn oauth_state_pk(org: OrgId, nonce: &str) -> String {
    format!("OS#{org}#{nonce}")
}

pub(crate) fn idempotency_pk(org: OrgId, ws: WorkspaceId, key: &str) -> String {
    format!("IK#{org}#{ws}#{key}")
}

/// The event item's attribute naming a rule's delivery: uniqueness of (event, rule).
pub(crate) fn rule_attr(rule: RuleId) -> String {
    format!("r_{rule}")
}

pub(crate) const RULE_ATTR_PREFIX: &str = "r_";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_scope_prefix_never_matches_another_event_name() {
        let ws = WorkspaceId::new();
        let a = rule_scope_prefix(ws, "a");
        let longer = rule_scope_prefix(ws, "a#b");
        assert!(!longer.starts_with(&a));
        assert!(!a.starts_with(&longer));
    }

    #[test]
    fn events_spread_evenly_over_the_shards() {
        let org = OrgId::new();
        let first = EventId::new();
        // A bulk request's items go round the shards.
        let bulk: std::collections::HashSet<_> = (0..EVENT_SHARDS as usize)
            .map(|i| events_pk(org, first.nth(i)))
            .collect();
        assert_eq!(bulk.len(), EVENT_SHARDS as usize);
        // Single events land on random shards, none above the count.
        for _ in 0..200 {
            assert!(event_shard(EventId::new()) < EVENT_SHARDS);
        }
        assert_ne!(events_pk(org, first), legacy_events_pk(org));
    }

    #[test]
    fn workspace_names_sort_outside_the_workspace_range() {
        let name = workspace_name_sk("zzz");
        assert!(!name.starts_with(WORKSPACES));
        assert!(name.as_str() > format!("{WORKSPACES}ffffffff").as_str());
    }
}
