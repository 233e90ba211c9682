//! The `Store` port over DynamoDB. The key design is in [`keys`]; this module holds the
//! request plumbing every operation shares (consistent reads, conditional writes whose failed
//! condition is an answer rather than an error, batching, metering), and the trait impl that
//! hands each call to the file for its part of the domain.

mod codec;
mod configuration;
mod deliveries;
mod events;
mod expr;
mod format;
mod item;
mod keys;
mod list;
mod mappings;
mod memo;
mod meter;
mod oauth_states;
mod plan_limits;
mod schema;
mod tenants;
mod usage;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, PutRequest, ReturnValue, TransactWriteItem, WriteRequest,
};
use switchyard_core::domain::*;
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::{AttemptRecord, EventFilter, Store};
use switchyard_core::{ConnectionId, DeliveryId, EventId, OrgId, RuleId, StoreError, WorkspaceId};
use time::OffsetDateTime;

use crate::error::{backend, code};
pub use item::item_size;
use item::{Item, s};
pub use meter::{CapacityMeter, CapacityUse};
pub use schema::table_definitions;

use expr::{Expr, non_empty};
use memo::Memo;
use plan_limits::Limited;

/// How many keys each memo remembers (a few hundred KiB at most).
const MEMO_CAPACITY: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Table {
    Config,
    History,
}

/// Organizations, credentials, configuration and delivery history in two DynamoDB tables.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    config_table: String,
    history_table: String,
    retention: Duration,
    meter: CapacityMeter,
    /// Events whose `routed` flag this process has set (so `mark_routed` after
    /// `insert_deliveries` costs nothing).
    routed: Arc<Memo>,
    /// Catalog keys known to exist.
    catalog: Arc<Memo>,
}

impl DynamoStore {
    pub fn new(
        client: Client,
        config_table: impl Into<String>,
        history_table: impl Into<String>,
        retention: Duration,
    ) -> Self {
        Self {
            client,
            config_table: config_table.into(),
            history_table: history_table.into(),
            retention,
            meter: CapacityMeter::new(),
            routed: Arc::new(Memo::new(MEMO_CAPACITY)),
            catalog: Arc::new(Memo::new(MEMO_CAPACITY)),
        }
    }

    /// The read and write units this store's calls would have been billed so far.
    pub fn meter(&self) -> &CapacityMeter {
        &self.meter
    }

    fn table(&self, t: Table) -> &str {
        match t {
            Table::Config => &self.config_table,
            Table::History => &self.history_table,
        }
    }

    /// The TTL (epoch seconds) of a history item created at `created`.
    fn expiry(&self, created: OffsetDateTime) -> i64 {
        created.unix_timestamp() + self.retention.as_secs() as i64
    }

    /// A strongly consistent GetItem: every read here may follow a write by another function
    /// by milliseconds (the router reads the event ingest just wrote).
    async fn get(&self, t: Table, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(self.table(t))
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend("GetItem", e))?;
        let item = out.item;
        self.meter.read(item.as_ref().map_or(0, item_size), true);
        Ok(item)
    }

    /// A PutItem; `false` when `condition` did not hold (nothing was written).
    async fn put(&self, t: Table, item: Item, condition: Option<Expr>) -> Result<bool, StoreError> {
        let size = item_size(&item);
        let mut req = self
            .client
            .put_item()
            .table_name(self.table(t))
            .set_item(Some(item));
        if let Some(c) = condition {
            req = req
                .condition_expression(c.text)
                .set_expression_attribute_names(non_empty(c.names))
                .set_expression_attribute_values(non_empty(c.values));
        }
        self.meter.write(size);
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if code(&e) == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(backend("PutItem", e)),
        }
    }

    /// An UpdateItem returning the new item; `None` when `condition` did not hold.
    async fn update(
        &self,
        t: Table,
        pk: String,
        sk: &str,
        update: Expr,
        condition: Option<Expr>,
    ) -> Result<Option<Item>, StoreError> {
        let (names, values) = update.merged_with(condition.as_ref());
        let result = self
            .client
            .update_item()
            .table_name(self.table(t))
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .update_expression(update.text)
            .set_condition_expression(condition.map(|c| c.text))
            .set_expression_attribute_names(non_empty(names))
            .set_expression_attribute_values(non_empty(values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let item = out.attributes.unwrap_or_default();
                self.meter.write(item_size(&item));
                Ok(Some(item))
            }
            Err(e) if code(&e) == Some("ConditionalCheckFailedException") => {
                self.meter.write(0);
                Ok(None)
            }
            Err(e) => Err(backend("UpdateItem", e)),
        }
    }

    /// A DeleteItem of an item that must exist; `false` when it did not.
    async fn delete(&self, t: Table, pk: String, sk: &str) -> Result<bool, StoreError> {
        self.delete_if(t, pk, sk, Expr::new("attribute_exists(#pk)"))
            .await
    }

    /// A DeleteItem under `condition`; `false` when it did not hold.
    async fn delete_if(
        &self,
        t: Table,
        pk: String,
        sk: &str,
        condition: Expr,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(self.table(t))
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .condition_expression(condition.text)
            .set_expression_attribute_names(non_empty(condition.names))
            .set_expression_attribute_values(non_empty(condition.values))
            .send()
            .await;
        self.meter.write(0);
        match result {
            Ok(_) => Ok(true),
            Err(e) if code(&e) == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(backend("DeleteItem", e)),
        }
    }

    /// TransactWriteItems. `Ok(Err(reasons))` when the transaction was canceled, with each
    /// item's cancellation code (`ConditionalCheckFailed`, or `None` for the ones that were fine).
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        sizes: &[usize],
    ) -> Result<Result<(), Vec<Option<String>>>, StoreError> {
        for size in sizes {
            self.meter.transactional_write(*size);
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(Ok(())),
            Err(e) => {
                let reasons = e.as_service_error().and_then(|se| match se {
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => Some(
                        c.cancellation_reasons()
                            .iter()
                            .map(|r| r.code().filter(|c| *c != "None").map(str::to_owned))
                            .collect::<Vec<_>>(),
                    ),
                    _ => None,
                });
                match reasons {
                    Some(r) => Ok(Err(r)),
                    None => Err(backend("TransactWriteItems", e)),
                }
            }
        }
    }

    /// Strongly consistent BatchGetItem of up to any number of keys, in requests of 100,
    /// retrying what the service left unprocessed. Order is not kept.
    async fn batch_get(
        &self,
        t: Table,
        keys: Vec<(String, String)>,
    ) -> Result<Vec<Item>, StoreError> {
        let table = self.table(t).to_owned();
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let mut pending: Option<KeysAndAttributes> = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(
                        chunk
                            .iter()
                            .map(|(pk, sk)| {
                                HashMap::from([
                                    (keys::PK.to_owned(), s(pk)),
                                    (keys::SK.to_owned(), s(sk)),
                                ])
                            })
                            .collect(),
                    ))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| backend("BatchGetItem", e))?,
            );
            for round in 0.. {
                let Some(request) = pending.take() else { break };
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&table, request)
                    .send()
                    .await
                    .map_err(|e| backend("BatchGetItem", e))?;
                let mut responses = out.responses.unwrap_or_default();
                for item in responses.remove(&table).unwrap_or_default() {
                    self.meter.read(item_size(&item), true);
                    found.push(item);
                }
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&table))
                    .filter(|k| !k.keys.is_empty());
                if pending.is_some() {
                    backoff(round).await?;
                }
            }
        }
        Ok(found)
    }

    /// BatchWriteItem puts in requests of 25, retrying unprocessed items. For items with fresh
    /// keys only: a batch write cannot carry a condition.
    async fn batch_put(&self, t: Table, items: Vec<Item>) -> Result<(), StoreError> {
        let table = self.table(t).to_owned();
        for chunk in items.chunks(25) {
            let mut pending = chunk
                .iter()
                .map(|item| {
                    self.meter.write(item_size(item));
                    PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .map(|p| WriteRequest::builder().put_request(p).build())
                        .map_err(|e| backend("BatchWriteItem", e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            for round in 0.. {
                if pending.is_empty() {
                    break;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&table, std::mem::take(&mut pending))
                    .send()
                    .await
                    .map_err(|e| backend("BatchWriteItem", e))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&table))
                    .unwrap_or_default();
                if !pending.is_empty() {
                    backoff(round).await?;
                }
            }
        }
        Ok(())
    }
}

/// Waits before retrying unprocessed batch items (throttling), giving up after a few rounds so
/// the caller's own retry (the queue's) takes over.
async fn backoff(round: u32) -> Result<(), StoreError> {
    if round >= 6 {
        return Err(StoreError::Backend(
            "DynamoDB left batch items unprocessed after retries (throttled)".into(),
        ));
    }
    tokio::time::sleep(Duration::from_millis(25 << round)).await;
    Ok(())
}

/// `attribute_not_exists(pk)`: a put that must not overwrite.
fn absent() -> Expr {
    Expr::new("attribute_not_exists(#pk)")
}

/// `attribute_exists(pk)`: an update that must not create.
fn present() -> Expr {
    Expr::new("attribute_exists(#pk)")
}

#[async_trait]
impl Store for DynamoStore {
    async fn create_organization(&self, org: &Organization) -> Result<(), StoreError> {
        self.create_organization_item(org).await
    }
    async fn organization(&self, id: OrgId) -> Result<Option<Organization>, StoreError> {
        self.organization_item(id).await
    }
    async fn put_machine_key(&self, key: &MachineKey) -> Result<(), StoreError> {
        self.put_machine_key_items(key).await
    }
    async fn machine_key(&self, access_key: &str) -> Result<Option<MachineKey>, StoreError> {
        self.machine_key_lookup(access_key).await
    }
    async fn machine_keys(&self, org: OrgId) -> Result<Vec<MachineKey>, StoreError> {
        self.machine_keys_of(org).await
    }
    async fn put_publishable_key(&self, key: &PublishableKey) -> Result<(), StoreError> {
        self.put_publishable_key_items(key).await
    }
    async fn publishable_key(&self, key_hash: &str) -> Result<Option<PublishableKey>, StoreError> {
        self.publishable_key_lookup(key_hash).await
    }
    async fn publishable_keys(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
    ) -> Result<Vec<PublishableKey>, StoreError> {
        self.publishable_keys_of(org, workspace).await
    }
    async fn create_workspace(&self, workspace: &Workspace) -> Result<(), StoreError> {
        self.create_workspace_items(workspace).await
    }
    async fn create_workspace_within(
        &self,
        workspace: &Workspace,
        limit: u64,
    ) -> Result<bool, StoreError> {
        let items = vec![
            (codec::workspace_item(workspace), Some(absent())),
            (codec::workspace_name_item(workspace), Some(absent())),
        ];
        match self
            .create_within(workspace.org, keys::WORKSPACES, limit, items)
            .await?
        {
            Limited::Created => Ok(true),
            Limited::AtLimit => Ok(false),
            Limited::Refused => Err(StoreError::Conflict(format!(
                "a workspace named {} already exists",
                workspace.name
            ))),
        }
    }
    async fn workspace(
        &self,
        org: OrgId,
        id: WorkspaceId,
    ) -> Result<Option<Workspace>, StoreError> {
        self.workspace_item(org, id).await
    }
    async fn update_workspace(&self, workspace: &Workspace) -> Result<bool, StoreError> {
        self.update_workspace_items(workspace).await
    }
    async fn list_workspaces(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Page<Workspace>, StoreError> {
        self.list_workspace_items(org, page).await
    }
    async fn create_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        self.create_connection_item(connection).await
    }
    async fn create_connection_within(
        &self,
        connection: &Connection,
        limit: u64,
    ) -> Result<bool, StoreError> {
        let items = vec![(codec::connection_item(connection)?, Some(absent()))];
        match self
            .create_within(connection.org, keys::CONNECTIONS, limit, items)
            .await?
        {
            Limited::Created => Ok(true),
            Limited::AtLimit => Ok(false),
            Limited::Refused => Err(StoreError::Conflict("connection already exists".into())),
        }
    }
    async fn connection(
        &self,
        org: OrgId,
        id: ConnectionId,
    ) -> Result<Option<Connection>, StoreError> {
        self.connection_item(org, id).await
    }
    async fn update_connection(&self, connection: &Connection) -> Result<bool, StoreError> {
        self.update_connection_item(connection, None).await
    }
    async fn update_connection_if_unchanged(
        &self,
        connection: &Connection,
        expected_updated_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.update_connection_item(connection, Some(expected_updated_at))
            .await
    }
    async fn delete_connection(&self, org: OrgId, id: ConnectionId) -> Result<bool, StoreError> {
        self.delete_connection_items(org, id).await
    }
    async fn list_connections(
        &self,
        org: OrgId,
        workspace: Option<WorkspaceId>,
        page: PageRequest,
    ) -> Result<Page<Connection>, StoreError> {
        self.list_connection_items(org, workspace, page).await
    }
    async fn connection_mapping(
        &self,
        org: OrgId,
        connection: ConnectionId,
    ) -> Result<Option<switchyard_core::mapping::VersionedMapping>, StoreError> {
        self.connection_mapping_item(org, connection).await
    }
    async fn put_connection_mapping(
        &self,
        org: OrgId,
        connection: ConnectionId,
        mapping: &switchyard_core::mapping::FieldMapping,
        expected_version: u64,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.put_connection_mapping_item(org, connection, mapping, expected_version, at)
            .await
    }
    async fn create_rule(&self, rule: &Rule) -> Result<(), StoreError> {
        self.create_rule_item(rule).await
    }
    async fn create_rule_within(&self, rule: &Rule, limit: u64) -> Result<bool, StoreError> {
        let items = vec![(codec::rule_item(rule)?, Some(absent()))];
        match self
            .create_within(rule.org, keys::RULES, limit, items)
            .await?
        {
            Limited::Created => Ok(true),
            Limited::AtLimit => Ok(false),
            Limited::Refused => Err(StoreError::Conflict("rule already exists".into())),
        }
    }
    async fn rule(&self, org: OrgId, id: RuleId) -> Result<Option<Rule>, StoreError> {
        self.rule_item(org, id).await
    }
    async fn list_rules(
        &self,
        org: OrgId,
        filter: &RuleFilter,
        page: PageRequest,
    ) -> Result<Page<Rule>, StoreError> {
        self.list_rule_items(org, filter, page).await
    }
    async fn delete_rule(&self, org: OrgId, id: RuleId) -> Result<bool, StoreError> {
        self.delete(Table::Config, keys::org_pk(org), &keys::rule_sk(id))
            .await
    }
    async fn active_rules(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        event: &str,
    ) -> Result<Vec<Rule>, StoreError> {
        self.active_rule_items(org, workspace, event).await
    }
    async fn insert_event(&self, event: &Event) -> Result<(), StoreError> {
        self.insert_event_items(event).await
    }
    async fn event(&self, org: OrgId, id: EventId) -> Result<Option<Event>, StoreError> {
        self.event_items(org, id).await
    }
    async fn list_events(
        &self,
        org: OrgId,
        filter: &EventFilter,
        page: PageRequest,
    ) -> Result<Page<Event>, StoreError> {
        self.list_event_items(org, filter, page).await
    }
    async fn consume_oauth_state(
        &self,
        org: OrgId,
        nonce: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.consume_oauth_state_item(org, nonce, now, expires_at)
            .await
    }
    async fn claim_idempotency_key(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        key: &str,
        event: EventId,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Option<EventId>, StoreError> {
        self.claim_idempotency_item(org, workspace, key, event, now, expires_at)
            .await
    }
    async fn idempotency_claim(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<Option<EventId>, StoreError> {
        self.idempotency_item(org, workspace, key, now).await
    }
    async fn release_idempotency_key(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        key: &str,
        event: EventId,
    ) -> Result<(), StoreError> {
        self.release_idempotency_item(org, workspace, key, event)
            .await
    }
    async fn mark_routed(&self, org: OrgId, id: EventId) -> Result<(), StoreError> {
        self.mark_event_routed(org, id).await
    }
    async fn is_routed(&self, org: OrgId, id: EventId) -> Result<bool, StoreError> {
        self.event_is_routed(org, id).await
    }
    async fn usage(
        &self,
        org: OrgId,
        period: Option<&switchyard_core::plan::UsagePeriod>,
    ) -> Result<switchyard_core::plan::Usage, StoreError> {
        self.usage_of(org, period).await
    }
    async fn count_events(
        &self,
        org: OrgId,
        period: &str,
        n: u64,
        limit: u64,
    ) -> Result<Option<u64>, StoreError> {
        self.count_events_of(org, period, n, limit).await
    }
    async fn add_to_catalog(&self, entries: &[CatalogEntry]) -> Result<(), StoreError> {
        self.add_catalog_items(entries).await
    }
    async fn catalog(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        kind: CatalogKind,
    ) -> Result<Vec<CatalogEntry>, StoreError> {
        self.catalog_items(org, workspace, kind).await
    }
    async fn insert_deliveries(
        &self,
        org: OrgId,
        event: EventId,
        deliveries: &[Delivery],
    ) -> Result<Vec<Delivery>, StoreError> {
        self.insert_delivery_items(org, event, deliveries).await
    }
    async fn delivery(&self, org: OrgId, id: DeliveryId) -> Result<Option<Delivery>, StoreError> {
        self.delivery_item(org, id).await
    }
    async fn deliveries_for_event(
        &self,
        org: OrgId,
        event: EventId,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.deliveries_of_event(org, event).await
    }
    async fn begin_attempt(
        &self,
        org: OrgId,
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError> {
        self.begin_delivery_attempt(org, id, now).await
    }
    async fn finish_attempt(
        &self,
        org: OrgId,
        record: &AttemptRecord,
    ) -> Result<Delivery, StoreError> {
        self.finish_delivery_attempt(org, record).await
    }
    async fn attempts(&self, org: OrgId, delivery: DeliveryId) -> Result<Vec<Attempt>, StoreError> {
        self.delivery_attempts(org, delivery).await
    }
    async fn cancel_delivery(
        &self,
        org: OrgId,
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError> {
        self.cancel_delivery_item(org, id, now).await
    }
    async fn restart_delivery(
        &self,
        org: OrgId,
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError> {
        self.restart_delivery_item(org, id, now, None).await
    }
    async fn replay_delivery(
        &self,
        org: OrgId,
        id: DeliveryId,
        now: OffsetDateTime,
        since: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError> {
        self.restart_delivery_item(org, id, now, Some(since)).await
    }
}

/// `TransactWriteItem` of a put, with its condition.
fn transact_put(
    table: &str,
    item: Item,
    condition: Option<Expr>,
) -> Result<TransactWriteItem, StoreError> {
    let mut put = aws_sdk_dynamodb::types::Put::builder()
        .table_name(table)
        .set_item(Some(item));
    if let Some(c) = condition {
        put = put
            .condition_expression(c.text)
            .set_expression_attribute_names(non_empty(c.names))
            .set_expression_attribute_values(non_empty(c.values));
    }
    Ok(TransactWriteItem::builder()
        .put(put.build().map_err(|e| backend("TransactWriteItems", e))?)
        .build())
}

/// A value only DynamoDB's `AttributeValue` for `true` can be.
fn yes() -> AttributeValue {
    AttributeValue::Bool(true)
}
