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

/// The four connectors of the clients' full type list, all pointed at one fake provider.
fn serve_with_fake_providers(fake: &FakeProvider) -> (Switchyard, Api, tempfile::TempDir) {
    let base = fake.base_url();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Switchyard::start_with_env(
        &dir.path().join("data"),
        &["--allow-loopback-http"],
        &[
            ("SWITCHYARD_DISCORD_API_URL", &format!("{base}/discord/api")),
            (
                "SWITCHYARD_PIPEDRIVE_API_URL",
                &format!("{base}/pipedrive/{{company}}/api/v1"),
            ),
            ("SWITCHYARD_SENDGRID_API_URL", &format!("{base}/sendgrid")),
            (
                "SWITCHYARD_CUSTOMER_IO_API_URL",
                &format!("{base}/customer_io/us/api/v1"),
            ),
        ],
    );
    let api = Api::from_credentials(&server.credentials());
    (server, api, dir)
}

/// One event fans out to a Discord channel and a Pipedrive deal. The Discord webhook URL is
/// write-only like a key (never shown, its token masked in the history), and the rule editor
/// lists Pipedrive's stages live.
#[tokio::test]
async fn an_event_becomes_a_discord_message_and_a_pipedrive_deal() {
    let fake = FakeProvider::start().await;
    let (_server, api, _dir) = serve_with_fake_providers(&fake);
    let hook_path = "/discord/api/webhooks/112233445566/e2e-TOKEN";
    fake.script(
        &format!("GET {hook_path}"),
        Reply::json(
            200,
            json!({"type": 1, "id": "112233445566", "name": "Alerts",
                   "channel_id": "1170000000000000000", "token": "e2e-TOKEN"}),
        ),
    );
    fake.script(
        &format!("POST {hook_path}"),
        Reply::json(
            200,
            json!({"id": "1180000000000000000", "type": 0, "webhook_id": "112233445566"}),
        ),
    );
    fake.script(
        "GET /pipedrive/acme/api/v1/users/me",
        Reply::json(200, json!({"success": true, "data": {"id": 1}})),
    );
    fake.script(
        "GET /pipedrive/acme/api/v1/persons/search",
        Reply::json(
            200,
            json!({"success": true, "data": {"items": [{"item": {"id": 7, "name": "Ada"}}]}}),
        ),
    );
    fake.script(
        "PUT /pipedrive/acme/api/v1/persons/7",
        Reply::json(200, json!({"success": true, "data": {"id": 7}})),
    );
    fake.script(
        "POST /pipedrive/acme/api/v1/deals",
        Reply::json(201, json!({"success": true, "data": {"id": 55}})),
    );

    let discord = api
        .post(
            "/connections",
            json!({"workspace": api.workspace_id, "type": "discord", "name": "alerts",
                   "metadata": {"webhook_url":
                       "https://discord.com/api/webhooks/112233445566/e2e-TOKEN"}}),
        )
        .await;
    assert!(!discord.to_string().contains("e2e-TOKEN"), "{discord}");
    let discord_id = discord["connection"]["id"].as_str().expect("id").to_owned();
    let shown = api.get(&format!("/connections/{discord_id}")).await;
    assert!(!shown.to_string().contains("e2e-TOKEN"), "{shown}");
    let pipedrive = api
        .post(
            "/connections",
            json!({"workspace": api.workspace_id, "type": "pipedrive", "name": "crm",
                   "metadata": {"company_domain": "acme", "api_token": "pd-e2e-secret"}}),
        )
        .await;
    assert!(!pipedrive.to_string().contains("pd-e2e-secret"));
    let pipedrive_id = pipedrive["connection"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let discord_rule = api
        .post(
            "/rules",
            json!({"workspace": api.workspace_id, "connection": discord_id, "event": "user.signup",
                   "metadata": {"action": "send_message", "value": "{{email}} chose {{plan}} @everyone"}}),
        )
        .await;
    let discord_rule = discord_rule["rule"]["id"]
        .as_str()
        .expect("rule")
        .to_owned();
    api.post(
        "/rules",
        json!({"workspace": api.workspace_id, "connection": pipedrive_id, "event": "user.signup",
               "metadata": {"action": "create_deal", "id": "3", "value": "{{plan}}: {{email}}"}}),
    )
    .await;

    let event = api
        .send_event(json!({"event": "user.signup", "resource": "user",
                           "payload": {"email": "ada@example.com", "plan": "pro",
                                       "first_name": "Ada", "last_name": "Lovelace"}}))
        .await;
    let id = event["id"].as_str().expect("event id");
    event_when(&api, id, "both deliveries to complete", |e| {
        all_deliveries(e, "completed")
    })
    .await;

    let sent = fake.requests();
    let message = sent
        .iter()
        .find(|r| r.route() == format!("POST {hook_path}"))
        .expect("the Discord message");
    assert_eq!(
        message.json(),
        json!({"content": "ada@example.com chose pro @everyone", "allowed_mentions": {"parse": []}})
    );
    let deal = sent
        .iter()
        .find(|r| r.route() == "POST /pipedrive/acme/api/v1/deals")
        .expect("the deal");
    assert_eq!(deal.header("x-api-token"), Some("pd-e2e-secret"));
    assert_eq!(
        deal.json(),
        json!({"title": "pro: ada@example.com", "person_id": 7, "stage_id": 3})
    );

    let attempts = api
        .get(&format!("/events/{id}/rules/{discord_rule}/attempts"))
        .await;
    let request = attempts["records"][0]["request"].as_str().expect("request");
    assert!(
        request.ends_with("/discord/api/webhooks/112233445566/***"),
        "{request}"
    );
    assert!(!attempts.to_string().contains("e2e-TOKEN"), "{attempts}");

    // The catalog describes the new types' forms as the clients read them.
    let catalog = api.get("/integrations").await;
    let spec = |kind: &str| {
        catalog["records"]
            .as_array()
            .expect("records")
            .iter()
            .find(|r| r["type"] == kind)
            .unwrap_or_else(|| panic!("{kind} in the catalog"))
            .clone()
    };
    let form = |kind: &str| -> Vec<(String, String)> {
        spec(kind)["authentication"]["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| {
                (
                    f["key"].as_str().unwrap().into(),
                    f["type"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let pair = |k: &str, t: &str| (k.to_owned(), t.to_owned());
    assert_eq!(
        form("pipedrive"),
        [
            pair("company_domain", "text"),
            pair("api_token", "password")
        ]
    );
    assert_eq!(
        form("discord"),
        [pair("webhook_url", "password"), pair("username", "text")]
    );
    assert_eq!(
        form("customer_io"),
        [
            pair("site_id", "text"),
            pair("api_key", "password"),
            pair("region", "select"),
            pair("app_api_key", "password"),
        ]
    );
    assert_eq!(spec("customer_io")["authentication"]["type"], "basic");
    assert_eq!(
        spec("sendgrid")["actions"]["send_template_email"]["key"],
        "send_template_email"
    );
    assert!(spec("pipedrive")["actions"]["create_deal"].is_object());
    assert!(spec("discord")["actions"]["send_message"].is_object());
    assert!(spec("customer_io")["actions"]["track_event"].is_object());

    fake.script(
        "GET /pipedrive/acme/api/v1/stages",
        Reply::json(
            200,
            json!({"success": true, "data": [{"id": 3, "name": "Proposal", "pipeline_id": 1}]}),
        ),
    );
    // The rule editor's pick list: the deal's stage input offers the account's stages.
    let actions = api
        .get(&format!("/connections/{pipedrive_id}/actions?refresh=true"))
        .await;
    assert_eq!(actions["type"], "pipedrive");
    let stage = actions["actions"]["create_deal"]["data"]
        .as_array()
        .expect("inputs")
        .iter()
        .find(|i| i["field"] == "id")
        .expect("the stage input")
        .clone();
    assert_eq!(
        stage["options"],
        json!([{"label": "Proposal", "value": "3"}])
    );
    assert!(actions.get("options_error").is_none(), "{actions}");

    // The mapping's field catalog: what the connector sends, typed (a deal's amount a number).
    let fields = api
        .get(&format!("/connections/{pipedrive_id}/fields"))
        .await;
    assert_eq!(fields["integration_type"], "pipedrive");
    let typed: Vec<(String, String)> = fields["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| {
            (
                f["key"].as_str().unwrap().into(),
                f["type"].as_str().unwrap().into(),
            )
        })
        .collect();
    for (key, kind) in [
        ("email", "string"),
        ("phone", "string"),
        ("amount", "number"),
    ] {
        assert!(
            typed.contains(&(key.to_owned(), kind.to_owned())),
            "{key}: {fields}"
        );
    }
}

/// SendGrid and Customer.io keys are tried on create (a refused one is a 422 that never shows
/// it); SendGrid's 429 is retried after its `X-RateLimit-Reset` and the contact reaches the
/// list; Customer.io identifies the person with HTTP Basic `site_id:api_key`.
#[tokio::test]
async fn sendgrid_and_customer_io_keys_are_checked_and_rate_limits_retried() {
    let fake = FakeProvider::start().await;
    let (_server, api, _dir) = serve_with_fake_providers(&fake);
    fake.script(
        "GET /sendgrid/v3/scopes",
        Reply::json(
            401,
            json!({"errors": [{"field": null, "message": "authorization required"}]}),
        ),
    );
    let response = api
        .machine(Method::POST, "/connections")
        .json(
            &json!({"workspace": api.workspace_id, "type": "sendgrid", "name": "mail",
                      "metadata": {"api_key": "SG.refused-secret"}}),
        )
        .send()
        .await
        .expect("POST");
    let body = expect_status(response, 422).await;
    assert_contract_error(&body);
    assert_eq!(body["error"]["data"][0]["param"], "metadata.api_key");
    assert!(!body.to_string().contains("refused-secret"), "{body}");

    fake.script(
        "GET /sendgrid/v3/scopes",
        Reply::json(200, json!({"scopes": ["marketing.contacts.write"]})),
    );
    fake.script(
        "GET /customer_io/us/api/v1/accounts/region",
        Reply::json(
            200,
            json!({"url": "https://track.customer.io", "data_center": "us", "environment_id": 1}),
        ),
    );
    let reset = (time::OffsetDateTime::now_utc().unix_timestamp() + 1).to_string();
    fake.script(
        "PUT /sendgrid/v3/marketing/contacts",
        Reply::json(
            429,
            json!({"errors": [{"field": null, "message": "too many requests"}]}),
        )
        .header("X-RateLimit-Remaining", "0")
        .header("X-RateLimit-Reset", &reset),
    );
    fake.script(
        "PUT /customer_io/us/api/v1/customers/ada@example.com",
        Reply::json(200, json!({})),
    );
    let mut rules = Vec::new();
    for (kind, metadata, rule) in [
        (
            "sendgrid",
            json!({"api_key": "SG.good-secret"}),
            json!({"action": "add_to_list", "id": "ca7a3796"}),
        ),
        (
            "customer_io",
            json!({"site_id": "site-9", "api_key": "cio-good-secret"}),
            json!({"action": "identify"}),
        ),
    ] {
        let created = api
            .post(
                "/connections",
                json!({"workspace": api.workspace_id, "type": kind, "name": kind,
                       "metadata": metadata}),
            )
            .await;
        assert!(!created.to_string().contains("good-secret"), "{created}");
        let connection = created["connection"]["id"].as_str().expect("id");
        let rule = api
            .post(
                "/rules",
                json!({"workspace": api.workspace_id, "connection": connection,
                       "event": "user.signup", "metadata": rule}),
            )
            .await;
        rules.push(rule["rule"]["id"].as_str().expect("rule").to_owned());
    }
    let event = api
        .send_event(json!({"event": "user.signup", "resource": "user",
                           "payload": {"email": "ada@example.com", "plan": "pro"}}))
        .await;
    let id = event["id"].as_str().expect("event id");
    eventually("the rate-limited SendGrid attempt", DEADLINE, || async {
        fake.requests()
            .iter()
            .any(|r| r.route() == "PUT /sendgrid/v3/marketing/contacts")
            .then_some(())
    })
    .await;
    fake.script(
        "PUT /sendgrid/v3/marketing/contacts",
        Reply::json(
            202,
            json!({"job_id": "2387e363-4104-4225-8960-4a5758492351"}),
        ),
    );
    event_when(&api, id, "both deliveries to complete", |e| {
        all_deliveries(e, "completed")
    })
    .await;
    let attempts = api
        .get(&format!("/events/{id}/rules/{}/attempts", rules[0]))
        .await;
    assert_eq!(
        attempts["records"][0]["outcome"], "rate_limited",
        "{attempts}"
    );
    assert!(!attempts.to_string().contains("good-secret"));

    let identify = fake
        .requests()
        .into_iter()
        .find(|r| r.route() == "PUT /customer_io/us/api/v1/customers/ada@example.com")
        .expect("identified");
    use base64::Engine;
    let pair = base64::engine::general_purpose::STANDARD.encode("site-9:cio-good-secret");
    assert_eq!(
        identify.header("authorization"),
        Some(format!("Basic {pair}").as_str())
    );
    assert_eq!(
        identify.json(),
        json!({"email": "ada@example.com", "plan": "pro"})
    );
}
