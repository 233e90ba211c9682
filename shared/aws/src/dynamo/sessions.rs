//! Embed sessions, one item each in their organization's config partition (`SE#<id>`, scope
//! `SE#<ws>#<id>` for a workspace's list). Refresh, revoke and the launch spend are
//! conditional UpdateItems, so of concurrent calls at most one changes anything.

use async_trait::async_trait;
use switchyard_core::domain::Session;
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::{SessionFilter, Sessions};
use switchyard_core::{OrgId, SessionId, StoreError};
use time::OffsetDateTime;

use super::codec;
use super::expr::Expr;
use super::item::{ms, s};
use super::keys::*;
use super::list::Query;
use super::{DynamoStore, Table, absent};

#[async_trait]
impl Sessions for DynamoStore {
    async fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        let item = codec::session_item(session)?;
        if self.put(Table::Config, item, Some(absent())).await? {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!(
                "session {} already exists",
                session.id
            )))
        }
    }

    async fn session(&self, org: OrgId, id: SessionId) -> Result<Option<Session>, StoreError> {
        self.get(Table::Config, org_pk(org), &session_sk(id))
            .await?
            .as_ref()
            .map(codec::session)
            .transpose()
    }

    async fn list_sessions(
        &self,
        org: OrgId,
        filter: &SessionFilter,
        page: PageRequest,
    ) -> Result<Page<Session>, StoreError> {
        let q = match filter.workspace {
            Some(ws) => Query::new(Table::Config, org_pk(org), session_scope_prefix(ws)).by_scope(),
            None => Query::new(Table::Config, org_pk(org), SESSIONS),
        };
        let status = filter
            .revoked
            .map(|r| s(if r { "revoked" } else { "active" }));
        let q = q
            .equal("st", status)
            .equal("res", filter.resource.as_deref().map(s))
            .equal("rid", filter.resource_id.as_deref().map(s));
        self.page(&q, page, codec::session, |x| x.id.0).await
    }

    async fn refresh_session(
        &self,
        org: OrgId,
        id: SessionId,
        token_hash: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let set = Expr::new("SET #th = :th, #exp = :exp")
            .value(":th", s(token_hash))
            .value(":exp", ms(expires_at));
        let live = Expr::new("attribute_exists(#pk) AND attribute_not_exists(#rev)");
        Ok(self
            .update(Table::Config, org_pk(org), &session_sk(id), set, Some(live))
            .await?
            .is_some())
    }

    async fn revoke_session(
        &self,
        org: OrgId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let set = Expr::new("SET #st = :st, #rev = if_not_exists(#rev, :rev)")
            .value(":st", s("revoked"))
            .value(":rev", ms(at));
        Ok(self
            .update(
                Table::Config,
                org_pk(org),
                &session_sk(id),
                set,
                Some(Expr::new("attribute_exists(#pk)")),
            )
            .await?
            .is_some())
    }

    async fn spend_launch(
        &self,
        org: OrgId,
        id: SessionId,
        launch_hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let set = Expr::new("SET #spent = :yes").value(":yes", super::yes());
        let unspent = Expr::new(
            "attribute_exists(#pk) AND #lh = :lh AND attribute_not_exists(#spent) \
             AND #lexp > :now AND attribute_not_exists(#rev)",
        )
        .value(":lh", s(launch_hash))
        .value(":now", ms(now));
        Ok(self
            .update(
                Table::Config,
                org_pk(org),
                &session_sk(id),
                set,
                Some(unspent),
            )
            .await?
            .is_some())
    }
}
