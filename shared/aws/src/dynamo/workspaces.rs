//! Workspaces, in their organization's config partition. A workspace's name is claimed by a
//! second item in the same transaction, which is how names stay unique per org.

use async_trait::async_trait;
use switchyard_core::domain::*;
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::Workspaces;
use switchyard_core::{OrgId, StoreError, WorkspaceId};

use super::codec;
use super::expr::Expr;
use super::item::{ms, s};
use super::keys::*;
use super::list::Query;
use super::plan_limits::Limited;
use super::{DynamoStore, Table, absent, keys, present, transact_put};
use crate::error::backend;

#[async_trait]
impl Workspaces for DynamoStore {
    async fn create_workspace(&self, ws: &Workspace) -> Result<(), StoreError> {
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
        self.get(Table::Config, org_pk(org), &workspace_sk(id))
            .await?
            .as_ref()
            .map(codec::workspace)
            .transpose()
    }

    /// Renames move the name claim in the same transaction as the workspace, on the condition
    /// that the name read is still the stored one (a concurrent rename fails, it never forks).
    async fn update_workspace(&self, ws: &Workspace) -> Result<bool, StoreError> {
        let Some(current) = self.workspace(ws.org, ws.id).await? else {
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

    async fn list_workspaces(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Page<Workspace>, StoreError> {
        let q = Query::new(Table::Config, org_pk(org), WORKSPACES);
        self.page(&q, page, codec::workspace, |w| w.id.0).await
    }
}
