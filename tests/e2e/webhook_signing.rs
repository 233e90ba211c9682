//! Webhook signatures, verified by an independent implementation: the reference
//! `standardwebhooks` package from PyPI (and Python's `hmac` for the Meshes-style header), run
//! on what a real receiver on 127.0.0.1 got.

use switchyard_tests::outbound as outbound_fixture;

use std::time::Duration;

use outbound_fixture::{Attempt, Check, integrations, loopback_allowed, verify};
use reqwest::Method;
use serde_json::json;
use switchyard_core::outcome::Outcome;
use switchyard_core::signing::{SigningSecret, new_signing_secret, rotate_signing_secret};
use switchyard_tests::{Api, Receiver, Switchyard, eventually};
use time::OffsetDateTime;

#[tokio::test]
async fn standard_signature_verifies_with_the_reference_package() {
    let receiver = Receiver::start().await;
    let secret = new_signing_secret();
    let attempt = Attempt::webhook(json!({"url": receiver.url("/hook"), "signing_secret": secret}));

    let result = attempt.deliver(&integrations(loopback_allowed())).await;
    assert_eq!(result.outcome, Outcome::Delivered, "{result:?}");

    let received = &receiver.requests()[0];
    verify(received, Check::Standard { secret: &secret }).expect("verifies");
    assert_eq!(
        received.headers["webhook-id"],
        attempt.delivery.id.to_string().as_str()
    );
    let other = new_signing_secret();
    let refused = verify(received, Check::Standard { secret: &other }).unwrap_err();
    assert!(refused.contains("No matching signature"), "{refused}");
}

#[tokio::test]
async fn every_retry_carries_the_same_webhook_id_and_its_own_timestamp() {
    let receiver = Receiver::start().await;
    let secret = new_signing_secret();
    let attempt = Attempt::webhook(json!({"url": receiver.url("/hook"), "signing_secret": secret}));
    let integrations = integrations(loopback_allowed());
    let first_at = OffsetDateTime::now_utc();
    attempt.deliver_at(&integrations, 1, first_at).await;
    attempt
        .deliver_at(&integrations, 2, first_at + Duration::from_secs(7))
        .await;

    let [first, second] = receiver.requests().try_into().expect("two requests");
    assert_eq!(first.headers["webhook-id"], second.headers["webhook-id"]);
    let timestamp = |r: &switchyard_tests::Received| -> i64 {
        r.headers["webhook-timestamp"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(timestamp(&second) - timestamp(&first), 7);
    for received in [&first, &second] {
        verify(received, Check::Standard { secret: &secret }).expect("each retry verifies");
    }
}

#[tokio::test]
async fn during_a_rotation_receivers_with_either_secret_verify() {
    let receiver = Receiver::start().await;
    let old = new_signing_secret();
    let mut attempt =
        Attempt::webhook(json!({"url": receiver.url("/hook"), "signing_secret": old}));
    let new = SigningSecret::generate();
    rotate_signing_secret(&mut attempt.secrets, &new, OffsetDateTime::now_utc());

    attempt.deliver(&integrations(loopback_allowed())).await;

    let received = &receiver.requests()[0];
    let signatures = received.headers["webhook-signature"].to_str().unwrap();
    assert_eq!(signatures.split(' ').count(), 2, "{signatures}");
    verify(
        received,
        Check::Standard {
            secret: new.expose(),
        },
    )
    .expect("new secret verifies");
    verify(received, Check::Standard { secret: &old }).expect("old secret verifies");
}

#[tokio::test]
async fn a_day_after_a_rotation_the_old_secret_no_longer_signs() {
    let receiver = Receiver::start().await;
    let old = new_signing_secret();
    let mut attempt =
        Attempt::webhook(json!({"url": receiver.url("/hook"), "signing_secret": old}));
    let new = SigningSecret::generate();
    let rotated_at = OffsetDateTime::now_utc() - time::Duration::hours(24);
    rotate_signing_secret(&mut attempt.secrets, &new, rotated_at);

    attempt.deliver(&integrations(loopback_allowed())).await;

    let received = &receiver.requests()[0];
    let signatures = received.headers["webhook-signature"].to_str().unwrap();
    assert_eq!(signatures.split(' ').count(), 1, "{signatures}");
    verify(
        received,
        Check::Standard {
            secret: new.expose(),
        },
    )
    .expect("new secret verifies");
    assert!(verify(received, Check::Standard { secret: &old }).is_err());
}

#[tokio::test]
async fn meshes_style_hmac_in_sha256_and_sha512() {
    let receiver = Receiver::start().await;
    let secret = new_signing_secret();
    let integrations = integrations(loopback_allowed());
    let sha256 = Attempt::webhook(
        json!({"url": receiver.url("/sha256"), "signing_secret": secret,
        "signature_algorithm": "sha256"}),
    );
    let sha512 = Attempt::webhook(
        json!({"url": receiver.url("/sha512"), "signing_secret": secret,
        "signature_algorithm": "sha512", "signature_header": "X-Signature-512"}),
    );
    sha256.deliver(&integrations).await;
    sha512.deliver(&integrations).await;

    let got256 = &receiver.requests_to("/sha256")[0];
    let got512 = &receiver.requests_to("/sha512")[0];
    assert_eq!(got256.headers["x-meshes-signature"].len(), 64);
    assert_eq!(got512.headers["x-signature-512"].len(), 128);
    assert!(!got512.headers.contains_key("x-meshes-signature"));
    let check = |algorithm, header| Check::Hmac {
        secret: &secret,
        algorithm,
        header,
    };
    verify(got256, check("sha256", "X-Meshes-Signature")).expect("sha256 verifies");
    verify(got512, check("sha512", "X-Signature-512")).expect("sha512 verifies");
    assert!(verify(got512, check("sha256", "X-Signature-512")).is_err());
    // Standard Webhooks signing stays on alongside.
    for received in [got256, got512] {
        verify(received, Check::Standard { secret: &secret }).expect("standard verifies too");
    }
}

#[tokio::test]
async fn a_plain_secret_from_meshes_keys_the_hmac_only() {
    let receiver = Receiver::start().await;
    let secret = "a-secret-our-receiver-already-uses";
    let attempt = Attempt::webhook(
        json!({"url": receiver.url("/hook"), "signing_secret": secret,
        "signature_algorithm": "sha256"}),
    );
    attempt.deliver(&integrations(loopback_allowed())).await;

    let received = &receiver.requests()[0];
    assert!(!received.headers.contains_key("webhook-signature"));
    assert!(received.headers.contains_key("webhook-id"));
    let check = Check::Hmac {
        secret,
        algorithm: "sha256",
        header: "X-Meshes-Signature",
    };
    verify(received, check).expect("verifies");
}

/// The whole path: the secret given on connection create is sealed, opened by the delivery
/// handler of the real `switchyard serve` process, and signs what the receiver gets.
#[tokio::test]
async fn the_running_server_signs_what_it_delivers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Switchyard::start(&dir.path().join("data"));
    let api = Api::from_credentials(&server.credentials());
    let receiver = Receiver::start().await;
    let secret = new_signing_secret();

    let created = api
        .post(
            "/connections",
            json!({"workspace": api.workspace_id, "type": "webhook", "name": "signed",
                   "metadata": {"url": receiver.url("/signed"), "signing_secret": secret}}),
        )
        .await;
    let connection = created["connection"]["id"].as_str().expect("id").to_owned();
    let shown = api.get(&format!("/connections/{connection}")).await;
    assert!(
        !shown.to_string().contains(&secret[6..]),
        "never shown again: {shown}"
    );
    api.post(
        "/rules",
        json!({"workspace": api.workspace_id, "connection": connection, "event": "user.signup",
               "metadata": {"action": "send_webhook"}}),
    )
    .await;
    let event = api
        .send_event(json!({"event": "user.signup", "payload": {"email": "ada@example.com"}}))
        .await;

    let received = eventually("the signed webhook", Duration::from_secs(30), || async {
        receiver.requests_to("/signed").into_iter().next()
    })
    .await;
    assert_eq!(received.method, Method::POST);
    verify(&received, Check::Standard { secret: &secret }).expect("verifies");
    let event = api
        .get(&format!("/events/{}", event["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        received.headers["webhook-id"],
        event["rule_events"][0]["id"].as_str().unwrap()
    );
}

/// Asking for the Meshes-style HMAC without bringing a secret: the generated secret (shown once)
/// keys both signatures.
#[tokio::test]
async fn a_generated_secret_keys_the_requested_hmac_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Switchyard::start(&dir.path().join("data"));
    let api = Api::from_credentials(&server.credentials());
    let receiver = Receiver::start().await;

    let created = api
        .post(
            "/connections",
            json!({"workspace": api.workspace_id, "type": "webhook", "name": "hmac",
                   "metadata": {"url": receiver.url("/hmac"), "signature_algorithm": "sha512"}}),
        )
        .await;
    let secret = created["connection"]["signing_secret"]
        .as_str()
        .expect("a generated secret, shown once")
        .to_owned();
    let connection = created["connection"]["id"].as_str().expect("id");
    api.post(
        "/rules",
        json!({"workspace": api.workspace_id, "connection": connection, "event": "user.signup",
               "metadata": {"action": "send_webhook"}}),
    )
    .await;
    api.send_event(json!({"event": "user.signup", "payload": {"email": "ada@example.com"}}))
        .await;

    let received = eventually("the signed webhook", Duration::from_secs(30), || async {
        receiver.requests_to("/hmac").into_iter().next()
    })
    .await;
    verify(&received, Check::Standard { secret: &secret }).expect("standard verifies");
    let check = Check::Hmac {
        secret: &secret,
        algorithm: "sha512",
        header: "X-Meshes-Signature",
    };
    verify(&received, check).expect("hmac verifies");
}
