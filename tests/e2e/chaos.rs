//! Crash safety under load: the real `switchyard serve` is killed with SIGKILL several times
//! while events are being accepted and delivered — single events and bulk requests, each
//! with an `Idempotency-Key`, and a client that retries what the dying process did not
//! answer, as a careful client would. Every event answered 201 must reach the receiver at
//! least once; every item sent must end as exactly one event, however often it was retried;
//! duplicate deliveries are counted and reported, and every copy of a delivery carries the
//! same `webhook-id`, so a receiver can drop them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use switchyard_tests::{Api, Receiver, Switchyard, eventually};

const ROUNDS: usize = 3;
const REQUESTS_PER_ROUND: usize = 60;
/// Every this many requests is a bulk request of [`BULK_ITEMS`] events.
const BULK_EVERY: usize = 4;
const BULK_ITEMS: usize = 5;
/// The group-commit test's bound on rounds sent before a group of eight writes aborts the
/// process under one of them (one to three, in practice).
const MAX_ROUNDS_TO_A_BIG_GROUP: usize = 20;

/// One client request: its key, its path and body, and the items (tags) it carries.
#[derive(Clone)]
struct Request {
    key: String,
    path: &'static str,
    body: Value,
}

fn request(round: usize, n: usize) -> Request {
    let item =
        |i: usize| json!({"event": "order.placed", "payload": {"tag": format!("{round}-{n}-{i}")}});
    let (path, body) = if n.is_multiple_of(BULK_EVERY) {
        ("/events/bulk", (0..BULK_ITEMS).map(item).collect())
    } else {
        ("/events", item(0))
    };
    Request {
        key: format!("chaos-{round}-{n}"),
        path,
        body,
    }
}

/// Sends the request; the event ids it was answered with, or `None` when the process died
/// under it (not accepted, so not owed — the client retries it).
async fn send(api: &Api, r: &Request) -> Option<Vec<String>> {
    let response = api
        .request(Method::POST, r.path)
        .header("X-Meshes-Publishable-Key", &api.publishable_key)
        .header("Idempotency-Key", &r.key)
        .json(&r.body)
        .send()
        .await
        .ok()?;
    if response.status() != 201 {
        return None;
    }
    let body: Value = response.json().await.ok()?;
    Some(match r.path {
        "/events" => vec![body["event"]["id"].as_str()?.to_owned()],
        _ => body["records"]
            .as_array()?
            .iter()
            .filter_map(|e| e["id"].as_str().map(str::to_owned))
            .collect(),
    })
}

#[tokio::test]
async fn kill_9_under_load_loses_no_accepted_event() {
    let _alone = switchyard_tests::alone().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let receiver = Receiver::start().await;
    // Slow answers keep deliveries in flight when the process dies.
    receiver.answer_after(20);

    let mut accepted = BTreeSet::new();
    let mut unanswered: Vec<Request> = Vec::new();
    let (mut cut_short, mut retried) = (0usize, 0usize);
    for round in 0..ROUNDS {
        let server = Switchyard::start(&data);
        let api = Api::from_credentials(&server.credentials());
        if round == 0 {
            api.webhook_rule(&receiver.url("/hook"), "order.placed")
                .await;
        }
        // The requests the last process died under are retried first, with their keys.
        let mut batch = std::mem::take(&mut unanswered);
        retried += batch.len();
        batch.extend((0..REQUESTS_PER_ROUND).map(|n| request(round, n)));
        let sends = batch.iter().map(|r| {
            let api = api.clone();
            async move { send(&api, r).await }
        });
        let sending = futures::future::join_all(sends);
        // Killed once some deliveries of this round have arrived, with requests in flight.
        let before = receiver.requests_to("/hook").len();
        let killer = async {
            eventually("deliveries in flight", Duration::from_secs(30), || async {
                (receiver.requests_to("/hook").len() > before + 5).then_some(())
            })
            .await;
            server.kill();
        };
        let (answers, ()) = tokio::join!(sending, killer);
        for (r, answer) in batch.into_iter().zip(answers) {
            match answer {
                Some(ids) => accepted.extend(ids),
                None => {
                    cut_short += 1;
                    unanswered.push(r);
                }
            }
        }
    }

    // The last retries, against a server left running.
    let _server = Switchyard::start(&data);
    let api = Api::from_credentials(&_server.credentials());
    retried += unanswered.len();
    for r in &unanswered {
        let ids = send(&api, r)
            .await
            .expect("a retry against a live server is answered");
        accepted.extend(ids);
    }
    let items = ROUNDS
        * (REQUESTS_PER_ROUND / BULK_EVERY * BULK_ITEMS
            + (REQUESTS_PER_ROUND - REQUESTS_PER_ROUND / BULK_EVERY));

    let copies = eventually(
        "every accepted event delivered",
        Duration::from_secs(150),
        || async {
            let mut copies: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for r in receiver.requests_to("/hook") {
                let uuid = r.json()["uuid"].as_str().unwrap().to_owned();
                let webhook_id = r.headers["webhook-id"].to_str().unwrap().to_owned();
                copies.entry(uuid).or_default().push(webhook_id);
            }
            accepted
                .iter()
                .all(|id| copies.contains_key(id))
                .then_some(copies)
        },
    )
    .await;
    let mut events_per_item: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in receiver.requests_to("/hook") {
        let body = r.json();
        events_per_item
            .entry(body["payload"]["tag"].as_str().unwrap().to_owned())
            .or_default()
            .insert(body["uuid"].as_str().unwrap().to_owned());
    }

    let duplicates: usize = copies.values().map(|c| c.len() - 1).sum();
    println!(
        "chaos: {items} items in {} requests, {cut_short} requests cut short by a kill and \
         {retried} retried with their key; {} events accepted, {} delivered, 0 lost, \
         {duplicates} duplicate deliveries (attempts in flight at a kill)",
        ROUNDS * REQUESTS_PER_ROUND,
        accepted.len(),
        copies.len(),
    );
    assert_eq!(accepted.len(), items, "every item accepted once retried");
    assert_eq!(events_per_item.len(), items, "every item delivered");
    for (tag, events) in &events_per_item {
        assert_eq!(events.len(), 1, "item {tag}: one event however often sent");
    }
    assert!(
        copies.keys().all(|id| accepted.contains(id)),
        "nothing delivered that was not accepted"
    );
    for (uuid, ids) in &copies {
        assert!(
            ids.windows(2).all(|w| w[0] == w[1]),
            "copies of {uuid} carry one webhook-id"
        );
    }
}

/// The embedded default commits many independent writes together (`Db::write`: ingests,
/// receives, attempts). Killed in the middle of such a group commit — its writes run, not yet
/// committed — the process has answered none of them, so nothing it answered is lost: every
/// event answered 201 (before or after the crash) is delivered, and a retry of what was cut
/// short, with its `Idempotency-Key`, ends as exactly one event.
#[tokio::test]
async fn kill_in_the_middle_of_a_group_commit_loses_nothing() {
    if matches!(
        switchyard_tests::E2eBackend::from_env(),
        switchyard_tests::E2eBackend::Aws(_)
    ) {
        // Group commit is the SQLite writer's; DynamoDB and SQS have no such batch.
        return;
    }
    let _alone = switchyard_tests::alone().await;
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

    // Rounds of concurrent requests until the writer groups eight or more writes — ingests,
    // or the deliveries they start — where the failpoint aborts the process before the
    // group's COMMIT. A loaded machine may answer a whole round before a group is that big,
    // so the load stays on until a round is cut short by the process dying.
    let mut dying = Switchyard::start_with_env(
        &data,
        &["--allow-loopback-http"],
        &[("SWITCHYARD_FAILPOINT", "db.group_commit")],
    );
    let api = Api::from_credentials(&dying.credentials());
    let mut batch: Vec<Request> = Vec::new();
    let mut answers = Vec::new();
    for round in 0..MAX_ROUNDS_TO_A_BIG_GROUP {
        let sent: Vec<Request> = (0..REQUESTS_PER_ROUND)
            .map(|n| request(10 + round, n))
            .collect();
        let answered = futures::future::join_all(sent.iter().map(|r| send(&api, r))).await;
        let cut_short = answered.iter().any(Option::is_none);
        answers.extend(answered);
        batch.extend(sent);
        if cut_short {
            break;
        }
    }
    eventually("the process to abort", Duration::from_secs(30), || {
        let exited = dying.has_exited();
        async move { exited.then_some(()) }
    })
    .await;
    let log = std::fs::read_to_string(data.with_extension("log")).unwrap();
    assert!(
        log.contains("failpoint db.group_commit: aborting"),
        "the process died in a group commit"
    );
    drop(dying);

    let mut accepted = BTreeSet::new();
    let mut unanswered = Vec::new();
    for (r, answer) in batch.iter().zip(answers) {
        match answer {
            Some(ids) => accepted.extend(ids),
            None => unanswered.push(r),
        }
    }
    assert!(!unanswered.is_empty(), "some requests were cut short");
    let cut_short = unanswered.len();

    let server = Switchyard::start(&data);
    let api = Api::from_credentials(&server.credentials());
    for r in unanswered {
        accepted.extend(send(&api, r).await.expect("a retry is answered"));
    }
    let rounds = batch.len() / REQUESTS_PER_ROUND;
    let items = rounds
        * (REQUESTS_PER_ROUND / BULK_EVERY * BULK_ITEMS
            + (REQUESTS_PER_ROUND - REQUESTS_PER_ROUND / BULK_EVERY));
    assert_eq!(accepted.len(), items, "every item accepted once retried");
    eventually(
        "every accepted event delivered",
        Duration::from_secs(60),
        || async {
            let delivered: BTreeSet<String> = receiver
                .requests_to("/hook")
                .iter()
                .map(|r| r.json()["uuid"].as_str().unwrap().to_owned())
                .collect();
            (delivered == accepted).then_some(())
        },
    )
    .await;
    println!(
        "group commit chaos: {items} items in {rounds} rounds, {cut_short} requests cut short \
         by the kill, all {} accepted events delivered",
        accepted.len()
    );
}
