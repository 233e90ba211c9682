//! Webhook connection options, as a real receiver on 127.0.0.1 sees them: the exact method,
//! headers and body each setting produces.

use switchyard_tests::outbound as outbound_fixture;

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use outbound_fixture::{Attempt, integrations, loopback_allowed};
use reqwest::Method;
use serde_json::{Value, json};
use switchyard_core::outcome::Outcome;
use switchyard_core::signing::new_signing_secret;
use switchyard_tests::{Received, Receiver};
use time::OffsetDateTime;

fn epoch_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn header<'a>(received: &'a Received, name: &str) -> &'a str {
    received
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .expect("ASCII")
}

fn header_names(received: &Received) -> BTreeSet<String> {
    received
        .headers
        .keys()
        .map(|name| name.as_str().to_owned())
        .collect()
}

/// What every request carries besides the connection's own headers.
const BASE_HEADERS: [&str; 7] = [
    "accept",
    "content-length",
    "content-type",
    "host",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
];

fn expected_names(extra: &[&str]) -> BTreeSet<String> {
    BASE_HEADERS
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
}

#[tokio::test]
async fn defaults_post_the_envelope_with_no_auth() {
    let receiver = Receiver::start().await;
    let attempt = Attempt::webhook(json!({"url": receiver.url("/hook?tenant=acme")}));
    let sent_at = OffsetDateTime::now_utc();
    let result = attempt
        .deliver_at(&integrations(loopback_allowed()), 1, sent_at)
        .await;
    assert_eq!(result.outcome, Outcome::Delivered);
    // The attempt record describes the request without the query string.
    assert!(result.request.starts_with("POST http://127.0.0.1:"));
    assert!(result.request.ends_with("/hook"), "{}", result.request);

    let received = &receiver.requests()[0];
    assert_eq!(received.method, Method::POST);
    assert_eq!(received.path, "/hook");
    assert_eq!(header_names(received), expected_names(&[]));
    assert_eq!(header(received, "content-type"), "application/json");
    assert_eq!(
        header(received, "webhook-id"),
        attempt.delivery.id.to_string()
    );
    assert_eq!(
        header(received, "webhook-timestamp"),
        sent_at.unix_timestamp().to_string()
    );
    assert!(header(received, "user-agent").starts_with("Switchyard/"));
    let event = &attempt.event;
    assert_eq!(
        received.json(),
        json!({"uuid": event.id.to_string(), "event": "user.signup", "resource": "user",
               "resource_id": "usr_2048", "payload": event.payload,
               "time_created": epoch_ms(event.created_at), "time_sent": epoch_ms(sent_at)})
    );
}

#[tokio::test]
async fn basic_auth_and_custom_headers() {
    let receiver = Receiver::start().await;
    let secret = new_signing_secret();
    let attempt = Attempt::webhook(json!({"url": receiver.url("/hook"), "auth_scheme": "basic",
        "auth_username": "switchyard", "auth_password": "pa55:word é",
        "headers": {"X-Tenant": "acme", "X-Api-Version": "2024-06-01"},
        "signing_secret": secret}));
    attempt.deliver(&integrations(loopback_allowed())).await;

    let received = &receiver.requests()[0];
    assert_eq!(
        header_names(received),
        expected_names(&[
            "authorization",
            "webhook-signature",
            "x-api-version",
            "x-tenant"
        ])
    );
    let credentials = STANDARD.encode("switchyard:pa55:word é");
    assert_eq!(
        header(received, "authorization"),
        format!("Basic {credentials}")
    );
    assert_eq!(header(received, "x-tenant"), "acme");
    assert_eq!(header(received, "x-api-version"), "2024-06-01");
}

#[tokio::test]
async fn bearer_auth_with_put_and_the_raw_payload() {
    let receiver = Receiver::start().await;
    let attempt = Attempt::webhook(json!({"url": receiver.url("/raw"), "http_method": "PUT",
        "payload_mode": "raw", "auth_scheme": "bearer", "auth_token": "tok_live_123"}));
    attempt.deliver(&integrations(loopback_allowed())).await;

    let received = &receiver.requests()[0];
    assert_eq!(received.method, Method::PUT);
    assert_eq!(header(received, "authorization"), "Bearer tok_live_123");
    assert_eq!(
        received.body.as_ref(),
        serde_json::to_vec(&attempt.event.payload)
            .unwrap()
            .as_slice()
    );
}

#[tokio::test]
async fn custom_header_auth_with_patch() {
    let receiver = Receiver::start().await;
    let attempt = Attempt::webhook(
        json!({"url": receiver.url("/patch"), "http_method": "PATCH",
        "auth_scheme": "header", "auth_header_name": "X-Api-Key", "auth_header_value": "key-42"}),
    );
    attempt.deliver(&integrations(loopback_allowed())).await;

    let received = &receiver.requests()[0];
    assert_eq!(received.method, Method::PATCH);
    assert_eq!(header_names(received), expected_names(&["x-api-key"]));
    assert_eq!(header(received, "x-api-key"), "key-42");
    assert_eq!(received.json()["event"], "user.signup");
}

/// Settings that fail validation at delivery (e.g. written before a rule tightened) fail the
/// attempt as `internal_error`, naming the param and never the secret value.
#[tokio::test]
async fn invalid_stored_settings_fail_without_echoing_secrets() {
    let receiver = Receiver::start().await;
    let mut attempt = Attempt::webhook(json!({"url": receiver.url("/hook")}));
    attempt
        .secrets
        .insert("headers".into(), json!({"X-Key": "leak-me\r\nHost: evil"}));
    attempt
        .secrets
        .insert("auth_token".into(), Value::from("t"));
    let result = attempt.deliver(&integrations(loopback_allowed())).await;

    assert_eq!(result.outcome, Outcome::InternalError);
    let error = result.error.unwrap();
    assert!(error.contains("metadata.headers"), "{error}");
    assert!(error.contains("metadata.auth_token"), "{error}");
    assert!(!error.contains("leak-me"), "{error}");
    assert!(receiver.requests().is_empty());
}
