//! Building blocks the end-to-end suites share: a started server with its API client, and
//! assertions on what the API answers.

use std::time::Duration;

use serde_json::Value;

use crate::{Api, Switchyard, eventually};

/// How long an end-to-end step may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A fresh data directory, the server started on it, and a client with its credentials.
pub fn start() -> (tempfile::TempDir, Switchyard, Api) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Switchyard::start(&dir.path().join("data"));
    let api = Api::from_credentials(&server.credentials());
    (dir, server, api)
}

/// Polls `GET /events/{id}` until `done` holds for it.
pub async fn event_when(api: &Api, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    eventually(what, DEADLINE, || async {
        let event = api.get(&format!("/events/{id}")).await;
        done(&event).then_some(event)
    })
    .await
}

/// Every delivery of the event has `status` (and there is at least one).
pub fn all_deliveries(event: &Value, status: &str) -> bool {
    let rule_events = event["rule_events"].as_array().expect("rule_events");
    !rule_events.is_empty() && rule_events.iter().all(|r| r["status"] == status)
}

/// The contract's error body: `{"message", "error": {"name", "message", ...}}`.
pub fn assert_contract_error(body: &Value) {
    assert!(body["message"].is_string(), "{body}");
    assert!(body["error"]["name"].is_string(), "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
}

/// Waits until the receiver has had every event of `accepted` (ids) at `path`, and answers the
/// ids of all it had there — so a caller can also assert nothing else arrived.
pub async fn delivered_at_least(
    receiver: &crate::Receiver,
    path: &str,
    accepted: &std::collections::BTreeSet<String>,
    deadline: Duration,
) -> std::collections::BTreeSet<String> {
    eventually("every accepted event delivered", deadline, || async {
        let seen: std::collections::BTreeSet<String> = receiver
            .requests_to(path)
            .iter()
            .map(|r| r.json()["uuid"].as_str().unwrap().to_owned())
            .collect();
        accepted.is_subset(&seen).then_some(seen)
    })
    .await
}

/// A fake Slack on 127.0.0.1 answering `chat.postMessage` with `reply`, and a fresh
/// `switchyard serve` (loopback allowed) whose Slack API URL points at it, with its client.
pub struct WithFakeSlack {
    pub slack: crate::FakeProvider,
    pub api: Api,
    pub _server: Switchyard,
    pub _dir: tempfile::TempDir,
}

pub async fn serve_with_fake_slack(reply: crate::Reply) -> WithFakeSlack {
    let slack = crate::FakeProvider::start().await;
    slack.script("POST /api/chat.postMessage", reply);
    let dir = tempfile::tempdir().expect("tempdir");
    let slack_url = format!("{}/api", slack.base_url());
    let server = Switchyard::start_with_env(
        &dir.path().join("data"),
        &["--allow-loopback-http"],
        &[("SWITCHYARD_SLACK_API_URL", &slack_url)],
    );
    let api = Api::from_credentials(&server.credentials());
    WithFakeSlack {
        slack,
        api,
        _server: server,
        _dir: dir,
    }
}

/// The same server's API as a second organization, made by the operator's `switchyard orgs
/// create` (the process inherits the backend's environment).
pub fn second_organization(server: &Switchyard, first: &Api) -> Api {
    let output = std::process::Command::new(crate::binary())
        .args(["orgs", "create", "globex", "--data-dir"])
        .arg(&server.data_dir)
        .output()
        .expect("switchyard orgs create");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut creds: Value = serde_json::from_slice(&output.stdout).expect("credentials JSON");
    creds["api_url"] = serde_json::json!(first.base);
    let api = Api::from_credentials(&creds);
    assert_ne!(api.org_id, first.org_id);
    api
}
