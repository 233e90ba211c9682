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
    let created = api
        .post(
            "/connections",
            json!({"workspace": api.workspace_id, "type": "webhook", "name": "CRM",
            "metadata": {"url": "https://crm.example/hook", "token": "t0ps3cret"}}),
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
    let (connection, rule) = api
        .webhook_rule("https://hooks.example/a", "user.signup")
        .await;
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
    let (connection, rule) = api
        .webhook_rule("https://hooks.example/a", "user.signup")
        .await;
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
    api.webhook_rule("https://hooks.example/a", "invoice.paid")
        .await;
    api.send_event(json!({"event": "user.signup", "resource": "user", "payload": {}}))
        .await;
    api.send_event(json!({"event": "user.signup", "resource": "user", "payload": {}}))
        .await;
    let ws = &api.workspace_id;
    let types = api.get(&format!("/workspaces/{ws}/event-types")).await;
    let keys: Vec<&str> = types["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["invoice.paid", "user.signup"]);
    let resources = api.get(&format!("/workspaces/{ws}/resources")).await;
    let keys: Vec<&str> = resources["records"]
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
    assert_eq!(webhook["actions"][0]["action"], "send_webhook");
    assert_eq!(webhook["available"], true);

    let (connection, _) = api
        .webhook_rule("https://hooks.example/a", "user.signup")
        .await;
    let actions = api.get(&format!("/connections/{connection}/actions")).await;
    assert_eq!(actions["actions"][0]["action"], "send_webhook");
    let fields = api
        .get(&format!("/connections/{connection}/fields?refresh=true"))
        .await;
    assert_eq!(fields["fields"], json!([]));
}
