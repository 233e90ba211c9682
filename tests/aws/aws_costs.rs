//! What a delivered event costs on AWS, counted from a real run on moto: every SQS and DynamoDB
//! request the pipeline makes (an SDK interceptor counts them), the read/write units those
//! DynamoDB calls would be billed (the store meters the items it reads and writes) and the
//! handlers' measured time (Lambda duration). Events go in over HTTP to the real API — one per
//! request, or 100 per `POST /events/bulk` — through the router and delivery handlers as the
//! event source mapping calls them, each function with its own store and hot-path caches (as
//! separate Lambda instances: the delivery function reads the event itself), to a real
//! receiver — at fan-out 1, 3 and 10, on a busy system (full batches of ten) and a quiet one (one
//! event at a time). docs/aws.md quotes these figures; the assertions keep them from growing
//! unnoticed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use serde_json::json;
use switchyard_aws::{
    AwsBackend, CapacityUse, RequestCounter, build_hot_path_deps, default_queue_attributes,
};
use switchyard_core::ports::{QueueConsumer, QueueName};
use switchyard_core::webhook::UrlPolicy;
use switchyard_handlers::{lambda, tenancy};
use switchyard_tests::{Api, Receiver, eventually, require_moto};

/// How events go in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ingest {
    /// `POST /events`, one event per request.
    Single,
    /// `POST /events/bulk`, up to 100 events per request.
    Bulk,
}

/// List prices, us-east-1 (USD).
const API_GATEWAY_PER_REQUEST: f64 = 1.00e-6;
const LAMBDA_PER_INVOCATION: f64 = 0.20e-6;
/// arm64, per GB-second; the functions have 256 MB.
const LAMBDA_PER_GB_S: f64 = 0.000_013_333_4;
const LAMBDA_GB: f64 = 0.25;
const SQS_PER_REQUEST: f64 = 0.40e-6;
const DYNAMODB_PER_WRU: f64 = 0.625e-6;
const DYNAMODB_PER_RRU: f64 = 0.125e-6;

struct Measured {
    fan_out: usize,
    ingest: Ingest,
    /// Ingest requests made.
    ingest_requests: u64,
    /// Handler time: the ingest requests', and the router's and delivery's per invocation
    /// (a batch of up to ten), summed.
    ingest_time: Duration,
    router_time: Duration,
    delivery_time: Duration,
    router_invocations: u64,
    delivery_invocations: u64,
    requests: BTreeMap<String, u64>,
    units: CapacityUse,
    events: u64,
    /// The history table the run wrote, to look at its keys.
    dynamodb: aws_sdk_dynamodb::Client,
    history_table: String,
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

    /// Dollars per million events, by part: API Gateway, Lambda invocations, Lambda duration,
    /// SQS, DynamoDB writes, DynamoDB reads.
    fn dollars_per_million(&self) -> [f64; 6] {
        let per_event = |x: f64| x / self.events as f64 * 1e6;
        let duration = self.ingest_time + self.router_time + self.delivery_time;
        [
            per_event(self.ingest_requests as f64 * API_GATEWAY_PER_REQUEST),
            per_event(
                (self.ingest_requests + self.router_invocations + self.delivery_invocations) as f64
                    * LAMBDA_PER_INVOCATION,
            ),
            per_event(duration.as_secs_f64() * LAMBDA_GB * LAMBDA_PER_GB_S),
            self.per_event("AmazonSQS.") * SQS_PER_REQUEST * 1e6,
            per_event(self.units.write_units * DYNAMODB_PER_WRU),
            per_event(self.units.read_units * DYNAMODB_PER_RRU),
        ]
    }

    fn total(&self) -> f64 {
        self.dollars_per_million().iter().sum()
    }

    /// The total without Lambda duration: the parts that are counts of requests and units,
    /// the same on any machine. Duration is timed against moto, which is slower than AWS and
    /// slower still when other suites load it, so it is bounded on its own.
    fn counted(&self) -> f64 {
        self.total() - self.duration()
    }

    fn duration(&self) -> f64 {
        self.dollars_per_million()[2]
    }

    fn report(&self, label: &str) {
        let [api, inv, dur, sqs, wru, rru] = self.dollars_per_million();
        eprintln!(
            "cost[{label}] $/M events: API Gateway {api:.2}, Lambda invocations {inv:.2}, Lambda duration {dur:.2}, SQS {sqs:.2}, DynamoDB writes {wru:.2}, reads {rru:.2}; total {:.2}",
            self.total()
        );
        eprintln!(
            "cost[{label}] handler ms: ingest {:.2}/request, router {:.1}/invocation, delivery {:.1}/invocation ({} and {} invocations)",
            self.ingest_time.as_secs_f64() * 1e3 / self.ingest_requests as f64,
            self.router_time.as_secs_f64() * 1e3 / self.router_invocations.max(1) as f64,
            self.delivery_time.as_secs_f64() * 1e3 / self.delivery_invocations.max(1) as f64,
            self.router_invocations,
            self.delivery_invocations,
        );
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
async fn measure(
    fan_out: usize,
    ingest: Ingest,
    events: usize,
    per_round: usize,
) -> Option<Measured> {
    let moto = require_moto!(None);
    let counter = RequestCounter::new();
    let clients = moto.clients(Some(counter.clone())).await;
    let resources = moto.resources(&clients, default_queue_attributes).await;
    let policy = UrlPolicy {
        allow_loopback_http: true,
    };
    // Each function its own instance, as on Lambda: the API (ingest here), the router and
    // the delivery function share no cache.
    let AwsBackend { deps, store, queue } = build_hot_path_deps(&clients, &resources, policy)
        .await
        .expect("deps");
    let functions = Functions {
        router: build_hot_path_deps(&clients, &resources, policy)
            .await
            .expect("router deps"),
        delivery: build_hot_path_deps(&clients, &resources, policy)
            .await
            .expect("delivery deps"),
    };
    let units = || {
        [&store, &functions.router.store, &functions.delivery.store]
            .iter()
            .map(|s| s.meter().total())
            .fold(CapacityUse::default(), |sum, u| CapacityUse {
                read_units: sum.read_units + u.read_units,
                write_units: sum.write_units + u.write_units,
            })
    };
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
    let mut time = Timed::default();
    drain(&functions, consumer.as_ref(), fan_out, &mut time).await;
    receiver_wait(&receiver, fan_out).await;

    let requests_before = counter.snapshot();
    let units_before = units();
    let mut time = Timed::default();
    let mut ingest_requests = 0;
    let mut ingest_time = Duration::ZERO;
    for round in 0..events.div_ceil(per_round) {
        let n = per_round.min(events - round * per_round);
        let body = |i: usize| {
            json!({"event": "order.paid", "resource": "order",
                "resource_id": format!("ord_{round}_{i}"), "payload": {"amount": 4200, "currency": "EUR"}})
        };
        let started = Instant::now();
        match ingest {
            Ingest::Single => {
                for i in 0..n {
                    api.send_event(body(i)).await;
                    ingest_requests += 1;
                }
            }
            Ingest::Bulk => {
                for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
                    api.send_bulk(chunk.iter().map(|i| body(*i)).collect())
                        .await;
                    ingest_requests += 1;
                }
            }
        }
        ingest_time += started.elapsed();
        drain(&functions, consumer.as_ref(), n * fan_out, &mut time).await;
    }
    receiver_wait(&receiver, fan_out * (events + 1)).await;
    let after = units();
    Some(Measured {
        fan_out,
        ingest,
        ingest_requests,
        ingest_time,
        router_time: time.router,
        delivery_time: time.delivery,
        router_invocations: time.router_invocations,
        delivery_invocations: time.delivery_invocations,
        requests: counter.since(&requests_before),
        units: CapacityUse {
            read_units: after.read_units - units_before.read_units,
            write_units: after.write_units - units_before.write_units,
        },
        events: events as u64,
        dynamodb: clients.dynamodb.clone(),
        history_table: resources.history_table.clone(),
    })
}

/// The router and delivery functions, each with its own store and caches.
struct Functions {
    router: AwsBackend,
    delivery: AwsBackend,
}

/// The functions' measured time: what Lambda would bill, one invocation per non-empty batch.
#[derive(Default)]
struct Timed {
    router: Duration,
    delivery: Duration,
    router_invocations: u64,
    delivery_invocations: u64,
}

/// Plays the two event source mappings until the round's events are routed and its
/// deliveries attempted: batches of up to ten, as Lambda hands them over.
async fn drain(
    functions: &Functions,
    consumer: &dyn QueueConsumer,
    deliveries: usize,
    time: &mut Timed,
) {
    let route = |event| lambda::route_batch(&functions.router.deps, event);
    let deliver = |event| {
        let deadline = SystemTime::now() + Duration::from_secs(60);
        lambda::deliver_batch(&functions.delivery.deps, event, deadline)
    };
    let mut delivered = 0;
    let mut idle = 0;
    while delivered < deliveries {
        let routed = invoke(consumer, QueueName::Events, &route).await;
        if let Some((_, took)) = routed {
            time.router += took;
            time.router_invocations += 1;
        }
        // The delivery function keeps up, as its event source mapping scales out on a busy
        // system: its batches run until one comes back short (the queue is empty) before the
        // next router batch.
        let mut got = 0;
        while let Some((batch, took)) = invoke(consumer, QueueName::Deliveries, &deliver).await {
            time.delivery += took;
            time.delivery_invocations += 1;
            got += batch;
            if batch < 10 {
                break;
            }
        }
        delivered += got;
        idle = if routed.is_none() && got == 0 {
            idle + 1
        } else {
            0
        };
        assert!(
            idle < 200,
            "the pipeline stalled with {delivered}/{deliveries} delivered"
        );
    }
}

/// One invocation as the event source mapping makes it: up to ten messages to the function's
/// batch handler, then the records it did not fail deleted. Only the handler is timed: the
/// mapping's receive and delete are not Lambda duration. Returns how many messages it handed
/// over and the handler's time, or `None` when the queue was empty.
async fn invoke<F, Fut>(
    consumer: &dyn QueueConsumer,
    queue: QueueName,
    handler: &F,
) -> Option<(usize, Duration)>
where
    F: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    let messages = consumer
        .receive(queue, 10, Duration::ZERO)
        .await
        .expect("receive");
    if messages.is_empty() {
        return None;
    }
    let mut event = SqsEvent::default();
    event.records = messages
        .iter()
        .map(|m| {
            let mut record = SqsMessage::default();
            record.message_id = Some(m.message_id.clone());
            record.body = Some(m.body.clone());
            record
        })
        .collect();
    let started = Instant::now();
    let answer = handler(event).await;
    let took = started.elapsed();
    assert!(
        answer.batch_item_failures.is_empty(),
        "{queue} records failed"
    );
    let done: Vec<String> = messages.iter().map(|m| m.receipt_handle.clone()).collect();
    consumer.delete_batch(queue, &done).await.expect("delete");
    Some((messages.len(), took))
}

async fn receiver_wait(receiver: &Receiver, n: usize) {
    eventually("every webhook", Duration::from_secs(30), || async {
        (receiver.requests().len() >= n).then_some(())
    })
    .await;
}

#[tokio::test]
async fn fan_out_1_3_and_10_single_and_bulk_on_a_busy_and_a_quiet_system() {
    let mut table = Vec::new();
    for (fan_out, ingest, events, per_round, label) in [
        (
            1,
            Ingest::Single,
            30,
            10,
            "fan-out 1, single, batches of 10",
        ),
        (
            3,
            Ingest::Single,
            30,
            10,
            "fan-out 3, single, batches of 10",
        ),
        (
            10,
            Ingest::Single,
            10,
            10,
            "fan-out 10, single, batches of 10",
        ),
        (1, Ingest::Bulk, 100, 100, "fan-out 1, bulk of 100"),
        (3, Ingest::Bulk, 100, 100, "fan-out 3, bulk of 100"),
        (10, Ingest::Bulk, 100, 100, "fan-out 10, bulk of 100"),
        (1, Ingest::Single, 5, 1, "fan-out 1, single, one at a time"),
        (3, Ingest::Single, 5, 1, "fan-out 3, single, one at a time"),
    ] {
        let Some(m) = measure(fan_out, ingest, events, per_round).await else {
            return;
        };
        m.report(label);
        // The design's write budget: an event item, a routing claim (carrying the routed mark
        // and the pending deliveries: one unit up to five rules' claims of ~135 bytes, two
        // past that), and the event's successful first attempts, written together (~230 bytes
        // each, so a unit per four) — twice for an event whose deliveries a batch boundary
        // splits (at fan-out 3, two events in ten).
        let wru = m.units.write_units / m.events as f64;
        let claim = 1 + fan_out / 6;
        let outcomes = fan_out.div_ceil(4) as f64;
        let split = if fan_out == 3 { 0.2 } else { 0.0 };
        assert!(
            wru <= (1 + claim) as f64 + outcomes + split + 0.01,
            "{label}: {wru} WRU per event"
        );
        assert_eq!(
            m.per_event("DynamoDB_20120810.Scan"),
            0.0,
            "{label}: no Scan"
        );
        // The messages carry the event and the routing's claim: the router reads no event (a
        // Query), and a first attempt whose routing's message is young reads neither its
        // event nor its delivery (a BatchGetItem). One event at a time and on a busy system up
        // to fan-out 3, every message is (fan-out 10's busy rounds on moto run late enough for
        // some to be read as stored). What reads remain are the 5 s caches' refreshes — of
        // rules (a Query), connections and keys — a few per run, where reading events or
        // deliveries would be one or more per event.
        if fan_out <= 3 {
            for read in ["Query", "BatchGetItem"] {
                let per_event = m.per_event(&format!("DynamoDB_20120810.{read}"));
                assert!(per_event <= 0.1, "{label}: {per_event} {read} per event");
            }
        }
        // On a busy system the router enqueues a whole batch's deliveries ten to a request:
        // per event, its send at ingest (a tenth of one in bulk) and a tenth of a send per
        // delivery, where each event's deliveries took a request of their own.
        if per_round >= 10 {
            let ingest_sends = if ingest == Ingest::Single { 1.0 } else { 0.1 };
            let budget = ingest_sends + 0.1 * fan_out as f64;
            let sends = m.per_event("AmazonSQS.SendMessageBatch");
            assert!(
                sends <= budget + 0.01,
                "{label}: {sends:.2} SQS sends per event, over {budget:.2}"
            );
        }
        if per_round >= 10 {
            table.push((label, m.fan_out, m.ingest, m.counted(), m.duration()));
        }
    }
    for (label, fan_out, ingest, counted, duration) in table {
        eprintln!(
            "cost[{label}] ${:.2} per million events (${counted:.2} counted, ${duration:.2} duration)",
            counted + duration
        );
        // What the design delivers today (docs/aws.md), counted — with room left under the
        // targets ($5.00 single, $3.00 bulk) for the measured duration; and that duration,
        // which moto's pace varies and only a handler that started to wait or spin takes past
        // $1.50: a regression fails here.
        let ceiling = match (fan_out, ingest) {
            (3, Ingest::Single) => Some(4.40),
            (3, Ingest::Bulk) => Some(2.70),
            _ => None,
        };
        if let Some(ceiling) = ceiling {
            assert!(
                counted <= ceiling,
                "{label}: ${counted:.2}/M counted, over ${ceiling:.2}"
            );
            assert!(
                duration <= 1.50,
                "{label}: ${duration:.2}/M of Lambda duration"
            );
        }
    }
}

/// Every item of the history table, by partition key.
async fn items_per_partition(m: &Measured) -> BTreeMap<String, u64> {
    let mut per = BTreeMap::new();
    let mut start = None;
    loop {
        let out = m
            .dynamodb
            .scan()
            .table_name(&m.history_table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        for item in out.items() {
            if let Some(aws_sdk_dynamodb::types::AttributeValue::S(pk)) = item.get("pk") {
                *per.entry(pk.clone()).or_insert(0) += 1;
            }
        }
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return per,
        }
    }
}

/// The key design spreads one organization's events: after 160 events ingested, routed and
/// delivered, no history partition holds more than a small share of them (at 32 shards about
/// 5 each; a partition per organization would hold all 161), so one organization's write rate
/// is bounded by the shard count, not one partition's 1,000 write units a second.
#[tokio::test]
async fn no_partition_holds_all_of_an_organizations_events() {
    let Some(m) = measure(1, Ingest::Single, 160, 10).await else {
        return;
    };
    let per = items_per_partition(&m).await;
    let events: Vec<u64> = per
        .iter()
        .filter(|(pk, _)| pk.starts_with("EV#"))
        .map(|(_, n)| *n)
        .collect();
    assert_eq!(events.iter().sum::<u64>(), 161, "every event stored once");
    assert!(events.len() >= 24, "{} event partitions", events.len());
    let busiest = per.iter().max_by_key(|(_, n)| **n).expect("items");
    assert!(
        *busiest.1 <= 20,
        "partition {} holds {} of 161 events' items",
        busiest.0,
        busiest.1
    );
}
