//! The `Store` port over DynamoDB. The key design is in [`keys`]; this module holds the
//! request plumbing every operation shares (consistent reads, conditional writes whose failed
//! condition is an answer rather than an error, batching, metering), and the trait impl that
//! hands each call to the file for its part of the domain.

mod cache;
mod catalog;
mod codec;
mod connections;
mod deliveries;
mod events;
mod expr;
mod format;
mod item;
mod key_claims;
mod keys;
mod list;
mod mappings;
mod meter;
mod metering;
mod migrate;
mod outcome_groups;
mod outcomes;
mod plan_limits;
mod rule_claims;
mod rules;
mod schema;
mod sessions;
mod shards;
mod tenants;
mod workspaces;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, PutRequest, ReturnValue, TransactWriteItem, WriteRequest,
};
use switchyard_core::StoreError;
use time::OffsetDateTime;

use crate::error::{backend, code};
pub use item::item_size;
use item::{Item, s};
pub use meter::{CapacityMeter, CapacityUse};
pub use schema::table_definitions;

use expr::{Expr, non_empty};
use switchyard_core::memo::Memo;

/// An UpdateItem the service did not carry out.
type UpdateFailure = aws_sdk_dynamodb::error::SdkError<
    aws_sdk_dynamodb::operation::update_item::UpdateItemError,
    aws_sdk_dynamodb::config::http::HttpResponse,
>;

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
    /// Events whose `routed` flag this process has set (so `insert_deliveries` of nothing for
    /// one is a read, not a write).
    routed: Arc<Memo>,
    /// Catalog keys known to exist.
    catalog: Arc<Memo>,
    /// Configuration kept by a hot-path Lambda instance for at most 5 s (`cache.rs`), and its
    /// outcome groups (`outcome_groups.rs`); `None` where reads must see every write at once
    /// (the API, `serve`), whose successful first attempts are written one by one.
    hot: Option<Arc<HotPath>>,
}

/// What a hot-path instance keeps: configuration for [`cache::STALENESS`]; events — which
/// never change once stored — for a minute, so one batch's deliveries of an event read it
/// once; and the successful first attempts of an event waiting to be written together.
pub(crate) struct HotPath {
    publishable_keys: cache::Cache<Option<switchyard_core::domain::PublishableKey>>,
    active_rules: cache::Cache<Vec<switchyard_core::domain::Rule>>,
    rules: cache::Cache<Option<switchyard_core::domain::Rule>>,
    connections: cache::Cache<Option<switchyard_core::domain::Connection>>,
    events: cache::Cache<Option<events::StoredEvent>>,
    /// Successful first attempts of one event written together (`outcome_groups.rs`).
    outcomes: outcome_groups::OutcomeGroups,
}

impl HotPath {
    fn new() -> Self {
        Self {
            publishable_keys: cache::Cache::new(cache::STALENESS, 1024),
            active_rules: cache::Cache::new(cache::STALENESS, 1024),
            rules: cache::Cache::new(cache::STALENESS, 1024),
            connections: cache::Cache::new(cache::STALENESS, 1024),
            // Few and short-lived: a batch holds at most ten records.
            events: cache::Cache::new(Duration::from_secs(60), 64),
            outcomes: outcome_groups::OutcomeGroups::default(),
        }
    }
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
            hot: None,
        }
    }

    /// This store as the ingest, router and delivery functions use it: publishable keys,
    /// rules and connections read at most 5 s ago (a revoked key is refused, an edited rule
    /// applies, within 5 s), events read once per instance. Never for the API.
    pub fn with_hot_path_cache(mut self) -> Self {
        self.hot = Some(Arc::new(HotPath::new()));
        self
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
        let failed_condition =
            |e: &UpdateFailure| code(e) == Some("ConditionalCheckFailedException");
        self.update_unless(t, pk, sk, update, condition, failed_condition)
            .await
    }

    /// An UpdateItem returning the new item; `None` when the service refused it as `refused`
    /// says — a failed condition, an item that would pass the size limit — which is billed a
    /// write all the same.
    async fn update_unless(
        &self,
        t: Table,
        pk: String,
        sk: &str,
        update: Expr,
        condition: Option<Expr>,
        refused: impl Fn(&UpdateFailure) -> bool,
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
            Err(e) if refused(&e) => {
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
        // A key that finds no item is billed a read all the same.
        for _ in found.len()..keys.len() {
            self.meter.read(0, true);
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
