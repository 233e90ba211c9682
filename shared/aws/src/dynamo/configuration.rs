//! Connections, rules and the catalogs: the rest of the config table. Rules carry a `scope`
//! of workspace and event name in the `by_scope` local index, so the router's one query
//! (`active_rules`) reads exactly the rules it may fire — strongly consistent, which a global
//! index could not be.

use aws_sdk_dynamodb::types::AttributeValue;
use switchyard_core::domain::*;
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::{ConnectionId, OrgId, RuleId, StoreError, WorkspaceId};
use time::OffsetDateTime;

use super::codec;
use super::expr::Expr;
use super::item::{json_s, ms, s};
use super::keys::*;
use super::list::Query;
use super::{DynamoStore, Table, absent, present};

impl DynamoStore {
    pub(super) async fn create_connection_item(&self, c: &Connection) -> Result<(), StoreError> {
        if self
            .put(Table::Config, codec::connection_item(c)?, Some(absent()))
            .await?
        {
            Ok(())
        } else {
            Err(StoreError::Conflict("connection already exists".into()))
        }
    }

    pub(super) async fn connection_item(
        &self,
        org: OrgId,
        id: ConnectionId,
    ) -> Result<Option<Connection>, StoreError> {
        self.get(Table::Config, org_pk(org), &connection_sk(id))
            .await?
            .as_ref()
            .map(codec::connection)
            .transpose()
    }

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

    /// Deletes the connection's rules and mapping first, then the connection: a crash in
    /// between leaves a connection without rules (harmless), never rules pointing at nothing.
    pub(super) async fn delete_connection_items(
        &self,
        org: OrgId,
        id: ConnectionId,
    ) -> Result<bool, StoreError> {
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

    pub(super) async fn list_connection_items(
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

    pub(super) async fn create_rule_item(&self, rule: &Rule) -> Result<(), StoreError> {
        if self
            .put(Table::Config, codec::rule_item(rule)?, Some(absent()))
            .await?
        {
            Ok(())
        } else {
            Err(StoreError::Conflict("rule already exists".into()))
        }
    }

    pub(super) async fn rule_item(
        &self,
        org: OrgId,
        id: RuleId,
    ) -> Result<Option<Rule>, StoreError> {
        self.get(Table::Config, org_pk(org), &rule_sk(id))
            .await?
            .as_ref()
            .map(codec::rule)
            .transpose()
    }

    pub(super) async fn list_rule_items(
        &self,
        org: OrgId,
        f: &RuleFilter,
        page: PageRequest,
    ) -> Result<Page<Rule>, StoreError> {
        let q = match (f.workspace, &f.event) {
            // The common filter is the index's own key: no filter expression needed for it.
            (Some(ws), Some(event)) => {
                Query::new(Table::Config, org_pk(org), rule_scope_prefix(ws, event)).by_scope()
            }
            _ => Query::new(Table::Config, org_pk(org), RULES)
                .equal("ws", f.workspace.map(|w| s(w.to_string())))
                .equal("event", f.event.as_deref().map(s)),
        };
        let q = q
            .equal("conn", f.connection.map(|c| s(c.to_string())))
            .equal("res", f.resource.as_deref().map(s))
            .equal("rid", f.resource_id.as_deref().map(s));
        self.page(&q, page, codec::rule, |r| r.id.0).await
    }

    pub(super) async fn active_rule_items(
        &self,
        org: OrgId,
        ws: WorkspaceId,
        event: &str,
    ) -> Result<Vec<Rule>, StoreError> {
        let q = Query::new(Table::Config, org_pk(org), rule_scope_prefix(ws, event))
            .by_scope()
            .equal("active", Some(AttributeValue::Bool(true)));
        // Oldest first, so deliveries are created in the order the rules were.
        self.query_all(&q, true)
            .await?
            .iter()
            .map(codec::rule)
            .collect()
    }

    /// Adds what is not known to be there: the memo answers for keys this process has seen,
    /// one batch read for the rest (a read unit costs a fifth of a write unit), and a
    /// conditional put per new key so a key's first-seen time is never overwritten.
    pub(super) async fn add_catalog_items(
        &self,
        entries: &[CatalogEntry],
    ) -> Result<(), StoreError> {
        let memo_key = |e: &CatalogEntry| {
            format!("{}|{}{}", e.org, catalog_prefix(e.workspace, e.kind), e.key)
        };
        let unknown: Vec<&CatalogEntry> = entries
            .iter()
            .filter(|e| !self.catalog.contains(&memo_key(e)))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let keys: Vec<(String, String)> = unknown
            .iter()
            .map(|e| {
                (
                    org_pk(e.org),
                    format!("{}{}", catalog_prefix(e.workspace, e.kind), e.key),
                )
            })
            .collect();
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
        for e in unknown {
            let key = (
                org_pk(e.org),
                format!("{}{}", catalog_prefix(e.workspace, e.kind), e.key),
            );
            if !existing.contains(&key) {
                self.put(Table::Config, codec::catalog_item(e), Some(absent()))
                    .await?;
            }
            self.catalog.insert(memo_key(e));
        }
        Ok(())
    }

    pub(super) async fn catalog_items(
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
