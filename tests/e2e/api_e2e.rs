//! The management and events surface of the v1 API, against the real process: success shapes,
//! validation, conflicts, bulk ingestion and catalogs.

use reqwest::Method;
use serde_json::{Value, json};
use switchyard_tests::{assert_contract_error, expect_status, start};

#[tokio::test]
async fn workspace_is_renamed_with_put_and_names_stay_unique() {
    let (_dir, _server, api) = start();
    let ws = api.post("/workspaces", json!({"name": "staging"})).await["workspace"].clone();
    let id = ws["id"].as_str().unwrap();
    let put = |body: Value| {
        api.machine(Method::PUT, &format!("/workspaces/{id}"))
            .json(&body)
            .send()
    };

    let renamed = expect_status(
        put(json!({"name": "pre-prod", "description": "EU"}))
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(renamed["name"], "pre-prod");
    assert_eq!(renamed["description"], "EU");
    assert_eq!(
        api.get(&format!("/workspaces/{id}")).await["name"],
        "pre-prod"
    );

    let clash = put(json!({"name": "default"})).await.unwrap();
    assert_contract_error(&expect_status(clash, 409).await);
    let invalid = put(json!({"name": "no/slashes"})).await.unwrap();
    assert_eq!(
        expect_status(invalid, 400).await["error"]["data"][0]["param"],
        "name"
    );
    let unknown = api
        .machine(
            Method::PUT,
            &format!("/workspaces/{}", uuid::Uuid::now_v7()),
        )
        .json(&json!({"name": "whatever"}))
        .send()
        .await
        .unwrap();
    expect_status(unknown, 404).await;
}

#[tokio::test]
async fn connection_update_replaces_public_metadata_and_never_shows_secrets() {
    let (_dir, _server, api) = start();
    let receiver = switchyard_tests::Receiver::start().await;
    let created = api
        .post(
            "/connections",
            json!({"workspace": api.workspace_id, "type": "webhook", "name": "CRM",
            "metadata": {"url": receiver.url("/crm"), "token": "t0ps3cret"}}),
        )
        .await;
    let id = created["connection"]["id"].as_str().unwrap();
    assert!(!created.to_string().contains("t0ps3cret"));

    let updated = api
        .machine(Method::PUT, &format!("/connections/{id}"))
        .json(&json!({"name": "CRM (EU)", "metadata": {"url": "https://eu.crm.example/hook"}, "hidden": true}))
        .send()
        .await
        .unwrap();
    let updated = expect_status(updated, 200).await;
    assert_eq!(updated["name"], "CRM (EU)");
    assert_eq!(updated["hidden"], true);
    assert_eq!(
        updated["metadata"],
        json!({"url": "https://eu.crm.example/hook"})
    );
    assert!(!updated.to_string().contains("t0ps3cret"));

    let bad_url = api
        .machine(Method::PUT, &format!("/connections/{id}"))
        .json(&json!({"metadata": {"url": "ftp://crm.example"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(bad_url, 400).await["error"]["data"][0]["param"],
        "metadata.url"
    );
}

#[tokio::test]
async fn deleting_a_connection_with_active_rules_needs_force() {
    let (_dir, _server, api) = start();
    let receiver = switchyard_tests::Receiver::start().await;
    let (connection, rule) = api.webhook_rule(&receiver.url("/a"), "user.signup").await;
    let delete = |body: Option<Value>| {
        let request = api.machine(Method::DELETE, &format!("/connections/{connection}"));
        match body {
            Some(b) => request.json(&b).send(),
            None => request.send(),
        }
    };
    let refused = delete(None).await.unwrap();
    let body = expect_status(refused, 409).await;
    assert_contract_error(&body);
    assert!(body["message"].as_str().unwrap().contains("1 active rule"));

    let forced = expect_status(
        delete(Some(json!({"force_delete": true}))).await.unwrap(),
        200,
    )
    .await;
    assert_eq!(forced, json!({"id": connection, "type": "webhook"}));
    let gone = api
        .machine(Method::GET, &format!("/connections/{connection}"))
        .send()
        .await
        .unwrap();
    expect_status(gone, 404).await;
    let rule_gone = api
        .machine(Method::GET, &format!("/rules/{rule}"))
        .send()
        .await
        .unwrap();
    expect_status(rule_gone, 404).await;
}

#[tokio::test]
async fn rules_are_deleted_and_connections_without_rules_delete_plainly() {
    let (_dir, _server, api) = start();
    let receiver = switchyard_tests::Receiver::start().await;
    let (connection, rule) = api.webhook_rule(&receiver.url("/a"), "user.signup").await;
    let deleted = api
        .machine(Method::DELETE, &format!("/rules/{rule}"))
        .send()
        .await
        .unwrap();
    let deleted = expect_status(deleted, 200).await;
    assert_eq!(
        deleted,
        json!({"id": rule, "connection": connection, "type": "webhook", "event": "user.signup"})
    );
    let again = api
        .machine(Method::DELETE, &format!("/rules/{rule}"))
        .send()
        .await
        .unwrap();
    expect_status(again, 404).await;
    let plain = api
        .machine(Method::DELETE, &format!("/connections/{connection}"))
        .send()
        .await
        .unwrap();
    expect_status(plain, 200).await;
}

#[tokio::test]
async fn bulk_accepts_all_or_reports_each_item() {
    let (_dir, _server, api) = start();
    let bulk = |body: Value| {
        api.request(Method::POST, "/events/bulk")
            .header("X-Meshes-Publishable-Key", &api.publishable_key)
            .json(&body)
            .send()
    };
    let all_good = bulk(
        json!([{"event": "a.one", "payload": {}}, {"event": "a.two", "resource": "user", "payload": {}}]),
    );
    let all_good = expect_status(all_good.await.unwrap(), 201).await;
    assert_eq!(all_good["count"], 2);
    assert_eq!(all_good["records"][1]["event"], "a.two");
    assert_eq!(all_good["records"][1]["type"], "event");

    let mixed =
        bulk(json!([{"event": "a.one"}, {"payload": {}}, {"event": "b c"}, {"event": "a.three"}]));
    let mixed = expect_status(mixed.await.unwrap(), 207).await;
    assert_eq!(mixed["count"], 4);
    assert_eq!(mixed["error_count"], 2);
    assert_eq!(mixed["records"][0]["event"], "a.one");
    assert_eq!(mixed["records"][1]["index"], 1);
    assert_eq!(mixed["records"][1]["error"]["data"][0]["param"], "event");
    assert_contract_error(&mixed["records"][2]);
    assert_eq!(mixed["records"][3]["event"], "a.three");

    let too_many: Vec<Value> = (0..101)
        .map(|n| json!({"event": "a.b", "payload": {"n": n}}))
        .collect();
    let refused = bulk(Value::Array(too_many)).await.unwrap();
    assert_contract_error(&expect_status(refused, 400).await);
    let empty = bulk(json!([])).await.unwrap();
    expect_status(empty, 400).await;
    let not_array = bulk(json!({"event": "a.b"})).await.unwrap();
    expect_status(not_array, 400).await;

    // 2 + 2 accepted; nothing from the refused batches.
    assert_eq!(api.get("/events?limit=200").await["count"], 4);
}

#[tokio::test]
async fn workspace_catalogs_list_event_types_and_resources_seen() {
    let (_dir, _server, api) = start();
    let receiver = switchyard_tests::Receiver::start().await;
    api.webhook_rule(&receiver.url("/a"), "invoice.paid").await;
    api.send_event(json!({"event": "user.signup", "resource": "user", "payload": {}}))
        .await;
    api.send_event(json!({"event": "user.signup", "resource": "user", "payload": {}}))
        .await;
    let ws = &api.workspace_id;
    // Bare arrays, in key order; the shapes in full are the contract suite's.
    let types = api.get(&format!("/workspaces/{ws}/event-types")).await;
    let keys: Vec<&str> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["invoice.paid", "user.signup"]);
    assert_eq!(types[1]["label"], "User Signup");
    let resources = api.get(&format!("/workspaces/{ws}/resources")).await;
    let keys: Vec<&str> = resources
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["user"]);
}

#[tokio::test]
async fn integrations_catalog_and_connection_actions() {
    let (_dir, _server, api) = start();
    let receiver = switchyard_tests::Receiver::start().await;
    let catalog = api.get("/integrations").await;
    let types: Vec<&str> = catalog["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    for t in [
        "hubspot",
        "salesforce",
        "slack",
        "mailchimp",
        "webhook",
        "zoom",
    ] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
    let webhook = catalog["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "webhook")
        .unwrap();
    assert_eq!(webhook["authentication"]["type"], "none");
    assert_eq!(webhook["actions"]["send_webhook"]["key"], "send_webhook");
    assert_eq!(webhook["available"], true);

    let (connection, _) = api.webhook_rule(&receiver.url("/a"), "user.signup").await;
    let actions = api.get(&format!("/connections/{connection}/actions")).await;
    assert_eq!(actions["actions"]["send_webhook"]["key"], "send_webhook");
    assert_eq!(actions["actions"]["send_webhook"]["data"], json!([]));
    let fields = api
        .get(&format!("/connections/{connection}/fields?refresh=true"))
        .await;
    assert_eq!(fields["fields"], json!([]));
    assert_eq!(fields["connection_id"], connection.as_str());
    assert_eq!(fields["integration_type"], "webhook");
    assert_eq!(fields["workspace_id"], api.workspace_id.as_str());
    assert!(
        fields["catalog_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("sha256:")),
        "{fields}"
    );
    let connection_view = api.get(&format!("/connections/{connection}")).await;
    assert_eq!(connection_view["active"], true);
    assert!(connection_view.get("inactive_reason").is_none());
}

#[tokio::test]
async fn rule_conditions_filter_which_events_deliver() {
    let (_dir, _server, api) = start();
    let receiver = switchyard_tests::Receiver::start().await;
    let connection = api
        .post(
            "/connections",
            json!({"workspace": api.workspace_id, "type": "webhook", "name": "pro only",
            "metadata": {"url": receiver.url("/pro")}}),
        )
        .await["connection"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let conditions = json!({"all": [{"path": "payload.plan", "equals": "pro"}, {"path": "payload.seats", "gte": 5}]});
    let rule = api
        .post(
            "/rules",
            json!({"workspace": api.workspace_id, "connection": connection, "event": "user.signup",
            "metadata": {"action": "send_webhook"}, "conditions": conditions}),
        )
        .await;
    assert_eq!(
        rule["rule"]["conditions"], conditions,
        "conditions read back as written"
    );

    let bad = api
        .machine(Method::POST, "/rules")
        .json(&json!({"workspace": api.workspace_id, "connection": connection, "event": "user.signup",
            "metadata": {"action": "send_webhook"}, "conditions": {"path": "payload.plan", "resembles": "pro"}}))
        .send()
        .await
        .unwrap();
    let bad = expect_status(bad, 400).await;
    assert!(
        bad["error"]["data"][0]["param"]
            .as_str()
            .unwrap()
            .starts_with("conditions"),
        "{bad}"
    );

    let free = api
        .send_event(json!({"event": "user.signup", "payload": {"plan": "free", "seats": 9}}))
        .await;
    let pro = api
        .send_event(json!({"event": "user.signup", "payload": {"plan": "pro", "seats": 9}}))
        .await;
    let done = switchyard_tests::event_when(&api, pro["id"].as_str().unwrap(), "delivery", |e| {
        switchyard_tests::all_deliveries(e, "completed")
    })
    .await;
    assert_eq!(done["rule_events"].as_array().unwrap().len(), 1);
    let free = switchyard_tests::event_when(&api, free["id"].as_str().unwrap(), "routing", |e| {
        e["status"] == "completed"
    })
    .await;
    assert_eq!(
        free["rule_events"],
        json!([]),
        "the free plan matched no rule"
    );
    let received = receiver.requests_to("/pro");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].json()["payload"]["plan"], "pro");
}

#[tokio::test]
async fn machine_keys_are_created_listed_and_revoked() {
    let (_dir, _server, api) = start();
    let created = api.post("/machine-keys", json!({"name": "ci"})).await["machine_key"].clone();
    let access_key = created["access_key"].as_str().unwrap().to_owned();
    let secret = created["secret_key"].as_str().unwrap().to_owned();
    let mut ci = api.clone();
    ci.access_key = access_key.clone();
    ci.secret_key = secret.clone();
    assert_eq!(ci.get("/workspaces").await["count"], 1, "the new key works");

    let listed = api.get("/machine-keys").await;
    assert_eq!(listed["count"], 2);
    assert!(
        !listed.to_string().contains(&secret),
        "secrets are shown once, at creation"
    );

    let revoked = api
        .machine(Method::DELETE, &format!("/machine-keys/{access_key}"))
        .send()
        .await
        .unwrap();
    assert!(expect_status(revoked, 200).await["revoked_at"].is_string());
    let refused = ci.machine(Method::GET, "/workspaces").send().await.unwrap();
    assert_contract_error(&expect_status(refused, 401).await);
    let unknown = api
        .machine(Method::DELETE, "/machine-keys/AKnope")
        .send()
        .await
        .unwrap();
    expect_status(unknown, 404).await;
}

#[tokio::test]
async fn rotated_publishable_key_keeps_working_for_its_grace_period_only() {
    let (_dir, _server, api) = start();
    let ws = &api.workspace_id;
    let rotate = |body: Value| {
        api.machine(
            Method::POST,
            &format!("/workspaces/{ws}/publishable-key/rotate"),
        )
        .json(&body)
        .send()
    };
    let rotated = expect_status(
        rotate(json!({"grace_period_seconds": 3600})).await.unwrap(),
        200,
    )
    .await;
    let new_key = rotated["publishable_key"]["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_key, api.publishable_key);
    assert!(rotated["previous_key_expires_at"].is_string());
    assert_eq!(
        api.get(&format!("/workspaces/{ws}")).await["publishable_key"]["public_key"],
        new_key.as_str()
    );

    // Both keys work during the grace period.
    api.send_event(json!({"event": "a.b"})).await;
    let mut with_new = api.clone();
    with_new.publishable_key = new_key.clone();
    with_new.send_event(json!({"event": "a.b"})).await;

    // Rotating again with no grace ends every older key at once.
    let again = expect_status(
        rotate(json!({"grace_period_seconds": 0})).await.unwrap(),
        200,
    )
    .await;
    let newest = again["publishable_key"]["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    for old in [&api.publishable_key, &new_key] {
        let refused = api
            .request(Method::POST, "/events")
            .header("X-Meshes-Publishable-Key", old.as_str())
            .json(&json!({"event": "a.b"}))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);
    }
    with_new.publishable_key = newest;
    with_new.send_event(json!({"event": "a.b"})).await;
    let too_long = rotate(json!({"grace_period_seconds": 99_999_999}))
        .await
        .unwrap();
    assert_eq!(
        expect_status(too_long, 400).await["error"]["data"][0]["param"],
        "grace_period_seconds"
    );
}

#[tokio::test]
async fn idempotency_key_replays_the_first_event_and_delivers_once() {
    let (_dir, _server, api) = start();
    let receiver = switchyard_tests::Receiver::start().await;
    api.webhook_rule(&receiver.url("/hook"), "order.placed")
        .await;
    let send = |key: &str, n: u32| {
        api.request(Method::POST, "/events")
            .header("X-Meshes-Publishable-Key", &api.publishable_key)
            .header("Idempotency-Key", key)
            .json(&json!({"event": "order.placed", "payload": {"n": n}}))
            .send()
    };
    let first = send("order-1001", 1).await.unwrap();
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = expect_status(first, 201).await;
    let again = send("order-1001", 2).await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again = expect_status(again, 201).await;
    assert_eq!(
        again["event"]["id"], first["event"]["id"],
        "same key, same event"
    );
    let other = expect_status(send("order-1002", 3).await.unwrap(), 201).await;
    assert_ne!(other["event"]["id"], first["event"]["id"]);

    let bad = send("", 4).await.unwrap();
    assert_eq!(
        expect_status(bad, 400).await["error"]["data"][0]["param"],
        "Idempotency-Key"
    );

    let id = first["event"]["id"].as_str().unwrap();
    let done = switchyard_tests::event_when(&api, id, "delivery", |e| {
        switchyard_tests::all_deliveries(e, "completed")
    })
    .await;
    assert_eq!(done["payload"]["n"], 1, "the first body is the one kept");
    let other_id = other["event"]["id"].as_str().unwrap();
    switchyard_tests::event_when(&api, other_id, "delivery", |e| {
        switchyard_tests::all_deliveries(e, "completed")
    })
    .await;
    assert_eq!(api.get("/events").await["count"], 2);
    assert_eq!(
        receiver.requests_to("/hook").len(),
        2,
        "one delivery per distinct key"
    );
}

#[tokio::test]
async fn a_rule_test_event_goes_through_that_rule_alone() {
    let (_dir, _server, api) = start();
    let receiver = switchyard_tests::Receiver::start().await;
    let (_, tested) = api
        .webhook_rule(&receiver.url("/tested"), "user.signup")
        .await;
    let (_, other) = api
        .webhook_rule(&receiver.url("/other"), "user.signup")
        .await;
    // Conditions the sample does not meet: a test goes through regardless.
    let connection = api.get(&format!("/rules/{tested}")).await["connection"].clone();
    let picky = api
        .post(
            "/rules",
            json!({"workspace": api.workspace_id, "connection": connection, "event": "user.signup",
                   "metadata": {"action": "send_webhook"}, "active": false,
                   "conditions": {"path": "payload.plan", "equals": "enterprise"}}),
        )
        .await["rule"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let test = |rule: &str, body: Option<Value>| {
        let request = api.machine(Method::POST, &format!("/rules/{rule}/test"));
        match body {
            Some(body) => request.json(&body),
            None => request,
        }
        .send()
    };
    let sample = expect_status(test(&tested, None).await.unwrap(), 201).await["event"].clone();
    assert_eq!(sample["event"], "user.signup");
    let chosen = expect_status(
        test(
            &picky,
            Some(json!({"payload": {"email": "ada@example.com"}, "resource": "user"})),
        )
        .await
        .unwrap(),
        201,
    )
    .await["event"]
        .clone();
    assert_eq!(chosen["resource"], "user");

    for (event, rule) in [(&sample, &tested), (&chosen, &picky)] {
        let done =
            switchyard_tests::event_when(&api, event["id"].as_str().unwrap(), "delivery", |e| {
                switchyard_tests::all_deliveries(e, "completed")
            })
            .await;
        let deliveries = done["rule_events"].as_array().unwrap();
        assert_eq!(deliveries.len(), 1, "one rule only: {done}");
        assert_eq!(deliveries[0]["rule"], rule.as_str());
    }
    assert!(
        receiver.requests_to("/other").is_empty(),
        "rule {other} not used"
    );
    let got = receiver.requests_to("/tested");
    assert_eq!(got.len(), 2, "the sample and the chosen payload");
    let payloads: Vec<Value> = got.iter().map(|r| r.json()["payload"].clone()).collect();
    assert!(
        payloads.contains(&json!({"test": true, "email": "test@example.com",
        "first_name": "Test", "last_name": "User"}))
    );
    assert!(payloads.contains(&json!({"email": "ada@example.com"})));

    let unknown = test("0190f5a0-0000-7000-8000-000000000000", None)
        .await
        .unwrap();
    assert_contract_error(&expect_status(unknown, 404).await);
    let bad = test(&tested, Some(json!({"payload": [1, 2]})))
        .await
        .unwrap();
    assert_eq!(
        expect_status(bad, 400).await["error"]["data"][0]["param"],
        "payload"
    );
}
