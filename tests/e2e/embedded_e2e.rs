//! End to end on the embedded default: the real `switchyard serve` process, a real receiver on
//! 127.0.0.1, requests as an application sends them.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use switchyard_tests::{
    Api, DEADLINE, Receiver, Switchyard, all_deliveries, assert_contract_error, delivered_at_least,
    event_when, eventually, expect_status, start,
};

#[tokio::test]
async fn event_is_delivered_as_the_documented_envelope() {
    let (_dir, _server, api) = start();
    let receiver = Receiver::start().await;
    let (connection_id, rule_id) = api
        .webhook_rule(&receiver.url("/hook"), "user.signup")
        .await;

    let event = api
        .send_event(
            json!({"event": "user.signup", "resource": "user", "resource_id": "usr_2048",
                           "payload": {"email": "test@example.com", "plan": "pro"}}),
        )
        .await;
    let event_id = event["id"].as_str().expect("event id").to_owned();
    assert_eq!(event["type"], "event");
    assert_eq!(event["event"], "user.signup");
    assert_eq!(event["workspace"], api.workspace_id.as_str());
    assert_eq!(event["resource"], "user");
    assert_eq!(event["resource_id"], "usr_2048");

    let delivered = eventually("the webhook to arrive", DEADLINE, || async {
        receiver.requests_to("/hook").into_iter().next()
    })
    .await;
    assert_eq!(delivered.method, Method::POST);
    assert_eq!(delivered.headers["content-type"], "application/json");
    for header in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        assert!(
            delivered.headers.contains_key(header),
            "signed by default: {header}"
        );
    }
    assert!(
        delivered.headers["webhook-signature"]
            .to_str()
            .unwrap()
            .starts_with("v1,")
    );
    let envelope = delivered.json();
    let keys: BTreeSet<&str> = envelope
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "uuid",
            "event",
            "resource",
            "resource_id",
            "payload",
            "time_created",
            "time_sent"
        ])
    );
    assert_eq!(envelope["uuid"], event_id.as_str());
    assert_eq!(envelope["event"], "user.signup");
    assert_eq!(envelope["resource"], "user");
    assert_eq!(envelope["resource_id"], "usr_2048");
    assert_eq!(
        envelope["payload"],
        json!({"email": "test@example.com", "plan": "pro"})
    );
    let created = time::OffsetDateTime::parse(
        event["created_at"].as_str().expect("created_at"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("RFC 3339");
    let created_ms = (created.unix_timestamp_nanos() / 1_000_000) as i64;
    assert_eq!(envelope["time_created"].as_i64(), Some(created_ms));
    assert!(envelope["time_sent"].as_i64().expect("time_sent") >= created_ms);

    let stored = event_when(&api, &event_id, "the delivery to complete", |e| {
        all_deliveries(e, "completed")
    })
    .await;
    assert_eq!(stored["status"], "completed");
    let rule_events = stored["rule_events"].as_array().expect("rule_events");
    assert_eq!(rule_events.len(), 1);
    assert_eq!(rule_events[0]["attempt_count"], 1);
    assert_eq!(rule_events[0]["rule"], rule_id.as_str());
    assert_eq!(rule_events[0]["connection"], connection_id.as_str());
    assert_eq!(rule_events[0]["integration_type"], "webhook");
    assert_eq!(
        stored["payload"],
        json!({"email": "test@example.com", "plan": "pro"})
    );
    assert_eq!(receiver.requests().len(), 1, "delivered exactly once");
}

#[tokio::test]
async fn two_rules_fan_out_and_a_rule_on_another_event_type_does_not_fire() {
    let (_dir, _server, api) = start();
    let receiver = Receiver::start().await;
    api.webhook_rule(&receiver.url("/crm"), "user.signup").await;
    api.webhook_rule(&receiver.url("/slack"), "user.signup")
        .await;
    api.webhook_rule(&receiver.url("/billing"), "invoice.paid")
        .await;

    let event = api
        .send_event(json!({"event": "user.signup", "payload": {"n": 1}}))
        .await;
    let id = event["id"].as_str().expect("id");
    let stored = event_when(&api, id, "both deliveries to complete", |e| {
        all_deliveries(e, "completed")
    })
    .await;
    assert_eq!(stored["rule_events"].as_array().map(Vec::len), Some(2));
    assert_eq!(stored["total_rules"], 2);
    assert_eq!(stored["resource"], "global", "resource defaults to global");
    assert_eq!(receiver.requests_to("/crm").len(), 1);
    assert_eq!(receiver.requests_to("/slack").len(), 1);
    assert!(receiver.requests_to("/billing").is_empty());
}

#[tokio::test]
async fn receiver_error_is_recorded_and_the_delivery_is_not_completed() {
    let (_dir, _server, api) = start();
    let receiver = Receiver::start().await;
    receiver.respond_with(500);
    api.webhook_rule(&receiver.url("/hook"), "user.signup")
        .await;

    let event = api
        .send_event(json!({"event": "user.signup", "payload": {}}))
        .await;
    let id = event["id"].as_str().expect("id");
    let stored = event_when(&api, id, "a failed attempt to be recorded", |e| {
        e["rule_events"][0]["attempt_count"].as_u64() >= Some(1)
            && e["rule_events"][0]["status"] == "retrying"
    })
    .await;
    let delivery = &stored["rule_events"][0];
    assert_ne!(stored["status"], "completed");
    assert!(delivery["completed_at"].is_null());
    let last_error = delivery["last_error"].as_str().expect("last_error");
    assert!(last_error.contains("500"), "{last_error}");
    assert!(last_error.contains("rejected_server_error"), "{last_error}");
    assert!(delivery["next_attempt_at"].is_string());
    assert!(!receiver.requests_to("/hook").is_empty());
}

#[tokio::test]
async fn bad_input_gets_contract_errors_and_nothing_is_stored() {
    let (_dir, _server, api) = start();
    let events = || api.request(Method::POST, "/events");
    let with_key =
        |b: reqwest::RequestBuilder| b.header("X-Meshes-Publishable-Key", &api.publishable_key);

    let malformed = with_key(events())
        .header("content-type", "application/json")
        .body("{\"event\": ")
        .send()
        .await
        .unwrap();
    assert_contract_error(&expect_status(malformed, 400).await);

    // One JSON value, then nothing but whitespace.
    let trailing = with_key(events())
        .header("content-type", "application/json")
        .body("{\"event\": \"user.signup\"}garbage")
        .send()
        .await
        .unwrap();
    assert_contract_error(&expect_status(trailing, 400).await);

    let missing = with_key(events())
        .json(&json!({"payload": {}}))
        .send()
        .await
        .unwrap();
    let body = expect_status(missing, 400).await;
    assert_contract_error(&body);
    assert_eq!(body["error"]["data"][0]["param"], "event");

    let wrong_type = with_key(events())
        .json(&json!({"event": 5, "payload": []}))
        .send()
        .await
        .unwrap();
    let body = expect_status(wrong_type, 400).await;
    let params: BTreeSet<&str> = body["error"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["param"].as_str().unwrap())
        .collect();
    assert_eq!(params, BTreeSet::from(["event", "payload"]));

    let bad_resource_id = with_key(events())
        .json(&json!({"event": "a.b", "resource_id": "no spaces"}))
        .send()
        .await
        .unwrap();
    assert_contract_error(&expect_status(bad_resource_id, 400).await);

    let oversize = with_key(events())
        .json(&json!({"event": "a.b", "payload": {"blob": "x".repeat(130 * 1024)}}))
        .send()
        .await
        .unwrap();
    assert_contract_error(&expect_status(oversize, 413).await);

    let wrong_key = events()
        .header("X-Meshes-Publishable-Key", "mesh_pub_aaaa_bbbb_notarealkey")
        .json(&json!({"event": "user.signup"}))
        .send()
        .await
        .unwrap();
    assert_contract_error(&expect_status(wrong_key, 401).await);

    let no_credentials = events()
        .json(&json!({"event": "user.signup"}))
        .send()
        .await
        .unwrap();
    assert_contract_error(&expect_status(no_credentials, 401).await);

    let expired = api.jwt_with(-120, 30, &api.secret_key);
    let forged = api.jwt_with(0, 30, "not-the-secret");
    let too_long = api.jwt_with(0, 3600, &api.secret_key);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let not_yet = api.jwt_claims(0, 60, &api.secret_key, json!({"nbf": now + 30}));
    let alg_none = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header =
            b64.encode(json!({"alg": "none", "typ": "JWT", "kid": api.access_key}).to_string());
        let claims = b64.encode(
            json!({"iss": format!("urn:meshes:m2m:{}", api.access_key), "aud": "meshes-api",
            "org": api.org_id, "iat": 0, "exp": i64::MAX})
            .to_string(),
        );
        format!("{header}.{claims}.")
    };
    for (what, token) in [
        ("expired", expired),
        ("forged", forged),
        ("over 60 s", too_long),
        ("not yet valid (nbf)", not_yet),
        ("alg none", alg_none),
    ] {
        let response = events()
            .bearer_auth(&token)
            .json(&json!({"event": "user.signup", "workspace": api.workspace_id}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{what} token must be refused");
        assert_contract_error(&response.json().await.unwrap());
        let response = api
            .request(Method::GET, "/workspaces")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            401,
            "{what} token must be refused on the management API"
        );
    }
    // Within the 5 s leeway, as for `iat`.
    let skewed = api.jwt_claims(0, 60, &api.secret_key, json!({"nbf": now + 2}));
    let response = api
        .request(Method::GET, "/workspaces")
        .bearer_auth(&skewed)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "nbf within the leeway is accepted");

    let stored = api.get("/events").await;
    assert_eq!(stored["count"], 0, "nothing stored: {stored}");
}

#[tokio::test]
async fn machine_key_sends_events_to_a_named_workspace_only() {
    let (_dir, _server, api) = start();
    let missing_workspace = api
        .machine(Method::POST, "/events")
        .json(&json!({"event": "a.b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(missing_workspace, 400).await["error"]["data"][0]["param"],
        "workspace"
    );
    let unknown = api
        .machine(Method::POST, "/events")
        .json(&json!({"event": "a.b", "workspace": uuid::Uuid::now_v7()}))
        .send()
        .await
        .unwrap();
    expect_status(unknown, 404).await;
    let ok = api
        .machine(Method::POST, "/events")
        .json(&json!({"event": "a.b", "workspace": api.workspace_id}))
        .send()
        .await
        .unwrap();
    let event = expect_status(ok, 201).await;
    assert_eq!(event["event"]["workspace"], api.workspace_id.as_str());
    assert!(
        event["event"]["created_by"]
            .as_str()
            .unwrap()
            .starts_with("machine_key:")
    );
}

#[tokio::test]
async fn management_api_creates_lists_and_gets_resources() {
    let (_dir, _server, api) = start();
    let created = api
        .post(
            "/workspaces",
            json!({"name": "staging", "description": "pre-prod"}),
        )
        .await;
    let ws = &created["workspace"];
    let ws_id = ws["id"].as_str().unwrap();
    assert!(
        ws["publishable_key"]["public_key"]
            .as_str()
            .unwrap()
            .starts_with("mesh_pub_")
    );

    let fetched = api.get(&format!("/workspaces/{ws_id}")).await;
    assert_eq!(fetched["name"], "staging");
    assert_eq!(
        fetched["publishable_key"]["public_key"],
        ws["publishable_key"]["public_key"]
    );

    let duplicate = api
        .machine(Method::POST, "/workspaces")
        .json(&json!({"name": "staging"}))
        .send()
        .await
        .unwrap();
    assert_contract_error(&expect_status(duplicate, 409).await);
    let bad_name = api
        .machine(Method::POST, "/workspaces")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(bad_name, 400).await["error"]["data"][0]["param"],
        "name"
    );

    let list = api.get("/workspaces?limit=1").await;
    assert_eq!(list["count"], 1);
    assert_eq!(list["limit"], 1);
    let next = list["next_cursor"].as_str().expect("a second page");
    let second = api.get(&format!("/workspaces?limit=1&cursor={next}")).await;
    assert_eq!(second["count"], 1);
    assert_ne!(second["records"][0]["id"], list["records"][0]["id"]);
    assert!(second["next_cursor"].is_null());
    let bad_limit = api
        .machine(Method::GET, "/workspaces?limit=500")
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(bad_limit, 400).await["error"]["data"][0]["param"],
        "limit"
    );

    let https_only = api
        .machine(Method::POST, "/connections")
        .json(&json!({"workspace": ws_id, "type": "webhook", "name": "x", "metadata": {"url": "http://example.com/hook"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(https_only, 400).await["error"]["data"][0]["param"],
        "metadata.url"
    );

    let partner = Receiver::start().await;
    let partner_url = partner.url("/hook");
    let connection = api
        .post(
            "/connections",
            json!({"workspace": ws_id, "type": "webhook", "name": "Partner",
            "metadata": {"url": partner_url, "token": "s3cr3t-token"}}),
        )
        .await;
    let signing_secret = connection["connection"]["signing_secret"]
        .as_str()
        .expect("shown once");
    assert!(signing_secret.starts_with("whsec_"));
    let connection_id = connection["connection"]["id"].as_str().unwrap();
    let shown = api.get(&format!("/connections/{connection_id}")).await;
    assert_eq!(shown["metadata"]["url"], partner_url.as_str());
    assert!(
        !shown.to_string().contains("s3cr3t-token"),
        "secrets are write-only: {shown}"
    );
    assert!(
        !shown.to_string().contains(signing_secret),
        "the signing secret is shown once"
    );

    // Unsafe or unreachable endpoints are refused before the connection exists.
    for url in [
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest",
        "http://127.0.0.1:1/hook",
    ] {
        let refused = api
            .machine(Method::POST, "/connections")
            .json(&json!({"workspace": ws_id, "type": "webhook", "name": "x", "metadata": {"url": url}}))
            .send()
            .await
            .unwrap();
        let body = expect_status(refused, 422).await;
        assert_eq!(
            body["error"]["data"][0]["param"], "metadata.url",
            "{url}: {body}"
        );
    }

    let rule = api
        .post(
            "/rules",
            json!({"workspace": ws_id, "connection": connection_id, "event": "invoice.paid",
            "resource": "invoice", "metadata": {"action": "send_webhook"}}),
        )
        .await;
    let rule_id = rule["rule"]["id"].as_str().unwrap();
    assert_eq!(rule["rule"]["active"], true);
    assert_eq!(
        api.get(&format!("/rules/{rule_id}")).await["event"],
        "invoice.paid"
    );
    assert_eq!(api.get("/rules?event=invoice.paid").await["count"], 1);
    assert_eq!(api.get("/rules?event=user.signup").await["count"], 0);
    assert_eq!(
        api.get(&format!("/workspaces/{ws_id}/rules")).await["count"],
        1
    );
    assert_eq!(
        api.get(&format!("/workspaces/{ws_id}/connections")).await["count"],
        1
    );

    let wrong_action = api
        .machine(Method::POST, "/rules")
        .json(&json!({"workspace": ws_id, "connection": connection_id, "event": "a.b", "metadata": {"action": "send_email"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(wrong_action, 400).await["error"]["data"][0]["param"],
        "metadata.action"
    );

    for path in [
        format!("/workspaces/{}", uuid::Uuid::now_v7()),
        format!("/connections/{}", uuid::Uuid::now_v7()),
        format!("/rules/{}", uuid::Uuid::now_v7()),
        format!("/events/{}", uuid::Uuid::now_v7()),
        "/events/not-a-uuid".to_owned(),
    ] {
        let response = api.machine(Method::GET, &path).send().await.unwrap();
        assert_contract_error(&expect_status(response, 404).await);
    }
}

#[tokio::test]
async fn first_start_writes_private_credentials_and_token_command_works() {
    let (_dir, server, api) = start();
    let path = server.data_dir.join("credentials.json");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let creds = server.credentials();
    for key in [
        "api_url",
        "org_id",
        "access_key",
        "secret_key",
        "workspace_id",
        "publishable_key",
    ] {
        assert!(
            creds[key].as_str().is_some_and(|v| !v.is_empty()),
            "credentials.{key}"
        );
    }
    assert!(
        server
            .banner
            .contains(creds["publishable_key"].as_str().unwrap())
    );
    assert!(server.banner.contains("curl"));

    let output = std::process::Command::new(switchyard_tests::binary())
        .args(["token", "--data-dir"])
        .arg(&server.data_dir)
        .output()
        .expect("switchyard token");
    assert!(output.status.success());
    let token = String::from_utf8(output.stdout).unwrap();
    let response = api
        .request(Method::GET, "/workspaces")
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap();
    let list = expect_status(response, 200).await;
    assert_eq!(list["records"][0]["name"], "default");
}

#[tokio::test]
async fn events_accepted_before_a_crash_are_delivered_after_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = Switchyard::start(&data);
    let api = Api::from_credentials(&server.credentials());
    let receiver = Receiver::start().await;
    api.webhook_rule(&receiver.url("/hook"), "order.placed")
        .await;

    let mut accepted = BTreeSet::new();
    for n in 0..25 {
        let event = api
            .send_event(json!({"event": "order.placed", "payload": {"n": n}}))
            .await;
        accepted.insert(event["id"].as_str().unwrap().to_owned());
    }
    server.kill();

    let server = Switchyard::start(&data);
    let api = Api::from_credentials(&server.credentials());
    let delivered =
        delivered_at_least(&receiver, "/hook", &accepted, Duration::from_secs(90)).await;
    assert_eq!(delivered, accepted);
    // A delivery interrupted mid-attempt is retried once its message's visibility timeout
    // (60 s) has passed, so its completed record may come that much later.
    for id in &accepted {
        eventually(
            "the delivery to be recorded completed",
            Duration::from_secs(120),
            || async {
                all_deliveries(&api.get(&format!("/events/{id}")).await, "completed").then_some(())
            },
        )
        .await;
    }
    assert!(server.stop(), "SIGTERM drains and exits cleanly");
}

fn run_cli(server: &Switchyard, args: &[&str]) -> String {
    let output = std::process::Command::new(switchyard_tests::binary())
        .args(args)
        .arg("--data-dir")
        .arg(&server.data_dir)
        .output()
        .expect("run switchyard");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn failed_delivery_shows_its_attempts_and_is_replayed_through_the_api() {
    let (_dir, _server, api) = start();
    let receiver = Receiver::start().await;
    receiver.respond_with(404);
    let (_, rule_id) = api
        .webhook_rule(&receiver.url("/hook"), "user.signup")
        .await;
    let event = api
        .send_event(json!({"event": "user.signup", "payload": {}}))
        .await;
    let id = event["id"].as_str().unwrap();
    event_when(&api, id, "the delivery to fail", |e| {
        all_deliveries(e, "failed")
    })
    .await;

    let base = format!("/events/{id}/rules/{rule_id}");
    let attempts = api.get(&format!("{base}/attempts")).await;
    assert_eq!(attempts["count"], 1);
    let attempt = &attempts["records"][0];
    assert_eq!(attempt["status_code"], 404);
    assert_eq!(attempt["outcome"], "rejected_client_error");
    assert_eq!(attempt["number"], 1);
    let one = api
        .get(&format!(
            "{base}/attempts/{}",
            attempt["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(one["id"], attempt["id"]);
    assert_eq!(
        api.get(&format!("{base}/response-details")).await["status_code"],
        404
    );

    receiver.respond_with(200);
    let replayed = api
        .machine(Method::POST, &format!("{base}/retry"))
        .send()
        .await
        .unwrap();
    let replayed = expect_status(replayed, 200).await;
    assert_eq!(replayed["rule"], rule_id.as_str());
    let done = event_when(&api, id, "the replay to complete", |e| {
        all_deliveries(e, "completed")
    })
    .await;
    assert_eq!(done["rule_events"][0]["attempt_count"], 2);

    let unknown_rule = api
        .machine(
            Method::POST,
            &format!("/events/{id}/rules/{}/retry", uuid::Uuid::now_v7()),
        )
        .send()
        .await
        .unwrap();
    assert_contract_error(&expect_status(unknown_rule, 404).await);
}

#[tokio::test]
async fn cancel_stops_a_retrying_delivery() {
    let (_dir, _server, api) = start();
    let receiver = Receiver::start().await;
    receiver.respond_with(503);
    let (_, rule_id) = api
        .webhook_rule(&receiver.url("/hook"), "user.signup")
        .await;
    let event = api
        .send_event(json!({"event": "user.signup", "payload": {}}))
        .await;
    let id = event["id"].as_str().unwrap();
    // After the immediate retry, the next attempt waits about 5 s.
    event_when(&api, id, "two failed attempts", |e| {
        e["rule_events"][0]["attempt_count"].as_u64() >= Some(2)
            && e["rule_events"][0]["status"] == "retrying"
    })
    .await;
    let base = format!("/events/{id}/rules/{rule_id}");
    let canceled = expect_status(
        api.machine(Method::POST, &format!("{base}/cancel"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(canceled["status"], "canceled");
    let again = api
        .machine(Method::POST, &format!("{base}/cancel"))
        .send()
        .await
        .unwrap();
    assert_contract_error(&expect_status(again, 409).await);
    let event_cancel = api
        .machine(Method::POST, &format!("/events/{id}/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(event_cancel, 200).await["rule_events"][0]["status"],
        "canceled"
    );
    let attempts_so_far = receiver.requests_to("/hook").len();
    let stored = api.get(&format!("/events/{id}")).await;
    assert_eq!(stored["rule_events"][0]["status"], "canceled");
    assert_eq!(
        stored["rule_events"][0]["attempt_count"].as_u64(),
        Some(attempts_so_far as u64)
    );
}

#[tokio::test]
async fn dlq_cli_lists_and_redrives_a_failed_delivery() {
    let (_dir, server, api) = start();
    let receiver = Receiver::start().await;
    receiver.respond_with(400);
    api.webhook_rule(&receiver.url("/hook"), "user.signup")
        .await;
    let event = api
        .send_event(json!({"event": "user.signup", "payload": {}}))
        .await;
    let id = event["id"].as_str().unwrap();
    event_when(&api, id, "the delivery to fail", |e| {
        all_deliveries(e, "failed")
    })
    .await;

    let listed = run_cli(&server, &["dlq", "list"]);
    assert!(
        listed.starts_with("1 message(s) in deliveries-dlq"),
        "{listed}"
    );
    assert!(
        listed.contains(id),
        "the DLQ message names its event: {listed}"
    );

    receiver.respond_with(200);
    assert_eq!(
        run_cli(&server, &["dlq", "redrive"]).trim(),
        "redrove 1 message(s) from deliveries-dlq"
    );
    let done = event_when(&api, id, "the redriven delivery to complete", |e| {
        all_deliveries(e, "completed")
    })
    .await;
    assert_eq!(done["rule_events"][0]["attempt_count"], 2);
    assert!(run_cli(&server, &["dlq", "list"]).starts_with("0 message(s)"));
}

#[tokio::test]
async fn an_event_name_typed_decomposed_matches_a_rule_typed_composed() {
    let (_dir, _server, api) = start();
    let receiver = Receiver::start().await;
    // "café.ordered" with a precomposed é (NFC) in the rule, e + combining acute (NFD) in
    // the event: one name, however the keyboard produced it.
    let nfc = "caf\u{e9}.ordered";
    let nfd = "cafe\u{301}.ordered";
    api.webhook_rule(&receiver.url("/hook"), nfc).await;
    let event = api
        .send_event(json!({"event": nfd, "resource": "cafe\u{301}"}))
        .await;
    assert_eq!(event["event"], nfc, "stored as NFC");
    assert_eq!(event["resource"], "caf\u{e9}");

    let delivered = eventually(
        "the NFD event delivered through the NFC rule",
        DEADLINE,
        || async { receiver.requests_to("/hook").into_iter().next() },
    )
    .await;
    assert_eq!(delivered.json()["event"], nfc);
    let listed = api
        .get(&format!("/rules?event={}", "cafe%CC%81.ordered"))
        .await;
    assert_eq!(
        listed["count"], 1,
        "the rule filter is normalised too: {listed}"
    );
    let events = api
        .get(&format!(
            "/events?workspace={}&event=cafe%CC%81.ordered&resource=cafe%CC%81",
            api.workspace_id
        ))
        .await;
    assert_eq!(
        events["count"], 1,
        "and so are the event list's filters: {events}"
    );
}

#[tokio::test]
async fn a_webhook_url_over_2048_bytes_is_refused_at_create_and_update() {
    let (_dir, _server, api) = start();
    let receiver = Receiver::start().await;
    let long = format!("{}?{}", receiver.url("/hook"), "q".repeat(2100));
    let create = api
        .machine(Method::POST, "/connections")
        .json(
            &json!({"workspace": api.workspace_id, "type": "webhook", "name": "long url",
                      "metadata": {"url": long}}),
        )
        .send()
        .await
        .unwrap();
    let body = expect_status(create, 422).await;
    assert_contract_error(&body);
    assert_eq!(body["error"]["data"][0]["param"], "metadata.url");

    let (connection, _) = api.webhook_rule(&receiver.url("/hook"), "a.b").await;
    let update = api
        .machine(Method::PUT, &format!("/connections/{connection}"))
        .json(&json!({"metadata": {"url": long}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(update, 422).await["error"]["data"][0]["param"],
        "metadata.url"
    );
    let stored = api.get(&format!("/connections/{connection}")).await;
    assert_eq!(
        stored["metadata"]["url"],
        receiver.url("/hook"),
        "unchanged"
    );
}
