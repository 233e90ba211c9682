//! Plan-limited creates on DynamoDB. Each organization has one sequence item per limited
//! resource (`SEQ#<prefix>` in its config partition). A create reads the sequence, counts the
//! resource (strongly consistent), and — when there is room — writes its items in one
//! transaction with the sequence moved on, on the condition that it has not moved since it was
//! read. Of creates that raced on the same count one commits; the others count again. Deletes
//! only lower a count, so they leave the sequence alone.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use switchyard_core::{OrgId, StoreError};

use super::expr::{Expr, non_empty};
use super::item::{Item, n, s};
use super::keys::{self, org_pk};
use super::{DynamoStore, Table, item_size, transact_put};
use crate::error::backend;

/// Rounds before giving up. Each lost round means another create committed, and creates are
/// bounded by the limit, so only a storm of deletes and creates could use them all.
const MAX_ROUNDS: usize = 64;

/// The result of a limited create.
pub(super) enum Limited {
    Created,
    AtLimit,
    /// One of the items' own conditions failed (a duplicate): the codes, item by item, after
    /// the sequence's.
    Refused,
}

impl DynamoStore {
    /// Writes `items` (each with its own condition) if the organization has fewer than `limit`
    /// items under `prefix` (`WS#`, `CN#`, `RU#`) in its config partition.
    pub(super) async fn create_within(
        &self,
        org: OrgId,
        prefix: &'static str,
        limit: u64,
        items: Vec<(Item, Option<Expr>)>,
    ) -> Result<Limited, StoreError> {
        let table = self.table(Table::Config).to_owned();
        let seq_sk = format!("SEQ#{prefix}");
        for _ in 0..MAX_ROUNDS {
            let seen = self
                .get(Table::Config, org_pk(org), &seq_sk)
                .await?
                .and_then(|item| match item.get("seq") {
                    Some(AttributeValue::N(v)) => v.parse::<u64>().ok(),
                    _ => None,
                });
            let key = Expr::new("#pk = :pk AND begins_with(#sk, :prefix)")
                .value(":pk", s(org_pk(org)))
                .value(":prefix", s(prefix));
            if self.count(Table::Config, key, None).await? >= limit {
                return Ok(Limited::AtLimit);
            }
            let condition = match seen {
                None => Expr::new("attribute_not_exists(#seq)"),
                Some(v) => Expr::new("#seq = :seen").value(":seen", n(v)),
            };
            let next = Expr::new("SET #seq = :next").value(":next", n(seen.unwrap_or(0) + 1));
            let (names, values) = next.merged_with(Some(&condition));
            let bump = Update::builder()
                .table_name(&table)
                .key(keys::PK, s(org_pk(org)))
                .key(keys::SK, s(&seq_sk))
                .update_expression(next.text)
                .condition_expression(condition.text)
                .set_expression_attribute_names(non_empty(names))
                .set_expression_attribute_values(non_empty(values))
                .build()
                .map_err(|e| backend("TransactWriteItems", e))?;
            let mut sizes = vec![64];
            let mut writes = vec![TransactWriteItem::builder().update(bump).build()];
            for (item, condition) in &items {
                sizes.push(item_size(item));
                writes.push(transact_put(&table, item.clone(), condition.clone())?);
            }
            match self.transact(writes, &sizes).await? {
                Ok(()) => return Ok(Limited::Created),
                Err(reasons) if reasons.first().is_some_and(Option::is_some) => continue,
                Err(_) => return Ok(Limited::Refused),
            }
        }
        Err(StoreError::Backend(format!(
            "plan-limited create of {prefix} lost {MAX_ROUNDS} rounds of contention"
        )))
    }
}
