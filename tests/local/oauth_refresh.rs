//! Two processes refreshing one OAuth connection at once: two sets of handler dependencies,
//! each with its own SQLite connection to one database file (as two `switchyard` processes, or
//! two Lambda sandboxes over DynamoDB) and its own in-process single-flight, against the local
//! authorization server, whose refresh tokens rotate. A lease claimed by compare-and-set lets
//! one process refresh; the other waits and uses its token — it neither spends the rotated
//! refresh token a second time nor, finding it spent, marks the connection revoked.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Map;
use switchyard_core::domain::{Connection, IntegrationType};
use switchyard_core::keyring::MasterKeyRing;
use switchyard_core::oauth::{Provider, Providers, TokenEndpoint, TokenSet};
use switchyard_core::webhook::UrlPolicy;
use switchyard_core::{Clock, ConnectionId, SystemClock};
use switchyard_embedded::{Db, QueueSettings, SqliteIntake, SqliteQueue, SqliteStore};
use switchyard_handlers::oauth::{FreshToken, OAuth, needs_reauthorization};
use switchyard_handlers::{Deps, Live, Settings, tenancy};
use switchyard_integrations::oauth::OAuthClient;
use switchyard_integrations::{ClientSettings, Integrations, OutboundClient};
use switchyard_tests::OAuthServer;
use url::Url;

const MASTER_KEY: [u8; 32] = [9; 32];

fn client() -> OutboundClient {
    let url_policy = UrlPolicy {
        allow_loopback_http: true,
    };
    OutboundClient::new(ClientSettings::default())
        .unwrap()
        .with_policy(url_policy.into())
        .unwrap()
}

fn vars(server: &OAuthServer) -> HashMap<String, String> {
    server.slack_env().into_iter().collect()
}

/// One "process": its own connection to the database file and its own OAuth single-flight.
fn process(db_path: &std::path::Path, server: &OAuthServer) -> Deps {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let db = Db::open(db_path).unwrap();
    let store = Arc::new(SqliteStore::open(db.clone()).unwrap());
    let queue = Arc::new(
        SqliteQueue::open(db, clock.clone(), |_| QueueSettings {
            visibility_timeout: Duration::from_secs(60),
            max_receive_count: 5,
        })
        .unwrap(),
    );
    let url_policy = UrlPolicy {
        allow_loopback_http: true,
    };
    let vars = vars(server);
    let oauth = OAuth::from_vars(
        |name| vars.get(name).cloned(),
        Arc::new(OAuthClient::new(client(), clock.clone())),
    )
    .unwrap();
    Deps {
        store,
        intake: Arc::new(SqliteIntake::new((*queue).clone())),
        dead_letters: None,
        queue,
        keys: Arc::new(MasterKeyRing::new("k", [("k".to_owned(), MASTER_KEY)])),
        clock,
        integrations: Arc::new(Integrations::new(client(), url_policy)),
        settings: Settings {
            url_policy,
            ..Settings::default()
        },
        live: Live {
            oauth: Arc::new(oauth),
            ..Live::default()
        },
    }
}

/// Tokens for a fresh authorisation: the authorize redirect's code, exchanged.
async fn authorise(server: &OAuthServer) -> TokenSet {
    let redirect = "http://127.0.0.1:9/callback";
    let mut authorize = Url::parse(&server.url("/oauth/authorize")).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", "switchyard-test-client")
        .append_pair("redirect_uri", redirect)
        .append_pair("state", "s");
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = browser.get(authorize).send().await.unwrap();
    let back = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let vars = vars(server);
    let providers = Providers::from_vars(|name| vars.get(name).cloned()).unwrap();
    let provider: &Provider = providers.get(IntegrationType::Slack).unwrap();
    OAuthClient::new(client(), Arc::new(SystemClock))
        .exchange_code(provider, &code, redirect)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_refreshing_one_connection_agree_on_one_token() {
    let server = OAuthServer::start().await;
    // Granted for 30 s (inside the 60 s margin: due now); refreshes last an hour. A slow token
    // endpoint makes the two refreshes overlap.
    server.set_lifetimes(30, 3600);
    server.set_token_latency(Duration::from_millis(200));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchyard.db");
    let a = process(&path, &server);
    let b = process(&path, &server);

    let (org, _) = tenancy::create_organization(&a, "test").await.unwrap();
    let (ws, _) = tenancy::create_workspace(&a, org.id, "default", None)
        .await
        .unwrap();
    let mut secrets = Map::new();
    authorise(&server).await.store_in(&mut secrets);
    let now = a.now();
    let connection = Connection {
        id: ConnectionId::new(),
        org: org.id,
        workspace: ws.id,
        kind: IntegrationType::Slack,
        name: "Team Slack".into(),
        metadata: Map::new(),
        secrets: Some(a.keys.seal(&serde_json::to_vec(&secrets).unwrap())),
        hidden: false,
        created_by: "test".into(),
        created_at: now,
        updated_at: now,
    };
    a.store.create_connection(&connection).await.unwrap();

    let (in_a, in_b) = tokio::join!(
        FreshToken::prepare(&a, &connection, secrets.clone()),
        FreshToken::prepare(&b, &connection, secrets.clone()),
    );
    let token = |fresh: Result<FreshToken, _>| {
        let fresh = fresh.unwrap_or_else(|r: switchyard_core::ports::DeliveryResult| {
            panic!("no token: {:?}", r.error)
        });
        TokenSet::from_secrets(fresh.secrets())
            .unwrap()
            .access_token
            .expose()
            .to_owned()
    };
    let (token_a, token_b) = (token(in_a), token(in_b));

    assert_eq!(token_a, token_b, "both processes use the one token issued");
    assert_eq!(
        server.refresh_requests(),
        1,
        "the lease lets one process refresh; the other waits for its token"
    );
    assert_eq!(server.refresh_grants(), 1);
    assert!(server.accepts(&token_a));
    let stored = a
        .store
        .connection(org.id, connection.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !needs_reauthorization(&stored),
        "a spent rotated token is not a revocation"
    );
    let stored_secrets: Map<_, _> =
        serde_json::from_slice(&a.keys.open(stored.secrets.as_ref().unwrap()).unwrap()).unwrap();
    let stored_token = TokenSet::from_secrets(&stored_secrets).unwrap();
    assert_eq!(stored_token.access_token.expose(), token_a);
}
