//! End to end through the real `switchyard serve` process: a Slack connection pointed (by
//! `SWITCHYARD_SLACK_API_URL`) at a fake Slack on 127.0.0.1, a `send_message` rule, an event —
//! and the message arrives with the event's fields, the token never shown back.

use serde_json::{Value, json};
use switchyard_tests::{
    Api, DEADLINE, FakeProvider, Reply, Switchyard, all_deliveries, event_when, eventually,
};

#[tokio::test]
async fn an_event_becomes_a_slack_message() {
    let slack = FakeProvider::start().await;
    slack.script(
        "POST /api/chat.postMessage",
        Reply::json(
            200,
            json!({"ok": true, "channel": "C0123", "ts": "1503435956.000247"}),
        ),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let slack_url = format!("{}/api", slack.base_url());
    let server = Switchyard::start_with_env(
        &dir.path().join("data"),
        &["--allow-loopback-http"],
        &[("SWITCHYARD_SLACK_API_URL", &slack_url)],
    );
    let api = Api::from_credentials(&server.credentials());

    let connection = api
        .post(
            "/connections",
            json!({"workspace": api.workspace_id, "type": "slack", "name": "team chat",
                   "metadata": {"access_token": "xoxb-e2e-secret"}}),
        )
        .await;
    let shown = connection.to_string();
    assert!(!shown.contains("xoxb-e2e-secret"), "{shown}");
    let connection_id = connection["connection"]["id"].as_str().expect("id");
    api.post(
        "/rules",
        json!({"workspace": api.workspace_id, "connection": connection_id, "event": "user.signup",
               "metadata": {"action": "send_message", "id": "C0123",
                            "value": "{{email}} signed up for {{plan}}"}}),
    )
    .await;

    let event = api
        .send_event(json!({"event": "user.signup", "resource": "user",
                           "payload": {"email": "ada@example.com", "plan": "pro"}}))
        .await;
    let message = eventually("the Slack message", DEADLINE, || async {
        slack.requests().into_iter().next()
    })
    .await;
    assert_eq!(message.route(), "POST /api/chat.postMessage");
    assert_eq!(
        message.header("authorization"),
        Some("Bearer xoxb-e2e-secret")
    );
    assert_eq!(
        message.json(),
        json!({"channel": "C0123", "text": "ada@example.com signed up for pro"})
    );

    let id = event["id"].as_str().expect("event id");
    let done = event_when(&api, id, "the delivery to complete", |e| {
        all_deliveries(e, "completed")
    })
    .await;
    let rule_id = done["rule_events"][0]["rule"]
        .as_str()
        .or_else(|| done["rule_events"][0]["rule_id"].as_str())
        .map(str::to_owned);
    assert!(!done.to_string().contains("xoxb-e2e-secret"));
    let _: Option<Value> = rule_id.map(Value::from);
}
