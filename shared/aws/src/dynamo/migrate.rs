//! Moving a history table written before events were sharded: every event (and payload) item
//! under `EV#<org>` goes to its shard `EV#<org>#<nn>`. One Scan of the history table — the
//! only one besides the format check's, run once by an operator (`switchyard migrate
//! --backend aws`) — then per item a conditional put at the new key and a delete of the old.
//! Idempotent: an interrupted run is finished by running it again.

use aws_sdk_dynamodb::types::AttributeValue;
use switchyard_core::{EventId, OrgId, StoreError};
use uuid::Uuid;

use super::item::{Item, s};
use super::keys::{PK, SK, events_pk, legacy_events_pk};
use super::{DynamoStore, Table, absent};
use crate::error::backend;

impl DynamoStore {
    /// Moves every unsharded event item to its shard; answers how many items it moved.
    pub async fn migrate_event_keys(&self) -> Result<u64, StoreError> {
        let mut moved = 0;
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.history_table)
                .filter_expression("begins_with(#pk, :ev)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":ev", s("EV#"))
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| backend("Scan", e))?;
            for item in out.items.unwrap_or_default() {
                if let Some((org, id)) = legacy_key(&item) {
                    self.move_event_item(item, org, id).await?;
                    moved += 1;
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(moved),
            }
        }
    }

    async fn move_event_item(&self, item: Item, org: OrgId, id: EventId) -> Result<(), StoreError> {
        let Some(AttributeValue::S(sk)) = item.get(SK).cloned() else {
            return Ok(());
        };
        let mut moved = item;
        moved.insert(PK.to_owned(), s(events_pk(org, id)));
        // Already there (an earlier, interrupted run): the copy stands, only the old goes.
        self.put(Table::History, moved, Some(absent())).await?;
        self.delete(Table::History, legacy_events_pk(org), &sk)
            .await?;
        Ok(())
    }
}

/// The organization and event of an item under the unsharded key `EV#<org>` (sort key
/// `<event id>` or `<event id>#P`), or `None` for any other item.
fn legacy_key(item: &Item) -> Option<(OrgId, EventId)> {
    let (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) = (item.get(PK), item.get(SK))
    else {
        return None;
    };
    let org = Uuid::parse_str(pk.strip_prefix("EV#")?).ok()?;
    let id = Uuid::parse_str(sk.get(..36)?).ok()?;
    Some((OrgId(org), EventId(id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unsharded_event_items_are_moved() {
        let org = OrgId::new();
        let id = EventId::new();
        let item = |pk: String, sk: String| -> Item {
            [(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))]
                .into_iter()
                .collect()
        };
        let legacy = legacy_events_pk(org);
        assert_eq!(
            legacy_key(&item(legacy.clone(), id.to_string())),
            Some((org, id))
        );
        assert_eq!(
            legacy_key(&item(legacy, format!("{id}#P"))),
            Some((org, id))
        );
        assert_eq!(legacy_key(&item(events_pk(org, id), id.to_string())), None);
    }
}
