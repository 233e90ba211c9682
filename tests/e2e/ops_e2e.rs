//! Operators' extensions through the real process, on both backends: a bulk replay of a
//! connection's failed deliveries over a time range (exactly those, once, delivered after the
//! destination is fixed), and the DLQ routes (list and redrive one organization's messages,
//! never another's). Machine keys only: sessions get 403.

use reqwest::Method;
use serde_json::{Value, json};
use switchyard_tests::{
    Api, DEADLINE, Receiver, all_deliveries, assert_contract_error, event_when, eventually,
    expect_status, second_organization, start,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("RFC 3339")
}

/// Now, to the millisecond (what the server stores).
fn now_ms() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .expect("ms")
}

async fn send_failed(api: &Api, event: &str) -> String {
    let id = api
        .send_event(json!({"event": event, "payload": {"n": 1}}))
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    event_when(api, &id, "the delivery to fail", |e| {
        all_deliveries(e, "failed")
    })
    .await;
    id
}

async fn replay(api: &Api, connection: &str, body: Value) -> (u16, Value) {
    let response = api
        .machine(Method::POST, &format!("/connections/{connection}/replay"))
        .json(&body)
        .send()
        .await
        .expect("POST replay");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

async fn session_token(api: &Api) -> String {
    let response = api
        .machine(Method::POST, "/sessions")
        .json(&json!({"workspace_id": api.workspace_id, "role": "owner"}))
        .send()
        .await
        .expect("POST /sessions");
    expect_status(response, 200).await["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

fn attempts(event: &Value) -> u64 {
    event["rule_events"][0]["attempt_count"]
        .as_u64()
        .expect("attempt_count")
}

#[tokio::test]
async fn a_bulk_replay_requeues_exactly_the_failed_deliveries_in_its_range() {
    let (_dir, _server, api) = start();
    let receiver = Receiver::start().await;
    let (connection, _) = api
        .webhook_rule(&receiver.url("/orders"), "order.paid")
        .await;
    let (other_connection, _) = api
        .webhook_rule(&receiver.url("/refunds"), "order.refunded")
        .await;
    // The outage: a plain 4xx fails a delivery at once.
    receiver.respond_with(400);
    let from = now_ms();
    let e1 = send_failed(&api, "order.paid").await;
    let e2 = send_failed(&api, "order.paid").await;
    let elsewhere = send_failed(&api, "order.refunded").await;
    let to = now_ms();
    let later = send_failed(&api, "order.paid").await;
    receiver.respond_with(200);
    // What the outage sent (a circuit that opened may have spared the destination some).
    let before = receiver.requests_to("/orders").len();

    let range = json!({"from": rfc3339(from), "to": rfc3339(to)});
    let (status, counts) = replay(&api, &connection, range.clone()).await;
    assert_eq!(status, 200, "{counts}");
    assert_eq!(
        counts,
        json!({"requeued": 2, "skipped": 0, "next_cursor": null}),
        "the connection's two failures in range"
    );
    for id in [&e1, &e2] {
        let done = event_when(&api, id, "the replayed delivery", |e| {
            all_deliveries(e, "completed")
        })
        .await;
        assert_eq!(attempts(&done), 2, "the failed attempt, then the replay");
    }
    // Outside the range, and the other connection: still failed, not attempted again.
    for id in [&later, &elsewhere] {
        let event = api.get(&format!("/events/{id}")).await;
        assert!(all_deliveries(&event, "failed"), "{event}");
        assert_eq!(attempts(&event), 1);
    }
    let mut replayed: Vec<String> = receiver.requests_to("/orders")[before..]
        .iter()
        .map(|r| r.json()["uuid"].as_str().unwrap().to_owned())
        .collect();
    replayed.sort();
    let mut expected = vec![e1.clone(), e2.clone()];
    expected.sort();
    assert_eq!(replayed, expected, "the two replays, each once");

    // Again: nothing failed is left in the range, so nothing is sent twice.
    let (_, again) = replay(&api, &connection, range).await;
    assert_eq!(again["requeued"], 0, "{again}");
    assert_eq!(receiver.requests_to("/orders").len(), before + 2);

    // A range walked one delivery per call, with the cursor.
    let rest = json!({"from": rfc3339(to), "to": rfc3339(now_ms() + time::Duration::seconds(1)),
                      "limit": 1});
    let (_, first) = replay(&api, &connection, rest.clone()).await;
    assert_eq!(first["requeued"], 1, "{first}");
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a cursor while more may follow");
    let mut next = rest.clone();
    next["cursor"] = json!(cursor);
    let (_, second) = replay(&api, &connection, next).await;
    assert_eq!(
        second,
        json!({"requeued": 0, "skipped": 0, "next_cursor": null}),
        "the range is done"
    );
    event_when(&api, &later, "the last replay", |e| {
        all_deliveries(e, "completed")
    })
    .await;
    let other = api.get(&format!("/events/{elsewhere}")).await;
    assert!(all_deliveries(&other, "failed"), "{other}");
    let _ = other_connection;
}

#[tokio::test]
async fn a_bulk_replay_refuses_bad_ranges_sessions_and_other_tenants() {
    let (_dir, server, api) = start();
    let receiver = Receiver::start().await;
    let (connection, _) = api.webhook_rule(&receiver.url("/x"), "a.b").await;
    let t = now_ms();

    let (status, body) = replay(
        &api,
        &connection,
        json!({"from": rfc3339(t), "to": rfc3339(t)}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_contract_error(&body);
    assert_eq!(body["error"]["data"][0]["param"], "to");
    for bad in [
        json!({"from": "yesterday", "to": rfc3339(t)}),
        json!({"from": rfc3339(t), "to": rfc3339(t + time::Duration::hours(1)), "status": "completed"}),
        json!({"from": rfc3339(t), "to": rfc3339(t + time::Duration::hours(1)), "limit": 0}),
        json!({"from": rfc3339(t), "to": rfc3339(t + time::Duration::hours(1)), "cursor": "x"}),
    ] {
        let (status, body) = replay(&api, &connection, bad.clone()).await;
        assert_eq!(status, 400, "{bad} → {body}");
        assert_contract_error(&body);
    }
    let range = json!({"from": rfc3339(t), "to": rfc3339(t + time::Duration::hours(1))});
    let (status, _) = replay(&api, "0190f0f0-0000-7000-8000-000000000000", range.clone()).await;
    assert_eq!(status, 404);
    let other = second_organization(&server, &api);
    let (status, body) = replay(&other, &connection, range.clone()).await;
    assert_eq!(status, 404, "another organization's connection: {body}");

    let token = session_token(&api).await;
    let response = api
        .request(Method::POST, &format!("/connections/{connection}/replay"))
        .bearer_auth(&token)
        .json(&range)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(response, 403).await["error"]["name"],
        "Forbidden"
    );
    for (method, path) in [
        (Method::GET, "/dlq/deliveries"),
        (Method::POST, "/dlq/deliveries/redrive"),
    ] {
        let response = api
            .request(method, path)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403, "{path}");
    }
}

/// The organization's messages in the deliveries DLQ, as listed.
async fn dead_letters(api: &Api) -> Vec<Value> {
    api.get("/dlq/deliveries?limit=200").await["records"]
        .as_array()
        .expect("records")
        .clone()
}

#[tokio::test]
async fn the_dlq_routes_list_and_redrive_only_the_callers_messages() {
    let (_dir, server, api) = start();
    let other = second_organization(&server, &api);
    let receiver = Receiver::start().await;
    api.webhook_rule(&receiver.url("/ours"), "a.b").await;
    other.webhook_rule(&receiver.url("/theirs"), "a.b").await;
    receiver.respond_with(400);
    let ours = send_failed(&api, "a.b").await;
    let theirs = send_failed(&other, "a.b").await;

    // A delivery that failed through its schedule is sent to the DLQ on purpose.
    let listed = eventually("our failed delivery in the DLQ", DEADLINE, || async {
        let found = dead_letters(&api).await;
        (!found.is_empty()).then_some(found)
    })
    .await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let ours_detail = api.get(&format!("/events/{ours}")).await;
    assert_eq!(listed[0]["event_id"], ours.as_str());
    assert_eq!(
        listed[0]["delivery_id"],
        ours_detail["rule_events"][0]["id"]
    );
    assert_eq!(listed[0]["workspace"], api.workspace_id.as_str());
    assert_eq!(listed[0]["failed_delivery"], true);
    let theirs_listed = eventually("their failed delivery in the DLQ", DEADLINE, || async {
        let found = dead_letters(&other).await;
        (!found.is_empty()).then_some(found)
    })
    .await;
    assert_eq!(theirs_listed.len(), 1);
    assert_eq!(theirs_listed[0]["event_id"], theirs.as_str());
    // Listing leaves messages in place.
    assert_eq!(dead_letters(&api).await.len(), 1);

    receiver.respond_with(200);
    let response = api
        .machine(Method::POST, "/dlq/deliveries/redrive")
        .send()
        .await
        .unwrap();
    let moved = expect_status(response, 200).await;
    assert_eq!(moved, json!({"redriven": 1, "more": false}));
    let done = event_when(&api, &ours, "the redriven delivery", |e| {
        all_deliveries(e, "completed")
    })
    .await;
    assert_eq!(attempts(&done), 2);
    assert!(dead_letters(&api).await.is_empty());
    // Theirs stayed: still in the DLQ, still failed, not attempted again.
    assert_eq!(dead_letters(&other).await.len(), 1);
    let still = other.get(&format!("/events/{theirs}")).await;
    assert!(all_deliveries(&still, "failed"), "{still}");
    assert_eq!(receiver.requests_to("/theirs").len(), 1);

    let response = api.machine(Method::GET, "/dlq/nope").send().await.unwrap();
    assert_contract_error(&expect_status(response, 404).await);
    let response = api
        .machine(Method::GET, "/dlq/events?limit=0")
        .send()
        .await
        .unwrap();
    assert_contract_error(&expect_status(response, 400).await);
    let events_dlq = api.get("/dlq/events").await;
    assert_eq!(events_dlq["count"], 0, "{events_dlq}");
}
