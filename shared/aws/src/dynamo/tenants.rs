//! Organizations, machine and publishable keys: the config table's tenant items.
//!
//! Keys live twice — under their lookup key (found before the tenant is known) and in their
//! organization's partition (listed by it) — written together in one transaction, whose
//! condition also keeps a key from ever moving to another tenant.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use switchyard_core::domain::*;
use switchyard_core::ports::Tenants;
use switchyard_core::{OrgId, StoreError, WorkspaceId};

use super::codec;
use super::expr::Expr;
use super::item::s;
use super::keys::*;
use super::list::Query;
use super::{DynamoStore, Table, absent, transact_put};
use crate::error::backend;

#[async_trait]
impl Tenants for DynamoStore {
    async fn create_organization(&self, org: &Organization) -> Result<(), StoreError> {
        if self
            .put(Table::Config, codec::organization_item(org), Some(absent()))
            .await?
        {
            Ok(())
        } else {
            Err(StoreError::Conflict("organization already exists".into()))
        }
    }

    async fn organization(&self, id: OrgId) -> Result<Option<Organization>, StoreError> {
        self.get(Table::Config, org_pk(id), ORG_SK)
            .await?
            .as_ref()
            .map(codec::organization)
            .transpose()
    }

    async fn put_machine_key(&self, key: &MachineKey) -> Result<(), StoreError> {
        let (lookup, copy) = codec::machine_key_items(key);
        let sizes = [super::item_size(&lookup), super::item_size(&copy)];
        // An upsert (revoking rewrites the key) that never moves a key to another org.
        let same_org = Expr::new("attribute_not_exists(#pk) OR #org = :org")
            .value(":org", s(key.org.to_string()));
        let table = self.table(Table::Config).to_owned();
        let items = vec![
            transact_put(&table, lookup, Some(same_org))?,
            transact_put(&table, copy, None)?,
        ];
        match self.transact(items, &sizes).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::Conflict(
                "machine key belongs to another organization".into(),
            )),
        }
    }

    async fn machine_key(&self, access_key: &str) -> Result<Option<MachineKey>, StoreError> {
        self.get(Table::Config, machine_key_pk(access_key), LOOKUP_SK)
            .await?
            .as_ref()
            .map(codec::machine_key)
            .transpose()
    }

    async fn machine_keys(&self, org: OrgId) -> Result<Vec<MachineKey>, StoreError> {
        let q = Query::new(Table::Config, org_pk(org), MACHINE_KEYS);
        let mut keys = self
            .query_all(&q, true)
            .await?
            .iter()
            .map(codec::machine_key)
            .collect::<Result<Vec<_>, _>>()?;
        keys.sort_by(|a, b| (a.created_at, &a.access_key).cmp(&(b.created_at, &b.access_key)));
        Ok(keys)
    }

    /// Both items in one transaction, the lookup only if it is the organization's.
    async fn delete_machine_key(&self, org: OrgId, access_key: &str) -> Result<bool, StoreError> {
        let table = self.table(Table::Config).to_owned();
        let of_org = Expr::new("#org = :org").value(":org", s(org.to_string()));
        let lookup = Delete::builder()
            .table_name(&table)
            .key(PK, s(machine_key_pk(access_key)))
            .key(SK, s(LOOKUP_SK))
            .condition_expression(of_org.text)
            .set_expression_attribute_names(Some(of_org.names))
            .set_expression_attribute_values(Some(of_org.values))
            .build()
            .map_err(|e| backend("TransactWriteItems", e))?;
        let copy = Delete::builder()
            .table_name(&table)
            .key(PK, s(org_pk(org)))
            .key(SK, s(machine_key_org_sk(access_key)))
            .build()
            .map_err(|e| backend("TransactWriteItems", e))?;
        let items = [lookup, copy]
            .into_iter()
            .map(|d| TransactWriteItem::builder().delete(d).build())
            .collect();
        Ok(self.transact(items, &[0, 0]).await?.is_ok())
    }

    async fn put_publishable_key(&self, key: &PublishableKey) -> Result<(), StoreError> {
        let (lookup, copy) = codec::publishable_key_items(key);
        let sizes = [super::item_size(&lookup), super::item_size(&copy)];
        let same_tenant = Expr::new("attribute_not_exists(#pk) OR (#org = :org AND #ws = :ws)")
            .value(":org", s(key.org.to_string()))
            .value(":ws", s(key.workspace.to_string()));
        let table = self.table(Table::Config).to_owned();
        let items = vec![
            transact_put(&table, lookup, Some(same_tenant))?,
            transact_put(&table, copy, None)?,
        ];
        match self.transact(items, &sizes).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::Conflict(
                "publishable key belongs to another workspace".into(),
            )),
        }
    }

    async fn publishable_key(&self, key_hash: &str) -> Result<Option<PublishableKey>, StoreError> {
        let load = || async {
            self.get(Table::Config, publishable_key_pk(key_hash), LOOKUP_SK)
                .await?
                .as_ref()
                .map(codec::publishable_key)
                .transpose()
        };
        match &self.hot {
            // Unknown keys are not kept: a key just issued works at once.
            Some(hot) => {
                hot.publishable_keys
                    .get_or_load(key_hash.to_owned(), |k| k.is_some(), load)
                    .await
            }
            None => load().await,
        }
    }

    async fn publishable_keys(
        &self,
        org: OrgId,
        ws: WorkspaceId,
    ) -> Result<Vec<PublishableKey>, StoreError> {
        let q = Query::new(Table::Config, org_pk(org), publishable_keys_prefix(ws));
        let mut keys = self
            .query_all(&q, true)
            .await?
            .iter()
            .map(codec::publishable_key)
            .collect::<Result<Vec<_>, _>>()?;
        keys.sort_by(|a, b| (b.created_at, &b.key_hash).cmp(&(a.created_at, &a.key_hash)));
        Ok(keys)
    }
}
