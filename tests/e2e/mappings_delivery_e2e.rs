//! Field mappings on the delivery path, end to end through the real `switchyard serve`: a
//! Slack connection pointed at a fake Slack on 127.0.0.1, seed 004's mapping, and events —
//! the message carries the mapped fields; a `warn_action` field that fails is left out and the
//! attempt says so; a `fail_action` field that fails makes no request, records `mapping_error`
//! and fails the delivery at once.

use reqwest::Method;
use serde_json::{Value, json};
use switchyard_tests::{
    Api, DEADLINE, Reply, WithFakeSlack, event_when, eventually, expect_status,
    serve_with_fake_slack,
};

const TEMPLATE: &str = "[{{environment}}] {{text}} ({{reference}}) at {{timestamp}}";

async fn setup() -> WithFakeSlack {
    let setup = serve_with_fake_slack(Reply::json(
        200,
        json!({"ok": true, "channel": "C0123", "ts": "1503435956.000247"}),
    ))
    .await;
    let api = &setup.api;
    let connection = api
        .post(
            "/connections",
            json!({"workspace": api.workspace_id, "type": "slack", "name": "ops-alerts",
                   "metadata": {"access_token": "xoxb-mapping-secret"}}),
        )
        .await;
    let connection = connection["connection"]["id"].as_str().expect("id");
    // Seed 004's "Field mapping view".
    let mapping = json!({"expected_version": 0, "schema": {"schema_version": 1, "fields": [
        {"dest": "text", "source": {"type": "path", "value": "email"},
         "transforms": [{"type": "trim"}, {"type": "lower"}], "on_error": "fail_action"},
        {"dest": "environment", "source": {"type": "path", "value": "environment"},
         "transforms": [{"type": "default", "value": "production"}, {"type": "upper"}],
         "on_error": "warn_action"},
        {"dest": "reference", "source": {"type": "path", "value": "account_id"},
         "on_error": "skip_field"},
        {"dest": "timestamp", "source": {"type": "path", "value": "created_at"},
         "transforms": [{"type": "to_datetime"}], "on_error": "warn_action"}
    ]}});
    let written = api
        .machine(
            Method::PUT,
            &format!("/connections/{connection}/mappings/default"),
        )
        .json(&mapping)
        .send()
        .await
        .unwrap();
    expect_status(written, 200).await;
    api.post(
        "/rules",
        json!({"workspace": api.workspace_id, "connection": connection, "event": "user.created",
               "metadata": {"action": "send_message", "id": "C0123", "value": TEMPLATE}}),
    )
    .await;
    setup
}

/// Sends the event and waits until its one delivery is `status`; answers the delivery's
/// attempts.
async fn deliver(api: &Api, payload: Value, status: &str) -> Vec<Value> {
    let event = api
        .send_event(json!({"event": "user.created", "resource": "user", "payload": payload}))
        .await;
    let id = event["id"].as_str().expect("event id");
    let done = event_when(api, id, &format!("the delivery to be {status}"), |e| {
        e["rule_events"][0]["status"] == status
    })
    .await;
    let rule = done["rule_events"][0]["rule"].as_str().expect("rule");
    let attempts = api
        .get(&format!("/events/{id}/rules/{rule}/attempts"))
        .await;
    attempts["records"].as_array().expect("records").clone()
}

#[tokio::test]
async fn the_message_carries_the_mapped_fields() {
    let s = setup().await;
    let attempts = deliver(
        &s.api,
        json!({"email": " Luke@Rebellion.dev ", "environment": "staging",
               "account_id": "acc_rebellion", "created_at": 1774137600000_i64, "plan": "growth"}),
        "completed",
    )
    .await;
    let message = eventually("the Slack message", DEADLINE, || async {
        s.slack.requests().into_iter().next()
    })
    .await;
    assert_eq!(
        message.json(),
        json!({"channel": "C0123",
               "text": "[STAGING] luke@rebellion.dev (acc_rebellion) at 2026-03-22T00:00:00Z"})
    );
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["outcome"], "delivered");
    assert_eq!(attempts[0]["error"], Value::Null);
}

#[tokio::test]
async fn warn_and_skip_fields_are_left_out_and_warnings_recorded() {
    let s = setup().await;
    // No environment (defaulted), no account_id (skipped), a created_at that is no time (warned).
    let attempts = deliver(
        &s.api,
        json!({"email": "leia@rebellion.dev", "created_at": "next tuesday"}),
        "completed",
    )
    .await;
    let message = eventually("the Slack message", DEADLINE, || async {
        s.slack.requests().into_iter().next()
    })
    .await;
    assert_eq!(
        message.json()["text"],
        "[PRODUCTION] leia@rebellion.dev () at "
    );
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["outcome"], "delivered");
    assert_eq!(
        attempts[0]["error"],
        "delivered with warnings: fields[3] (timestamp): transforms[0] (to_datetime): the string \
         is not a time (epoch seconds or milliseconds, RFC 3339, or YYYY-MM-DD)"
    );
}

#[tokio::test]
async fn a_fail_action_field_fails_the_delivery_at_once_without_a_request() {
    let s = setup().await;
    let attempts = deliver(
        &s.api,
        json!({"environment": "dev", "created_at": 1774137600}),
        "failed",
    )
    .await;
    assert_eq!(
        attempts.len(),
        1,
        "mapping errors are not retried: {attempts:?}"
    );
    assert_eq!(attempts[0]["outcome"], "mapping_error");
    assert_eq!(attempts[0]["status_code"], Value::Null);
    assert_eq!(
        attempts[0]["error"],
        r#"field mapping failed: fields[0] (text): transforms[0] (trim): no value at "email""#
    );
    assert!(s.slack.requests().is_empty(), "no message may be sent");
}
