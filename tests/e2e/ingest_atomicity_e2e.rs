//! Ingest never strands an event, on either backend: a process killed at any point of
//! ingest leaves a request whole or absent, and the client's retry with the same
//! `Idempotency-Key` completes it — delivered once, never duplicated. Failpoints
//! (`SWITCHYARD_FAILPOINT`) abort the real `switchyard serve` exactly between the steps.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use switchyard_tests::{Api, E2eBackend, Receiver, Switchyard, eventually, expect_status};

const DEADLINE: Duration = Duration::from_secs(60);

fn on_aws() -> bool {
    matches!(E2eBackend::from_env(), E2eBackend::Aws(_))
}

/// POST `path` with the publishable key and an `Idempotency-Key`.
async fn send(
    api: &Api,
    path: &str,
    key: &str,
    body: &Value,
) -> reqwest::Result<reqwest::Response> {
    api.request(Method::POST, path)
        .header("X-Meshes-Publishable-Key", &api.publishable_key)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
}

/// Event ids the receiver got at `/hook`, by the payload's `tag`.
fn delivered_by_tag(receiver: &Receiver) -> BTreeMap<String, BTreeSet<String>> {
    let mut by_tag: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in receiver.requests_to("/hook") {
        let body = r.json();
        by_tag
            .entry(
                body["payload"]["tag"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
            .or_default()
            .insert(body["uuid"].as_str().unwrap().to_owned());
    }
    by_tag
}

#[tokio::test]
async fn a_request_killed_at_each_ingest_step_is_completed_by_its_retry() {
    // Embedded: one transaction (killed inside it, or after it). AWS: the messages are sent
    // first (killed before the events are stored, or after).
    let points: &[&str] = if on_aws() {
        &["ingest.enqueued", "ingest.stored"]
    } else {
        &["ingest.commit", "ingest.stored"]
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let receiver = Receiver::start().await;
    {
        let server = Switchyard::start(&data);
        let api = Api::from_credentials(&server.credentials());
        api.webhook_rule(&receiver.url("/hook"), "order.placed")
            .await;
        assert!(server.stop());
    }
    for point in points {
        let body = json!({"event": "order.placed", "payload": {"tag": point}});
        let key = format!("key-{point}");
        let dying = Switchyard::start_with_env(
            &data,
            &["--allow-loopback-http"],
            &[("SWITCHYARD_FAILPOINT", point)],
        );
        let api = Api::from_credentials(&dying.credentials());
        let cut = send(&api, "/events", &key, &body).await;
        assert!(cut.is_err(), "{point}: the process died before answering");
        drop(dying);

        let server = Switchyard::start(&data);
        let api = Api::from_credentials(&server.credentials());
        let retry = send(&api, "/events", &key, &body).await.unwrap();
        let replayed = retry.headers().get("idempotent-replayed").is_some();
        let id = expect_status(retry, 201).await["event"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // Killed inside the transaction, nothing was kept: the retry is a fresh request.
        assert_eq!(replayed, *point != "ingest.commit", "{point}: replayed");
        eventually(&format!("{point}: delivered"), DEADLINE, || async {
            delivered_by_tag(&receiver)
                .contains_key(*point)
                .then_some(())
        })
        .await;
        let again = send(&api, "/events", &key, &body).await.unwrap();
        assert!(again.headers().get("idempotent-replayed").is_some());
        assert_eq!(expect_status(again, 201).await["event"]["id"], id.as_str());
        let delivered = &delivered_by_tag(&receiver)[*point];
        assert_eq!(
            delivered,
            &BTreeSet::from([id.clone()]),
            "{point}: one event, delivered"
        );
        assert!(server.stop());
    }
}

#[tokio::test]
async fn kill_9_during_bulk_keeps_each_request_whole_and_retries_duplicate_nothing() {
    let _alone = switchyard_tests::alone().await;
    // Moto answers each call in milliseconds of Python: fewer events there.
    let (requests, items) = if on_aws() { (4, 25) } else { (10, 100) };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let receiver = Receiver::start().await;
    let batch = |n: usize| -> Value {
        (0..items)
            .map(|i| {
                json!({"event": "order.placed", "resource": format!("batch{n}"),
                       "payload": {"tag": format!("{n}-{i}")}})
            })
            .collect()
    };

    let server = Switchyard::start(&data);
    let api = Api::from_credentials(&server.credentials());
    api.webhook_rule(&receiver.url("/hook"), "order.placed")
        .await;
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let sends = (0..requests).map(|n| {
        let (api, finished) = (api.clone(), &finished);
        let body = batch(n);
        async move {
            let r = send(&api, "/events/bulk", &format!("bulk-{n}"), &body).await;
            finished.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            r
        }
    });
    let sending = futures::future::join_all(sends);
    // Killed with most requests still in flight.
    let killer = async {
        eventually("a first bulk request answered", DEADLINE, || async {
            (finished.load(std::sync::atomic::Ordering::SeqCst) >= 1).then_some(())
        })
        .await;
        server.kill();
    };
    let (responses, ()) = tokio::join!(sending, killer);
    let answered = responses.iter().filter(|r| r.is_ok()).count();

    let server = Switchyard::start(&data);
    let api = Api::from_credentials(&server.credentials());
    let mut whole = 0;
    if !on_aws() {
        // One transaction per request: all of its events or none.
        for n in 0..requests {
            let stored = api
                .get(&format!(
                    "/events?workspace={}&resource=batch{n}&limit=100",
                    api.workspace_id
                ))
                .await;
            let count = stored["records"].as_array().unwrap().len();
            assert!(
                count == 0 || count == items,
                "bulk {n}: {count} of {items} events stored"
            );
            whole += usize::from(count == items);
        }
    }
    // Every client retries with its key: each request ends whole, under the same ids.
    let mut ids = BTreeSet::new();
    for n in 0..requests {
        let response = send(&api, "/events/bulk", &format!("bulk-{n}"), &batch(n))
            .await
            .unwrap();
        let body = expect_status(response, 201).await;
        let records = body["records"].as_array().unwrap();
        assert_eq!(records.len(), items);
        ids.extend(records.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
    }
    assert_eq!(ids.len(), requests * items);
    let by_tag = eventually(
        "every event delivered",
        Duration::from_secs(120),
        || async {
            let by_tag = delivered_by_tag(&receiver);
            (by_tag.len() == requests * items).then_some(by_tag)
        },
    )
    .await;
    for (tag, delivered) in &by_tag {
        assert_eq!(
            delivered.len(),
            1,
            "item {tag}: one event, however often sent"
        );
        assert!(
            ids.contains(delivered.first().unwrap()),
            "item {tag}: an answered id"
        );
    }
    println!(
        "bulk chaos: {answered} of {requests} requests answered before the kill, {whole} found whole \
         after it (embedded; the rest absent), {} events delivered once each after the retries",
        by_tag.len()
    );
}

#[tokio::test]
async fn fifty_concurrent_requests_sharing_a_key_all_get_the_first_event() {
    let _alone = switchyard_tests::alone().await;
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    let server = Switchyard::start(&dir.path().join("data"));
    let api = Api::from_credentials(&server.credentials());
    api.webhook_rule(&receiver.url("/hook"), "order.placed")
        .await;

    for (path, body) in [
        (
            "/events",
            json!({"event": "order.placed", "payload": {"tag": "single"}}),
        ),
        (
            "/events/bulk",
            json!([{"event": "order.placed", "payload": {"tag": "bulk-0"}},
                   {"event": "order.placed", "payload": {"tag": "bulk-1"}}]),
        ),
    ] {
        let key = format!("shared{path}");
        let calls = (0..50).map(|_| send(&api, path, &key, &body));
        let responses = futures::future::join_all(calls).await;
        let mut answers = BTreeSet::new();
        let mut fresh = 0;
        for response in responses {
            let response = response.unwrap();
            if response.headers().get("idempotent-replayed").is_none() {
                fresh += 1;
            }
            let body = expect_status(response, 201).await;
            let ids: Vec<String> = match path {
                "/events" => vec![body["event"]["id"].as_str().unwrap().to_owned()],
                _ => body["records"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["id"].as_str().unwrap().to_owned())
                    .collect(),
            };
            answers.insert(ids);
        }
        assert_eq!(fresh, 1, "{path}: exactly one request stored the events");
        assert_eq!(answers.len(), 1, "{path}: every caller got the same events");
    }
    let by_tag = eventually("all delivered", DEADLINE, || async {
        let by_tag = delivered_by_tag(&receiver);
        (by_tag.len() == 3).then_some(by_tag)
    })
    .await;
    assert!(by_tag.values().all(|ids| ids.len() == 1), "{by_tag:?}");
}
