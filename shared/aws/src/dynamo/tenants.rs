//! Organizations, machine and publishable keys, workspaces: the config table's tenant items.
//!
//! Keys live twice — under their lookup key (found before the tenant is known) and in their
//! organization's partition (listed by it) — written together in one transaction, whose
//! condition also keeps a key from ever moving to another tenant. A workspace's name is
//! claimed by a second item in the same transaction, which is how names stay unique per org.

use switchyard_core::domain::*;
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::{OrgId, StoreError, WorkspaceId};

use super::codec;
use super::expr::Expr;
use super::item::{ms, s};
use super::keys::*;
use super::list::Query;
use super::{DynamoStore, Table, absent, present, transact_put};
use crate::error::backend;

impl DynamoStore {
    pub(super) async fn create_organization_item(
        &self,
        org: &Organization,
    ) -> Result<(), StoreError> {
        if self
            .put(Table::Config, codec::organization_item(org), Some(absent()))
            .await?
        {
            Ok(())
        } else {
            Err(StoreError::Conflict("organization already exists".into()))
        }
    }

    pub(super) async fn organization_item(
        &self,
        id: OrgId,
    ) -> Result<Option<Organization>, StoreError> {
        self.get(Table::Config, org_pk(id), ORG_SK)
            .await?
            .as_ref()
            .map(codec::organization)
            .transpose()
    }

    pub(super) async fn put_machine_key_items(&self, key: &MachineKey) -> Result<(), StoreError> {
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

    pub(super) async fn machine_key_lookup(
        &self,
        access_key: &str,
    ) -> Result<Option<MachineKey>, StoreError> {
        self.get(Table::Config, machine_key_pk(access_key), LOOKUP_SK)
            .await?
            .as_ref()
            .map(codec::machine_key)
            .transpose()
    }

    pub(super) async fn machine_keys_of(&self, org: OrgId) -> Result<Vec<MachineKey>, StoreError> {
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

    pub(super) async fn put_publishable_key_items(
        &self,
        key: &PublishableKey,
    ) -> Result<(), StoreError> {
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

    pub(super) async fn publishable_key_lookup(
        &self,
        key_hash: &str,
    ) -> Result<Option<PublishableKey>, StoreError> {
        self.get(Table::Config, publishable_key_pk(key_hash), LOOKUP_SK)
            .await?
            .as_ref()
            .map(codec::publishable_key)
            .transpose()
    }

    pub(super) async fn publishable_keys_of(
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

    pub(super) async fn create_workspace_items(&self, ws: &Workspace) -> Result<(), StoreError> {
        let item = codec::workspace_item(ws);
        let name = codec::workspace_name_item(ws);
        let sizes = [super::item_size(&item), super::item_size(&name)];
        let table = self.table(Table::Config).to_owned();
        let items = vec![
            transact_put(&table, item, Some(absent()))?,
            transact_put(&table, name, Some(absent()))?,
        ];
        match self.transact(items, &sizes).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::Conflict(format!(
                "a workspace named {} already exists",
                ws.name
            ))),
        }
    }

    pub(super) async fn workspace_item(
        &self,
        org: OrgId,
        id: WorkspaceId,
    ) -> Result<Option<Workspace>, StoreError> {
        self.get(Table::Config, org_pk(org), &workspace_sk(id))
            .await?
            .as_ref()
            .map(codec::workspace)
            .transpose()
    }

    /// Renames move the name claim in the same transaction as the workspace, on the condition
    /// that the name read is still the stored one (a concurrent rename fails, it never forks).
    pub(super) async fn update_workspace_items(&self, ws: &Workspace) -> Result<bool, StoreError> {
        let Some(current) = self.workspace_item(ws.org, ws.id).await? else {
            return Ok(false);
        };
        let text = match ws.description {
            Some(_) => "SET #name = :name, #up = :up, #desc = :desc",
            None => "SET #name = :name, #up = :up REMOVE #desc",
        };
        let mut set = Expr::new(text)
            .value(":name", s(&ws.name))
            .value(":up", ms(ws.updated_at));
        if let Some(d) = &ws.description {
            set = set.value(":desc", s(d));
        }
        if current.name == ws.name {
            return Ok(self
                .update(
                    Table::Config,
                    org_pk(ws.org),
                    &workspace_sk(ws.id),
                    set,
                    Some(present()),
                )
                .await?
                .is_some());
        }
        let table = self.table(Table::Config).to_owned();
        let unchanged = Expr::new("#name = :old").value(":old", s(&current.name));
        let (names, values) = set.merged_with(Some(&unchanged));
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&table)
            .key(PK, s(org_pk(ws.org)))
            .key(SK, s(workspace_sk(ws.id)))
            .update_expression(set.text)
            .condition_expression(unchanged.text)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| backend("TransactWriteItems", e))?;
        let release = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&table)
            .key(PK, s(org_pk(ws.org)))
            .key(SK, s(workspace_name_sk(&current.name)))
            .build()
            .map_err(|e| backend("TransactWriteItems", e))?;
        let claim = codec::workspace_name_item(ws);
        let sizes = [300, 100, super::item_size(&claim)];
        let items = vec![
            aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .update(update)
                .build(),
            aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .delete(release)
                .build(),
            transact_put(&table, claim, Some(absent()))?,
        ];
        match self.transact(items, &sizes).await? {
            Ok(()) => Ok(true),
            Err(reasons) if reasons.get(2).is_some_and(Option::is_some) => Err(
                StoreError::Conflict(format!("a workspace named {} already exists", ws.name)),
            ),
            Err(_) => Err(StoreError::Backend(
                "the workspace changed during the rename; try again".into(),
            )),
        }
    }

    pub(super) async fn list_workspace_items(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Page<Workspace>, StoreError> {
        let q = Query::new(Table::Config, org_pk(org), WORKSPACES);
        self.page(&q, page, codec::workspace, |w| w.id.0).await
    }

    /// One newest-first page of a query whose items all decode to `T`.
    pub(super) async fn page<T>(
        &self,
        q: &Query,
        page: PageRequest,
        decode: fn(&super::item::Item) -> Result<T, StoreError>,
        id: fn(&T) -> uuid::Uuid,
    ) -> Result<Page<T>, StoreError> {
        let want = page.limit as usize + 1;
        let (items, resume) = self.query_page(q, page.cursor, want, |_| true).await?;
        let records = items.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        Ok(assemble(records, page.limit, resume, id))
    }
}

/// A page from up to `limit + 1` records, or — when the scan budget stopped the query early —
/// the records found with the query's own resume cursor.
pub(super) fn assemble<T>(
    records: Vec<T>,
    limit: u32,
    resume: Option<uuid::Uuid>,
    id: fn(&T) -> uuid::Uuid,
) -> Page<T> {
    match resume {
        Some(cursor) if records.len() <= limit as usize => Page {
            records,
            limit,
            next_cursor: Some(cursor),
        },
        _ => Page::from_overfetch(records, limit, id),
    }
}
