//! Session expiry under a clock the test controls: the real API router over real SQLite,
//! served on 127.0.0.1 — an access token stops at its `ttl_seconds` and a launch token at its
//! `launch_ttl_seconds`, without waiting minutes; a console session's key is deleted a week
//! after it ends.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use switchyard_core::clock::{ManualClock, truncated_to_millis};
use switchyard_core::keyring::MasterKeyRing;
use switchyard_core::webhook::UrlPolicy;
use switchyard_core::{Clock, OrgId};
use switchyard_embedded::{Db, QueueSettings, SqliteIntake, SqliteQueue, SqliteStore};
use switchyard_handlers::console::login;
use switchyard_handlers::{Deps, Live, Settings, tenancy};
use switchyard_integrations::{ClientSettings, Integrations, OutboundClient};
use switchyard_tests::{Api, expect_status};
use time::OffsetDateTime;

/// The API over SQLite on a loopback port, its clock, and a client of its organization.
async fn serve() -> (Api, Arc<ManualClock>) {
    let (api, clock, _, _) = serve_with_deps().await;
    (api, clock)
}

/// [`serve`], with the server's dependencies and its organization's id.
async fn serve_with_deps() -> (Api, Arc<ManualClock>, Deps, OrgId) {
    let clock = Arc::new(ManualClock::new(truncated_to_millis(
        OffsetDateTime::now_utc(),
    )));
    let db = Db::in_memory().unwrap();
    let store = Arc::new(SqliteStore::open(db.clone()).unwrap());
    let queue =
        Arc::new(SqliteQueue::open(db, clock.clone(), |_| QueueSettings::default()).unwrap());
    let url_policy = UrlPolicy::default();
    let deps = Deps {
        store,
        intake: Arc::new(SqliteIntake::new((*queue).clone())),
        dead_letters: None,
        queue,
        keys: Arc::new(MasterKeyRing::new("t", [("t".to_owned(), [7u8; 32])])),
        clock: clock.clone(),
        integrations: Arc::new(Integrations::new(
            OutboundClient::new(ClientSettings::default()).unwrap(),
            url_policy,
        )),
        settings: Settings::default(),
        live: Live::default(),
    };
    let (org, key) = tenancy::create_organization(&deps, "test").await.unwrap();
    let (ws, publishable) = tenancy::create_workspace(&deps, org.id, "default", None)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = deps.clone();
    tokio::spawn(async move {
        axum::serve(listener, switchyard_handlers::api::router(served))
            .await
            .unwrap()
    });
    let api = Api::from_credentials(&json!({
        "api_url": base, "org_id": org.id.to_string(), "access_key": key.access_key,
        "secret_key": key.secret_key, "workspace_id": ws.id.to_string(),
        "publishable_key": publishable,
    }));
    (api, clock, deps, org.id)
}

async fn create(api: &Api, body: Value) -> Value {
    let response = api
        .machine(Method::POST, "/sessions")
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_status(response, 200).await
}

async fn reads(api: &Api, token: &str) -> u16 {
    api.request(Method::GET, "/connections")
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_access_token_expires_at_its_ttl_and_a_refresh_renews_it() {
    let (api, clock) = serve().await;
    let created = create(
        &api,
        json!({"workspace_id": api.workspace_id, "ttl_seconds": 300}),
    )
    .await;
    assert_eq!(created["expires_in"], 300);
    let token = created["access_token"].as_str().unwrap();
    assert_eq!(reads(&api, token).await, 200);
    clock.advance(Duration::from_secs(299));
    assert_eq!(reads(&api, token).await, 200);
    clock.advance(Duration::from_secs(1));
    assert_eq!(reads(&api, token).await, 401, "expired at its ttl");
    let listed = api.get("/sessions").await;
    assert_eq!(listed["records"][0]["is_expired"], true);
    assert_eq!(listed["records"][0]["status"], "active");

    // The host's backend refreshes an expired (not revoked) session: a new token, a new ttl.
    let id = created["session_id"].as_str().unwrap();
    let response = api
        .machine(Method::POST, &format!("/sessions/{id}/refresh"))
        .send()
        .await
        .unwrap();
    let refreshed = expect_status(response, 200).await;
    let renewed = refreshed["access_token"].as_str().unwrap();
    assert_eq!(reads(&api, renewed).await, 200);
    assert_eq!(reads(&api, token).await, 401);
    clock.advance(Duration::from_secs(300));
    assert_eq!(reads(&api, renewed).await, 401);
}

#[tokio::test]
async fn a_launch_token_expires_at_its_launch_ttl() {
    let (api, clock) = serve().await;
    let launch = |token: String| {
        let api = api.clone();
        async move {
            api.request(Method::POST, "/sessions/launch")
                .json(&json!({"launch_token": token}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let body = json!({"workspace_id": api.workspace_id, "launch_ttl_seconds": 15});
    let late = create(&api, body.clone()).await;
    let in_time = create(&api, body).await;
    clock.advance(Duration::from_secs(14));
    assert_eq!(
        launch(in_time["launch_token"].as_str().unwrap().into()).await,
        200
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        launch(late["launch_token"].as_str().unwrap().into()).await,
        401
    );
}

/// Each `switchyard console` login makes a machine key that stops working after an hour; the
/// key of a session that ended over a week ago is deleted by the next login, and recent ones
/// (and the organization's own keys) stay listed.
#[tokio::test]
async fn console_session_keys_are_deleted_a_week_after_their_session_ends() {
    let (_api, clock, deps, org) = serve_with_deps().await;
    let console_keys = || async {
        let keys = deps.tenants().machine_keys(org).await.unwrap();
        let console: Vec<String> = keys
            .iter()
            .filter(|k| k.name == login::KEY_NAME)
            .map(|k| k.access_key.clone())
            .collect();
        (keys.len() - console.len(), console)
    };
    let day = Duration::from_secs(24 * 3600);

    login::issue(&deps, org).await.unwrap();
    let (own, first) = console_keys().await;
    assert_eq!((own, first.len()), (1, 1));

    clock.advance(day);
    login::issue(&deps, org).await.unwrap();
    let (_, two) = console_keys().await;
    assert_eq!(
        two.len(),
        2,
        "a session that ended a day ago is still listed"
    );

    // The first session ended 7 days and 23 hours ago, the second 6 days and 23 hours ago.
    clock.advance(7 * day);
    login::issue(&deps, org).await.unwrap();
    let (own, now) = console_keys().await;
    assert_eq!(own, 1, "the organization's own key is kept");
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(
        !now.contains(&first[0]),
        "the first session's key is deleted"
    );
    let second = two.iter().find(|k| **k != first[0]).unwrap();
    assert!(now.contains(second), "the second session's key is kept");
    assert!(
        deps.tenants()
            .machine_key(&first[0])
            .await
            .unwrap()
            .is_none()
    );
}

/// A console session's key works until its session ends: it is listed as working with that
/// end as `expires_at`, not as revoked; revoking it stops it at once.
#[tokio::test]
async fn a_console_session_key_reads_active_until_its_session_ends_and_revoking_ends_it_now() {
    let (api, clock, deps, org) = serve_with_deps().await;
    login::issue(&deps, org).await.unwrap();
    let console_key = || async {
        machine_keys(&api)
            .await
            .into_iter()
            .find(|k| k["name"] == login::KEY_NAME)
            .unwrap()
    };
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    let session_end = (clock.now() + login::SESSION_LIFETIME)
        .format(rfc3339)
        .unwrap();

    let console = console_key().await;
    assert_eq!(console["revoked_at"], Value::Null, "{console}");
    assert_eq!(console["expires_at"], json!(session_end), "{console}");

    let access_key = console["access_key"].as_str().unwrap();
    let response = api
        .machine(Method::DELETE, &format!("/machine-keys/{access_key}"))
        .send()
        .await
        .unwrap();
    let revoked = expect_status(response, 200).await;
    let now = clock.now().format(rfc3339).unwrap();
    assert_eq!(revoked["revoked_at"], json!(now), "{revoked}");
    assert_eq!(revoked["expires_at"], Value::Null, "{revoked}");
    let stored = deps
        .tenants()
        .machine_key(access_key)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.is_revoked(clock.now()), "refused from now on");
    assert_eq!(console_key().await["revoked_at"], json!(now));

    // Past its session's end, a key nobody revoked reads revoked from that end.
    login::issue(&deps, org).await.unwrap();
    clock.advance(Duration::from_secs(2 * 3600));
    for key in machine_keys(&api).await {
        if key["name"] == login::KEY_NAME {
            assert_ne!(key["revoked_at"], Value::Null, "{key}");
            assert_eq!(key["expires_at"], Value::Null, "{key}");
        }
    }
}

async fn machine_keys(api: &Api) -> Vec<Value> {
    let response = api
        .machine(Method::GET, "/machine-keys")
        .send()
        .await
        .unwrap();
    let keys = expect_status(response, 200).await;
    keys["records"].as_array().unwrap().clone()
}
