//! The MCP server as an agent meets it: rmcp's own client over stdio (`switchyard mcp`
//! spawned against the running server's data directory) and over streamable HTTP (`/mcp` on
//! the API, with a machine JWT or an MCP token minted by `switchyard mcp-token`).

use std::process::Command;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use switchyard_tests::{
    Api, DEADLINE, Receiver, Switchyard, assert_contract_error, binary, eventually, start,
};

/// Meshes' 33 tool names, as its MCP server registers them.
const MESHES_TOOLS: [&str; 33] = [
    "meshes_list_workspaces",
    "meshes_get_workspace",
    "meshes_create_workspace",
    "meshes_update_workspace",
    "meshes_get_workspace_connections",
    "meshes_get_workspace_event_types",
    "meshes_get_workspace_resources",
    "meshes_get_workspace_rules",
    "meshes_get_workspace_events",
    "meshes_list_connections",
    "meshes_get_connection",
    "meshes_create_connection",
    "meshes_update_connection",
    "meshes_delete_connection",
    "meshes_get_connection_actions",
    "meshes_get_connection_fields",
    "meshes_get_connection_default_mappings",
    "meshes_update_connection_default_mappings",
    "meshes_list_integrations",
    "meshes_list_rules",
    "meshes_get_rule",
    "meshes_create_rule",
    "meshes_delete_rule",
    "meshes_list_events",
    "meshes_get_event",
    "meshes_get_event_payload",
    "meshes_retry_event_rule",
    "meshes_emit_event",
    "meshes_emit_bulk_events",
    "meshes_create_session",
    "meshes_list_sessions",
    "meshes_refresh_session",
    "meshes_revoke_session",
];

type Client = RunningService<RoleClient, ()>;

/// `switchyard mcp` over stdio, using the data directory's credentials.json.
async fn stdio(server: &Switchyard) -> Client {
    let mut command = tokio::process::Command::new(binary());
    command.arg("mcp").arg("--data-dir").arg(&server.data_dir);
    let transport = TokioChildProcess::new(command).expect("spawn switchyard mcp");
    ().serve(transport).await.expect("MCP handshake over stdio")
}

/// `/mcp` over streamable HTTP with `token` as the bearer.
async fn http(server: &Switchyard, token: &str) -> Client {
    let config = StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", server.api_url))
        .auth_header(token);
    let transport = StreamableHttpClientTransport::with_client(reqwest::Client::new(), config);
    ().serve(transport).await.expect("MCP handshake over HTTP")
}

async fn call(client: &Client, tool: &str, args: Value) -> CallToolResult {
    let args = args.as_object().expect("arguments object").clone();
    client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

/// A successful call's structured JSON.
async fn ok(client: &Client, tool: &str, args: Value) -> Value {
    let result = call(client, tool, args).await;
    assert_ne!(result.is_error, Some(true), "{tool}: {}", text(&result));
    result.structured_content.expect("structured content")
}

/// A webhook connection to `url` and a rule sending `event` to it, through the tools:
/// (connection id, rule id).
async fn webhook_rule(
    client: &Client,
    ws: &str,
    name: &str,
    url: &str,
    event: &str,
) -> (String, String) {
    let created = ok(
        client,
        "meshes_create_connection",
        json!({"workspace": ws, "type": "webhook", "name": name, "metadata": {"url": url}}),
    )
    .await;
    let connection = created["connection"]["id"].as_str().unwrap().to_owned();
    let rule = ok(
        client,
        "meshes_create_rule",
        json!({"workspace": ws, "connection": connection, "event": event,
               "action": "send_webhook"}),
    )
    .await;
    (connection, rule["rule"]["id"].as_str().unwrap().to_owned())
}

/// The agent's repair: the connection pointed at `url`, the delivery retried, then delivered.
async fn fix_and_retry(client: &Client, connection: &str, url: &str, event: &str, rule: &str) {
    ok(
        client,
        "meshes_update_connection",
        json!({"connection_id": connection, "metadata": {"url": url}}),
    )
    .await;
    retry_when_not_imminent(client, event, rule).await;
    delivery_when(client, event, "the retry delivered", |d| {
        d["status"] == "completed"
    })
    .await;
}

/// Retries a delivery through the tool, as an agent told "425: imminent" would: again once
/// the scheduled attempt is no longer seconds away (the schedule differs by backend).
async fn retry_when_not_imminent(client: &Client, event: &str, rule: &str) {
    eventually("the retry accepted", DEADLINE, || async {
        let result = call(
            client,
            "meshes_retry_event_rule",
            json!({"event_id": event, "rule_id": rule}),
        )
        .await;
        let words = text(&result);
        match result.is_error {
            Some(true) if words.contains("HTTP 425") => None,
            Some(true) => panic!("meshes_retry_event_rule: {words}"),
            _ => Some(()),
        }
    })
    .await;
}

/// A refused call's words; asserts nothing but the refusal came back.
async fn refused(client: &Client, tool: &str, args: Value) -> (String, Value) {
    let result = call(client, tool, args).await;
    assert_eq!(result.is_error, Some(true), "{tool} should be refused");
    let structured = result.structured_content.clone().expect("structured error");
    (text(&result), structured)
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `switchyard mcp-token create` (the operator CLI); answers (token id, token).
fn mint_token(server: &Switchyard, workspace: &str, role: &str) -> (String, String) {
    let output = Command::new(binary())
        .args([
            "mcp-token",
            "create",
            "--workspace",
            workspace,
            "--role",
            role,
        ])
        .arg("--data-dir")
        .arg(&server.data_dir)
        .output()
        .expect("switchyard mcp-token create");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let created: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    (
        created["id"].as_str().unwrap().to_owned(),
        created["token"].as_str().unwrap().to_owned(),
    )
}

async fn second_workspace(api: &Api) -> String {
    let created = api
        .post("/workspaces", json!({"name": "Other tenant"}))
        .await;
    created["workspace"]["id"].as_str().unwrap().to_owned()
}

/// The delivery of `event` once `done` holds for it, read through the tools.
async fn delivery_when(
    client: &Client,
    event: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    eventually(what, DEADLINE, || async {
        let event = ok(client, "meshes_get_event", json!({"event_id": event})).await;
        event["rule_events"]
            .as_array()
            .and_then(|all| all.first())
            .filter(|d| done(d))
            .cloned()
    })
    .await
}

#[tokio::test]
async fn every_meshes_tool_is_listed_over_both_transports_with_true_annotations() {
    let (_dir, server, api) = start();
    for client in [stdio(&server).await, http(&server, &api.jwt()).await] {
        let tools = client.list_all_tools().await.expect("tools/list");
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        for name in MESHES_TOOLS {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        for extension in [
            "switchyard_diagnose_delivery",
            "switchyard_list_delivery_attempts",
            "switchyard_get_delivery_response",
            "switchyard_cancel_delivery",
            "switchyard_send_test_event",
            "switchyard_get_usage",
            "switchyard_list_dead_letters",
            "switchyard_redrive_dead_letters",
            "switchyard_replay_failed_deliveries",
        ] {
            assert!(names.contains(&extension), "{extension} missing");
        }
        let hints = |name: &str| {
            let tool = tools.iter().find(|t| t.name == name).unwrap();
            let a = tool.annotations.clone().expect("annotations");
            (a.read_only_hint, a.destructive_hint, a.idempotent_hint)
        };
        assert_eq!(
            hints("meshes_get_event"),
            (Some(true), Some(false), Some(true))
        );
        assert_eq!(
            hints("meshes_delete_connection"),
            (Some(false), Some(true), Some(false))
        );
        assert_eq!(
            hints("meshes_update_connection"),
            (Some(false), Some(false), Some(true))
        );
        assert_eq!(
            hints("meshes_emit_event"),
            (Some(false), Some(false), Some(false))
        );
        // Every answer carries the structured JSON too.
        let listed = ok(&client, "meshes_list_workspaces", json!({})).await;
        assert_eq!(listed["records"][0]["id"], api.workspace_id.as_str());
        let resources = client.list_all_resources().await.expect("resources/list");
        assert!(
            resources
                .iter()
                .any(|r| r.uri == "switchyard://integrations")
        );
        client.cancel().await.expect("close");
    }

    // No credential, no MCP: 401 in the API's error body.
    let response = reqwest::Client::new()
        .post(format!("{}/mcp", server.api_url))
        .header("Accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_contract_error(&response.json().await.unwrap());
}

/// The agent's loop with the organization's machine key over stdio: set up a webhook that
/// fails, emit, find the failed delivery, diagnose it, fix the URL, retry, see it delivered.
#[tokio::test]
async fn an_agent_fixes_a_failed_delivery_over_stdio() {
    let (_dir, server, api) = start();
    let broken = Receiver::start().await;
    broken.respond_with(404);
    let fixed = Receiver::start().await;
    let client = stdio(&server).await;
    let ws = api.workspace_id.as_str();

    let (connection, rule) = webhook_rule(
        &client,
        ws,
        "Orders hook",
        &broken.url("/wrong-path"),
        "order.paid",
    )
    .await;
    let emitted = ok(
        &client,
        "meshes_emit_event",
        json!({"workspace": ws, "event": "order.paid", "payload": {"order": 42}}),
    )
    .await;
    let event = emitted["event"]["id"].as_str().unwrap().to_owned();

    // Find it the way an agent would: the workspace's failed events.
    let failed = delivery_when(&client, &event, "the delivery failed", |d| {
        d["status"] == "failed"
    })
    .await;
    assert_eq!(failed["rule"], rule.as_str());
    let listed = ok(
        &client,
        "meshes_get_workspace_events",
        json!({"workspace_id": ws, "status": "failed"}),
    )
    .await;
    assert!(
        listed["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == event.as_str()),
        "{listed}"
    );

    let diagnosis = call(
        &client,
        "switchyard_diagnose_delivery",
        json!({"event_id": event, "rule_id": rule}),
    )
    .await;
    let words = text(&diagnosis);
    assert!(words.contains("HTTP 404"), "{words}");
    assert!(words.contains("rejected_client_error"), "{words}");
    assert!(words.contains("meshes_update_connection"), "{words}");
    assert_eq!(
        diagnosis.structured_content.unwrap()["facts"]["last_status_code"],
        404
    );

    fix_and_retry(&client, &connection, &fixed.url("/hook"), &event, &rule).await;
    // The operator's tools: the failure was also dead-lettered (ops see it there); nothing
    // failed is left to replay.
    let dead = ok(
        &client,
        "switchyard_list_dead_letters",
        json!({"queue": "deliveries"}),
    )
    .await;
    assert_eq!(dead["records"][0]["event_id"], event.as_str(), "{dead}");
    let replayed = ok(
        &client,
        "switchyard_replay_failed_deliveries",
        json!({"connection_id": connection, "from": "2026-01-01T00:00:00Z",
               "to": "2100-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(replayed["requeued"], 0, "{replayed}");
    let got = fixed.requests_to("/hook");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["uuid"], event.as_str());
    assert_eq!(got[0].json()["payload"], json!({"order": 42}));
    client.cancel().await.expect("close");
}

/// A customer's agent over HTTP with an MCP token of one workspace: it repairs its own
/// deliveries and cannot see or touch another workspace; a member token cannot write; a
/// revoked token stops at once.
#[tokio::test]
async fn an_mcp_token_reaches_its_own_workspace_only() {
    let (_dir, server, api) = start();
    let other = second_workspace(&api).await;
    let ws = api.workspace_id.clone();
    let (admin_id, admin_token) = mint_token(&server, &ws, "admin");
    let (_, member_token) = mint_token(&server, &ws, "member");
    let client = http(&server, &admin_token).await;

    // Its own workspace only: the other one is "not found", never its data.
    let listed = ok(&client, "meshes_list_workspaces", json!({})).await;
    let ids: Vec<&Value> = listed["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| &w["id"])
        .collect();
    assert_eq!(ids, vec![&json!(ws)]);
    for (tool, args) in [
        ("meshes_get_workspace", json!({"workspace_id": other})),
        (
            "meshes_get_workspace_connections",
            json!({"workspace_id": other}),
        ),
        (
            "meshes_get_workspace_events",
            json!({"workspace_id": other}),
        ),
        (
            "meshes_create_connection",
            json!({"workspace": other, "type": "webhook", "name": "x",
                   "metadata": {"url": "http://127.0.0.1:9/x"}}),
        ),
    ] {
        let (words, structured) = refused(&client, tool, args).await;
        assert!(words.contains("HTTP 404"), "{tool}: {words}");
        assert!(words.contains("not found"), "{tool}: {words}");
        assert!(!words.contains("publishable"), "{tool}: {words}");
        assert_contract_error(&structured);
    }
    // Machine-only tools say so.
    let (words, _) = refused(&client, "meshes_list_sessions", json!({"workspace_id": ws})).await;
    assert!(words.contains("HTTP 403"), "{words}");
    for (tool, args) in [
        (
            "switchyard_list_dead_letters",
            json!({"queue": "deliveries"}),
        ),
        (
            "switchyard_redrive_dead_letters",
            json!({"queue": "deliveries"}),
        ),
    ] {
        let (words, _) = refused(&client, tool, args).await;
        assert!(words.contains("HTTP 403"), "{tool}: {words}");
    }
    let other_connections = api.get(&format!("/workspaces/{other}/connections")).await;
    assert_eq!(other_connections["count"], 0, "nothing was written there");

    // The repair loop, with Send Test Event as the emitter (sessions send no events).
    let broken = Receiver::start().await;
    broken.respond_with(500);
    let fixed = Receiver::start().await;
    let (connection, rule) = webhook_rule(
        &client,
        &ws,
        "Customer hook",
        &broken.url("/hook"),
        "invoice.paid",
    )
    .await;
    let test = ok(
        &client,
        "switchyard_send_test_event",
        json!({"rule_id": rule}),
    )
    .await;
    let event = test["event"]["id"].as_str().unwrap().to_owned();
    // The first attempt and its immediate retry fail; the next one is minutes away.
    delivery_when(&client, &event, "two failed attempts", |d| {
        d["status"] == "retrying" && d["attempt_count"].as_u64() >= Some(2)
    })
    .await;
    let diagnosis = call(
        &client,
        "switchyard_diagnose_delivery",
        json!({"event_id": event, "rule_id": rule}),
    )
    .await;
    let words = text(&diagnosis);
    assert!(words.contains("HTTP 500"), "{words}");
    assert!(words.contains("next attempt is due"), "{words}");
    fix_and_retry(&client, &connection, &fixed.url("/hook"), &event, &rule).await;
    assert_eq!(fixed.requests_to("/hook")[0].json()["uuid"], event.as_str());

    // A member reads but cannot write.
    let member = http(&server, &member_token).await;
    ok(
        &member,
        "meshes_get_connection",
        json!({"connection_id": connection}),
    )
    .await;
    let (words, _) = refused(
        &member,
        "meshes_delete_connection",
        json!({"connection_id": connection, "force_delete": true}),
    )
    .await;
    assert!(words.contains("HTTP 403"), "{words}");
    api.get(&format!("/connections/{connection}")).await;

    // Revoked: the next request is refused at the door.
    let output = Command::new(binary())
        .args(["mcp-token", "revoke", &admin_id, "--data-dir"])
        .arg(&server.data_dir)
        .output()
        .unwrap();
    assert!(output.status.success());
    let response = reqwest::Client::new()
        .post(format!("{}/mcp", server.api_url))
        .bearer_auth(&admin_token)
        .header("Accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

/// Wrong types, unknown ids and an oversized payload: a tool error carrying the API's own
/// message, and nothing written.
#[tokio::test]
async fn bad_tool_input_gets_the_apis_message_and_writes_nothing() {
    let (_dir, server, api) = start();
    let client = stdio(&server).await;
    let ws = api.workspace_id.as_str();

    let (words, structured) = refused(
        &client,
        "meshes_create_connection",
        json!({"workspace": ws, "type": "webhook", "name": 5, "metadata": {"url": 7}}),
    )
    .await;
    assert!(words.starts_with("HTTP 400"), "{words}");
    assert_contract_error(&structured);
    assert!(words.contains("name"), "{words}");

    let (words, _) = refused(
        &client,
        "meshes_get_connection",
        json!({"connection_id": "00000000-0000-4000-8000-000000000000"}),
    )
    .await;
    assert!(words.contains("HTTP 404"), "{words}");
    assert!(words.contains("Connection not found"), "{words}");

    let (words, structured) =
        refused(&client, "meshes_retry_event_rule", json!({"event_id": 12})).await;
    assert!(words.contains("event_id: must be a string"), "{words}");
    assert!(words.contains("rule_id: is required"), "{words}");
    assert_eq!(structured["error"]["name"], "ValidationError");

    let big = "x".repeat(1_100_000);
    let (words, _) = refused(
        &client,
        "meshes_emit_event",
        json!({"workspace": ws, "event": "big.one", "payload": {"blob": big}}),
    )
    .await;
    assert!(words.contains("HTTP 413"), "{words}");

    let events = api.get("/events").await;
    assert_eq!(events["count"], 0, "nothing was accepted: {events}");
    let connections = api.get("/connections").await;
    assert_eq!(
        connections["count"], 0,
        "nothing was created: {connections}"
    );
    client.cancel().await.expect("close");
}
