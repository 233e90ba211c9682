//! Races through the real API, 50 concurrent callers each: a plan limit of N connections
//! creates exactly N, and 50 retries of one completed delivery make exactly one new attempt.
//! (One OAuth state used 50 times is in `oauth_e2e`.)

use futures::future::join_all;
use reqwest::Method;
use serde_json::json;
use switchyard_tests::{
    Api, E2eBackend, Receiver, Switchyard, all_deliveries, event_when, expect_status,
};

const CALLERS: usize = 50;

#[tokio::test]
async fn fifty_concurrent_creates_under_a_limit_of_three_create_exactly_three() {
    let _alone = switchyard_tests::alone().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Switchyard::start_with(
        &dir.path().join("data"),
        &["--allow-loopback-http", "--plan-connections", "3"],
    );
    let api = Api::from_credentials(&server.credentials());
    let receiver = Receiver::start().await;

    let create = |n: usize| {
        api.machine(Method::POST, "/connections")
            .json(&json!({"workspace": api.workspace_id, "type": "webhook",
                          "name": format!("hook {n}"), "metadata": {"url": receiver.url("/hook")}}))
            .send()
    };
    let answers = if matches!(E2eBackend::from_env(), E2eBackend::Aws(_)) {
        // moto runs requests on threads with no lock around a transaction, so only DynamoDB
        // itself (serializable transactions) makes concurrent creates exact: one at a time there.
        let mut answers = Vec::new();
        for n in 0..CALLERS {
            answers.push(create(n).await);
        }
        answers
    } else {
        join_all((0..CALLERS).map(create)).await
    };
    let mut created = 0;
    for answer in answers {
        let answer = answer.expect("an answer");
        match answer.status().as_u16() {
            201 => created += 1,
            403 => {
                let body = expect_status(answer, 403).await;
                assert_eq!(body["error"]["name"], "PlanLimitReached", "{body}");
            }
            other => panic!("unexpected {other}: {}", answer.text().await.unwrap()),
        }
    }
    assert_eq!(created, 3, "exactly the limit was created");
    assert_eq!(api.get("/connections").await["count"], 3);
    assert_eq!(api.get("/usage").await["usage"]["connections"], 3);
}

#[tokio::test]
async fn fifty_concurrent_retries_of_one_completed_delivery_make_one_attempt() {
    let _alone = switchyard_tests::alone().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Switchyard::start(&dir.path().join("data"));
    let api = Api::from_credentials(&server.credentials());
    let receiver = Receiver::start().await;
    let (_, rule) = api.webhook_rule(&receiver.url("/hook"), "a.b").await;
    let event = api.send_event(json!({"event": "a.b"})).await;
    let id = event["id"].as_str().unwrap().to_owned();
    event_when(&api, &id, "the first delivery", |e| {
        all_deliveries(e, "completed")
    })
    .await;

    let retry = format!("/events/{id}/rules/{rule}/retry");
    let answers = join_all((0..CALLERS).map(|_| api.machine(Method::POST, &retry).send())).await;
    let mut queued = 0;
    for answer in answers {
        let answer = answer.expect("an answer");
        match answer.status().as_u16() {
            200 => queued += 1,
            425 => {
                let body = expect_status(answer, 425).await;
                assert_eq!(body["error"]["name"], "TooEarly", "{body}");
            }
            other => panic!("unexpected {other}: {}", answer.text().await.unwrap()),
        }
    }
    assert_eq!(queued, 1, "one retry wins");
    let done = event_when(&api, &id, "the replay to complete", |e| {
        all_deliveries(e, "completed") && e["rule_events"][0]["attempt_count"] == 2
    })
    .await;
    assert_eq!(done["rule_events"][0]["attempt_count"], 2);
    let attempts = api
        .get(&format!("/events/{id}/rules/{rule}/attempts"))
        .await;
    assert_eq!(attempts["count"], 2, "one new attempt: {attempts}");
}
