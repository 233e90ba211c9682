//! Embed sessions through the real process: create, list, refresh, revoke; the permission
//! matrix enforced by the API itself (role, type, scopes, resource, workspace); the launch
//! token spent once from an allowed origin; another organization's sessions not found; bad
//! bodies answered in the contract's error format.

use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use switchyard_tests::{
    Api, Receiver, all_deliveries, assert_contract_error, event_when, expect_status,
    second_organization, start,
};

async fn create_session(api: &Api, body: Value) -> Value {
    let response = api
        .machine(Method::POST, "/sessions")
        .json(&body)
        .send()
        .await
        .expect("POST /sessions");
    expect_status(response, 200).await
}

/// A session of `role` and `session_type` (plus `extra`) in the api's workspace; its token.
async fn token(api: &Api, role: &str, session_type: &str, extra: Value) -> String {
    let mut body = json!({"workspace_id": api.workspace_id, "role": role,
                          "session_type": session_type});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    create_session(api, body).await["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

fn as_session(api: &Api, token: &str, method: Method, path: &str) -> RequestBuilder {
    api.request(method, path).bearer_auth(token)
}

async fn status(request: RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn sessions_are_created_listed_refreshed_and_revoked() {
    let (dir, _server, api) = start();
    let created = create_session(
        &api,
        json!({"workspace_id": api.workspace_id,
        "external_user_id": "customer-42"}),
    )
    .await;
    assert_eq!(created["workspace_id"], api.workspace_id.as_str());
    assert_eq!(created["role"], "member");
    assert_eq!(created["session_type"], "workspace");
    assert_eq!(created["expires_in"], 1800);
    let launch_url = created["launch_url"].as_str().unwrap();
    let launch_token = created["launch_token"].as_str().unwrap();
    assert!(
        launch_url.starts_with(&format!("{}/embed/launch?token=", api.base)),
        "{launch_url}"
    );
    assert!(launch_url.ends_with(launch_token));
    for field in ["expires_at", "launch_expires_at"] {
        assert!(created[field].is_string(), "{created}");
    }
    let id = created["session_id"].as_str().unwrap().to_owned();
    let first = created["access_token"].as_str().unwrap().to_owned();

    let listed = api
        .get(&format!("/sessions?workspace_id={}", api.workspace_id))
        .await;
    let record = &listed["records"][0];
    assert_eq!(record["session_id"], id.as_str());
    assert_eq!(record["status"], "active");
    assert_eq!(record["is_expired"], false);
    assert_eq!(record["external_user_id"], "customer-42");
    assert!(
        record.get("access_token").is_none(),
        "tokens are shown once"
    );

    let own = format!("/workspaces/{}", api.workspace_id);
    assert_eq!(
        status(as_session(&api, &first, Method::GET, &own)).await.0,
        200
    );

    // Refresh: a new token for the same session; the previous one stops at once.
    let response = api
        .machine(Method::POST, &format!("/sessions/{id}/refresh"))
        .send()
        .await
        .unwrap();
    let refreshed = expect_status(response, 200).await;
    assert_eq!(refreshed["session_id"], id.as_str());
    assert!(refreshed.get("launch_url").is_none());
    let second = refreshed["access_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(
        status(as_session(&api, &first, Method::GET, &own)).await.0,
        401
    );
    assert_eq!(
        status(as_session(&api, &second, Method::GET, &own)).await.0,
        200
    );

    // Sessions never reach the machine-only routes.
    for (method, path, body) in [
        (
            Method::POST,
            "/sessions".to_owned(),
            json!({"workspace_id": api.workspace_id}),
        ),
        (Method::GET, "/sessions".to_owned(), json!({})),
        (Method::GET, "/machine-keys".to_owned(), json!({})),
        (
            Method::POST,
            "/machine-keys".to_owned(),
            json!({"name": "mine"}),
        ),
        (
            Method::POST,
            "/workspaces".to_owned(),
            json!({"name": "Taken over"}),
        ),
        (Method::PUT, own.clone(), json!({"name": "Renamed"})),
        (
            Method::POST,
            format!("{own}/publishable-key/rotate"),
            json!({}),
        ),
        (Method::GET, "/usage".to_owned(), json!({})),
    ] {
        let (code, body) =
            status(as_session(&api, &second, method.clone(), &path).json(&body)).await;
        assert_eq!(code, 403, "{method} {path}: {body}");
        assert_contract_error(&body);
    }

    // Revoke: the token stops at once; the session lists as revoked and cannot be refreshed.
    let response = api
        .machine(Method::DELETE, &format!("/sessions/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_status(response, 200).await, json!({"revoked": true}));
    assert_eq!(
        status(as_session(&api, &second, Method::GET, &own)).await.0,
        401
    );
    let revoked = api.get("/sessions?status=revoked").await;
    assert_eq!(revoked["records"][0]["session_id"], id.as_str());
    assert_eq!(revoked["records"][0]["status"], "revoked");
    assert_eq!(api.get("/sessions?status=active").await["count"], 0);
    let response = api
        .machine(Method::POST, &format!("/sessions/{id}/refresh"))
        .send()
        .await
        .unwrap();
    assert_contract_error(&expect_status(response, 409).await);

    // A forged token naming the session is refused like any other bad credential.
    let forged = format!("{}{}", &second[..second.len() - 4], "0000");
    assert_eq!(
        status(as_session(&api, &forged, Method::GET, &own)).await.0,
        401
    );

    // The server's log tells what happened and never a token.
    let log = std::fs::read_to_string(dir.path().join("data.log")).expect("server log");
    assert!(log.contains("embed session created"), "{log}");
    assert!(log.contains("authentication refused"), "{log}");
    for token in [first.as_str(), second.as_str(), launch_token] {
        let secret = token.rsplit('.').next().unwrap();
        assert!(!log.contains(secret), "a token's secret reached the log");
    }
}

#[tokio::test]
async fn the_permission_matrix_is_enforced_by_the_api() {
    let (_dir, _server, api) = start();
    let receiver = Receiver::start().await;
    // The destination echoes what it was sent: its answer carries the payload too.
    receiver.echo();
    let (connection, rule) = api
        .webhook_rule(&receiver.url("/hook"), "user.signup")
        .await;
    let mut events = Vec::new();
    for resource_id in ["usr_1", "usr_2"] {
        let event = api
            .send_event(json!({"event": "user.signup", "resource": "user",
                "resource_id": resource_id, "payload": {"email": "secret@example.com"}}))
            .await;
        let id = event["id"].as_str().unwrap().to_owned();
        event_when(&api, &id, "delivered", |e| all_deliveries(e, "completed")).await;
        events.push(id);
    }
    let (mine, theirs) = (&events[0], &events[1]);
    let new_connection = json!({"workspace": api.workspace_id, "type": "webhook",
        "name": "From the embed", "metadata": {"url": receiver.url("/embed")}});
    let new_rule = json!({"workspace": api.workspace_id, "connection": connection,
        "event": "user.signup", "metadata": {"action": "send_webhook"}});
    let retry = format!("/events/{mine}/rules/{rule}/retry");

    // Member: reads everything but payloads; every write is 403.
    let member = token(&api, "member", "workspace", json!({})).await;
    let (code, listed) = status(as_session(&api, &member, Method::GET, "/connections")).await;
    assert_eq!(code, 200);
    assert_eq!(listed["records"][0]["id"], connection.as_str());
    let (code, detail) = status(as_session(
        &api,
        &member,
        Method::GET,
        &format!("/events/{mine}"),
    ))
    .await;
    assert_eq!(code, 200);
    assert_eq!(detail["rule_events"][0]["status"], "completed");
    assert!(detail.get("payload").is_none(), "payload hidden: {detail}");
    let payload = format!("/events/{mine}/payload");
    assert_eq!(
        status(as_session(&api, &member, Method::GET, &payload))
            .await
            .0,
        403
    );
    // The destination's answer echoes the payload, so it is hidden the same way.
    let details = format!("/events/{mine}/rules/{rule}/response-details");
    let (code, answer) = status(as_session(&api, &member, Method::GET, &details)).await;
    assert_eq!(code, 200, "{answer}");
    assert!(answer["response_body"].is_null(), "{answer}");
    let machine = api.get(&details).await;
    assert!(
        machine["response_body"]
            .as_str()
            .is_some_and(|b| b.contains("secret@example.com")),
        "the machine key sees the answer: {machine}"
    );
    for (method, path, body) in [
        (
            Method::POST,
            "/connections".to_owned(),
            new_connection.clone(),
        ),
        (
            Method::PUT,
            format!("/connections/{connection}"),
            json!({"name": "Renamed"}),
        ),
        (
            Method::DELETE,
            format!("/connections/{connection}"),
            json!({"force_delete": true}),
        ),
        (
            Method::PUT,
            format!("/connections/{connection}/mappings/default"),
            json!({"schema": {"schema_version": 1, "fields": []}}),
        ),
        (Method::POST, "/rules".to_owned(), new_rule.clone()),
        (Method::DELETE, format!("/rules/{rule}"), json!({})),
        (Method::POST, format!("/rules/{rule}/test"), json!({})),
        (Method::POST, retry.clone(), json!({})),
        (
            Method::POST,
            format!("/events/{mine}/rules/{rule}/cancel"),
            json!({}),
        ),
        (Method::POST, format!("/events/{mine}/cancel"), json!({})),
    ] {
        let (code, body) =
            status(as_session(&api, &member, method.clone(), &path).json(&body)).await;
        assert_eq!(code, 403, "member {method} {path}: {body}");
        assert_contract_error(&body);
    }
    assert_eq!(
        api.get("/connections").await["count"],
        1,
        "nothing was written"
    );

    // Admin: writes; still no payloads without the scope.
    let admin = token(
        &api,
        "admin",
        "workspace",
        json!({"external_user_id": "ada"}),
    )
    .await;
    let (code, created) =
        status(as_session(&api, &admin, Method::POST, "/connections").json(&new_connection)).await;
    assert_eq!(code, 201, "{created}");
    let created_id = created["connection"]["id"].as_str().unwrap();
    let (code, _) = status(
        as_session(
            &api,
            &admin,
            Method::PUT,
            &format!("/connections/{created_id}"),
        )
        .json(&json!({"name": "Renamed in the embed"})),
    )
    .await;
    assert_eq!(code, 200);
    let (code, body) = status(as_session(&api, &admin, Method::POST, &retry)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        status(as_session(&api, &admin, Method::GET, &payload))
            .await
            .0,
        403
    );

    // The scope shows payloads, in the detail and on their own route.
    let scoped = token(
        &api,
        "owner",
        "workspace",
        json!({"scopes": ["events.payload:read"]}),
    )
    .await;
    let (code, body) = status(as_session(&api, &scoped, Method::GET, &payload)).await;
    assert_eq!(code, 200);
    assert_eq!(body["payload"]["email"], "secret@example.com");
    let (_, detail) = status(as_session(
        &api,
        &scoped,
        Method::GET,
        &format!("/events/{mine}"),
    ))
    .await;
    assert_eq!(detail["payload"]["email"], "secret@example.com");
    let (_, answer) = status(as_session(&api, &scoped, Method::GET, &details)).await;
    assert!(answer["response_body"].is_string(), "{answer}");

    // Dashboard: reads only, whatever its role.
    let dashboard = token(
        &api,
        "owner",
        "dashboard",
        json!({"scopes": ["events.payload:read"]}),
    )
    .await;
    assert_eq!(
        status(as_session(&api, &dashboard, Method::GET, &payload))
            .await
            .0,
        200
    );
    for (method, path, body) in [
        (
            Method::POST,
            "/connections".to_owned(),
            new_connection.clone(),
        ),
        (Method::POST, "/rules".to_owned(), new_rule.clone()),
        (Method::POST, retry.clone(), json!({})),
    ] {
        let (code, body) =
            status(as_session(&api, &dashboard, method.clone(), &path).json(&body)).await;
        assert_eq!(code, 403, "dashboard {method} {path}: {body}");
    }

    // A resource session sees its resource's events and deliveries only.
    let resource = token(
        &api,
        "admin",
        "resource",
        json!({"resource": "user", "resource_id": "usr_1"}),
    )
    .await;
    let (code, listed) = status(as_session(&api, &resource, Method::GET, "/events")).await;
    assert_eq!(code, 200);
    let ids: Vec<&str> = listed["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![mine.as_str()]);
    for path in [
        format!("/events/{theirs}"),
        format!("/events/{theirs}/rules/{rule}/attempts"),
        format!("/events/{theirs}/rules/{rule}/response-details"),
        "/events?resource_id=usr_2".to_owned(),
    ] {
        let (code, body) = status(as_session(&api, &resource, Method::GET, &path)).await;
        assert_eq!(code, 404, "resource session GET {path}: {body}");
        assert_contract_error(&body);
    }
    let (code, _) = status(as_session(
        &api,
        &resource,
        Method::POST,
        &format!("/events/{theirs}/rules/{rule}/retry"),
    ))
    .await;
    assert_eq!(code, 404);
    // Its rule test event is about its own resource, so it can follow it.
    let (code, tested) = status(
        as_session(
            &api,
            &resource,
            Method::POST,
            &format!("/rules/{rule}/test"),
        )
        .json(&json!({"resource": "user", "resource_id": "usr_2"})),
    )
    .await;
    assert_eq!(code, 201, "{tested}");
    assert_eq!(tested["event"]["resource_id"], "usr_1");
    let tested = tested["event"]["id"].as_str().unwrap();
    let (code, _) = status(as_session(
        &api,
        &resource,
        Method::GET,
        &format!("/events/{tested}"),
    ))
    .await;
    assert_eq!(code, 200);
    let (code, attempts) = status(as_session(
        &api,
        &resource,
        Method::GET,
        &format!("/events/{mine}/rules/{rule}/attempts"),
    ))
    .await;
    assert_eq!(code, 200);
    assert!(attempts["count"].as_u64().unwrap() >= 1);

    // Another workspace of the same organization: 404 everywhere, not listed.
    let other = api
        .post("/workspaces", json!({"name": "Another workspace"}))
        .await;
    let other_ws = other["workspace"]["id"].as_str().unwrap().to_owned();
    let mut elsewhere = api.clone();
    elsewhere.workspace_id = other_ws.clone();
    elsewhere.publishable_key = other["workspace"]["publishable_key"]["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (their_connection, their_rule) = elsewhere
        .webhook_rule(&receiver.url("/elsewhere"), "user.signup")
        .await;
    let their_event = elsewhere
        .send_event(json!({"event": "user.signup", "payload": {}}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (method, path, body) in [
        (Method::GET, format!("/workspaces/{other_ws}"), json!({})),
        (
            Method::GET,
            format!("/workspaces/{other_ws}/connections"),
            json!({}),
        ),
        (
            Method::GET,
            format!("/workspaces/{other_ws}/events"),
            json!({}),
        ),
        (
            Method::GET,
            format!("/workspaces/{other_ws}/event-types"),
            json!({}),
        ),
        (
            Method::GET,
            format!("/connections?workspace={other_ws}"),
            json!({}),
        ),
        (
            Method::GET,
            format!("/rules?workspace={other_ws}"),
            json!({}),
        ),
        (
            Method::GET,
            format!("/events?workspace={other_ws}"),
            json!({}),
        ),
        (
            Method::GET,
            format!("/connections/{their_connection}"),
            json!({}),
        ),
        (
            Method::PUT,
            format!("/connections/{their_connection}"),
            json!({"name": "Stolen"}),
        ),
        (
            Method::GET,
            format!("/connections/{their_connection}/mappings/default"),
            json!({}),
        ),
        (Method::GET, format!("/rules/{their_rule}"), json!({})),
        (Method::DELETE, format!("/rules/{their_rule}"), json!({})),
        (Method::GET, format!("/events/{their_event}"), json!({})),
        (
            Method::POST,
            "/connections".to_owned(),
            json!({"workspace": other_ws, "type": "webhook", "name": "Planted",
                   "metadata": {"url": receiver.url("/planted")}}),
        ),
    ] {
        let (code, body) =
            status(as_session(&api, &admin, method.clone(), &path).json(&body)).await;
        assert_eq!(code, 404, "admin session {method} {path}: {body}");
        assert_contract_error(&body);
    }
    let (_, workspaces) = status(as_session(&api, &admin, Method::GET, "/workspaces")).await;
    assert_eq!(workspaces["count"], 1);
    assert_eq!(workspaces["records"][0]["id"], api.workspace_id.as_str());
    let (_, all) = status(as_session(&api, &admin, Method::GET, "/connections")).await;
    assert!(
        all["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["id"] != their_connection.as_str()),
        "{all}"
    );
}

#[tokio::test]
async fn a_launch_token_is_spent_once_from_an_allowed_origin() {
    let (_dir, _server, api) = start();
    let app = "https://app.example.com";
    let created = create_session(
        &api,
        json!({"workspace_id": api.workspace_id,
        "role": "admin", "launch_page": "rules",
        "allowed_origins": [app, "https://admin.example.com/"]}),
    )
    .await;
    let launch_token = created["launch_token"].as_str().unwrap();
    let launch = |origin: Option<&str>| {
        let mut request = api
            .request(Method::POST, "/sessions/launch")
            .json(&json!({"launch_token": launch_token}));
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        status(request)
    };
    for refused in [
        Some("https://evil.example.com"),
        None,
        Some("https://app.example.com:8443"),
    ] {
        let (code, body) = launch(refused).await;
        assert_eq!(code, 401, "{refused:?}: {body}");
        assert_contract_error(&body);
    }
    let (code, launched) = launch(Some(app)).await;
    assert_eq!(code, 200, "{launched}");
    assert_eq!(launched["session_id"], created["session_id"]);
    assert_eq!(launched["workspace_id"], api.workspace_id.as_str());
    assert_eq!(launched["role"], "admin");
    assert_eq!(launched["launch_page"], "rules");
    assert_eq!(
        launched["allowed_origins"],
        json!([app, "https://admin.example.com"])
    );
    assert!(launched.get("access_token").is_none());
    assert_eq!(
        launch(Some(app)).await.0,
        401,
        "a launch token is spent once"
    );
    // The embed page itself, on Switchyard's own origin, may spend one too.
    let own = create_session(
        &api,
        json!({"workspace_id": api.workspace_id, "allowed_origins": [app]}),
    )
    .await;
    let (code, _) = status(
        api.request(Method::POST, "/sessions/launch")
            .header("Origin", api.base.as_str())
            .json(&json!({"launch_token": own["launch_token"]})),
    )
    .await;
    assert_eq!(code, 200);

    // A revoked session's launch token is refused; so is a launch token used as a bearer.
    let revoked = create_session(
        &api,
        json!({"workspace_id": api.workspace_id,
        "allowed_origins": [app]}),
    )
    .await;
    let id = revoked["session_id"].as_str().unwrap();
    let response = api
        .machine(Method::DELETE, &format!("/sessions/{id}"))
        .send()
        .await
        .unwrap();
    expect_status(response, 200).await;
    let (code, _) = status(
        api.request(Method::POST, "/sessions/launch")
            .header("Origin", app)
            .json(&json!({"launch_token": revoked["launch_token"]})),
    )
    .await;
    assert_eq!(code, 401);
    let fresh = create_session(&api, json!({"workspace_id": api.workspace_id})).await;
    let as_bearer = fresh["launch_token"].as_str().unwrap();
    let (code, _) = status(as_session(&api, as_bearer, Method::GET, "/connections")).await;
    assert_eq!(code, 401);
}

#[tokio::test]
async fn another_organizations_sessions_are_not_found() {
    let (_dir, server, api) = start();
    let other = second_organization(&server, &api);
    let created = create_session(&api, json!({"workspace_id": api.workspace_id})).await;
    let id = created["session_id"].as_str().unwrap();
    for (method, path) in [
        (Method::POST, format!("/sessions/{id}/refresh")),
        (Method::DELETE, format!("/sessions/{id}")),
    ] {
        let response = other.machine(method.clone(), &path).send().await.unwrap();
        assert_contract_error(&expect_status(response, 404).await);
    }
    assert_eq!(other.get("/sessions").await["count"], 0);
    // Nor can it open a session into this organization's workspace.
    let response = other
        .machine(Method::POST, "/sessions")
        .json(&json!({"workspace_id": api.workspace_id}))
        .send()
        .await
        .unwrap();
    expect_status(response, 404).await;
    // The session still works: nothing above touched it.
    let token = created["access_token"].as_str().unwrap();
    let (code, _) = status(as_session(&api, token, Method::GET, "/connections")).await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn bad_bodies_get_the_contract_error_naming_each_field() {
    let (_dir, _server, api) = start();
    let too_many: Vec<String> = (0..11)
        .map(|i| format!("https://h{i}.example.com"))
        .collect();
    let cases = [
        (
            json!({"workspace_id": api.workspace_id, "role": "boss", "session_type": "resource",
                   "ttl_seconds": 60, "launch_ttl_seconds": 120, "launch_page": "home",
                   "allowed_origins": ["not an origin", "https://ok.example.com/path"],
                   "scopes": ["events.payload:read", "everything"]}),
            vec![
                "role",
                "ttl_seconds",
                "launch_ttl_seconds",
                "launch_page",
                "resource",
                "resource_id",
                "allowed_origins[0]",
                "allowed_origins[1]",
                "scopes[0]",
                "scopes[1]",
            ],
        ),
        (
            json!({"workspace_id": api.workspace_id, "allowed_origins": too_many}),
            vec!["allowed_origins"],
        ),
        (
            json!({"workspace_id": api.workspace_id, "session_type": "workspace",
                   "resource": "user"}),
            vec!["resource"],
        ),
        (json!({"role": "admin"}), vec!["workspace_id"]),
        (
            json!({"workspace_id": api.workspace_id, "ttl_seconds": "long"}),
            vec!["ttl_seconds"],
        ),
    ];
    for (body, params) in cases {
        let response = api
            .machine(Method::POST, "/sessions")
            .json(&body)
            .send()
            .await
            .unwrap();
        let error = expect_status(response, 400).await;
        assert_contract_error(&error);
        let named: Vec<&str> = error["error"]["data"]
            .as_array()
            .unwrap_or_else(|| panic!("data in {error}"))
            .iter()
            .map(|d| {
                assert!(d["msg"].is_string(), "{d}");
                d["param"].as_str().unwrap()
            })
            .collect();
        for param in &params {
            assert!(named.contains(param), "{param} not named in {error}");
        }
    }
    // A well-formed body for an unknown workspace is 404; nothing was stored by any of these.
    let response = api
        .machine(Method::POST, "/sessions")
        .json(&json!({"workspace_id": "0190c2c4-8a3e-7000-8000-000000000000"}))
        .send()
        .await
        .unwrap();
    expect_status(response, 404).await;
    let response = api
        .machine(Method::GET, "/sessions?status=gone")
        .send()
        .await
        .unwrap();
    assert_contract_error(&expect_status(response, 400).await);
    assert_eq!(api.get("/sessions").await["count"], 0);
}
