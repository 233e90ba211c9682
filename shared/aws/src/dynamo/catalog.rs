//! A workspace's catalog of event types and resources: one item per key in the config table,
//! written only if absent, so a key keeps its first-seen time.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use switchyard_core::domain::*;
use switchyard_core::ports::Catalog;
use switchyard_core::{OrgId, StoreError, WorkspaceId};

use super::codec;
use super::keys::*;
use super::list::Query;
use super::{DynamoStore, Table, absent};

#[async_trait]
impl Catalog for DynamoStore {
    /// Adds what is not known to be there: the memo answers for keys this process has seen,
    /// one batch read for the rest (a read unit costs a fifth of a write unit), and a
    /// conditional put per new key so a key's first-seen time is never overwritten.
    async fn add_to_catalog(&self, entries: &[CatalogEntry]) -> Result<(), StoreError> {
        let memo_key = |e: &CatalogEntry| {
            format!("{}|{}{}", e.org, catalog_prefix(e.workspace, e.kind), e.key)
        };
        let item_key = |e: &CatalogEntry| {
            (
                org_pk(e.org),
                format!("{}{}", catalog_prefix(e.workspace, e.kind), e.key),
            )
        };
        // Each key once, at its first entry: a batch read that names a key twice is refused.
        let mut named = std::collections::HashSet::new();
        let unknown: Vec<(&CatalogEntry, (String, String))> = entries
            .iter()
            .filter(|e| {
                let key = memo_key(e);
                !self.catalog.contains(&key) && named.insert(key)
            })
            .map(|e| (e, item_key(e)))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let keys = unknown.iter().map(|(_, key)| key.clone()).collect();
        let existing: std::collections::HashSet<(String, String)> = self
            .batch_get(Table::Config, keys)
            .await?
            .iter()
            .filter_map(|item| match (item.get(PK), item.get(SK)) {
                (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => {
                    Some((pk.clone(), sk.clone()))
                }
                _ => None,
            })
            .collect();
        for (e, key) in unknown {
            if !existing.contains(&key) {
                self.put(Table::Config, codec::catalog_item(e), Some(absent()))
                    .await?;
            }
            self.catalog.insert(memo_key(e));
        }
        Ok(())
    }

    async fn catalog(
        &self,
        org: OrgId,
        ws: WorkspaceId,
        kind: CatalogKind,
    ) -> Result<Vec<CatalogEntry>, StoreError> {
        let q = Query::new(Table::Config, org_pk(org), catalog_prefix(ws, kind));
        self.query_all(&q, true)
            .await?
            .iter()
            .map(|item| codec::catalog_entry(item, org, ws, kind))
            .collect()
    }
}
