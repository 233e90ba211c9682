//! The seeds' Slack-per-environment scenario, as written: three workspaces (dev, staging,
//! production), one Slack connection named `ops-alerts` in each pointing at its own channel,
//! the same rule and the same field mapping in each — and an event sent with one workspace's
//! publishable key reaches only that workspace's channel, with that workspace's token.

use reqwest::Method;
use serde_json::{Value, json};
use switchyard_tests::{
    Api, DEADLINE, Reply, WithFakeSlack, all_deliveries, event_when, eventually, expect_status,
    serve_with_fake_slack,
};

const ENVIRONMENTS: [(&str, &str); 3] = [
    ("dev", "C_DEV_NOISE"),
    ("staging", "C_STAGING_NOISE"),
    ("production", "C_OPS_ALERTS"),
];

/// The message every environment's rule sends: seed 004's "Field mapping view" puts the
/// environment up front, the email in the body, the account as a reference and the timestamp.
const TEMPLATE: &str =
    "[{{environment}}] {{text}} signed up (account {{reference}}, {{timestamp}})";

struct Environment {
    name: &'static str,
    channel: &'static str,
    /// An API client sending with this workspace's publishable key.
    api: Api,
}

/// Creates the workspace (or uses `default` for dev), its `ops-alerts` Slack connection with a
/// token of its own, the seed's mapping and the `user.created` rule.
async fn environment(admin: &Api, name: &'static str, channel: &'static str) -> Environment {
    let mut api = admin.clone();
    if name != "dev" {
        let ws = admin.post("/workspaces", json!({"name": name})).await["workspace"].clone();
        api.workspace_id = ws["id"].as_str().expect("id").to_owned();
        api.publishable_key = ws["publishable_key"]["public_key"]
            .as_str()
            .expect("key")
            .to_owned();
    }
    let connection = api
        .post(
            "/connections",
            json!({"workspace": api.workspace_id, "type": "slack", "name": "ops-alerts",
                   "metadata": {"access_token": format!("xoxb-{name}-token")}}),
        )
        .await;
    let connection = connection["connection"]["id"].as_str().expect("id");
    let mapping = json!({"expected_version": 0, "schema": {"schema_version": 1, "fields": [
        {"dest": "text", "source": {"type": "path", "value": "email"}},
        {"dest": "environment", "source": {"type": "path", "value": "environment"},
         "transforms": [{"type": "default", "value": "production"}, {"type": "upper"}]},
        {"dest": "reference", "source": {"type": "path", "value": "account_id"}},
        {"dest": "timestamp", "source": {"type": "path", "value": "created_at"},
         "transforms": [{"type": "to_datetime"}]}
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
               "metadata": {"action": "send_message", "id": channel, "value": TEMPLATE}}),
    )
    .await;
    Environment { name, channel, api }
}

/// Seed 004's event, the same in every environment but for its `environment` field.
fn user_created(environment: &str) -> Value {
    json!({"event": "user.created", "resource": "user", "resource_id": "usr_homer",
           "payload": {"user_id": "usr_homer", "email": "homer@springfield-npp.dev",
                       "account_id": "acc_springfield", "environment": environment,
                       "created_at": "2026-04-17T12:00:00Z"}})
}

#[tokio::test]
async fn each_environments_key_reaches_only_its_own_channel() {
    let WithFakeSlack {
        slack,
        api: admin,
        _server,
        _dir,
    } = serve_with_fake_slack(Reply::json(
        200,
        json!({"ok": true, "channel": "C", "ts": "1503435956.000247"}),
    ))
    .await;
    let mut environments = Vec::new();
    for (name, channel) in ENVIRONMENTS {
        environments.push(environment(&admin, name, channel).await);
    }

    for env in &environments {
        let before = slack.requests().len();
        let event = env.api.send_event(user_created(env.name)).await;
        let id = event["id"].as_str().expect("id");
        let done = event_when(&env.api, id, "the delivery", |e| {
            all_deliveries(e, "completed")
        })
        .await;
        assert_eq!(
            done["rule_events"].as_array().map(Vec::len),
            Some(1),
            "one workspace's rule only: {done}"
        );
        assert_eq!(done["workspace"], env.api.workspace_id.as_str());

        let sent = eventually("the Slack message", DEADLINE, || async {
            let sent = slack.requests();
            (sent.len() > before).then_some(sent)
        })
        .await;
        assert_eq!(sent.len(), before + 1, "{}: exactly one message", env.name);
        let message = &sent[before];
        let token = format!("Bearer xoxb-{}-token", env.name);
        assert_eq!(message.header("authorization"), Some(token.as_str()));
        let body = message.json();
        assert_eq!(body["channel"], env.channel);
        assert_eq!(
            body["text"],
            format!(
                "[{}] homer@springfield-npp.dev signed up (account acc_springfield, \
                 2026-04-17T12:00:00Z)",
                env.name.to_uppercase()
            )
        );
    }
}
