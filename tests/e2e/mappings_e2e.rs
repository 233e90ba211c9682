//! Field mappings through the API of the real process: the versioned PUT/GET round trip, 409
//! on a stale `expected_version`, a write without one that wins, 400 naming each invalid
//! field, and 404 across organizations.

use reqwest::Method;
use serde_json::{Value, json};
use switchyard_tests::{Api, E2eBackend, Receiver, assert_contract_error, expect_status, start};

/// Seed 004's "Field mapping view": email → the Slack message body, environment → a header,
/// account_id → a reference, created_at → a timestamp.
fn seed_mapping() -> Value {
    json!({"schema_version": 1, "fields": [
        {"dest": "text", "source": {"type": "path", "value": "email"}},
        {"dest": "environment", "source": {"type": "path", "value": "environment"},
         "transforms": [{"type": "default", "value": "production"}, {"type": "upper"}],
         "on_error": "warn_action"},
        {"dest": "reference", "source": {"type": "path", "value": "account_id"},
         "on_error": "skip_field"},
        {"dest": "timestamp", "source": {"type": "path", "value": "created_at"},
         "transforms": [{"type": "to_datetime"}], "on_error": "warn_action"}
    ]})
}

async fn connection(api: &Api, receiver: &Receiver) -> String {
    let created = api
        .post(
            "/connections",
            json!({"workspace": api.workspace_id, "type": "webhook", "name": "ops-alerts",
                   "metadata": {"url": receiver.url("/hook")}}),
        )
        .await;
    created["connection"]["id"].as_str().unwrap().to_owned()
}

fn path(connection: &str) -> String {
    format!("/connections/{connection}/mappings/default")
}

async fn put(api: &Api, connection: &str, body: &Value) -> reqwest::Response {
    api.machine(Method::PUT, &path(connection))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// A `PUT` body: the schema nested under `schema`, written if the version is still `expected`.
fn with_version(schema: Value, expected: u64) -> Value {
    json!({"schema": schema, "expected_version": expected})
}

#[tokio::test]
async fn a_mapping_round_trips_with_a_version_and_a_stale_write_is_refused() {
    let (_dir, _server, api) = start();
    let receiver = Receiver::start().await;
    let id = connection(&api, &receiver).await;

    // No mapping yet: an empty one at version 0.
    let empty = api.get(&path(&id)).await;
    assert_eq!(empty["status"], "default");
    assert_eq!(
        empty["mapping"]["schema"],
        json!({"schema_version": 1, "fields": []})
    );
    assert_eq!(empty["mapping"]["version"], 0);
    assert_eq!(empty["mapping"]["connection_id"], id.as_str());
    assert_eq!(empty["mapping"]["integration_type"], "webhook");

    let written = expect_status(put(&api, &id, &with_version(seed_mapping(), 0)).await, 200).await;
    assert_eq!(written["status"], "saved");
    assert_eq!(written["mapping"]["version"], 1);
    assert_eq!(written["mapping"]["id"], empty["mapping"]["id"]);
    // Stored as written, with the defaults spelt out.
    let mut expected = seed_mapping();
    expected["fields"][0]["transforms"] = json!([]);
    expected["fields"][0]["on_error"] = json!("fail_action");
    expected["fields"][2]["transforms"] = json!([]);
    assert_eq!(written["mapping"]["schema"], expected);
    assert_eq!(api.get(&path(&id)).await, written);

    // A second editor still holding version 0 is refused, and nothing changes.
    let smaller = json!({"schema_version": 1, "fields": [
        {"dest": "text", "source": {"type": "literal", "value": "hello"}}]});
    let stale = expect_status(put(&api, &id, &with_version(smaller.clone(), 0)).await, 409).await;
    assert_contract_error(&stale);
    assert_eq!(stale["error"]["name"], "Conflict");
    assert_eq!(api.get(&path(&id)).await["mapping"]["version"], 1);

    // Read again, write again.
    let second = expect_status(put(&api, &id, &with_version(smaller, 1)).await, 200).await;
    assert_eq!(second["mapping"]["version"], 2);
    assert_eq!(
        api.get(&path(&id)).await["mapping"]["schema"]["fields"][0]["source"]["value"],
        "hello"
    );

    // Without expected_version the write wins over whatever is stored, and may name it.
    let unconditional = json!({"schema": seed_mapping(), "name": "Signup alerts"});
    let third = expect_status(put(&api, &id, &unconditional).await, 200).await;
    assert_eq!(third["mapping"]["version"], 3);
    assert_eq!(third["mapping"]["name"], "Signup alerts");
    assert_eq!(third["mapping"]["schema"]["meta"]["name"], "Signup alerts");
    assert_eq!(
        third["mapping"]["created_at"],
        written["mapping"]["created_at"]
    );

    // Deleting the connection deletes its mapping: the id is simply not found.
    expect_status(
        api.machine(Method::DELETE, &format!("/connections/{id}"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let gone = api.machine(Method::GET, &path(&id)).send().await.unwrap();
    expect_status(gone, 404).await;
}

#[tokio::test]
async fn every_validation_rule_answers_400_naming_the_field() {
    let (_dir, _server, api) = start();
    let receiver = Receiver::start().await;
    let id = connection(&api, &receiver).await;
    let field = |transforms: Value| {
        json!({"dest": "email", "source": {"type": "path", "value": "email"},
               "transforms": transforms})
    };
    let mapping = |fields: Value| json!({"schema": {"schema_version": 1, "fields": fields}, "expected_version": 0});

    let too_many_fields: Vec<Value> = (0..251)
        .map(|i| json!({"dest": format!("f{i}"), "source": {"type": "literal", "value": i}}))
        .collect();
    let cases = [
        (mapping(json!(too_many_fields)), "schema.fields"),
        (
            mapping(json!([field(json!(vec![json!({"type": "trim"}); 11]))])),
            "schema.fields[0].transforms",
        ),
        (
            mapping(json!([field(
                json!([{"type": "trim"}, {"type": "titlecase"}])
            )])),
            "schema.fields[0].transforms[1].type",
        ),
        (
            mapping(json!([field(json!([{"type": "substring", "start": -1}]))])),
            "schema.fields[0].transforms[0].start",
        ),
        (
            mapping(json!([field(json!([{"type": "default"}]))])),
            "schema.fields[0].transforms[0].value",
        ),
        (
            mapping(json!([{"dest": "a", "source": {"type": "column", "value": "a"}}])),
            "schema.fields[0].source.type",
        ),
        (
            mapping(json!([{"dest": "a", "source": {"type": "path", "value": "a..b"}}])),
            "schema.fields[0].source.value",
        ),
        (
            mapping(
                json!([{"dest": "a", "source": {"type": "literal", "value": 1}, "on_error": "explode"}]),
            ),
            "schema.fields[0].on_error",
        ),
        (
            mapping(json!([{"dest": "", "source": {"type": "literal", "value": 1}}])),
            "schema.fields[0].dest",
        ),
        (
            json!({"schema": {"schema_version": 2, "fields": []}, "expected_version": 0}),
            "schema.schema_version",
        ),
        (
            json!({"schema": {"schema_version": 1, "fields": [], "meta": {"name": 7}}}),
            "schema.meta.name",
        ),
        (json!({"expected_version": 0}), "schema"),
        (
            json!({"schema": {"schema_version": 1, "fields": []}, "expected_version": "1"}),
            "expected_version",
        ),
        (
            json!({"schema": {"schema_version": 1, "fields": []},
                   "workspace_id": uuid::Uuid::now_v7()}),
            "workspace_id",
        ),
        (
            json!({"schema": {"schema_version": 1, "fields": []}, "mapping_id": "other"}),
            "mapping_id",
        ),
    ];
    for (body, param) in cases {
        let answer = expect_status(put(&api, &id, &body).await, 400).await;
        assert_contract_error(&answer);
        assert_eq!(
            answer["error"]["name"], "ValidationError",
            "{param}: {answer}"
        );
        let params: Vec<&str> = answer["error"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["param"].as_str().unwrap())
            .collect();
        assert_eq!(params, [param], "{answer}");
    }
    // The schema's keys at the top level (not the contract's body) name each of them.
    let flat = json!({"schema_version": 1, "fields": []});
    let answer = expect_status(put(&api, &id, &flat).await, 400).await;
    let mut params: Vec<&str> = answer["error"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["param"].as_str().unwrap())
        .collect();
    params.sort();
    assert_eq!(params, ["fields", "schema", "schema_version"], "{answer}");
    // Not JSON at all.
    let garbage = api
        .machine(Method::PUT, &path(&id))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_contract_error(&expect_status(garbage, 400).await);
    // Nothing was written by any of them.
    assert_eq!(api.get(&path(&id)).await["mapping"]["version"], 0);
}

#[tokio::test]
async fn another_organizations_connection_is_not_found() {
    let (_dir, server, api) = start();
    let output = std::process::Command::new(switchyard_tests::binary())
        .args(["orgs", "create", "globex", "--data-dir"])
        .arg(&server.data_dir)
        // On `SWITCHYARD_E2E_BACKEND=aws` the CLI needs the same backend as the server.
        .envs(E2eBackend::from_env().env())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut creds: Value = serde_json::from_slice(&output.stdout).unwrap();
    creds["api_url"] = json!(api.base);
    let other = Api::from_credentials(&creds);

    let receiver = Receiver::start().await;
    let id = connection(&api, &receiver).await;
    expect_status(put(&api, &id, &with_version(seed_mapping(), 0)).await, 200).await;

    let read = other.machine(Method::GET, &path(&id)).send().await.unwrap();
    assert_contract_error(&expect_status(read, 404).await);
    let write = put(&other, &id, &with_version(seed_mapping(), 1)).await;
    assert_eq!(expect_status(write, 404).await["error"]["name"], "NotFound");
    let unknown = uuid::Uuid::now_v7().to_string();
    expect_status(
        api.machine(Method::GET, &path(&unknown))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    // The owner's mapping is untouched.
    assert_eq!(api.get(&path(&id)).await["mapping"]["version"], 1);
}
