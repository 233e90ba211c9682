//! The shapes Meshes' official clients check, asserted the way a typed client reads them: each
//! answer decoded into strict Rust types written from the contract
//! (`shared/docs/meshes-v1-contract.md`) — every required key present with its type, UUID
//! ids, bare arrays where the contract has them; extra keys are allowed, as the clients allow
//! them. Also the credential formats the Node API client and the MCP server refuse to start
//! without, CORS on the browser-callable ingest routes only, conditional and unconditional
//! mapping writes, and an older Switchyard's data refused at start. Runs on both backends.
//!
//! Not here: the integrations catalog, a connection's actions and fields, and sessions — their
//! shapes are other work's (issue 14's catalog and the embed issue).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use regex::Regex;
use reqwest::Method;
use reqwest::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use switchyard_tests::{
    Api, E2eBackend, Receiver, all_deliveries, assert_contract_error, binary, event_when,
    expect_status, second_organization, start,
};
use uuid::Uuid;

/// The clients' organization id check: a UUID of version 1–5, case-insensitive.
const ORG_ID: &str =
    r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$";
const ACCESS_KEY: &str = r"^mk_[A-Za-z0-9_-]{22,}$";
const SECRET_KEY: &str = r"^[a-zA-Z0-9_=\-/]+$";

/// A page's origin, as a browser sends it.
const PAGE: &str = "https://app.example.com";

fn matches(pattern: &str, value: &str) -> bool {
    Regex::new(pattern).unwrap().is_match(value)
}

/// Decodes `value` as a typed client would; a missing key or a wrong type fails the test.
fn decode<T: DeserializeOwned>(what: &str, value: &Value) -> T {
    serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("{what} does not decode as the contract's shape: {e}\n{value}"))
}

/// Keys the contract requires even where their value may be `null` (which `Option` alone would
/// not notice missing).
fn has_keys(what: &str, value: &Value, keys: &[&str]) {
    for key in keys {
        assert!(value.get(key).is_some(), "{what} lacks `{key}`: {value}");
    }
}

/// RFC 3339, as the contract's resource times are.
fn rfc3339(what: &str, value: &str) {
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{what} {value:?} is not RFC 3339: {e}"));
}

// --- The contract's shapes ----------------------------------------------------------------

/// `GET /workspaces/{id}/event-types` and `/resources`: items of a bare array.
#[derive(Deserialize)]
#[allow(dead_code)]
struct CatalogEntry {
    id: Uuid,
    key: String,
    label: String,
    description: Option<String>,
    active: Option<bool>,
    created_by: Option<String>,
    created_at: String,
    updated_at: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RuleEvent {
    id: Uuid,
    connection: Uuid,
    rule: Uuid,
    integration_type: String,
    status: String,
    attempt_count: u64,
    started_at: Option<String>,
    completed_at: Option<String>,
    last_error: Option<String>,
}

/// `GET /events/{id}` (and its `/payload`, which adds `payload`).
#[derive(Deserialize)]
#[allow(dead_code)]
struct EventDetail {
    id: Uuid,
    workspace: Uuid,
    event: String,
    resource: String,
    resource_id: Option<String>,
    status: String,
    created_by: String,
    created_at: String,
    total_rules: u64,
    completed_count: u64,
    failed_count: u64,
    rule_events: Vec<RuleEvent>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct EventWithPayload {
    #[serde(flatten)]
    event: EventDetail,
    payload: serde_json::Map<String, Value>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct MappingSchema {
    schema_version: u64,
    fields: Vec<MappingField>,
    meta: Option<MappingMeta>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct MappingMeta {
    name: Option<String>,
    notes: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct MappingField {
    dest: String,
    source: MappingSource,
    transforms: Option<Vec<Value>>,
    on_error: Option<String>,
    notes: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct MappingSource {
    #[serde(rename = "type")]
    kind: String,
    value: Value,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Mapping {
    id: Uuid,
    mapping_id: String,
    connection_id: Uuid,
    workspace_id: Uuid,
    integration_type: String,
    name: String,
    schema: MappingSchema,
    version: u64,
    catalog_version: Option<String>,
    created_by: Option<String>,
    created_at: String,
    updated_at: String,
}

/// `GET|PUT /connections/{id}/mappings/default`.
#[derive(Deserialize)]
#[allow(dead_code)]
struct MappingAnswer {
    mapping: Mapping,
    status: String,
}

/// The list envelope.
#[derive(Deserialize)]
#[allow(dead_code)]
struct List<T> {
    count: u64,
    limit: u64,
    next_cursor: Option<String>,
    records: Vec<T>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Workspace {
    id: Uuid,
    name: String,
    description: Option<String>,
    created_at: String,
    updated_at: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PublishableKey {
    public_key: String,
    name: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct WorkspaceDetail {
    #[serde(flatten)]
    workspace: Workspace,
    publishable_key: PublishableKey,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Connection {
    id: Uuid,
    workspace: Uuid,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    metadata: serde_json::Map<String, Value>,
    created_at: String,
    updated_at: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Rule {
    id: Uuid,
    workspace: Uuid,
    connection: Uuid,
    event: String,
    resource: Option<String>,
    resource_id: Option<String>,
    metadata: RuleMetadata,
    active: bool,
    created_at: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RuleMetadata {
    action: String,
}

/// An event as create responses and lists carry it.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Event {
    id: Uuid,
    event: String,
    workspace: Uuid,
    resource: String,
    resource_id: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    created_by: String,
    created_at: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Created<T> {
    #[serde(
        alias = "workspace",
        alias = "connection",
        alias = "rule",
        alias = "event"
    )]
    created: T,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct BulkPartial {
    count: u64,
    error_count: u64,
    records: Vec<Value>,
}

#[derive(Deserialize)]
struct MachineKey {
    access_key: String,
    secret_key: String,
}

#[derive(Deserialize)]
struct MachineKeyCreated {
    machine_key: MachineKey,
}

// --- Credentials ---------------------------------------------------------------------------

fn assert_client_credentials(what: &str, org_id: &str, access_key: &str, secret_key: &str) {
    assert!(matches(ORG_ID, org_id), "{what}: organization id {org_id}");
    assert!(
        matches(ACCESS_KEY, access_key),
        "{what}: access key {access_key}"
    );
    assert!(matches(SECRET_KEY, secret_key), "{what}: secret key");
}

#[tokio::test]
async fn every_way_of_getting_credentials_gives_ones_the_official_clients_accept() {
    let (_dir, server, api) = start();
    // First start (credentials.json and the banner).
    assert_client_credentials("first start", &api.org_id, &api.access_key, &api.secret_key);
    // `switchyard orgs create`.
    let other = second_organization(&server, &api);
    assert_client_credentials(
        "orgs create",
        &other.org_id,
        &other.access_key,
        &other.secret_key,
    );
    // `POST /machine-keys`, and the key it made works.
    let created = api.post("/machine-keys", json!({"name": "ci"})).await;
    let key: MachineKeyCreated = decode("POST /machine-keys", &created);
    assert_client_credentials(
        "POST /machine-keys",
        &api.org_id,
        &key.machine_key.access_key,
        &key.machine_key.secret_key,
    );
    let mut ci = api.clone();
    ci.access_key = key.machine_key.access_key;
    ci.secret_key = key.machine_key.secret_key;
    expect_status(
        ci.machine(Method::GET, "/workspaces").send().await.unwrap(),
        200,
    )
    .await;
    // A JWT whose `kid` is not an access key's shape is refused like any other forgery.
    let mut odd = api.clone();
    odd.access_key = "AKabcdefghijklmnopqrstuv".into();
    assert_contract_error(
        &expect_status(
            odd.machine(Method::GET, "/workspaces")
                .send()
                .await
                .unwrap(),
            401,
        )
        .await,
    );
}

// --- The resources every client reads -----------------------------------------------------

#[tokio::test]
async fn workspaces_connections_rules_and_events_decode_as_the_contract_types() {
    let (_dir, _server, api) = start();
    let receiver = Receiver::start().await;
    let ws = api.workspace_id.clone();

    let listed: List<Workspace> = decode("GET /workspaces", &api.get("/workspaces").await);
    assert_eq!(listed.records.len() as u64, listed.count);
    let detail: WorkspaceDetail = decode(
        "GET /workspaces/{id}",
        &api.get(&format!("/workspaces/{ws}")).await,
    );
    assert_eq!(detail.publishable_key.public_key, api.publishable_key);
    let _: Created<Workspace> = decode(
        "POST /workspaces",
        &api.post("/workspaces", json!({"name": "staging"})).await,
    );

    let (connection, rule) = api
        .webhook_rule(&receiver.url("/hook"), "user.signup")
        .await;
    let _: Connection = decode(
        "GET /connections/{id}",
        &api.get(&format!("/connections/{connection}")).await,
    );
    let _: List<Connection> = decode("GET /connections", &api.get("/connections").await);
    let _: List<Connection> = decode(
        "GET /workspaces/{id}/connections",
        &api.get(&format!("/workspaces/{ws}/connections")).await,
    );
    let _: Rule = decode("GET /rules/{id}", &api.get(&format!("/rules/{rule}")).await);
    let _: List<Rule> = decode("GET /rules", &api.get("/rules").await);
    let _: List<Rule> = decode(
        "GET /workspaces/{id}/rules",
        &api.get(&format!("/workspaces/{ws}/rules")).await,
    );

    let one = expect_status(
        api.request(Method::POST, "/events")
            .header("x-meshes-publishable-key", &api.publishable_key)
            .json(&json!({"event": "user.signup", "payload": {"email": "ada@example.com"}}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let created: Created<Event> = decode("POST /events", &one);
    assert_eq!(created.created.resource, "global");
    let partial = expect_status(
        api.request(Method::POST, "/events/bulk")
            .header("x-meshes-publishable-key", &api.publishable_key)
            .json(&json!([{"event": "user.signup", "payload": {}}, {"event": ""}]))
            .send()
            .await
            .unwrap(),
        207,
    )
    .await;
    let partial: BulkPartial = decode("POST /events/bulk (207)", &partial);
    assert_eq!((partial.count, partial.error_count), (2, 1));
    let _: List<Event> = decode("GET /events", &api.get("/events").await);
    let _: List<Event> = decode(
        "GET /workspaces/{id}/events",
        &api.get(&format!("/workspaces/{ws}/events")).await,
    );
    let id = created.created.id;
    let _: EventDetail = decode("GET /events/{id}", &api.get(&format!("/events/{id}")).await);
}

// --- Event types, resources, payload ------------------------------------------------------

#[tokio::test]
async fn event_types_and_resources_are_bare_arrays_with_labels_and_uuid_ids() {
    let (_dir, _server, api) = start();
    let receiver = Receiver::start().await;
    api.webhook_rule(&receiver.url("/hook"), "invoice.paid")
        .await;
    api.send_event(json!({"event": "user.signup", "resource": "order_item", "payload": {}}))
        .await;
    let ws = &api.workspace_id;

    let types = api.get(&format!("/workspaces/{ws}/event-types")).await;
    assert!(types.is_array(), "a bare array, not an envelope: {types}");
    let entries: Vec<CatalogEntry> = decode("event types", &types);
    for (raw, entry) in types.as_array().unwrap().iter().zip(&entries) {
        has_keys("an event type", raw, &["description", "created_by"]);
        rfc3339("created_at", &entry.created_at);
        rfc3339("updated_at", &entry.updated_at);
    }
    let labels: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.key.as_str(), e.label.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("invoice.paid", "Invoice Paid"),
            ("user.signup", "User Signup")
        ]
    );
    // Ids are stable: the same key answers the same id on every read.
    let again: Vec<CatalogEntry> = decode(
        "event types",
        &api.get(&format!("/workspaces/{ws}/event-types")).await,
    );
    assert_eq!(
        entries.iter().map(|e| e.id).collect::<Vec<_>>(),
        again.iter().map(|e| e.id).collect::<Vec<_>>()
    );
    assert_ne!(entries[0].id, entries[1].id);

    let resources = api.get(&format!("/workspaces/{ws}/resources")).await;
    assert!(resources.is_array(), "{resources}");
    let resources: Vec<CatalogEntry> = decode("resources", &resources);
    let labels: Vec<(&str, &str)> = resources
        .iter()
        .map(|e| (e.key.as_str(), e.label.as_str()))
        .collect();
    // `global` is where an event without a resource goes.
    assert_eq!(labels, [("order_item", "Order Item")]);
}

#[tokio::test]
async fn an_events_payload_route_answers_the_whole_event_plus_its_payload() {
    let (_dir, _server, api) = start();
    let receiver = Receiver::start().await;
    api.webhook_rule(&receiver.url("/hook"), "user.signup")
        .await;
    let created = api
        .send_event(
            json!({"event": "user.signup", "resource": "user", "resource_id": "usr_1",
                           "payload": {"email": "ada@example.com", "plan": "pro"}}),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let detail = event_when(&api, id, "delivered", |e| all_deliveries(e, "completed")).await;

    let answer = api.get(&format!("/events/{id}/payload")).await;
    let typed: EventWithPayload = decode("GET /events/{id}/payload", &answer);
    assert_eq!(typed.event.id.to_string(), id);
    assert_eq!(typed.event.rule_events.len(), 1);
    assert_eq!(typed.event.status, "completed");
    assert_eq!(
        Value::Object(typed.payload),
        json!({"email": "ada@example.com", "plan": "pro"})
    );
    has_keys(
        "the event",
        &answer,
        &["resource_id", "started_at", "completed_at"],
    );
    // Everything `GET /events/{id}` answers, the same.
    let _: EventDetail = decode("GET /events/{id}", &detail);
    for (key, value) in detail.as_object().unwrap() {
        assert_eq!(
            &answer[key], value,
            "`{key}` differs from GET /events/{{id}}"
        );
    }
}

// --- Mappings -----------------------------------------------------------------------------

#[tokio::test]
async fn mappings_have_the_contract_shape_and_write_conditionally_or_unconditionally() {
    let (_dir, _server, api) = start();
    let receiver = Receiver::start().await;
    let (connection, _rule) = api
        .webhook_rule(&receiver.url("/hook"), "user.signup")
        .await;
    let path = format!("/connections/{connection}/mappings/default");
    let put = |body: Value| {
        let request = api.machine(Method::PUT, &path).json(&body);
        async move { request.send().await.unwrap() }
    };
    let check = |what: &str, raw: &Value| -> MappingAnswer {
        let answer: MappingAnswer = decode(what, raw);
        assert_eq!(answer.mapping.connection_id.to_string(), connection);
        assert_eq!(answer.mapping.workspace_id.to_string(), api.workspace_id);
        assert_eq!(answer.mapping.integration_type, "webhook");
        rfc3339("created_at", &answer.mapping.created_at);
        rfc3339("updated_at", &answer.mapping.updated_at);
        answer
    };

    let none = check("GET (nothing written)", &api.get(&path).await);
    assert_eq!(
        (none.mapping.version, none.mapping.schema.fields.len()),
        (0, 0)
    );

    let schema = json!({"schema_version": 1, "meta": {"name": "Signups", "notes": "v1"},
        "fields": [{"dest": "email", "source": {"type": "path", "value": "email"},
                    "transforms": [{"type": "trim"}], "on_error": "skip_field",
                    "notes": "as typed"}]});
    // Absent expected_version: the write wins.
    let first = check(
        "PUT",
        &expect_status(put(json!({"schema": schema})).await, 200).await,
    );
    assert_eq!(first.mapping.version, 1);
    assert_eq!(first.mapping.name, "Signups");
    assert_eq!(first.mapping.id, none.mapping.id);
    assert_eq!(
        first.mapping.schema.fields[0].notes.as_deref(),
        Some("as typed")
    );
    let read = check("GET", &api.get(&path).await);
    assert_eq!(read.mapping.version, 1);
    assert_eq!(read.status, first.status);

    // A second unconditional write wins over version 1 as well.
    let second = check(
        "PUT",
        &expect_status(
            put(json!({"schema": schema, "name": "Renamed",
                       "mapping_id": first.mapping.mapping_id,
                       "workspace_id": api.workspace_id}))
            .await,
            200,
        )
        .await,
    );
    assert_eq!(
        (second.mapping.version, second.mapping.name.as_str()),
        (2, "Renamed")
    );

    // A stale expected_version: 409 in the contract's error format, nothing written.
    let stale = expect_status(
        put(json!({"schema": schema, "expected_version": 1})).await,
        409,
    )
    .await;
    assert_contract_error(&stale);
    let current = expect_status(
        put(json!({"schema": schema, "expected_version": 2})).await,
        200,
    )
    .await;
    assert_eq!(check("PUT", &current).mapping.version, 3);
}

// --- CORS ---------------------------------------------------------------------------------

/// A browser's preflight for `method path` from [`PAGE`].
async fn preflight(api: &Api, path: &str, method: &str) -> reqwest::Response {
    api.request(Method::OPTIONS, path)
        .header(ORIGIN, PAGE)
        .header(ACCESS_CONTROL_REQUEST_METHOD, method)
        .header(
            ACCESS_CONTROL_REQUEST_HEADERS,
            "content-type,x-meshes-publishable-key,idempotency-key",
        )
        .send()
        .await
        .unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &reqwest::header::HeaderName) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name}: {:?}", response.headers()))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn ingest_answers_browsers_from_any_origin_and_management_routes_do_not() {
    let (_dir, _server, api) = start();

    for path in ["/events", "/events/bulk"] {
        let approved = preflight(&api, path, "POST").await;
        assert!(
            approved.status().is_success(),
            "{path}: {}",
            approved.status()
        );
        assert_eq!(header(&approved, &ACCESS_CONTROL_ALLOW_ORIGIN), "*");
        let methods = header(&approved, &ACCESS_CONTROL_ALLOW_METHODS).to_ascii_uppercase();
        assert!(methods.contains("POST"), "{methods}");
        let allowed = header(&approved, &ACCESS_CONTROL_ALLOW_HEADERS).to_ascii_lowercase();
        for wanted in [
            "content-type",
            "x-meshes-publishable-key",
            "idempotency-key",
        ] {
            assert!(allowed.contains(wanted), "{path}: {allowed} lacks {wanted}");
        }
    }

    // The page's requests themselves, with the publishable key, and a refusal it can read.
    let one = api
        .request(Method::POST, "/events")
        .header(ORIGIN, PAGE)
        .header("x-meshes-publishable-key", &api.publishable_key)
        .json(&json!({"event": "page.viewed", "payload": {"path": "/"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&one, &ACCESS_CONTROL_ALLOW_ORIGIN), "*");
    expect_status(one, 201).await;
    let bulk = api
        .request(Method::POST, "/events/bulk")
        .header(ORIGIN, PAGE)
        .header("x-meshes-publishable-key", &api.publishable_key)
        .json(&json!([{"event": "page.viewed", "payload": {}}]))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&bulk, &ACCESS_CONTROL_ALLOW_ORIGIN), "*");
    expect_status(bulk, 201).await;
    let refused = api
        .request(Method::POST, "/events")
        .header(ORIGIN, PAGE)
        .header("x-meshes-publishable-key", "mesh_pub_a_b_forged")
        .json(&json!({"event": "page.viewed", "payload": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&refused, &ACCESS_CONTROL_ALLOW_ORIGIN), "*");
    assert_contract_error(&expect_status(refused, 401).await);

    // Management routes: no preflight approved, no CORS header on an answer — including the
    // event history behind the ingest route's own path.
    let workspace = format!("/workspaces/{}", api.workspace_id);
    for (path, method) in [
        ("/workspaces", "GET"),
        (workspace.as_str(), "PUT"),
        ("/connections", "POST"),
        ("/events", "GET"),
    ] {
        let refused = preflight(&api, path, method).await;
        assert!(
            !refused.status().is_success(),
            "{method} {path}: preflight approved ({})",
            refused.status()
        );
        assert!(
            refused.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none(),
            "{method} {path}: {:?}",
            refused.headers()
        );
    }
    for path in ["/workspaces", "/events"] {
        let answer = api
            .machine(Method::GET, path)
            .header(ORIGIN, PAGE)
            .send()
            .await
            .unwrap();
        assert!(
            answer.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none(),
            "GET {path}: {:?}",
            answer.headers()
        );
        expect_status(answer, 200).await;
    }
}

// --- An older Switchyard's data -----------------------------------------------------------

/// Runs `switchyard serve` with `args` and expects it to exit with an error within a bounded
/// time (a process that starts serving instead fails the test); answers what it said.
fn refused_start(args: &[String], env: &[(String, String)]) -> String {
    let mut child = Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn switchyard");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("switchyard started on an older Switchyard's data instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!status.success(), "exited successfully: {said}");
    assert!(!said.contains("listening on"), "{said}");
    said
}

/// An organization as an older Switchyard minted it: a UUIDv7 id.
fn old_organization() -> switchyard_core::domain::Organization {
    switchyard_core::domain::Organization {
        id: switchyard_core::OrgId(Uuid::now_v7()),
        name: "local".into(),
        created_at: time::OffsetDateTime::now_utc(),
    }
}

#[tokio::test]
async fn an_older_switchyards_data_is_refused_at_start_with_what_to_do() {
    use switchyard_core::ports::Tenants;

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let said = match E2eBackend::from_env() {
        E2eBackend::Embedded => {
            std::fs::create_dir_all(&data).unwrap();
            let db = switchyard_embedded::Db::open(&data.join("switchyard.db")).unwrap();
            let store = switchyard_embedded::SqliteStore::open(db).unwrap();
            store
                .create_organization(&old_organization())
                .await
                .unwrap();
            drop(store);
            refused_start(&["--data-dir".into(), data.display().to_string()], &[])
        }
        E2eBackend::Aws(moto) => {
            let clients = moto.clients(None).await;
            let prefix = switchyard_tests::Moto::unique_prefix();
            let resources = switchyard_aws::bootstrap(
                &clients,
                &prefix,
                switchyard_aws::default_queue_attributes,
            )
            .await
            .unwrap();
            let store = switchyard_aws::DynamoStore::new(
                clients.dynamodb.clone(),
                &resources.config_table,
                &resources.history_table,
                Duration::from_secs(86_400),
            );
            store
                .create_organization(&old_organization())
                .await
                .unwrap();
            let args: Vec<String> = [
                "--data-dir",
                &data.display().to_string(),
                "--backend",
                "aws",
                "--aws-prefix",
                &prefix,
            ]
            .map(String::from)
            .to_vec();
            refused_start(&args, &moto.env())
        }
    };
    assert!(said.contains("older Switchyard"), "{said}");
    assert!(said.contains("start again"), "{said}");
}

#[tokio::test]
async fn a_data_directory_holding_older_credentials_is_refused_even_over_fresh_storage() {
    // Only credentials.json, as an older Switchyard wrote it: a UUIDv7 organization id and an
    // `AK…` access key. The storage itself (a new SQLite file, or fresh AWS resources) is
    // empty, so the file is the only trace — and a client would be handed these.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let old = json!({"api_url": "http://127.0.0.1:1", "org_id": Uuid::now_v7(),
        "access_key": "AKmp8NMGHfnxDGwb032RqDsK", "secret_key": "s3cret",
        "workspace_id": Uuid::now_v7(), "publishable_key": "mesh_pub_a_b_c"});
    std::fs::write(data.join("credentials.json"), old.to_string()).unwrap();
    let mut args = vec!["--data-dir".to_owned(), data.display().to_string()];
    let env = match E2eBackend::from_env() {
        E2eBackend::Embedded => Vec::new(),
        E2eBackend::Aws(moto) => {
            args.extend(
                [
                    "--backend",
                    "aws",
                    "--aws-bootstrap",
                    "--aws-prefix",
                    &switchyard_tests::Moto::unique_prefix(),
                ]
                .map(String::from),
            );
            moto.env()
        }
    };
    let said = refused_start(&args, &env);
    assert!(said.contains("older Switchyard"), "{said}");
    assert!(said.contains("move the data directory aside"), "{said}");
}
