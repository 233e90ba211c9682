//! Requests that answered outside the OpenAPI document when the property-based run
//! (`openapi_fuzz.rs`) and its follow-up probing found them, each kept fixed here: every answer
//! is a documented status with the contract's JSON error body.

use reqwest::Method;
use serde_json::{Value, json};
use switchyard_tests::{Receiver, assert_contract_error, expect_status, start};

/// The status, content type and JSON body of a response.
async fn answer(response: reqwest::Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

/// An access key that is not UTF-8 once percent-decoded used to get axum's plain-text 400.
#[tokio::test]
async fn a_malformed_access_key_is_not_found_in_the_contract_body() {
    let (_dir, _server, api) = start();
    let response = api
        .machine(Method::DELETE, "/machine-keys/%FF%FE")
        .send()
        .await
        .expect("DELETE");
    let (status, content_type, body) = answer(response).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(content_type, "application/json");
    assert_contract_error(&body);
}

/// Optional bodies are documented as nullable; `null` used to be a 400.
#[tokio::test]
async fn a_null_body_reads_as_an_absent_optional_body() {
    let (_dir, _server, api) = start();
    let receiver = Receiver::start().await;
    let (connection, _rule) = api.webhook_rule(&receiver.url("/hook"), "a.b").await;

    let response = api
        .machine(Method::DELETE, &format!("/connections/{connection}"))
        .header("content-type", "application/json")
        .body("null")
        .send()
        .await
        .expect("DELETE");
    let refused = expect_status(response, 409).await;
    assert_contract_error(&refused);

    let rotate = format!("/workspaces/{}/publishable-key/rotate", api.workspace_id);
    let response = api
        .machine(Method::POST, &rotate)
        .header("content-type", "application/json")
        .body("null")
        .send()
        .await
        .expect("POST");
    let rotated = expect_status(response, 200).await;
    assert!(
        rotated["publishable_key"]["public_key"].is_string(),
        "{rotated}"
    );

    let response = api
        .machine(Method::DELETE, &format!("/connections/{connection}"))
        .json(&json!({"force_delete": true}))
        .send()
        .await
        .expect("DELETE");
    expect_status(response, 200).await;
}

/// Outside `/api/v1` too, a wrong method answers the contract's 405, not an empty body.
#[tokio::test]
async fn a_wrong_method_on_healthz_answers_the_contract_error() {
    let (_dir, _server, api) = start();
    let response = reqwest::Client::new()
        .post(format!("{}/healthz", api.base))
        .send()
        .await
        .expect("POST /healthz");
    let (status, content_type, body) = answer(response).await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(content_type, "application/json");
    assert_contract_error(&body);
}
