//! What a delivered event costs on AWS, counted from a real run on moto: every SQS and DynamoDB
//! request the pipeline makes (an SDK interceptor counts them) and the read/write units those
//! DynamoDB calls would be billed (the store meters the items it reads and writes). Events go
//! in over HTTP to the real API, through the router and delivery handlers as the event source
//! mapping calls them, to a real receiver — at fan-out 1 and 3, on a busy system (full batches
//! of ten) and a quiet one (one event at a time). docs/aws.md quotes these figures; the
//! assertions keep them from growing unnoticed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use switchyard_aws::{
    AwsBackend, CapacityUse, RequestCounter, build_deps, default_queue_attributes,
};
use switchyard_core::ports::{QueueConsumer, QueueName};
use switchyard_core::webhook::UrlPolicy;
use switchyard_handlers::{delivery, event_source, router, tenancy};
use switchyard_tests::{Api, Receiver, eventually, require_moto};

struct Measured {
    requests: BTreeMap<String, u64>,
    units: CapacityUse,
    events: u64,
}

impl Measured {
    fn per_event(&self, prefix: &str) -> f64 {
        self.requests
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| *v as f64)
            .sum::<f64>()
            / self.events as f64
    }

    fn report(&self, label: &str) {
        eprintln!("cost[{label}] events={}", self.events);
        for (op, n) in &self.requests {
            eprintln!(
                "cost[{label}]   {op:<40} {:>6.2} per event",
                *n as f64 / self.events as f64
            );
        }
        eprintln!(
            "cost[{label}] SQS requests {:.2}/event; DynamoDB requests {:.2}/event, {:.2} WRU, {:.2} RRU per event",
            self.per_event("AmazonSQS."),
            self.per_event("DynamoDB_"),
            self.units.write_units / self.events as f64,
            self.units.read_units / self.events as f64,
        );
    }
}

/// Sends `events` events of a type `fan_out` rules match, in rounds of `per_round`, each round
/// routed and delivered before the next; counts what it took.
async fn measure(fan_out: usize, events: usize, per_round: usize) -> Option<Measured> {
    let moto = require_moto!(None);
    let counter = RequestCounter::new();
    let clients = moto.clients(Some(counter.clone())).await;
    let resources = moto.resources(&clients, default_queue_attributes).await;
    let policy = UrlPolicy {
        allow_loopback_http: true,
    };
    let AwsBackend { deps, store, queue } = build_deps(&clients, &resources, policy)
        .await
        .expect("deps");
    let (org, key) = tenancy::create_organization(&deps, "costs")
        .await
        .expect("org");
    let (ws, publishable_key) = tenancy::create_workspace(&deps, org.id, "default", None)
        .await
        .expect("ws");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = switchyard_handlers::api::router(deps.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let api = Api::from_credentials(&json!({
        "api_url": base, "org_id": org.id.to_string(), "access_key": key.access_key,
        "secret_key": key.secret_key, "workspace_id": ws.id.to_string(),
        "publishable_key": publishable_key,
    }));
    let receiver = Receiver::start().await;
    for i in 0..fan_out {
        api.webhook_rule(&receiver.url(&format!("/hook{i}")), "order.paid")
            .await;
    }
    // Warm: the workspace's catalog entries exist (ingest adds them once per key), as on any
    // system that has seen this event type before.
    api.send_event(json!({"event": "order.paid", "resource": "order", "payload": {"warm": true}}))
        .await;
    let consumer: Arc<dyn QueueConsumer> = queue;
    drain(&deps, consumer.as_ref(), fan_out).await;
    receiver_wait(&receiver, fan_out).await;

    let requests_before = counter.snapshot();
    let units_before = store.meter().total();
    for round in 0..events.div_ceil(per_round) {
        let n = per_round.min(events - round * per_round);
        for i in 0..n {
            api.send_event(json!({"event": "order.paid", "resource": "order",
                "resource_id": format!("ord_{round}_{i}"), "payload": {"amount": 4200, "currency": "EUR"}}))
                .await;
        }
        drain(&deps, consumer.as_ref(), n * fan_out).await;
    }
    receiver_wait(&receiver, fan_out * (events + 1)).await;
    let after = store.meter().total();
    Some(Measured {
        requests: counter.since(&requests_before),
        units: CapacityUse {
            read_units: after.read_units - units_before.read_units,
            write_units: after.write_units - units_before.write_units,
        },
        events: events as u64,
    })
}

/// Plays the two event source mappings until the round's events are routed and its
/// deliveries attempted: batches of up to ten, as Lambda hands them over.
async fn drain(deps: &switchyard_handlers::Deps, consumer: &dyn QueueConsumer, deliveries: usize) {
    let route = |m| router::route(deps, m);
    let deliver = |m| delivery::deliver(deps, m);
    let mut delivered = 0;
    let mut idle = 0;
    while delivered < deliveries {
        let routed =
            event_source::pump_once(consumer, QueueName::Events, 10, Duration::ZERO, &route)
                .await
                .expect("router round");
        let got = event_source::pump_once(
            consumer,
            QueueName::Deliveries,
            10,
            Duration::ZERO,
            &deliver,
        )
        .await
        .expect("delivery round");
        delivered += got;
        idle = if routed + got == 0 { idle + 1 } else { 0 };
        assert!(
            idle < 200,
            "the pipeline stalled with {delivered}/{deliveries} delivered"
        );
    }
}

async fn receiver_wait(receiver: &Receiver, n: usize) {
    eventually("every webhook", Duration::from_secs(30), || async {
        (receiver.requests().len() >= n).then_some(())
    })
    .await;
}

#[tokio::test]
async fn fan_out_1_3_and_10_on_a_busy_and_a_quiet_system() {
    for (fan_out, events, per_round, label) in [
        (1, 30, 10, "fan-out 1, batches of 10"),
        (3, 30, 10, "fan-out 3, batches of 10"),
        (10, 10, 10, "fan-out 10, batches of 10"),
        (1, 5, 1, "fan-out 1, one at a time"),
        (3, 5, 1, "fan-out 3, one at a time"),
    ] {
        let Some(m) = measure(fan_out, events, per_round).await else {
            return;
        };
        m.report(label);
        // The design's write budget: an event item, a routing claim (carrying the routed mark),
        // and per delivery its insert and the attempt's record — all under 1 KiB.
        let wru = m.units.write_units / m.events as f64;
        assert!(
            wru <= (2 * fan_out + 2) as f64 + 0.01,
            "{label}: {wru} WRU per event"
        );
        assert_eq!(
            m.per_event("DynamoDB_20120810.Scan"),
            0.0,
            "{label}: no Scan"
        );
    }
}
