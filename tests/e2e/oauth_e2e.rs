//! OAuth connections end to end: the real `switchyard serve` process, a local authorization
//! server on 127.0.0.1 (RFC 6749, rotating refresh tokens) that also serves Slack's
//! `chat.postMessage`, and the user's browser played by following the redirects by hand.
//! Connect, deliver, refresh before expiry, refresh once on a refused token, one refresh for
//! concurrent deliveries, a revoked grant marking the connection, and refused flows storing
//! nothing. No token ever appears in an API answer.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use switchyard_tests::{
    Api, DEADLINE, OAuthServer, Switchyard, all_deliveries, assert_contract_error, event_when,
    eventually, expect_status,
};
use url::Url;

struct Setup {
    _dir: tempfile::TempDir,
    _server: Switchyard,
    api: Api,
    provider: OAuthServer,
    /// A client that never follows redirects: the test plays the browser.
    browser: reqwest::Client,
}

async fn setup() -> Setup {
    setup_with(&[]).await
}

/// A server with the OAuth environment and `extra` variables.
async fn setup_with(extra: &[(&str, &str)]) -> Setup {
    let provider = OAuthServer::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = provider.slack_env();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server =
        Switchyard::start_with_env(&dir.path().join("data"), &["--allow-loopback-http"], &env);
    let api = Api::from_credentials(&server.credentials());
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Setup {
        _dir: dir,
        _server: server,
        api,
        provider,
        browser,
    }
}

/// `path?query`, form-encoded.
fn with_query(path: &str, query: &[(&str, &str)]) -> String {
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    format!("{path}?{encoded}")
}

/// No token the provider issued, nor the client secret, is in `text`.
fn assert_no_secrets(text: &str) {
    assert!(!text.contains(OAuthServer::issued_prefix()), "{text}");
    assert!(!text.contains("test-client-secret"), "{text}");
}

impl Setup {
    /// The server's log holds no token and no client secret.
    fn assert_log_clean(&self) {
        let log = std::fs::read_to_string(self._dir.path().join("data.log")).expect("server log");
        assert!(!log.is_empty());
        assert_no_secrets(&log);
    }

    /// `GET /connections/oauth/slack/start` with `query`; the answer's authorize URL.
    async fn start(&self, query: &[(&str, &str)]) -> Url {
        let response = self
            .api
            .machine(
                Method::GET,
                &with_query("/connections/oauth/slack/start", query),
            )
            .send()
            .await
            .expect("start");
        let body = expect_status(response, 200).await;
        assert_no_secrets(&body.to_string());
        Url::parse(body["authorize_url"].as_str().expect("authorize_url")).expect("URL")
    }

    /// The browser at the provider: its redirect back to our callback.
    async fn consent(&self, authorize_url: &Url) -> Url {
        let response = self
            .browser
            .get(authorize_url.clone())
            .send()
            .await
            .expect("authorize");
        assert_eq!(response.status(), 302, "the provider redirects back");
        let location = response.headers()[LOCATION].to_str().expect("location");
        Url::parse(location).expect("callback URL")
    }

    /// The browser at our callback.
    async fn callback(&self, callback: &Url) -> reqwest::Response {
        self.browser
            .get(callback.clone())
            .send()
            .await
            .expect("callback")
    }

    /// The whole flow with no redirect_uri: the created connection's id.
    async fn connect(&self, name: &str) -> String {
        let workspace = self.api.workspace_id.clone();
        let authorize = self
            .start(&[("workspace", &workspace), ("name", name)])
            .await;
        let back = self.consent(&authorize).await;
        let body = expect_status(self.callback(&back).await, 201).await;
        assert_no_secrets(&body.to_string());
        body["connection"]["id"].as_str().expect("id").to_owned()
    }

    /// A Slack `send_message` rule for `event` through `connection`.
    async fn rule(&self, connection: &str, event: &str) -> String {
        let rule = self
            .api
            .post(
                "/rules",
                json!({"workspace": self.api.workspace_id, "connection": connection,
                       "event": event,
                       "metadata": {"action": "send_message", "id": "C0123",
                                    "value": "{{email}} signed up"}}),
            )
            .await;
        rule["rule"]["id"].as_str().expect("rule id").to_owned()
    }

    async fn send(&self, event: &str, email: &str) -> String {
        let event = self
            .api
            .send_event(json!({"event": event, "resource": "user",
                               "payload": {"email": email}}))
            .await;
        event["id"].as_str().expect("event id").to_owned()
    }

    /// The delivery's attempts; none while the router has not made the delivery yet (404).
    async fn attempts(&self, event: &str, rule: &str) -> Vec<Value> {
        let response = self
            .api
            .machine(
                Method::GET,
                &format!("/events/{event}/rules/{rule}/attempts"),
            )
            .send()
            .await
            .expect("attempts");
        if response.status() == 404 {
            return Vec::new();
        }
        let list = expect_status(response, 200).await;
        assert_no_secrets(&list.to_string());
        list["records"].as_array().expect("records").clone()
    }

    /// The delivered messages' bearer tokens, in order.
    fn accepted_tokens(&self) -> Vec<String> {
        self.provider
            .messages()
            .into_iter()
            .map(|(token, _)| token)
            .filter(|t| self.provider.accepts(t))
            .collect()
    }
}

#[tokio::test]
async fn connects_through_the_authorization_code_flow() {
    let s = setup().await;
    let workspace = s.api.workspace_id.clone();
    let authorize = s
        .start(&[
            ("workspace", workspace.as_str()),
            ("name", "Team Slack"),
            ("redirect_uri", "https://app.example/connected?tab=2"),
        ])
        .await;
    let query: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], "switchyard-test-client");
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["scope"], "chat:write,chat:write.public");
    assert!(
        query["redirect_uri"].ends_with("/api/v1/connections/oauth/slack/callback"),
        "{}",
        query["redirect_uri"]
    );
    assert!(
        !query["state"].contains("Team Slack"),
        "the state is sealed"
    );

    let back = s.consent(&authorize).await;
    let response = s.callback(&back).await;
    assert_eq!(response.status(), 303);
    let location = Url::parse(response.headers()[LOCATION].to_str().unwrap()).unwrap();
    assert_eq!(location.host_str(), Some("app.example"));
    let pairs: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(pairs["tab"], "2");
    let id = pairs["connection"].clone();

    let connection = s.api.get(&format!("/connections/{id}")).await;
    assert_eq!(connection["type"], "slack");
    assert_eq!(connection["name"], "Team Slack");
    assert_eq!(connection["workspace"], workspace.as_str());
    assert_no_secrets(&connection.to_string());
    let list = s.api.get("/connections").await;
    assert_eq!(list["count"], 1);
    assert_no_secrets(&list.to_string());
    assert_eq!(s.provider.code_grants(), 1);

    // A code is good once: the same callback again is refused and stores nothing.
    let replay = s.callback(&back).await;
    assert_contract_error(&expect_status(replay, 400).await);
    assert_eq!(s.api.get("/connections").await["count"], 1);
}

/// One state, 50 callbacks at once (50 consents of one authorisation, each with its own
/// code): exactly one connection, one code exchanged, the rest refused as used.
#[tokio::test]
async fn one_state_used_fifty_times_makes_one_connection() {
    let s = setup().await;
    let workspace = s.api.workspace_id.clone();
    let authorize = s
        .start(&[("workspace", workspace.as_str()), ("name", "Once")])
        .await;
    let mut callbacks = Vec::new();
    for _ in 0..50 {
        callbacks.push(s.consent(&authorize).await);
    }
    let answers = futures::future::join_all(callbacks.iter().map(|c| s.callback(c))).await;
    let mut created = 0;
    for answer in answers {
        match answer.status().as_u16() {
            201 => created += 1,
            400 => {
                let body = expect_status(answer, 400).await;
                assert_contract_error(&body);
                assert_eq!(body["error"]["name"], "InvalidState", "{body}");
            }
            other => panic!("unexpected {other}: {}", answer.text().await.unwrap()),
        }
    }
    assert_eq!(created, 1, "one connection per consent");
    assert_eq!(s.api.get("/connections").await["count"], 1);
    assert_eq!(s.provider.code_grants(), 1, "one code exchanged");
}

#[tokio::test]
async fn refused_and_forged_flows_store_nothing() {
    let s = setup().await;
    let workspace = s.api.workspace_id.clone();

    // The user says no.
    s.provider.deny_consent(true);
    let authorize = s
        .start(&[("workspace", workspace.as_str()), ("name", "No")])
        .await;
    let back = s.consent(&authorize).await;
    let denied = expect_status(s.callback(&back).await, 400).await;
    assert_contract_error(&denied);
    assert_eq!(denied["error"]["name"], "AuthorizationDenied");
    assert!(
        denied["message"]
            .as_str()
            .unwrap()
            .contains("access_denied"),
        "{denied}"
    );

    // A state we never issued, and a real one altered.
    s.provider.deny_consent(false);
    let authorize = s
        .start(&[("workspace", workspace.as_str()), ("name", "Forged")])
        .await;
    let mut back = s.consent(&authorize).await;
    let pairs: Vec<(String, String)> = back.query_pairs().into_owned().collect();
    for forged_state in [
        "v1.k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        {
            let real = &pairs.iter().find(|(k, _)| k == "state").unwrap().1;
            let mut altered = real.clone();
            let last = altered.pop().unwrap();
            altered.push(if last == 'A' { 'B' } else { 'A' });
            altered
        },
    ] {
        back.query_pairs_mut().clear();
        for (k, v) in &pairs {
            let v = if k == "state" { &forged_state } else { v };
            back.query_pairs_mut().append_pair(k, v);
        }
        let refused = expect_status(s.callback(&back).await, 400).await;
        assert_contract_error(&refused);
        assert_eq!(refused["error"]["name"], "InvalidState", "{refused}");
    }
    // A Slack state on another type's callback.
    let other = back
        .as_str()
        .replace("/oauth/slack/callback", "/oauth/hubspot/callback");
    let response = s.browser.get(other).send().await.unwrap();
    assert_contract_error(&expect_status(response, 400).await);
    // No code was spent on the refused callbacks, and nothing was stored.
    assert_eq!(s.provider.code_grants(), 0);
    assert_eq!(s.api.get("/connections").await["count"], 0);

    // A type with no OAuth client configured, and one that is not OAuth at all.
    for kind in ["hubspot", "webhook"] {
        let response = s
            .api
            .machine(
                Method::GET,
                &with_query(
                    &format!("/connections/oauth/{kind}/start"),
                    &[("workspace", workspace.as_str()), ("name", "x")],
                ),
            )
            .send()
            .await
            .unwrap();
        assert_contract_error(&expect_status(response, 400).await);
    }
    // Start needs a machine JWT.
    let response = s
        .api
        .request(
            Method::GET,
            &with_query(
                "/connections/oauth/slack/start",
                &[("workspace", workspace.as_str()), ("name", "x")],
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn an_expiring_token_is_refreshed_before_the_call() {
    let s = setup().await;
    // Granted for 30 s: inside the 60 s margin from the start.
    s.provider.set_lifetimes(30, 3600);
    let connection = s.connect("Team Slack").await;
    let rule = s.rule(&connection, "user.signup").await;
    let event = s.send("user.signup", "ada@example.com").await;
    event_when(&s.api, &event, "the delivery to complete", |e| {
        all_deliveries(e, "completed")
    })
    .await;
    assert_eq!(s.provider.refresh_grants(), 1);
    let messages = s.provider.messages();
    assert_eq!(messages.len(), 1, "no call was made with the old token");
    assert_eq!(messages[0].0, "sytest-access-2", "the refreshed token");
    assert_eq!(
        messages[0].1,
        json!({"channel": "C0123", "text": "ada@example.com signed up"})
    );
    let attempts = s.attempts(&event, &rule).await;
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["outcome"], "delivered");

    // The refreshed token is stored: the next delivery needs no refresh.
    let second = s.send("user.signup", "grace@example.com").await;
    event_when(&s.api, &second, "the second delivery", |e| {
        all_deliveries(e, "completed")
    })
    .await;
    assert_eq!(s.provider.refresh_grants(), 1);
    assert_no_secrets(
        &s.api
            .get(&format!("/connections/{connection}"))
            .await
            .to_string(),
    );
}

#[tokio::test]
async fn a_refused_token_is_refreshed_once_and_the_attempt_retried() {
    let s = setup().await;
    let connection = s.connect("Team Slack").await;
    let rule = s.rule(&connection, "user.signup").await;
    // The provider stops accepting the (unexpired) access token.
    s.provider.invalidate_access_tokens();
    let event = s.send("user.signup", "ada@example.com").await;
    event_when(&s.api, &event, "the delivery to complete", |e| {
        all_deliveries(e, "completed")
    })
    .await;
    assert_eq!(s.provider.refresh_grants(), 1);
    let messages = s.provider.messages();
    assert_eq!(messages.len(), 2, "the refused call, then one retry");
    assert_eq!(messages[0].0, "sytest-access-1");
    assert_eq!(messages[1].0, "sytest-access-2");
    // One attempt in the history: the retry is part of it.
    let attempts = s.attempts(&event, &rule).await;
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["outcome"], "delivered");
}

#[tokio::test]
async fn concurrent_deliveries_share_one_refresh() {
    let s = setup().await;
    s.provider.set_lifetimes(30, 3600);
    // A slow token endpoint, so the deliveries' refreshes overlap.
    s.provider.set_token_latency(Duration::from_millis(300));
    let connection = s.connect("Team Slack").await;
    s.rule(&connection, "user.signup").await;
    let response = s
        .api
        .request(Method::POST, "/events/bulk")
        .header("X-Meshes-Publishable-Key", &s.api.publishable_key)
        .json(&json!(
            (0..8)
                .map(|i| json!({"event": "user.signup", "resource": "user",
                            "payload": {"email": format!("u{i}@example.com")}}))
                .collect::<Vec<_>>()
        ))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    eventually("eight delivered messages", DEADLINE, || async {
        (s.accepted_tokens().len() == 8).then_some(())
    })
    .await;
    assert_eq!(
        s.provider.refresh_requests(),
        1,
        "one refresh request for all the deliveries"
    );
    assert_eq!(s.provider.refresh_grants(), 1);
    let tokens: std::collections::BTreeSet<_> = s.accepted_tokens().into_iter().collect();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    let connection = s.api.get(&format!("/connections/{connection}")).await;
    assert!(
        connection["metadata"].get("status").is_none(),
        "{connection}"
    );
    s.assert_log_clean();
}

#[tokio::test]
async fn a_revoked_grant_fails_auth_and_marks_the_connection_until_reauthorised() {
    let s = setup().await;
    s.provider.set_lifetimes(30, 3600);
    let connection = s.connect("Team Slack").await;
    let rule = s.rule(&connection, "user.signup").await;
    s.provider.revoke_all();

    let event = s.send("user.signup", "ada@example.com").await;
    let attempts = eventually("the first attempt", DEADLINE, || async {
        let attempts = s.attempts(&event, &rule).await;
        (!attempts.is_empty()).then_some(attempts)
    })
    .await;
    assert_eq!(attempts[0]["outcome"], "auth_failed", "{attempts:?}");
    assert!(
        attempts[0]["error"]
            .as_str()
            .unwrap()
            .contains("re-authorisation"),
        "{attempts:?}"
    );
    assert!(
        s.provider.messages().is_empty(),
        "no call with a dead token"
    );
    let marked = s.api.get(&format!("/connections/{connection}")).await;
    assert_eq!(marked["metadata"]["status"], "reauthorization_required");
    assert_eq!(marked["active"], false, "{marked}");
    assert_eq!(marked["inactive_reason"], "oauth_reauthorization_required");

    // Re-running the flow for the connection fixes it.
    s.provider.set_lifetimes(3600, 3600);
    let workspace = s.api.workspace_id.clone();
    let authorize = s
        .start(&[
            ("workspace", workspace.as_str()),
            ("name", "Team Slack"),
            ("connection", connection.as_str()),
        ])
        .await;
    let back = s.consent(&authorize).await;
    let body = expect_status(s.callback(&back).await, 200).await;
    assert_eq!(body["connection"]["id"], connection.as_str());
    assert_no_secrets(&body.to_string());
    let fixed = s.api.get(&format!("/connections/{connection}")).await;
    assert!(fixed["metadata"].get("status").is_none(), "{fixed}");
    assert!(fixed["metadata"].get("status_code").is_none(), "{fixed}");
    assert_eq!(fixed["active"], true);
    assert!(fixed.get("inactive_reason").is_none(), "{fixed}");
    assert_eq!(s.api.get("/connections").await["count"], 1);

    let again = s.send("user.signup", "grace@example.com").await;
    event_when(&s.api, &again, "the delivery after re-authorisation", |e| {
        all_deliveries(e, "completed")
    })
    .await;
    s.assert_log_clean();
}

#[tokio::test]
async fn the_plan_limits_oauth_connections_too() {
    let s = setup_with(&[("SWITCHYARD_PLAN_CONNECTIONS", "1")]).await;
    let workspace = s.api.workspace_id.clone();
    // Started twice while there is room; the first callback takes the last place.
    let first = s
        .start(&[("workspace", workspace.as_str()), ("name", "One")])
        .await;
    let second = s
        .start(&[("workspace", workspace.as_str()), ("name", "Two")])
        .await;
    let back = s.consent(&first).await;
    expect_status(s.callback(&back).await, 201).await;

    // The second callback is refused before its code is exchanged, and nothing is stored.
    let back = s.consent(&second).await;
    let refused = expect_status(s.callback(&back).await, 403).await;
    assert_contract_error(&refused);
    assert_eq!(refused["error"]["name"], "PlanLimitReached");
    assert_eq!(s.provider.code_grants(), 1);
    // And a new start is refused at once.
    let response = s
        .api
        .machine(
            Method::GET,
            &with_query(
                "/connections/oauth/slack/start",
                &[("workspace", workspace.as_str()), ("name", "Three")],
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(response, 403).await["error"]["name"],
        "PlanLimitReached"
    );
    assert_eq!(s.api.get("/connections").await["count"], 1);
}
