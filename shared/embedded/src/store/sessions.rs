//! Embed sessions: one row each, tokens as hashes. Refresh, revoke and the launch spend are
//! single conditional UPDATEs, so concurrent calls cannot both succeed.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, named_params};
use switchyard_core::domain::Session;
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::{SessionFilter, Sessions};
use switchyard_core::{OrgId, SessionId, StoreError};
use time::OffsetDateTime;

use super::SqliteStore;
use super::list::ListQuery;
use super::rows::{self, ms, ms_opt, to_json};

#[async_trait]
impl Sessions for SqliteStore {
    async fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        let s = session.clone();
        self.db.call(move |c| insert_session(c, &s)).await
    }

    async fn session(&self, org: OrgId, id: SessionId) -> Result<Option<Session>, StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached("SELECT * FROM sessions WHERE org = ?1 AND id = ?2")?
                    .query_row([org.to_string(), id.to_string()], rows::session)
                    .optional()
            })
            .await
    }

    async fn list_sessions(
        &self,
        org: OrgId,
        filter: &SessionFilter,
        page: PageRequest,
    ) -> Result<Page<Session>, StoreError> {
        let f = filter.clone();
        self.db
            .call(move |c| {
                let status = f
                    .revoked
                    .map(|r| if r { "revoked" } else { "active" }.to_owned());
                ListQuery::new("sessions", org)
                    .filter("workspace", f.workspace.map(|w| w.to_string()))
                    .filter("status", status)
                    .filter("resource", f.resource)
                    .filter("resource_id", f.resource_id)
                    .page(c, page, rows::session, |s| s.id.0)
            })
            .await
    }

    async fn refresh_session(
        &self,
        org: OrgId,
        id: SessionId,
        token_hash: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let hash = token_hash.to_owned();
        self.db
            .call(move |c| {
                c.prepare_cached(
                    "UPDATE sessions SET token_hash = ?1, expires_at = ?2
                     WHERE org = ?3 AND id = ?4 AND revoked_at IS NULL",
                )?
                .execute(rusqlite::params![
                    hash,
                    ms(expires_at),
                    org.to_string(),
                    id.to_string()
                ])
                .map(|changed| changed == 1)
            })
            .await
    }

    async fn revoke_session(
        &self,
        org: OrgId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached(
                    "UPDATE sessions SET status = 'revoked', revoked_at = COALESCE(revoked_at, ?1)
                     WHERE org = ?2 AND id = ?3",
                )?
                .execute(rusqlite::params![ms(at), org.to_string(), id.to_string()])
                .map(|changed| changed == 1)
            })
            .await
    }

    async fn spend_launch(
        &self,
        org: OrgId,
        id: SessionId,
        launch_hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let hash = launch_hash.to_owned();
        self.db
            .call(move |c| {
                c.prepare_cached(
                    "UPDATE sessions SET launch_spent = 1
                     WHERE org = ?1 AND id = ?2 AND launch_hash = ?3 AND launch_spent = 0
                       AND launch_expires_at > ?4 AND revoked_at IS NULL",
                )?
                .execute(rusqlite::params![
                    org.to_string(),
                    id.to_string(),
                    hash,
                    ms(now)
                ])
                .map(|changed| changed == 1)
            })
            .await
    }
}

fn insert_session(c: &rusqlite::Connection, s: &Session) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO sessions (id, org, workspace, session_type, role, resource, resource_id,
             external_user_id, scopes, launch_page, allowed_origins, token_hash, expires_at,
             ttl_seconds, launch_hash, launch_expires_at, created_at, status, revoked_at,
             branding)
         VALUES (:id, :org, :workspace, :session_type, :role, :resource, :resource_id,
             :external_user_id, :scopes, :launch_page, :allowed_origins, :token_hash, :expires_at,
             :ttl_seconds, :launch_hash, :launch_expires_at, :created_at, :status, :revoked_at,
             :branding)",
    )?
    .execute(named_params! {
        ":id": s.id.to_string(),
        ":org": s.org.to_string(),
        ":workspace": s.workspace.to_string(),
        ":session_type": s.session_type.as_str(),
        ":role": s.role.as_str(),
        ":resource": s.resource,
        ":resource_id": s.resource_id,
        ":external_user_id": s.external_user_id,
        ":scopes": to_json(&s.scopes)?,
        ":launch_page": s.launch_page.map(|p| p.as_str()),
        ":allowed_origins": to_json(&s.allowed_origins)?,
        ":token_hash": s.token_hash,
        ":expires_at": ms(s.expires_at),
        ":ttl_seconds": s.ttl_seconds,
        ":launch_hash": s.launch_hash,
        ":launch_expires_at": ms(s.launch_expires_at),
        ":created_at": ms(s.created_at),
        ":status": if s.revoked_at.is_some() { "revoked" } else { "active" },
        ":revoked_at": ms_opt(s.revoked_at),
        ":branding": s.branding.as_ref().map(to_json).transpose()?,
    })
    .map(drop)
}
