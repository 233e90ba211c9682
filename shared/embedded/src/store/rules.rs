//! Rules, and the router's one query: a workspace's active rules for an event type.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, named_params};
use switchyard_core::domain::*;
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::Rules;
use switchyard_core::{OrgId, RuleId, StoreError, WorkspaceId};

use super::list::ListQuery;
use super::rows::{self, ms, to_json};
use super::{SqliteStore, within_limit};

#[async_trait]
impl Rules for SqliteStore {
    async fn create_rule(&self, rule: &Rule) -> Result<(), StoreError> {
        let rule = rule.clone();
        self.db.call(move |c| insert_rule(c, &rule)).await
    }

    async fn create_rule_within(&self, rule: &Rule, limit: u64) -> Result<bool, StoreError> {
        let rule = rule.clone();
        self.db
            .call(move |c| within_limit(c, "rules", rule.org, limit, |c| insert_rule(c, &rule)))
            .await
    }

    async fn rule(&self, org: OrgId, id: RuleId) -> Result<Option<Rule>, StoreError> {
        let generation = self.db.generation();
        if let Some(rule) = self.cache.rules.get(&(org, id), generation) {
            return Ok(Some(rule));
        }
        let rule = self
            .db
            .read(move |c| {
                c.prepare_cached("SELECT * FROM rules WHERE org = ?1 AND id = ?2")?
                    .query_row([org.to_string(), id.to_string()], rows::rule)
                    .optional()
            })
            .await?;
        if let Some(rule) = &rule {
            self.cache.rules.put((org, id), rule.clone(), generation);
        }
        Ok(rule)
    }

    async fn list_rules(
        &self,
        org: OrgId,
        filter: &RuleFilter,
        page: PageRequest,
    ) -> Result<Page<Rule>, StoreError> {
        let query = ListQuery::new("rules", org)
            .filter("workspace", filter.workspace.map(|w| w.to_string()))
            .filter("connection", filter.connection.map(|c| c.to_string()))
            .filter("event", filter.event.clone())
            .filter("resource", filter.resource.clone())
            .filter("resource_id", filter.resource_id.clone());
        self.db
            .call(move |c| query.page(c, page, rows::rule, |r| r.id.0))
            .await
    }

    async fn delete_rule(&self, org: OrgId, id: RuleId) -> Result<bool, StoreError> {
        self.db.call(move |c| delete_rule(c, org, id)).await
    }

    async fn set_rule_active(
        &self,
        org: OrgId,
        id: RuleId,
        active: bool,
        now: time::OffsetDateTime,
    ) -> Result<Option<Rule>, StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached(
                    "UPDATE rules SET active = ?1, updated_at = ?2
                     WHERE org = ?3 AND id = ?4 RETURNING *",
                )?
                .query_row(
                    rusqlite::params![active, ms(now), org.to_string(), id.to_string()],
                    rows::rule,
                )
                .optional()
            })
            .await
    }

    async fn active_rules(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        event: &str,
    ) -> Result<Vec<Rule>, StoreError> {
        let generation = self.db.generation();
        let key = (org, workspace, event.to_owned());
        if let Some(rules) = self.cache.active_rules.get(&key, generation) {
            return Ok(rules);
        }
        let event = key.2.clone();
        let rules: Vec<Rule> = self
            .db
            .read(move |c| {
                // Oldest first, so deliveries are created in the order the rules were.
                c.prepare_cached(
                    "SELECT * FROM rules
                     WHERE org = ?1 AND workspace = ?2 AND event = ?3 AND active = 1
                     ORDER BY id",
                )?
                .query_map([org.to_string(), workspace.to_string(), event], rows::rule)?
                .collect()
            })
            .await?;
        self.cache.active_rules.put(key, rules.clone(), generation);
        Ok(rules)
    }
}

pub(super) fn insert_rule(c: &rusqlite::Connection, rule: &Rule) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO rules (id, org, workspace, connection, kind, event, resource,
                                resource_id, metadata, conditions, active, hidden,
                                created_by, created_at, updated_at)
             VALUES (:id, :org, :workspace, :connection, :kind, :event, :resource,
                     :resource_id, :metadata, :conditions, :active, :hidden,
                     :created_by, :created_at, :updated_at)",
    )?
    .execute(named_params! {
        ":id": rule.id.to_string(),
        ":org": rule.org.to_string(),
        ":workspace": rule.workspace.to_string(),
        ":connection": rule.connection.to_string(),
        ":kind": rule.kind.as_str(),
        ":event": rule.event,
        ":resource": rule.resource,
        ":resource_id": rule.resource_id,
        ":metadata": to_json(&rule.metadata)?,
        ":conditions": rule.conditions.as_ref().map(to_json).transpose()?,
        ":active": rule.active,
        ":hidden": rule.hidden,
        ":created_by": rule.created_by,
        ":created_at": ms(rule.created_at),
        ":updated_at": ms(rule.updated_at),
    })
    .map(drop)
}

pub(super) fn delete_rule(
    c: &rusqlite::Connection,
    org: OrgId,
    id: RuleId,
) -> rusqlite::Result<bool> {
    let deleted = c
        .prepare_cached("DELETE FROM rules WHERE org = ?1 AND id = ?2")?
        .execute([org.to_string(), id.to_string()])?;
    Ok(deleted == 1)
}
