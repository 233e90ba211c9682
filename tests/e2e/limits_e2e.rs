//! Ingest rate limits: a workspace over its limit gets 429 with `Retry-After` and the
//! `RateLimit-*` headers, other workspaces are unaffected, and every event answered 201 is
//! delivered — a limit refuses loudly, it never drops silently.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use switchyard_tests::{Api, Receiver, Switchyard, delivered_at_least, expect_status};

#[tokio::test]
async fn over_the_limit_answers_429_and_everything_accepted_is_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let server = Switchyard::start_with(
        &dir.path().join("data"),
        &[
            "--allow-loopback-http",
            "--ingest-rate",
            "1",
            "--ingest-burst",
            "5",
        ],
    );
    let api = Api::from_credentials(&server.credentials());
    let receiver = Receiver::start().await;
    api.webhook_rule(&receiver.url("/hook"), "a.b").await;

    let mut accepted = BTreeSet::new();
    let mut limited = 0;
    for n in 0..12 {
        let response = api
            .request(Method::POST, "/events")
            .header("X-Meshes-Publishable-Key", &api.publishable_key)
            .json(&json!({"event": "a.b", "payload": {"n": n}}))
            .send()
            .await
            .unwrap();
        let headers = response.headers().clone();
        assert_eq!(headers["ratelimit-limit"], "5");
        assert!(headers.contains_key("ratelimit-remaining"));
        assert!(headers.contains_key("ratelimit-reset"));
        if response.status() == 429 {
            limited += 1;
            let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=2).contains(&retry_after), "retry after {retry_after}");
            let body = response.json::<serde_json::Value>().await.unwrap();
            assert_eq!(body["error"]["name"], "RateLimited");
        } else {
            let body = expect_status(response, 201).await;
            accepted.insert(body["event"]["id"].as_str().unwrap().to_owned());
        }
    }
    assert!(
        accepted.len() >= 5,
        "the burst is allowed: {}",
        accepted.len()
    );
    assert!(limited >= 1, "then the limit bites");

    // A bulk request larger than the burst can never fit: a client error, not a 429.
    let too_big: Vec<_> = (0..6)
        .map(|n| json!({"event": "a.b", "payload": {"n": n}}))
        .collect();
    let refused = api
        .request(Method::POST, "/events/bulk")
        .header("X-Meshes-Publishable-Key", &api.publishable_key)
        .json(&too_big)
        .send()
        .await
        .unwrap();
    expect_status(refused, 400).await;

    // Another workspace has its own bucket.
    let other = api.post("/workspaces", json!({"name": "other"})).await;
    let mut other_api = api.clone();
    other_api.publishable_key = other["workspace"]["publishable_key"]["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    other_api.send_event(json!({"event": "a.b"})).await;

    let delivered =
        delivered_at_least(&receiver, "/hook", &accepted, Duration::from_secs(30)).await;
    assert_eq!(delivered, accepted, "only accepted events were delivered");
    assert_eq!(
        api.get("/events?limit=200").await["count"].as_u64(),
        Some(accepted.len() as u64 + 1)
    );
}

/// Plan limits: a monthly event quota and counts of workspaces, connections and rules. Over a
/// limit the answer says so (429 `QuotaExceeded` with `Retry-After`, 403 `PlanLimitReached`),
/// `GET /usage` shows where the organization stands, and every event answered 201 is delivered.
#[tokio::test]
async fn plan_limits_refuse_loudly_and_usage_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = Switchyard::start_with(
        &dir.path().join("data"),
        &[
            "--allow-loopback-http",
            "--plan-events-per-month",
            "4",
            "--plan-workspaces",
            "2",
            "--plan-connections",
            "1",
            "--plan-rules",
            "1",
            "--retention-days",
            "7",
        ],
    );
    let api = Api::from_credentials(&server.credentials());
    let receiver = Receiver::start().await;
    api.webhook_rule(&receiver.url("/hook"), "a.b").await;

    // One connection and one rule are the plan's; the next of each is refused, nothing stored.
    let refused = api
        .machine(Method::POST, "/connections")
        .json(
            &json!({"workspace": api.workspace_id, "type": "webhook", "name": "second",
                      "metadata": {"url": receiver.url("/second")}}),
        )
        .send()
        .await
        .unwrap();
    let body = expect_status(refused, 403).await;
    assert_eq!(body["error"]["name"], "PlanLimitReached");
    assert_eq!(body["message"], "the plan allows 1 connections");
    let connection = api.get("/connections").await["records"][0]["id"].clone();
    let refused = api
        .machine(Method::POST, "/rules")
        .json(
            &json!({"workspace": api.workspace_id, "connection": connection, "event": "c.d",
                      "metadata": {"action": "send_webhook"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(refused, 403).await["error"]["name"],
        "PlanLimitReached"
    );
    // The default workspace is one of two.
    api.post("/workspaces", json!({"name": "second"})).await;
    let refused = api
        .machine(Method::POST, "/workspaces")
        .json(&json!({"name": "third"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(refused, 403).await["error"]["name"],
        "PlanLimitReached"
    );

    // Four events a month: three singles, then a bulk of two does not fit (each item says
    // why), one more single does, and the next is refused until the month turns.
    let mut accepted = BTreeSet::new();
    for n in 0..3 {
        let event = api
            .send_event(json!({"event": "a.b", "payload": {"n": n}}))
            .await;
        accepted.insert(event["id"].as_str().unwrap().to_owned());
    }
    let bulk = api
        .request(Method::POST, "/events/bulk")
        .header("X-Meshes-Publishable-Key", &api.publishable_key)
        .json(&json!([{"event": "a.b"}, {"event": "a.b"}]))
        .send()
        .await
        .unwrap();
    let bulk = expect_status(bulk, 207).await;
    assert_eq!(bulk["error_count"], 2);
    assert_eq!(bulk["records"][0]["status"], 429);
    assert_eq!(bulk["records"][0]["error"]["name"], "QuotaExceeded");
    let last = api
        .send_event(json!({"event": "a.b", "payload": {"n": 3}}))
        .await;
    accepted.insert(last["id"].as_str().unwrap().to_owned());
    let over = api
        .request(Method::POST, "/events")
        .header("X-Meshes-Publishable-Key", &api.publishable_key)
        .json(&json!({"event": "a.b"}))
        .send()
        .await
        .unwrap();
    let retry_after: i64 = over.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=31 * 86_400).contains(&retry_after),
        "until the month turns: {retry_after}"
    );
    let body = expect_status(over, 429).await;
    assert_eq!(body["error"]["name"], "QuotaExceeded");
    // A rule's test event is an event like any other: the spent quota refuses it too.
    let rule = api.get("/rules").await["records"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let test = api
        .machine(Method::POST, &format!("/rules/{rule}/test"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(test, 429).await["error"]["name"],
        "QuotaExceeded"
    );

    let usage = api.get("/usage").await;
    assert_eq!(
        usage["limits"],
        json!({"events_per_month": 4, "workspaces": 2, "connections": 1, "rules": 1,
               "retention_days": 7})
    );
    assert_eq!(
        usage["usage"],
        json!({"events": 4, "workspaces": 2, "connections": 1, "rules": 1})
    );
    assert!(usage["period"]["start"].as_str().unwrap() < usage["period"]["end"].as_str().unwrap());

    let delivered =
        delivered_at_least(&receiver, "/hook", &accepted, Duration::from_secs(30)).await;
    assert_eq!(delivered, accepted, "only accepted events were delivered");
}

/// Without limits, usage still counts what the organization has and sends.
#[tokio::test]
async fn usage_without_limits_counts_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    let server = Switchyard::start(&dir.path().join("data"));
    let api = Api::from_credentials(&server.credentials());
    api.send_event(json!({"event": "a.b"})).await;
    api.send_event(json!({"event": "a.b"})).await;
    let usage = api.get("/usage").await;
    assert_eq!(
        usage["limits"],
        json!({"events_per_month": null, "workspaces": null, "connections": null,
               "rules": null, "retention_days": 30})
    );
    assert_eq!(
        usage["usage"],
        json!({"events": 2, "workspaces": 1, "connections": 0, "rules": 0})
    );
}
