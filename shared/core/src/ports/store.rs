use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::*;
use crate::page::{Page, PageRequest};
use crate::{DeliveryId, EventId, OrgId, RuleId, StoreError, WorkspaceId};

/// The filters of `GET /events`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventFilter {
    pub workspace: Option<WorkspaceId>,
    pub event: Option<String>,
    pub resource: Option<String>,
    pub resource_id: Option<String>,
}

/// The end of an attempt: the attempt itself and where the delivery goes next.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRecord {
    pub attempt: Attempt,
    /// `Completed`, `Retrying` or `Failed`.
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
}

/// Tenants, configuration and history.
///
/// Every read of a tenant's data takes the organization, so an unscoped lookup cannot be
/// written; an id of another organization reads as absent (the API answers 404).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // Organizations and credentials.
    async fn create_organization(&self, org: &Organization) -> Result<(), StoreError>;
    async fn organization(&self, id: OrgId) -> Result<Option<Organization>, StoreError>;
    async fn put_machine_key(&self, key: &MachineKey) -> Result<(), StoreError>;
    /// Looks a machine key up by its public access key (the JWT `kid`), before the tenant is known.
    async fn machine_key(&self, access_key: &str) -> Result<Option<MachineKey>, StoreError>;
    /// The organization's machine keys (revoked ones included), oldest first.
    async fn machine_keys(&self, org: OrgId) -> Result<Vec<MachineKey>, StoreError>;
    async fn put_publishable_key(&self, key: &PublishableKey) -> Result<(), StoreError>;
    /// Looks a publishable key up by its hash, before the tenant is known.
    async fn publishable_key(&self, key_hash: &str) -> Result<Option<PublishableKey>, StoreError>;
    /// The workspace's keys, newest first.
    async fn publishable_keys(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
    ) -> Result<Vec<PublishableKey>, StoreError>;

    // Workspaces.
    /// Fails with `Conflict` when the organization already has a workspace of that name.
    async fn create_workspace(&self, workspace: &Workspace) -> Result<(), StoreError>;
    /// As [`Store::create_workspace`], only while the organization has fewer than `limit`
    /// workspaces: `false` — nothing written — when it has `limit` already. Counting and writing
    /// are one atomic step, so concurrent creates never exceed the plan's limit.
    async fn create_workspace_within(
        &self,
        workspace: &Workspace,
        limit: u64,
    ) -> Result<bool, StoreError>;
    async fn workspace(&self, org: OrgId, id: WorkspaceId)
    -> Result<Option<Workspace>, StoreError>;
    /// Replaces name and description; `false` when absent. `Conflict` on a taken name.
    async fn update_workspace(&self, workspace: &Workspace) -> Result<bool, StoreError>;
    async fn list_workspaces(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Page<Workspace>, StoreError>;

    // Connections.
    async fn create_connection(&self, connection: &Connection) -> Result<(), StoreError>;
    /// As [`Store::create_connection`], only while the organization has fewer than `limit`
    /// connections: `false` — nothing written — when it has `limit` already. Counting and writing
    /// are one atomic step, so concurrent creates never exceed the plan's limit.
    async fn create_connection_within(
        &self,
        connection: &Connection,
        limit: u64,
    ) -> Result<bool, StoreError>;
    async fn connection(
        &self,
        org: OrgId,
        id: crate::ConnectionId,
    ) -> Result<Option<Connection>, StoreError>;
    /// Replaces name, metadata, secrets and hidden; `false` when absent.
    async fn update_connection(&self, connection: &Connection) -> Result<bool, StoreError>;
    /// As [`Store::update_connection`], only while the stored `updated_at` is still
    /// `expected_updated_at` (nothing wrote the connection since it was read): `false` when it
    /// moved or the connection is absent. How two processes refreshing one OAuth token avoid
    /// overwriting each other.
    async fn update_connection_if_unchanged(
        &self,
        connection: &Connection,
        expected_updated_at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Deletes a connection and every rule that uses it; `false` when absent.
    async fn delete_connection(
        &self,
        org: OrgId,
        id: crate::ConnectionId,
    ) -> Result<bool, StoreError>;
    async fn list_connections(
        &self,
        org: OrgId,
        workspace: Option<WorkspaceId>,
        page: PageRequest,
    ) -> Result<Page<Connection>, StoreError>;
    /// The connection's field mapping and its version; `None` when none was written (or the
    /// connection is another organization's). Deleting the connection deletes its mapping.
    async fn connection_mapping(
        &self,
        org: OrgId,
        connection: crate::ConnectionId,
    ) -> Result<Option<crate::mapping::VersionedMapping>, StoreError>;
    /// Writes the connection's mapping, at `at`, if its stored version is still
    /// `expected_version` (0: none written yet) and returns the new version,
    /// `expected_version + 1`; the first write's time stays its `created_at`. `Conflict` when
    /// the version has moved. The caller checks that the connection exists.
    async fn put_connection_mapping(
        &self,
        org: OrgId,
        connection: crate::ConnectionId,
        mapping: &crate::mapping::FieldMapping,
        expected_version: u64,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError>;

    // Rules.
    async fn create_rule(&self, rule: &Rule) -> Result<(), StoreError>;
    /// As [`Store::create_rule`], only while the organization has fewer than `limit`
    /// rules: `false` — nothing written — when it has `limit` already. Counting and writing
    /// are one atomic step, so concurrent creates never exceed the plan's limit.
    async fn create_rule_within(&self, rule: &Rule, limit: u64) -> Result<bool, StoreError>;
    async fn rule(&self, org: OrgId, id: RuleId) -> Result<Option<Rule>, StoreError>;
    async fn list_rules(
        &self,
        org: OrgId,
        filter: &RuleFilter,
        page: PageRequest,
    ) -> Result<Page<Rule>, StoreError>;
    /// Deletes a rule (its deliveries keep their history); `false` when absent.
    async fn delete_rule(&self, org: OrgId, id: RuleId) -> Result<bool, StoreError>;
    /// The workspace's active rules for one event type: the router's only query.
    async fn active_rules(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        event: &str,
    ) -> Result<Vec<Rule>, StoreError>;

    // Events.
    async fn insert_event(&self, event: &Event) -> Result<(), StoreError>;
    async fn event(&self, org: OrgId, id: EventId) -> Result<Option<Event>, StoreError>;
    async fn list_events(
        &self,
        org: OrgId,
        filter: &EventFilter,
        page: PageRequest,
    ) -> Result<Page<Event>, StoreError>;
    /// Claims an `Idempotency-Key` of a workspace for `event` until `expires_at`. Returns the
    /// event that already holds the key when an unexpired claim exists (nothing is written
    /// then); `None` when this call claimed it.
    async fn claim_idempotency_key(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        key: &str,
        event: EventId,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Option<EventId>, StoreError>;
    /// Spends an OAuth authorisation state, by its nonce, until `expires_at` (the state's own
    /// expiry): `true` for the first use, `false` for any later one — a consent makes one
    /// connection however often its callback is replayed.
    async fn consume_oauth_state(
        &self,
        org: OrgId,
        nonce: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// The event an unexpired claim of `key` names, if any. A read: nothing is claimed.
    async fn idempotency_claim(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<Option<EventId>, StoreError>;
    /// Releases `key` if `event` still holds it, so that the client's retry of a request that
    /// failed starts afresh.
    async fn release_idempotency_key(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        key: &str,
        event: EventId,
    ) -> Result<(), StoreError>;
    /// Marks the event routed (its deliveries exist). Idempotent. An adapter may already have
    /// marked it in [`Store::insert_deliveries`] (DynamoDB does, in the same write as the claim).
    async fn mark_routed(&self, org: OrgId, id: EventId) -> Result<(), StoreError>;
    async fn is_routed(&self, org: OrgId, id: EventId) -> Result<bool, StoreError>;

    // Plan usage.
    /// How many workspaces, connections and rules the organization has; with a `period`, also
    /// its events stored since the period began and its ingest count for it, where one is kept
    /// (without, those read as none: counting events is the expensive part).
    async fn usage(
        &self,
        org: OrgId,
        period: Option<&crate::plan::UsagePeriod>,
    ) -> Result<crate::plan::Usage, StoreError>;
    /// Counts `n` more accepted events towards the organization's `period` (a
    /// [`crate::plan::UsagePeriod::key`]) if the total stays within `limit`: returns the new
    /// total, or `None` — nothing counted — when it would exceed it.
    async fn count_events(
        &self,
        org: OrgId,
        period: &str,
        n: u64,
        limit: u64,
    ) -> Result<Option<u64>, StoreError>;

    // Catalogs.
    /// Adds keys to a workspace's catalog; keys already there keep their first-seen time.
    async fn add_to_catalog(&self, entries: &[CatalogEntry]) -> Result<(), StoreError>;
    /// A workspace's catalog, in key order.
    async fn catalog(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        kind: CatalogKind,
    ) -> Result<Vec<CatalogEntry>, StoreError>;

    // Deliveries and attempts.
    /// Inserts deliveries, skipping any whose (event, rule) already exists, so a re-routed
    /// event never gets a second delivery per rule. Returns every delivery of the event.
    async fn insert_deliveries(
        &self,
        org: OrgId,
        event: EventId,
        deliveries: &[Delivery],
    ) -> Result<Vec<Delivery>, StoreError>;
    async fn delivery(&self, org: OrgId, id: DeliveryId) -> Result<Option<Delivery>, StoreError>;
    async fn deliveries_for_event(
        &self,
        org: OrgId,
        event: EventId,
    ) -> Result<Vec<Delivery>, StoreError>;
    /// The delivery as its next attempt sees it — `processing`, its first start time kept (or
    /// `now`) — when it may be attempted; `None` when it is final (completed, failed or
    /// canceled) or absent, and must not be attempted. An adapter may store `processing` now
    /// (SQLite) or leave the stored delivery as it is until [`Store::finish_attempt`] records
    /// the attempt and sets the start time if unset (DynamoDB: one write per attempt saved).
    async fn begin_attempt(
        &self,
        org: OrgId,
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError>;
    /// Records an attempt and moves the delivery, in one write. A delivery canceled while the
    /// attempt ran keeps `canceled` (the attempt is still recorded).
    async fn finish_attempt(
        &self,
        org: OrgId,
        record: &AttemptRecord,
    ) -> Result<Delivery, StoreError>;
    async fn attempts(&self, org: OrgId, delivery: DeliveryId) -> Result<Vec<Attempt>, StoreError>;
    /// Cancels a non-final delivery: no further attempt will be made. `None` when absent or
    /// already final.
    async fn cancel_delivery(
        &self,
        org: OrgId,
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError>;
    /// Readies a delivery for a fresh schedule (replay, DLQ redrive): from `completed`,
    /// `failed`, `canceled` or `retrying` back to `pending`, with `schedule_base` set to the
    /// attempts made so far. `None` when absent, `pending` or `processing`.
    async fn restart_delivery(
        &self,
        org: OrgId,
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError>;
    /// As [`Store::restart_delivery`], for a replay on request (`POST …/retry`), which also
    /// claims the delivery: only when no replay claimed it after `since`, and records `now` as
    /// its latest claim. Of concurrent replays exactly one wins; `None` for the others.
    async fn replay_delivery(
        &self,
        org: OrgId,
        id: DeliveryId,
        now: OffsetDateTime,
        since: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError>;
}
