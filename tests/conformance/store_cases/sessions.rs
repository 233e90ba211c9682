//! `Sessions`: embed sessions read back as written, listed by filter, refreshed and revoked
//! in place, their launch token spent once; another organization's read as absent.

use anyhow::{Result, ensure};
use switchyard_core::domain::{Branding, LaunchPage, Session, SessionRole, SessionType, Theme};
use switchyard_core::ports::{SessionFilter, Store};
use switchyard_core::{OrgId, SessionId, WorkspaceId};
use time::Duration;

use super::super::store_fixtures::*;
use super::{ids, page};

fn session(org: OrgId, workspace: WorkspaceId, session_type: SessionType) -> Session {
    let at = now();
    let resource = session_type == SessionType::Resource;
    Session {
        id: SessionId::new(),
        org,
        workspace,
        session_type,
        role: SessionRole::Admin,
        resource: resource.then(|| "user".to_owned()),
        resource_id: resource.then(|| "usr_1".to_owned()),
        external_user_id: Some("customer-7".into()),
        scopes: vec!["events.payload:read".into()],
        launch_page: Some(LaunchPage::Events),
        allowed_origins: vec!["https://app.example.com".into()],
        token_hash: "a".repeat(64),
        expires_at: at + Duration::minutes(30),
        ttl_seconds: 1800,
        launch_hash: "b".repeat(64),
        launch_expires_at: at + Duration::seconds(30),
        created_at: at,
        revoked_at: None,
        // Kept with the session on every adapter (and absent when none was given).
        branding: (!resource).then(|| Branding {
            name: Some("Acme <CRM>".into()),
            accent_color: Some("#0a7cff".into()),
            logo_url: Some("https://cdn.acme.test/logo.svg".into()),
            theme: Theme::Dark,
        }),
    }
}

pub async fn sessions_read_back_and_are_scoped_by_org(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let other = tenant(store).await?;
    let s = session(t.org, t.workspace.id, SessionType::Resource);
    store.create_session(&s).await?;
    ensure!(store.session(t.org, s.id).await? == Some(s.clone()));
    ensure!(store.session(other.org, s.id).await?.is_none());
    ensure!(!store.revoke_session(other.org, s.id, now()).await?);
    ensure!(
        !store
            .refresh_session(other.org, s.id, &"c".repeat(64), now())
            .await?
    );
    ensure!(
        !store
            .spend_launch(other.org, s.id, &s.launch_hash, now())
            .await?
    );
    ensure!(store.session(t.org, s.id).await? == Some(s), "unchanged");
    Ok(())
}

pub async fn sessions_are_listed_newest_first_by_filter(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let second = workspace(t.org, "staging");
    store.create_workspace(&second).await?;
    let a = session(t.org, t.workspace.id, SessionType::Workspace);
    let b = session(t.org, t.workspace.id, SessionType::Resource);
    let c = session(t.org, second.id, SessionType::Dashboard);
    for s in [&a, &b, &c] {
        store.create_session(s).await?;
    }
    store.revoke_session(t.org, a.id, now()).await?;
    let list = |f: SessionFilter| async move {
        store
            .list_sessions(t.org, &f, page(10, None))
            .await
            .map(|p| ids(&p, |s| s.id.0))
    };
    ensure!(list(SessionFilter::default()).await? == vec![c.id.0, b.id.0, a.id.0]);
    let in_first = SessionFilter {
        workspace: Some(t.workspace.id),
        ..Default::default()
    };
    ensure!(list(in_first.clone()).await? == vec![b.id.0, a.id.0]);
    let revoked = SessionFilter {
        revoked: Some(true),
        ..in_first.clone()
    };
    ensure!(list(revoked).await? == vec![a.id.0]);
    let active = SessionFilter {
        revoked: Some(false),
        ..Default::default()
    };
    ensure!(list(active).await? == vec![c.id.0, b.id.0]);
    let resource = SessionFilter {
        resource: Some("user".into()),
        resource_id: Some("usr_1".into()),
        ..Default::default()
    };
    ensure!(list(resource).await? == vec![b.id.0]);
    // Pages follow one another without repeats.
    let first = store
        .list_sessions(t.org, &SessionFilter::default(), page(2, None))
        .await?;
    ensure!(ids(&first, |s| s.id.0) == vec![c.id.0, b.id.0]);
    let rest = store
        .list_sessions(t.org, &SessionFilter::default(), page(2, first.next_cursor))
        .await?;
    ensure!(ids(&rest, |s| s.id.0) == vec![a.id.0]);
    ensure!(rest.next_cursor.is_none());
    Ok(())
}

pub async fn sessions_refresh_until_revoked_and_revoke_keeps_the_first_time(
    store: &dyn Store,
) -> Result<()> {
    let t = tenant(store).await?;
    let s = session(t.org, t.workspace.id, SessionType::Workspace);
    store.create_session(&s).await?;
    let later = s.expires_at + Duration::minutes(10);
    ensure!(
        store
            .refresh_session(t.org, s.id, &"c".repeat(64), later)
            .await?
    );
    let read = store.session(t.org, s.id).await?.expect("present");
    ensure!(read.token_hash == "c".repeat(64) && read.expires_at == later);
    let first = now();
    ensure!(store.revoke_session(t.org, s.id, first).await?);
    ensure!(
        store
            .revoke_session(t.org, s.id, first + Duration::seconds(5))
            .await?
    );
    let read = store.session(t.org, s.id).await?.expect("present");
    ensure!(
        read.revoked_at == Some(first),
        "the first revocation time stays"
    );
    ensure!(
        !store
            .refresh_session(t.org, s.id, &"d".repeat(64), later)
            .await?,
        "a revoked session is not refreshed"
    );
    ensure!(
        store
            .session(t.org, s.id)
            .await?
            .expect("present")
            .token_hash
            == "c".repeat(64)
    );
    ensure!(!store.revoke_session(t.org, SessionId::new(), first).await?);
    Ok(())
}

pub async fn launch_tokens_are_spent_once_while_unexpired(store: &dyn Store) -> Result<()> {
    let t = tenant(store).await?;
    let s = session(t.org, t.workspace.id, SessionType::Workspace);
    store.create_session(&s).await?;
    let at = now();
    ensure!(
        !store.spend_launch(t.org, s.id, &"x".repeat(64), at).await?,
        "another hash spends nothing"
    );
    // Concurrent spends: exactly one wins.
    let spends = futures::future::join_all(
        (0..8).map(|_| store.spend_launch(t.org, s.id, &s.launch_hash, at)),
    )
    .await;
    let won = spends.into_iter().filter(|r| matches!(r, Ok(true))).count();
    ensure!(won == 1, "{won} spends won");
    ensure!(!store.spend_launch(t.org, s.id, &s.launch_hash, at).await?);

    let expired = session(t.org, t.workspace.id, SessionType::Workspace);
    store.create_session(&expired).await?;
    ensure!(
        !store
            .spend_launch(
                t.org,
                expired.id,
                &expired.launch_hash,
                expired.launch_expires_at
            )
            .await?,
        "at its expiry the launch token is refused"
    );
    let revoked = session(t.org, t.workspace.id, SessionType::Workspace);
    store.create_session(&revoked).await?;
    store.revoke_session(t.org, revoked.id, at).await?;
    ensure!(
        !store
            .spend_launch(t.org, revoked.id, &revoked.launch_hash, at)
            .await?,
        "a revoked session's launch token is refused"
    );
    Ok(())
}
