//! Rules carry a `scope` of workspace and event name in the `by_scope` local index, so the
//! router's one query (`active_rules`) reads exactly the rules it may fire — strongly
//! consistent, which a global index could not be.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use switchyard_core::domain::*;
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::Rules;
use switchyard_core::{OrgId, RuleId, StoreError, WorkspaceId};

use super::codec;
use super::expr::Expr;
use super::item::{ms, s};
use super::keys::*;
use super::list::Query;
use super::plan_limits::Limited;
use super::{DynamoStore, Table, absent, keys, present};

#[async_trait]
impl Rules for DynamoStore {
    async fn create_rule(&self, rule: &Rule) -> Result<(), StoreError> {
        if self
            .put(Table::Config, codec::rule_item(rule)?, Some(absent()))
            .await?
        {
            Ok(())
        } else {
            Err(StoreError::Conflict("rule already exists".into()))
        }
    }

    async fn create_rule_within(&self, rule: &Rule, limit: u64) -> Result<bool, StoreError> {
        let items = vec![(codec::rule_item(rule)?, Some(absent()))];
        match self
            .create_within(rule.org, keys::RULES, limit, items)
            .await?
        {
            Limited::Created => Ok(true),
            Limited::AtLimit => Ok(false),
            Limited::Refused => Err(StoreError::Conflict("rule already exists".into())),
        }
    }

    async fn rule(&self, org: OrgId, id: RuleId) -> Result<Option<Rule>, StoreError> {
        let load = || async {
            self.get(Table::Config, org_pk(org), &rule_sk(id))
                .await?
                .as_ref()
                .map(codec::rule)
                .transpose()
        };
        match &self.hot {
            Some(hot) => {
                hot.rules
                    .get_or_load(format!("{org}|{id}"), |r| r.is_some(), load)
                    .await
            }
            None => load().await,
        }
    }

    async fn list_rules(
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

    /// One conditional UpdateItem (the rule must exist): `active` is a plain attribute that
    /// `active_rules` filters on, so the router sees the change on its next query.
    async fn set_rule_active(
        &self,
        org: OrgId,
        id: RuleId,
        active: bool,
        now: time::OffsetDateTime,
    ) -> Result<Option<Rule>, StoreError> {
        let set = Expr::new("SET #active = :active, #up = :up")
            .name("#active", "active")
            .name("#up", "up")
            .value(":active", AttributeValue::Bool(active))
            .value(":up", ms(now));
        self.update(
            Table::Config,
            org_pk(org),
            &rule_sk(id),
            set,
            Some(present()),
        )
        .await?
        .as_ref()
        .map(codec::rule)
        .transpose()
    }

    async fn delete_rule(&self, org: OrgId, id: RuleId) -> Result<bool, StoreError> {
        self.delete(Table::Config, keys::org_pk(org), &keys::rule_sk(id))
            .await
    }

    async fn active_rules(
        &self,
        org: OrgId,
        ws: WorkspaceId,
        event: &str,
    ) -> Result<Vec<Rule>, StoreError> {
        let load = || async {
            let q = Query::new(Table::Config, org_pk(org), rule_scope_prefix(ws, event))
                .by_scope()
                .equal("active", Some(AttributeValue::Bool(true)));
            // Oldest first, so deliveries are created in the order the rules were.
            self.query_all(&q, true)
                .await?
                .iter()
                .map(codec::rule)
                .collect()
        };
        match &self.hot {
            Some(hot) => {
                let key = format!("{org}|{}", rule_scope_prefix(ws, event));
                hot.active_rules.get_or_load(key, |_| true, load).await
            }
            None => load().await,
        }
    }
}
