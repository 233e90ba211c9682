//! Plan usage on DynamoDB: counts by `Select=COUNT` queries on the organization's partitions
//! (read only when `GET /usage` asks), and the monthly event counter — one conditional `ADD`
//! per ingest request, kept only where a monthly limit is set.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Select};
use switchyard_core::plan::{Usage, UsagePeriod};
use switchyard_core::ports::Metering;
use switchyard_core::{OrgId, StoreError};

use super::expr::{Expr, non_empty};
use super::item::{Item, s};
use super::keys::{self, CONNECTIONS, RULES, WORKSPACES};
use super::{DynamoStore, Table};
use crate::error::backend;

/// The counter item's sort key, in the organization's config partition.
fn counter_sk(period: &str) -> String {
    format!("USAGE#{period}")
}

/// The smallest UUID v7 text created at or after `at`: ids sort by creation time, so this is
/// the lower bound of a period's events in the sort key.
fn first_id_at(at: time::OffsetDateTime) -> String {
    let ms = switchyard_core::clock::epoch_millis(at).max(0) as u64;
    format!(
        "{:08x}-{:04x}-7000-8000-000000000000",
        ms >> 16,
        ms & 0xffff
    )
}

#[async_trait]
impl Metering for DynamoStore {
    async fn usage(
        &self,
        org: OrgId,
        period: Option<&switchyard_core::plan::UsagePeriod>,
    ) -> Result<switchyard_core::plan::Usage, StoreError> {
        self.usage_of(org, period).await
    }

    /// One conditional `ADD`: concurrent ingests cannot both slip under the limit.
    async fn count_events(
        &self,
        org: OrgId,
        period: &str,
        n: u64,
        limit: u64,
    ) -> Result<Option<u64>, StoreError> {
        let Some(room) = limit.checked_sub(n) else {
            return Ok(None);
        };
        let update = Expr::new("ADD #events :n").value(":n", AttributeValue::N(n.to_string()));
        let condition = Expr::new("attribute_not_exists(#events) OR #events <= :room")
            .value(":room", AttributeValue::N(room.to_string()));
        let item = self
            .update(
                Table::Config,
                keys::org_pk(org),
                &counter_sk(period),
                update,
                Some(condition),
            )
            .await?;
        Ok(item.and_then(|item| match item.get("events") {
            Some(AttributeValue::N(n)) => n.parse().ok(),
            _ => None,
        }))
    }
}

impl DynamoStore {
    /// The items of `t` that `key` (a key condition) and `filter` select, counted by the
    /// service page by page (up to 1 MB scanned each).
    pub(super) async fn count(
        &self,
        t: Table,
        key: Expr,
        filter: Option<Expr>,
    ) -> Result<u64, StoreError> {
        let (names, values) = key.merged_with(filter.as_ref());
        let mut total = 0u64;
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(self.table(t))
                .key_condition_expression(&key.text)
                .set_filter_expression(filter.as_ref().map(|f| f.text.clone()))
                .set_expression_attribute_names(non_empty(names.clone()))
                .set_expression_attribute_values(non_empty(values.clone()))
                .select(Select::Count)
                // Strongly consistent: a plan-limited create counts what committed before it.
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend("Query", e))?;
            total += out.count.max(0) as u64;
            // Count queries are billed on what they scanned; items are small, so 1 unit per
            // 4 KiB page slice is the honest floor for the meter.
            self.meter
                .read(out.scanned_count.max(0) as usize * 256, true);
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(total),
            }
        }
    }

    pub(super) async fn usage_of(
        &self,
        org: OrgId,
        period: Option<&UsagePeriod>,
    ) -> Result<Usage, StoreError> {
        let config = |prefix: &'static str| {
            let key = Expr::new("#pk = :pk AND begins_with(#sk, :prefix)")
                .value(":pk", s(keys::org_pk(org)))
                .value(":prefix", s(prefix));
            self.count(Table::Config, key, None)
        };
        let mut usage = Usage {
            workspaces: config(WORKSPACES).await?,
            connections: config(CONNECTIONS).await?,
            rules: config(RULES).await?,
            ..Usage::default()
        };
        let Some(period) = period else {
            return Ok(usage);
        };
        usage.events_counted = self
            .get(Table::Config, keys::org_pk(org), &counter_sk(&period.key))
            .await?
            .and_then(|item| match item.get("events") {
                Some(AttributeValue::N(n)) => n.parse().ok(),
                _ => None,
            });
        // A large payload has its own item (`<id>#P`): count the events only.
        let counts = (0..keys::EVENT_SHARDS).map(|shard| {
            let since = Expr::new("#pk = :pk AND #sk >= :from")
                .value(":pk", s(keys::event_shard_pk(org, shard)))
                .value(":from", s(first_id_at(period.start)));
            let events_only = Expr::new("NOT contains(#sk, :hash)").value(":hash", s("#"));
            self.count(Table::History, since, Some(events_only))
        });
        usage.events_stored = futures::future::try_join_all(counts).await?.iter().sum();
        Ok(usage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_first_id_of_a_period_sorts_before_its_events_and_after_earlier_ones() {
        let at = datetime!(2026-11-01 0:00 UTC);
        let bound = first_id_at(at);
        let ms = switchyard_core::clock::epoch_millis(at) as u64;
        let id = |ms: u64| {
            uuid::Uuid::new_v7(uuid::Timestamp::from_unix_time(
                ms / 1000,
                (ms % 1000) as u32 * 1_000_000,
                0,
                0,
            ))
            .to_string()
        };
        assert!(id(ms) >= bound);
        assert!(id(ms - 1) < bound);
    }
}
