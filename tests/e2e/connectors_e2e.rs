//! End to end through the real `switchyard serve` process, with the providers' API URLs
//! (`SWITCHYARD_<PROVIDER>_API_URL`) pointed at fake providers on 127.0.0.1: an event becomes a
//! Slack message with the event's fields (the token never shown back), a Slack rate limit is
//! retried after its `Retry-After`, and a Mailchimp key the provider refuses is a 422.

use reqwest::Method;
use serde_json::json;
use switchyard_tests::{
    Api, DEADLINE, FakeProvider, Reply, Switchyard, WithFakeSlack, all_deliveries,
    assert_contract_error, event_when, eventually, expect_status, serve_with_fake_slack,
};

#[tokio::test]
async fn an_event_becomes_a_slack_message() {
    let WithFakeSlack {
        slack,
        api,
        _server,
        _dir,
    } = serve_with_fake_slack(Reply::json(
        200,
        json!({"ok": true, "channel": "C0123", "ts": "1503435956.000247"}),
    ))
    .await;

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
    assert!(!done.to_string().contains("xoxb-e2e-secret"));

    // The rule editor's pick list: the workspace's channels, live from Slack.
    slack.script(
        "GET /api/conversations.list",
        Reply::json(
            200,
            json!({"ok": true, "channels": [{"id": "C0123", "name": "general"}],
                                "response_metadata": {"next_cursor": ""}}),
        ),
    );
    let actions = api
        .get(&format!(
            "/connections/{connection_id}/actions?refresh=true"
        ))
        .await;
    assert_eq!(actions["type"], "slack");
    assert_eq!(actions["connection_id"], connection_id);
    let channel = &actions["actions"]["send_message"]["data"][0];
    assert_eq!(channel["field"], "id");
    assert_eq!(
        channel["options"],
        json!([{"label": "general", "value": "C0123"}])
    );
    assert!(actions.get("options_error").is_none(), "{actions}");
    let listed = slack
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/conversations.list")
        .expect("listed live");
    assert_eq!(
        listed.header("authorization"),
        Some("Bearer xoxb-e2e-secret")
    );
}

/// Slack's 429 goes through the same retry machinery as a webhook's: the attempt is recorded as
/// `rate_limited` and the delivery completes on a later attempt.
#[tokio::test]
async fn a_slack_rate_limit_is_retried() {
    let route = "POST /api/chat.postMessage";
    let WithFakeSlack {
        slack,
        api,
        _server,
        _dir,
    } = serve_with_fake_slack(
        Reply::json(429, json!({"ok": false, "error": "ratelimited"})).header("Retry-After", "1"),
    )
    .await;
    let connection = api
        .post(
            "/connections",
            json!({"workspace": api.workspace_id, "type": "slack", "name": "team chat",
                   "metadata": {"access_token": "xoxb-e2e-secret"}}),
        )
        .await;
    let connection_id = connection["connection"]["id"].as_str().expect("id");
    let rule = api
        .post(
            "/rules",
            json!({"workspace": api.workspace_id, "connection": connection_id, "event": "user.signup",
                   "metadata": {"action": "send_message", "id": "C0123", "value": "hi {{email}}"}}),
        )
        .await;
    let rule_id = rule["rule"]["id"].as_str().expect("rule id").to_owned();
    let event = api
        .send_event(json!({"event": "user.signup", "resource": "user",
                           "payload": {"email": "ada@example.com"}}))
        .await;
    eventually("the rate-limited attempt", DEADLINE, || async {
        (!slack.requests().is_empty()).then_some(())
    })
    .await;
    slack.script(
        route,
        Reply::json(
            200,
            json!({"ok": true, "channel": "C0123", "ts": "1503435956.000247"}),
        ),
    );
    let id = event["id"].as_str().expect("event id");
    event_when(
        &api,
        id,
        "the delivery to complete after the rate limit",
        |e| all_deliveries(e, "completed"),
    )
    .await;
    let attempts = api
        .get(&format!("/events/{id}/rules/{rule_id}/attempts"))
        .await;
    let text = attempts.to_string();
    assert!(text.contains("rate_limited"), "{text}");
    assert!(!text.contains("xoxb-e2e-secret"), "{text}");
    assert!(slack.requests().len() >= 2);
}

/// A Mailchimp key the provider refuses is a 422 on `metadata.api_key`, without the key.
#[tokio::test]
async fn a_refused_mailchimp_key_is_a_422() {
    let mailchimp = FakeProvider::start().await;
    mailchimp.script(
        "GET /us6/3.0/ping",
        Reply::json(
            401,
            json!({"title": "API Key Invalid", "status": 401,
                   "detail": "Your API key may be invalid, or you've attempted to access the wrong datacenter."}),
        ),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("{}/{{dc}}/3.0", mailchimp.base_url());
    let server = Switchyard::start_with_env(
        &dir.path().join("data"),
        &["--allow-loopback-http"],
        &[("SWITCHYARD_MAILCHIMP_API_URL", &url)],
    );
    let api = Api::from_credentials(&server.credentials());
    let response = api
        .machine(Method::POST, "/connections")
        .json(
            &json!({"workspace": api.workspace_id, "type": "mailchimp", "name": "news",
                      "metadata": {"api_key": "f00dbabe-us6"}}),
        )
        .send()
        .await
        .expect("POST");
    let body = expect_status(response, 422).await;
    assert_contract_error(&body);
    assert_eq!(
        body["error"]["data"][0]["param"], "metadata.api_key",
        "{body}"
    );
    assert!(!body.to_string().contains("f00dbabe"), "{body}");

    mailchimp.script(
        "GET /us6/3.0/ping",
        Reply::json(200, json!({"health_status": "Everything's Chimpy!"})),
    );
    let created = api
        .post(
            "/connections",
            json!({"workspace": api.workspace_id, "type": "mailchimp", "name": "news",
                   "metadata": {"api_key": "f00dbabe-us6"}}),
        )
        .await;
    assert!(!created.to_string().contains("f00dbabe"), "{created}");
    let basic = mailchimp.requests()[1]
        .header("authorization")
        .map(str::to_owned);
    assert!(basic.is_some_and(|b| b.starts_with("Basic ")));
}
