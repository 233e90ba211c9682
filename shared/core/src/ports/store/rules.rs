use async_trait::async_trait;

use crate::domain::*;
use crate::page::{Page, PageRequest};
use crate::{OrgId, RuleId, StoreError, WorkspaceId};

/// Which events go to which connection: the router's input.
#[async_trait]
pub trait Rules: Send + Sync + 'static {
    async fn create_rule(&self, rule: &Rule) -> Result<(), StoreError>;

    /// As [`Rules::create_rule`], only while the organization has fewer than `limit`
    /// rules: `false` — nothing written — when it has `limit` already. Counting and writing
    /// are one atomic step, so concurrent creates never exceed the plan's limit.
    async fn create_rule_within(&self, rule: &Rule, limit: u64) -> Result<bool, StoreError>;

    async fn rule(&self, org: OrgId, id: RuleId) -> Result<Option<Rule>, StoreError>;

    async fn list_rules(
        &self,
        org: OrgId,
        filter: &RuleFilter,
        page: PageRequest,
    ) -> Result<Page<Rule>, StoreError>;

    /// Deletes a rule (its deliveries keep their history); `false` when absent.
    async fn delete_rule(&self, org: OrgId, id: RuleId) -> Result<bool, StoreError>;

    /// The workspace's active rules for one event type: the router's only query.
    async fn active_rules(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        event: &str,
    ) -> Result<Vec<Rule>, StoreError>;

    /// Turns a rule on or off (the router fires active rules only) and sets its
    /// `updated_at`; the rule as stored after, or `None` when absent.
    async fn set_rule_active(
        &self,
        org: OrgId,
        id: RuleId,
        active: bool,
        now: time::OffsetDateTime,
    ) -> Result<Option<Rule>, StoreError>;
}
