//! One trace per event, end to end on the real process (both backends): the `traceparent` an
//! application sends is honoured, the event's trace id shows in the API and in the log lines,
//! the webhook receives the trace with the destination call's span as its parent, and the spans
//! the server exports over OTLP (to a collector on 127.0.0.1) form one tree: ingest → route →
//! deliver → destination call.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};
use switchyard_tests::{Api, DEADLINE, Receiver, Switchyard, eventually, expect_status};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// A server exporting its spans to `collector` every 100 ms.
fn start_traced(collector: &Receiver) -> (tempfile::TempDir, Switchyard, Api) {
    let dir = tempfile::tempdir().expect("tempdir");
    let endpoint = collector.url("");
    let server = Switchyard::start_with_env(
        &dir.path().join("data"),
        &["--allow-loopback-http"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let api = Api::from_credentials(&server.credentials());
    (dir, server, api)
}

/// Every span the collector received, by span id.
fn spans(collector: &Receiver) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    for request in collector.requests_to("/v1/traces") {
        assert_eq!(request.method, Method::POST);
        assert_eq!(request.headers["content-type"], "application/json");
        let body = request.json();
        for resource in body["resourceSpans"].as_array().expect("resourceSpans") {
            for scope in resource["scopeSpans"].as_array().expect("scopeSpans") {
                for span in scope["spans"].as_array().expect("spans") {
                    all.insert(span["spanId"].as_str().unwrap().to_owned(), span.clone());
                }
            }
        }
    }
    all
}

/// The spans of `trace` named `name`.
fn named<'a>(spans: &'a BTreeMap<String, Value>, trace: &str, name: &str) -> Vec<&'a Value> {
    spans
        .values()
        .filter(|s| s["traceId"] == trace && s["name"] == name)
        .collect()
}

/// `traceparent` → (trace id, parent span id), checking its shape.
fn traceparent(value: &str) -> (String, String) {
    let parts: Vec<&str> = value.split('-').collect();
    assert_eq!(parts.len(), 4, "{value}");
    assert_eq!(parts[0], "00", "{value}");
    assert_eq!((parts[1].len(), parts[2].len()), (32, 16), "{value}");
    (parts[1].to_owned(), parts[2].to_owned())
}

#[tokio::test]
async fn one_trace_id_from_the_callers_traceparent_to_the_webhook_and_the_collector() {
    let collector = Receiver::start().await;
    let receiver = Receiver::start().await;
    let (_dir, server, api) = start_traced(&collector);
    api.webhook_rule(&receiver.url("/hook"), "user.signup")
        .await;

    let response = api
        .request(Method::POST, "/events")
        .header("X-Meshes-Publishable-Key", &api.publishable_key)
        .header("traceparent", format!("00-{TRACE}-{CALLER_SPAN}-01"))
        .json(&json!({"event": "user.signup", "payload": {"plan": "pro"}}))
        .send()
        .await
        .expect("POST /events");
    let event = expect_status(response, 201).await["event"].clone();
    let event_id = event["id"].as_str().unwrap();

    // The destination sees the event's trace, its parent the destination call's span.
    let delivered = eventually("the webhook to arrive", DEADLINE, || async {
        receiver.requests_to("/hook").into_iter().next()
    })
    .await;
    let header = delivered.headers["traceparent"].to_str().unwrap();
    let (trace, call_span) = traceparent(header);
    assert_eq!(trace, TRACE);
    assert_ne!(call_span, CALLER_SPAN);

    // The API shows the trace id.
    let detail = api.get(&format!("/events/{event_id}")).await;
    assert_eq!(detail["trace_id"], TRACE, "{detail}");

    // The collector has the whole path in one trace, each span the child of the one before.
    let spans = eventually(
        "ingest, route, deliver, destination_call spans",
        DEADLINE,
        || {
            let spans = spans(&collector);
            let whole = ["ingest", "route", "deliver", "destination_call"]
                .iter()
                .all(|name| !named(&spans, TRACE, name).is_empty());
            async move { whole.then_some(spans) }
        },
    )
    .await;
    let one = |name| {
        let found = named(&spans, TRACE, name);
        assert_eq!(found.len(), 1, "one {name} span: {found:?}");
        found[0].clone()
    };
    let (ingest, route, deliver, call) = (
        one("ingest"),
        one("route"),
        one("deliver"),
        one("destination_call"),
    );
    assert_eq!(ingest["parentSpanId"], CALLER_SPAN);
    assert_eq!(route["parentSpanId"], ingest["spanId"]);
    assert_eq!(deliver["parentSpanId"], route["spanId"]);
    assert_eq!(call["parentSpanId"], deliver["spanId"]);
    assert_eq!(call["spanId"], call_span.as_str());
    assert_eq!(call["kind"], 3, "the destination call is a client span");
    for span in [&ingest, &route, &deliver, &call] {
        let start: u128 = span["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
        let end: u128 = span["endTimeUnixNano"].as_str().unwrap().parse().unwrap();
        assert!(start > 0 && start <= end, "{span}");
    }
    let attribute = |span: &Value, key: &str| {
        span["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .map(|a| a["value"]["stringValue"].clone())
    };
    assert_eq!(attribute(&deliver, "event_id"), Some(json!(event_id)));

    // Every log line of the event's routing and delivery names its trace.
    let log = std::fs::read_to_string(server.data_dir.with_extension("log")).expect("log");
    for message in ["event routed", "attempt recorded"] {
        let line = log
            .lines()
            .find(|l| l.contains(message) && l.contains(event_id))
            .unwrap_or_else(|| panic!("a log line {message:?} for the event:\n{log}"));
        assert!(line.contains(&format!("trace_id={TRACE}")), "{line}");
    }
}

#[tokio::test]
async fn each_bulk_item_is_its_own_trace_linked_to_the_request() {
    let collector = Receiver::start().await;
    let receiver = Receiver::start().await;
    let (_dir, _server, api) = start_traced(&collector);
    api.webhook_rule(&receiver.url("/hook"), "user.signup")
        .await;

    let response = api
        .request(Method::POST, "/events/bulk")
        .header("X-Meshes-Publishable-Key", &api.publishable_key)
        .header("traceparent", format!("00-{TRACE}-{CALLER_SPAN}-01"))
        .json(&json!([
            {"event": "user.signup", "payload": {"n": 1}},
            {"event": "user.signup", "payload": {"n": 2}},
        ]))
        .send()
        .await
        .expect("POST /events/bulk");
    let body = expect_status(response, 201).await;
    let ids: Vec<String> = body["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "{body}");

    let mut traces = Vec::new();
    for id in &ids {
        let trace = api.get(&format!("/events/{id}")).await["trace_id"]
            .as_str()
            .expect("trace_id")
            .to_owned();
        assert_ne!(trace, TRACE, "a bulk item starts its own trace");
        traces.push(trace);
    }
    assert_ne!(traces[0], traces[1], "one trace per event");

    // Each item's webhook carries its own trace.
    let delivered = eventually("both webhooks", DEADLINE, || async {
        let got = receiver.requests_to("/hook");
        (got.len() == 2).then_some(got)
    })
    .await;
    for received in &delivered {
        let (trace, _) = traceparent(received.headers["traceparent"].to_str().unwrap());
        let position = ids
            .iter()
            .position(|id| received.json()["uuid"] == id.as_str())
            .expect("one of the events");
        assert_eq!(trace, traces[position]);
    }

    // The request's span is in the caller's trace; each item's first span links to it.
    let spans = eventually("the request span and both items' spans", DEADLINE, || {
        let spans = spans(&collector);
        let whole = !named(&spans, TRACE, "ingest").is_empty()
            && traces.iter().all(|t| {
                !named(&spans, t, "ingest_event").is_empty()
                    && !named(&spans, t, "destination_call").is_empty()
            });
        async move { whole.then_some(spans) }
    })
    .await;
    let request = named(&spans, TRACE, "ingest")[0].clone();
    assert_eq!(request["parentSpanId"], CALLER_SPAN);
    for trace in &traces {
        let item = named(&spans, trace, "ingest_event")[0];
        assert_eq!(item["links"][0]["traceId"], TRACE);
        assert_eq!(item["links"][0]["spanId"], request["spanId"]);
        let route = named(&spans, trace, "route")[0];
        assert_eq!(route["parentSpanId"], item["spanId"]);
    }
}

#[tokio::test]
async fn an_invalid_traceparent_starts_a_new_trace() {
    let collector = Receiver::start().await;
    let (_dir, _server, api) = start_traced(&collector);
    let zero = "00000000000000000000000000000000";
    let response = api
        .request(Method::POST, "/events")
        .header("X-Meshes-Publishable-Key", &api.publishable_key)
        .header("traceparent", format!("00-{zero}-{CALLER_SPAN}-01"))
        .json(&json!({"event": "user.signup"}))
        .send()
        .await
        .expect("POST /events");
    let event = expect_status(response, 201).await["event"].clone();
    let detail = api
        .get(&format!("/events/{}", event["id"].as_str().unwrap()))
        .await;
    let trace = detail["trace_id"].as_str().expect("a trace id");
    assert_eq!(trace.len(), 32);
    assert!(trace.bytes().all(|b| b.is_ascii_hexdigit()) && trace != zero);
    let spans = eventually("the new trace's ingest span", DEADLINE, || {
        let spans = spans(&collector);
        let found = !named(&spans, trace, "ingest").is_empty();
        async move { found.then_some(spans) }
    })
    .await;
    assert!(
        named(&spans, trace, "ingest")[0]
            .get("parentSpanId")
            .is_none()
    );
}
