//! Ingest rate limits: a workspace over its limit gets 429 with `Retry-After` and the
//! `RateLimit-*` headers, other workspaces are unaffected, and every event answered 201 is
//! delivered — a limit refuses loudly, it never drops silently.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use switchyard_tests::{Api, Receiver, Switchyard, eventually, expect_status};

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

    let delivered = eventually(
        "every accepted event delivered",
        Duration::from_secs(30),
        || async {
            let seen: BTreeSet<String> = receiver
                .requests_to("/hook")
                .iter()
                .map(|r| r.json()["uuid"].as_str().unwrap().to_owned())
                .collect();
            accepted.is_subset(&seen).then_some(seen)
        },
    )
    .await;
    assert_eq!(delivered, accepted, "only accepted events were delivered");
    assert_eq!(
        api.get("/events?limit=200").await["count"].as_u64(),
        Some(accepted.len() as u64 + 1)
    );
}
