//! Connections in their organization's config partition; an update may be conditional on the
//! `updated_at` it read (OAuth refresh), and a delete takes the connection's rules and mapping.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use switchyard_core::domain::*;
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::Connections;
use switchyard_core::{ConnectionId, OrgId, StoreError, WorkspaceId};
use time::OffsetDateTime;

use super::codec;
use super::expr::Expr;
use super::item::{json_s, ms, s};
use super::keys::*;
use super::list::Query;
use super::plan_limits::Limited;
use super::{DynamoStore, Table, absent, keys, present};

#[async_trait]
impl Connections for DynamoStore {
    async fn create_connection(&self, c: &Connection) -> Result<(), StoreError> {
        if self
            .put(Table::Config, codec::connection_item(c)?, Some(absent()))
            .await?
        {
            Ok(())
        } else {
            Err(StoreError::Conflict("connection already exists".into()))
        }
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
        let load = || async {
            self.get(Table::Config, org_pk(org), &connection_sk(id))
                .await?
                .as_ref()
                .map(codec::connection)
                .transpose()
        };
        match &self.hot {
            // An OAuth connection is never kept: its tokens are only ever taken from the
            // table, under the refresh lease.
            Some(hot) => {
                let keep = |c: &Option<Connection>| {
                    c.as_ref()
                        .is_some_and(|c| !switchyard_core::oauth::is_oauth(c.kind))
                };
                hot.connections
                    .get_or_load(format!("{org}|{id}"), keep, load)
                    .await
            }
            None => load().await,
        }
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

    /// Deletes the connection's rules and mapping first, then the connection: a crash in
    /// between leaves a connection without rules (harmless), never rules pointing at nothing.
    async fn delete_connection(&self, org: OrgId, id: ConnectionId) -> Result<bool, StoreError> {
        let q =
            Query::new(Table::Config, org_pk(org), RULES).equal("conn", Some(s(id.to_string())));
        for item in self.query_all(&q, true).await? {
            let rule = codec::rule(&item)?;
            self.delete(Table::Config, org_pk(org), &rule_sk(rule.id))
                .await?;
        }
        self.delete_connection_mapping_item(org, id).await?;
        self.delete(Table::Config, org_pk(org), &connection_sk(id))
            .await
    }

    async fn list_connections(
        &self,
        org: OrgId,
        ws: Option<WorkspaceId>,
        page: PageRequest,
    ) -> Result<Page<Connection>, StoreError> {
        let q = match ws {
            Some(ws) => {
                Query::new(Table::Config, org_pk(org), connection_scope_prefix(ws)).by_scope()
            }
            None => Query::new(Table::Config, org_pk(org), CONNECTIONS),
        };
        self.page(&q, page, codec::connection, |c| c.id.0).await
    }
}

impl DynamoStore {
    /// Replaces the connection's fields; with `expected`, only while its `updated_at` is that.
    pub(super) async fn update_connection_item(
        &self,
        c: &Connection,
        expected: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        let text = match c.secrets {
            Some(_) => {
                "SET #name = :name, #meta = :meta, #hidden = :hidden, #up = :up, #secrets = :secrets"
            }
            None => {
                "SET #name = :name, #meta = :meta, #hidden = :hidden, #up = :up REMOVE #secrets"
            }
        };
        let mut set = Expr::new(text)
            .value(":name", s(&c.name))
            .value(":meta", json_s(&c.metadata)?)
            .value(":hidden", AttributeValue::Bool(c.hidden))
            .value(":up", ms(c.updated_at));
        if let Some(sealed) = &c.secrets {
            set = set.value(":secrets", s(&sealed.0));
        }
        Ok(self
            .update(
                Table::Config,
                org_pk(c.org),
                &connection_sk(c.id),
                set,
                Some(match expected {
                    None => present(),
                    Some(at) => Expr::new("attribute_exists(#pk) AND #up = :expected_up")
                        .value(":expected_up", ms(at)),
                }),
            )
            .await?
            .is_some())
    }
}
