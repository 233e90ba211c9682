//! The delivery handler under a clock the test controls: the real router and delivery handlers
//! over real SQLite, delivering to a real HTTP receiver on 127.0.0.1. Proves the retry
//! schedule, `Retry-After`, redrive from the DLQ, replay and cancel — without waiting hours.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use switchyard_core::circuit::BreakerPolicy;
use switchyard_core::clock::{ManualClock, truncated_to_millis};
use switchyard_core::domain::{
    Attempt, Connection, Delivery, DeliveryStatus, IntegrationType, Rule,
};
use switchyard_core::fair_share::Shares;
use switchyard_core::keyring::MasterKeyRing;
use switchyard_core::message::{DeliveryMessage, EventMessage};
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{AttemptRecord, OutgoingMessage, Queue, QueueConsumer, QueueName};
use switchyard_core::retry::RetryPolicy;
use switchyard_core::webhook::UrlPolicy;
use switchyard_core::{Clock, ConnectionId, OrgId, RuleId};
use switchyard_embedded::{Db, QueueSettings, SqliteIntake, SqliteQueue, SqliteStore};
use switchyard_handlers::ingest::{self, NewEvent, Sender};
use switchyard_handlers::protection::Protection;
use switchyard_handlers::replay::{self, Replay};
use switchyard_handlers::{Deps, Live, Settings, delivery, dlq, event_source, router, tenancy};
use switchyard_integrations::{ClientSettings, Integrations, OutboundClient};
use switchyard_tests::{Receiver, eventually};

use crate::store_conformance::store_fixtures::attempt;
use time::OffsetDateTime;

const MAX_RECEIVES: u32 = 3;

struct Rig {
    deps: Deps,
    queue: Arc<SqliteQueue>,
    clock: Arc<ManualClock>,
    receiver: Receiver,
    org: OrgId,
    delivery: Delivery,
    sender: Sender,
}

/// Sends one event to the rig's rule (the embedded intake routes it as it stores it);
/// returns its delivery.
async fn send_and_route(deps: &Deps, sender: &Sender) -> Delivery {
    let input =
        NewEvent::from_json(&json!({"event": "order.placed", "payload": {"n": 1}})).unwrap();
    let (event, _) = ingest::accept(
        deps,
        sender,
        input,
        None,
        &switchyard_handlers::trace::RequestTrace::fresh(),
    )
    .await
    .unwrap();
    deps.store
        .deliveries_for_event(event.org, event.id)
        .await
        .unwrap()
        .remove(0)
}

/// Runs the router on the event messages visible now; returns how many it saw.
async fn route_queued(deps: &Deps, queue: &SqliteQueue) -> usize {
    event_source::pump_once(queue, QueueName::Events, 10, Duration::ZERO, &|m| {
        router::route(deps, m)
    })
    .await
    .unwrap()
}

impl Rig {
    /// A tenant with one webhook rule, and one event routed to it (its delivery `pending`).
    async fn new(retry: RetryPolicy) -> Self {
        Self::with_settings(Settings {
            retry,
            ..Settings::default()
        })
        .await
    }

    async fn with_settings(settings: Settings) -> Self {
        Self::with_connection(settings, Live::default(), json!({})).await
    }

    /// With `extra` settings in the connection's metadata (besides its URL).
    async fn with_connection(settings: Settings, live: Live, extra: serde_json::Value) -> Self {
        // Stored times are milliseconds: start on one so waits compare exactly.
        let clock = Arc::new(ManualClock::new(truncated_to_millis(
            OffsetDateTime::now_utc(),
        )));
        let db = Db::in_memory().unwrap();
        let store = Arc::new(SqliteStore::open(db.clone()).unwrap());
        let queue = Arc::new(
            SqliteQueue::open(db, clock.clone(), |_| QueueSettings {
                visibility_timeout: Duration::from_secs(60),
                max_receive_count: MAX_RECEIVES,
            })
            .unwrap(),
        );
        let url_policy = UrlPolicy {
            allow_loopback_http: true,
        };
        let client = OutboundClient::new(ClientSettings::default()).unwrap();
        let deps = Deps {
            store,
            intake: Arc::new(SqliteIntake::new((*queue).clone())),
            dead_letters: None,
            queue: queue.clone(),
            keys: Arc::new(MasterKeyRing::new("t", [("t".to_owned(), [7u8; 32])])),
            clock: clock.clone(),
            integrations: Arc::new(Integrations::new(client, url_policy)),
            settings: Settings {
                url_policy,
                ..settings
            },
            live,
        };
        let receiver = Receiver::start().await;
        let (org, _) = tenancy::create_organization(&deps, "test").await.unwrap();
        let (ws, _) = tenancy::create_workspace(&deps, org.id, "default", None)
            .await
            .unwrap();
        let now = deps.now();
        let connection = Connection {
            id: ConnectionId::new(),
            org: org.id,
            workspace: ws.id,
            kind: IntegrationType::Webhook,
            name: "hook".into(),
            metadata: {
                let mut metadata = extra.as_object().unwrap().clone();
                metadata.insert("url".into(), receiver.url("/hook").into());
                metadata
            },
            secrets: None,
            hidden: false,
            created_by: "test".into(),
            created_at: now,
            updated_at: now,
        };
        deps.store.create_connection(&connection).await.unwrap();
        let rule = Rule {
            id: RuleId::new(),
            org: org.id,
            workspace: ws.id,
            connection: connection.id,
            kind: IntegrationType::Webhook,
            event: "order.placed".into(),
            resource: None,
            resource_id: None,
            metadata: json!({"action": "send_webhook"})
                .as_object()
                .unwrap()
                .clone(),
            conditions: None,
            active: true,
            hidden: false,
            created_by: "test".into(),
            created_at: now,
            updated_at: now,
        };
        deps.store.create_rule(&rule).await.unwrap();
        let sender = Sender::Publishable {
            org: org.id,
            workspace: ws.id,
            key_name: "default".into(),
        };
        let delivery = send_and_route(&deps, &sender).await;
        Self {
            deps,
            queue,
            clock,
            receiver,
            org: org.id,
            delivery,
            sender,
        }
    }

    /// Puts `message` on `queue`, visible now.
    async fn enqueue(&self, queue: QueueName, message: &impl serde::Serialize) {
        let body = serde_json::to_string(message).unwrap();
        self.queue
            .send_batch(queue, vec![OutgoingMessage::now(body)])
            .await
            .unwrap();
    }

    /// Takes the one delivery message visible now (as a worker would, without handling it).
    async fn take_delivery_message(&self) -> DeliveryMessage {
        let taken = self
            .queue
            .receive(QueueName::Deliveries, 10, Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(taken.len(), 1);
        serde_json::from_str(&taken[0].body).unwrap()
    }

    /// Runs the delivery handler on whatever is visible now; returns how many messages it saw.
    async fn step(&self) -> usize {
        let deps = &self.deps;
        event_source::pump_once(
            self.queue.as_ref(),
            QueueName::Deliveries,
            10,
            Duration::ZERO,
            &|m| delivery::deliver(deps, m),
        )
        .await
        .unwrap()
    }

    /// Runs the delivery handler on one visible message in a task of its own (its attempt may
    /// hang); the task answers how many messages it saw.
    fn step_one_in_background(&self) -> tokio::task::JoinHandle<usize> {
        let (deps, queue) = (self.deps.clone(), self.queue.clone());
        tokio::spawn(async move {
            event_source::pump_once(
                queue.as_ref(),
                QueueName::Deliveries,
                1,
                Duration::ZERO,
                &|m| delivery::deliver(&deps, m),
            )
            .await
            .unwrap()
        })
    }

    /// Like [`Rig::step_one_in_background`], and returns once that attempt's call has reached
    /// the receiver (which holds or hangs it).
    async fn call_in_flight(&self) -> tokio::task::JoinHandle<usize> {
        let before = self.hits();
        let running = self.step_one_in_background();
        eventually("the call in flight", Duration::from_secs(10), || async {
            (self.hits() > before).then_some(())
        })
        .await;
        running
    }

    /// Another event to the same rule, routed; returns its delivery.
    async fn another(&self) -> Delivery {
        send_and_route(&self.deps, &self.sender).await
    }

    async fn delivery(&self) -> Delivery {
        self.current(&self.delivery).await
    }

    /// `delivery`'s attempts as stored now.
    async fn attempts(&self, delivery: &Delivery) -> Vec<Attempt> {
        self.deps
            .store
            .attempts(self.org, delivery.event, delivery.id)
            .await
            .unwrap()
    }

    /// `delivery` as stored now.
    async fn current(&self, delivery: &Delivery) -> Delivery {
        self.deps
            .store
            .delivery(self.org, delivery.event, delivery.id)
            .await
            .unwrap()
            .unwrap()
    }

    fn hits(&self) -> usize {
        self.receiver.requests_to("/hook").len()
    }

    /// Moves the clock forward in hops of at most 15 minutes (as SQS delays are), stepping the
    /// handler after each, until an attempt is made; returns the time waited. Panics if an
    /// attempt happens early or none happens within `limit`.
    async fn run_until_next_attempt(&self, limit: Duration) -> Duration {
        let before = self.hits();
        let mut waited = Duration::ZERO;
        while waited <= limit {
            self.step().await;
            if self.hits() > before {
                return waited;
            }
            let due = self.delivery().await.next_attempt_at;
            let until_due = due
                .map(|at| (at - self.clock.now()).try_into().unwrap_or(Duration::ZERO))
                .unwrap_or(Duration::from_secs(1));
            let advance = until_due.clamp(Duration::from_millis(1), Duration::from_secs(900));
            self.clock.advance(advance);
            waited += advance;
        }
        panic!("no attempt within {limit:?}");
    }
}

fn no_jitter() -> RetryPolicy {
    RetryPolicy {
        jitter: 0.0,
        ..RetryPolicy::default()
    }
}

#[tokio::test]
async fn attempt_times_follow_the_schedule_until_failed() {
    let rig = Rig::new(no_jitter()).await;
    rig.receiver.respond_with(503);
    let mut waits = Vec::new();
    for _ in 0..RetryPolicy::default().max_attempts() {
        waits.push(
            rig.run_until_next_attempt(Duration::from_secs(11 * 3600))
                .await
                .as_secs(),
        );
    }
    assert_eq!(waits, vec![0, 0, 5, 300, 1800, 7200, 18000, 36000, 36000]);
    let d = rig.delivery().await;
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.attempt_count, 9);
    let attempts = rig.attempts(&d).await;
    assert!(attempts.iter().all(|a| a.status_code == Some(503)));
    assert_eq!(
        rig.queue
            .depth(QueueName::DeliveriesDlq)
            .await
            .unwrap()
            .visible,
        1,
        "sent to the DLQ on purpose"
    );
    // Nothing further is attempted.
    rig.clock.advance(Duration::from_secs(24 * 3600));
    rig.step().await;
    assert_eq!(rig.hits(), 9);
}

#[tokio::test]
async fn jitter_keeps_each_wait_within_twenty_percent() {
    let rig = Rig::new(RetryPolicy::default()).await;
    rig.receiver.respond_with(503);
    let bases = [0u64, 0, 5, 300, 1800, 7200];
    for base in bases {
        let waited = rig
            .run_until_next_attempt(Duration::from_secs(3 * 3600))
            .await
            .as_secs_f64();
        let base = base as f64;
        assert!(
            waited >= base * 0.8 - 0.01 && waited <= base * 1.2 + 0.01,
            "waited {waited} for base {base}"
        );
    }
}

#[tokio::test]
async fn destination_down_for_three_attempts_then_up_completes_with_four() {
    let rig = Rig::new(no_jitter()).await;
    rig.receiver.fail_next(3, 503);
    for _ in 0..4 {
        rig.run_until_next_attempt(Duration::from_secs(3600)).await;
    }
    let d = rig.delivery().await;
    assert_eq!(d.status, DeliveryStatus::Completed);
    assert_eq!(d.attempt_count, 4);
    assert_eq!(rig.hits(), 4);
    let ids: Vec<String> = rig
        .receiver
        .requests()
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "every retry carries the same webhook-id"
    );
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let rig = Rig::new(no_jitter()).await;
    rig.receiver.respond_with(429);
    rig.receiver.retry_after(120);
    rig.run_until_next_attempt(Duration::ZERO).await;
    // The schedule says "immediately"; the destination asked for two minutes.
    let waited = rig.run_until_next_attempt(Duration::from_secs(600)).await;
    assert_eq!(waited, Duration::from_secs(120));
    let attempts = rig.attempts(&rig.delivery).await;
    assert_eq!(attempts[0].outcome.as_str(), "rate_limited");
}

#[tokio::test]
async fn a_plain_client_error_fails_at_once() {
    let rig = Rig::new(no_jitter()).await;
    rig.receiver.respond_with(404);
    rig.run_until_next_attempt(Duration::ZERO).await;
    let d = rig.delivery().await;
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.attempt_count, 1);
}

#[tokio::test]
async fn redriven_failure_starts_a_fresh_schedule_and_duplicates_are_dropped() {
    let short = RetryPolicy {
        schedule: vec![Duration::from_secs(5)],
        jitter: 0.0,
    };
    let rig = Rig::new(short).await;
    rig.receiver.respond_with(500);
    rig.run_until_next_attempt(Duration::ZERO).await;
    rig.run_until_next_attempt(Duration::from_secs(60)).await;
    assert_eq!(rig.delivery().await.status, DeliveryStatus::Failed);

    let dead = dlq::list(rig.queue.as_ref(), QueueName::DeliveriesDlq, 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    let body = dead[0].body.clone();

    rig.receiver.respond_with(200);
    assert_eq!(
        dlq::redrive(rig.queue.as_ref(), QueueName::DeliveriesDlq)
            .await
            .unwrap(),
        1
    );
    rig.step().await;
    let d = rig.delivery().await;
    assert_eq!(d.status, DeliveryStatus::Completed);
    assert_eq!(d.attempt_count, 3);
    assert_eq!(
        d.schedule_base, 2,
        "a fresh schedule after the two earlier attempts"
    );

    // The same DLQ message redriven twice (as a console redrive may): dropped.
    rig.queue
        .send_batch(QueueName::Deliveries, vec![OutgoingMessage::now(body)])
        .await
        .unwrap();
    assert_eq!(rig.step().await, 1);
    assert_eq!(rig.delivery().await.attempt_count, 3);
    assert_eq!(rig.hits(), 3);
}

#[tokio::test]
async fn replay_is_too_early_while_an_attempt_is_under_way_and_restarts_a_failed_one() {
    let rig = Rig::new(RetryPolicy {
        schedule: vec![],
        jitter: 0.0,
    })
    .await;
    let (event, id) = (rig.delivery.event, rig.delivery.id);
    assert!(matches!(
        replay::replay(&rig.deps, rig.org, event, id).await.unwrap(),
        Replay::AlreadyImminent
    ));
    rig.receiver.respond_with(500);
    rig.run_until_next_attempt(Duration::ZERO).await;
    assert_eq!(rig.delivery().await.status, DeliveryStatus::Failed);

    rig.receiver.respond_with(200);
    let Replay::Queued(d) = replay::replay(&rig.deps, rig.org, event, id).await.unwrap() else {
        panic!("a failed delivery can be replayed");
    };
    assert_eq!(d.status, DeliveryStatus::Pending);
    assert!(matches!(
        replay::replay(&rig.deps, rig.org, event, id).await.unwrap(),
        Replay::AlreadyImminent
    ));
    rig.step().await;
    assert_eq!(rig.delivery().await.status, DeliveryStatus::Completed);
    let other_org = OrgId::new();
    assert!(matches!(
        replay::replay(&rig.deps, other_org, event, id)
            .await
            .unwrap(),
        Replay::NotFound
    ));
}

/// The worker on attempt 1 sends the retry's message before it records attempt 1; with a
/// short delay the retry can start before that record lands. The retry still counts as
/// attempt 2: its success completes the delivery, and attempt 1's record lands beside it.
#[tokio::test]
async fn a_retry_that_starts_before_its_attempt_is_recorded_completes_the_delivery() {
    let rig = Rig::new(no_jitter()).await;
    // A worker holds attempt 1's message, has made the attempt, and has sent the retry.
    let first = rig.take_delivery_message().await;
    assert_eq!(first.attempt, 1);
    let retry = DeliveryMessage {
        attempt: 2,
        ..first
    };
    rig.enqueue(QueueName::Deliveries, &retry).await;

    // The retry starts, and while its call is in flight attempt 1's record lands.
    rig.receiver.hold();
    let record_first = async {
        eventually("the retry's call", switchyard_tests::DEADLINE, || async {
            (rig.hits() == 1).then_some(())
        })
        .await;
        let attempt = attempt(&rig.delivery, 1, Outcome::RejectedServerError, 503);
        let recorded = rig
            .deps
            .store
            .finish_attempt(
                &rig.delivery,
                &AttemptRecord {
                    attempt,
                    status: DeliveryStatus::Retrying,
                    next_attempt_at: Some(rig.clock.now()),
                    last_error: Some("HTTP 503".into()),
                },
            )
            .await
            .unwrap();
        assert_eq!(recorded.attempt_count, 1);
        rig.receiver.release();
    };
    let (stepped, ()) = tokio::join!(rig.step(), record_first);
    assert_eq!(stepped, 1);

    let d = rig.delivery().await;
    assert_eq!(d.status, DeliveryStatus::Completed, "{d:?}");
    assert_eq!(d.attempt_count, 2);
    let numbers: Vec<u32> = rig.attempts(&d).await.iter().map(|a| a.number).collect();
    assert_eq!(numbers, vec![1, 2]);
}

#[tokio::test]
async fn canceled_delivery_is_never_attempted() {
    let rig = Rig::new(no_jitter()).await;
    let canceled = replay::cancel(&rig.deps, rig.org, rig.delivery.event, rig.delivery.id)
        .await
        .unwrap();
    assert_eq!(canceled.map(|d| d.status), Some(DeliveryStatus::Canceled));
    assert_eq!(rig.step().await, 1, "the queued message is consumed");
    assert_eq!(rig.hits(), 0);
    assert_eq!(rig.delivery().await.status, DeliveryStatus::Canceled);
    assert!(
        replay::cancel(&rig.deps, rig.org, rig.delivery.event, rig.delivery.id)
            .await
            .unwrap()
            .is_none()
    );
}

/// The routing's own message for a delivery it claimed carries that claim and may trust it (on
/// DynamoDB its first attempt then reads no delivery); a re-routing of the same event finds
/// the claim made before, and its message for it never does. Both carry the small event, which
/// the attempts send without reading it.
#[tokio::test]
async fn only_the_claiming_routings_message_trusts_the_claim() {
    let rig = &Rig::new(no_jitter()).await;
    let event = rig
        .deps
        .store
        .event(rig.org, rig.delivery.event)
        .await
        .unwrap()
        .expect("stored");
    let queued = |fresh: bool| {
        let event = event.clone();
        async move {
            let m = rig.take_delivery_message().await;
            assert_eq!((m.delivery_id, m.attempt), (rig.delivery.id, 1));
            assert_eq!(m.fresh_claim, fresh, "{m:?}");
            assert_eq!(m.trusts_claim(m.not_before), fresh);
            let claimed = m.claimed_delivery();
            assert_eq!(claimed.is_some(), fresh, "{m:?}");
            if let Some(d) = claimed {
                let stored = &rig.delivery;
                assert_eq!(
                    (d.id, d.rule, d.connection, d.kind, &d.event_name, d.status),
                    (
                        stored.id,
                        stored.rule,
                        stored.connection,
                        stored.kind,
                        &stored.event_name,
                        stored.status
                    )
                );
            }
            let carried = m.carried_event().expect("a small event is carried");
            assert_eq!(
                (
                    carried.id,
                    &carried.event,
                    &carried.payload,
                    &carried.resource_id
                ),
                (event.id, &event.event, &event.payload, &event.resource_id)
            );
        }
    };
    queued(true).await;

    let again = EventMessage {
        event_id: rig.delivery.event,
        org: rig.org,
        workspace: rig.delivery.workspace,
        only_rule: None,
        traceparent: None,
        event: None,
    };
    rig.enqueue(QueueName::Events, &again).await;
    assert_eq!(route_queued(&rig.deps, &rig.queue).await, 1);
    queued(false).await;
}

#[tokio::test]
async fn poison_message_reaches_the_dlq_after_max_receive_count() {
    let rig = Rig::new(no_jitter()).await;
    rig.queue
        .send_batch(
            QueueName::Deliveries,
            vec![OutgoingMessage::now("{not json".into())],
        )
        .await
        .unwrap();
    rig.step().await; // the real delivery and the poison message
    for _ in 0..MAX_RECEIVES {
        rig.clock.advance(Duration::from_secs(61));
        rig.step().await;
    }
    let dead = dlq::list(rig.queue.as_ref(), QueueName::DeliveriesDlq, 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, "{not json");
    assert_eq!(
        rig.delivery().await.status,
        DeliveryStatus::Completed,
        "the good message was unaffected"
    );
}

#[tokio::test]
async fn a_dead_destination_opens_its_circuit_and_defers_without_spending_attempts() {
    let settings = Settings {
        retry: RetryPolicy {
            schedule: vec![Duration::ZERO; 5],
            jitter: 0.0,
        },
        ..Settings::default()
    };
    let live = Live {
        protection: Arc::new(Protection::new(
            BreakerPolicy {
                failure_threshold: 3,
                timeout_threshold: 2,
                cooldown: Duration::from_secs(30),
                max_cooldown: Duration::from_secs(60),
            },
            Shares::default(),
        )),
        ..Live::default()
    };
    let rig = Rig::with_connection(settings, live, json!({})).await;
    rig.receiver.respond_with(503);
    let mut deliveries = vec![rig.delivery.clone()];
    for _ in 0..3 {
        deliveries.push(rig.another().await);
    }
    // Four deliveries attempted at once: each fails, the third failure opens the circuit.
    rig.step().await;
    assert_eq!(rig.hits(), 4);
    // Their immediate retries find the circuit open: deferred, no request, no attempt spent.
    assert_eq!(rig.step().await, 4);
    assert_eq!(rig.hits(), 4);
    for d in &deliveries {
        let now = rig.current(d).await;
        assert_eq!(now.attempt_count, 1, "a deferral is not an attempt");
        assert_eq!(now.status, DeliveryStatus::Retrying);
    }
    // After the cool-down one probe goes; the destination is back, so the circuit closes and
    // the others follow. It answers slowly: the others ask while the probe is in flight (a
    // quick probe could close the circuit before they ask, and they would rightly go too).
    rig.receiver.respond_with(200);
    rig.receiver.answer_after(500);
    rig.clock.advance(Duration::from_secs(30));
    rig.step().await;
    assert_eq!(rig.hits(), 5, "exactly one probe");
    rig.clock.advance(Duration::from_secs(1));
    rig.step().await;
    assert_eq!(rig.hits(), 8);
    for d in &deliveries {
        let now = rig.current(d).await;
        assert_eq!(now.status, DeliveryStatus::Completed);
        assert_eq!(now.attempt_count, 2);
    }
}

#[tokio::test]
async fn a_hanging_destination_defers_further_attempts_until_its_call_is_cut_off() {
    let settings = Settings {
        retry: no_jitter(),
        ..Settings::default()
    };
    let rig = Rig::with_connection(settings, Live::default(), json!({"timeout_ms": 1000})).await;
    rig.receiver.hang();
    let deliveries = [rig.delivery.clone(), rig.another().await];

    // One attempt goes out and gets no answer.
    let hanging = rig.call_in_flight().await;
    assert_eq!(rig.hits(), 1);
    // Five seconds on, the destination counts as hanging: the other delivery is deferred, not
    // attempted and not counted.
    rig.clock.advance(Duration::from_secs(5));
    assert_eq!(rig.step().await, 1);
    assert_eq!(rig.hits(), 1);
    // The hanging call is cut off by the connection's 1 s timeout: a `timeout`, to be retried.
    assert_eq!(hanging.await.unwrap(), 1);
    let mut counts = Vec::new();
    for d in &deliveries {
        let now = rig.current(d).await;
        if now.attempt_count == 1 {
            assert_eq!(now.status, DeliveryStatus::Retrying);
            let attempts = rig.attempts(d).await;
            assert_eq!(attempts[0].outcome.as_str(), "timeout");
            assert!(attempts[0].duration_ms < 5000, "{:?}", attempts[0]);
        } else {
            assert_eq!(
                now.status,
                DeliveryStatus::Pending,
                "deferred, not attempted"
            );
        }
        counts.push(now.attempt_count);
    }
    counts.sort();
    assert_eq!(counts, [0, 1]);
}

/// A delivery waiting on a slow destination that has its share in flight (its one attempt
/// held unanswered) looks again soon at first, then about twice as late each time it is
/// turned away (each look is a trip through the queue every tenant shares), and is attempted
/// — once, when a place is free — without spending an attempt on the waits.
#[tokio::test]
async fn a_delivery_turned_away_by_a_full_share_waits_longer_each_time() {
    let live = Live {
        protection: Arc::new(Protection::new(
            BreakerPolicy::default(),
            Shares {
                per_destination: 1,
                slow_after: Duration::from_secs(3600),
                ..Shares::default()
            },
        )),
        ..Live::default()
    };
    let settings = Settings {
        retry: no_jitter(),
        ..Settings::default()
    };
    let rig = Rig::with_connection(settings, live, json!({})).await;
    rig.receiver.hold();
    let slow = rig.call_in_flight().await;
    assert_eq!(rig.hits(), 1);

    let waiting = rig.another().await;
    assert_eq!(rig.step().await, 1, "turned away");
    // Each wait is between half and all of 250 ms, 500 ms, 1 s, 2 s …
    for full in [250, 500, 1000, 2000, 4000] {
        rig.clock.advance(Duration::from_millis(full / 2 - 1));
        assert_eq!(rig.step().await, 0, "back no sooner than half of {full} ms");
        rig.clock.advance(Duration::from_millis(full / 2 + 1));
        assert_eq!(
            rig.step().await,
            1,
            "back within {full} ms, and turned away"
        );
    }
    assert_eq!(rig.hits(), 1);

    rig.receiver.release();
    assert_eq!(slow.await.unwrap(), 1);
    rig.clock.advance(Duration::from_secs(8));
    assert_eq!(rig.step().await, 1);
    assert_eq!(rig.hits(), 2, "attempted once a place was free");
    let done = rig.current(&waiting).await;
    assert_eq!(done.status, DeliveryStatus::Completed);
    assert_eq!(done.attempt_count, 1, "the waits spent no attempt");
}

/// An attempt stores nothing when it starts: one answered at once goes from `pending` to
/// `completed` in its one write (its start time from the attempt), and one still running after
/// `ATTEMPT_UNDER_WAY_AFTER` shows `processing` until its record moves it on.
#[tokio::test]
async fn an_attempt_shows_processing_only_once_it_has_run_a_while() {
    let rig = Rig::with_connection(
        Settings {
            retry: no_jitter(),
            ..Settings::default()
        },
        Live::default(),
        json!({"timeout_ms": 3000}),
    )
    .await;
    assert_eq!(rig.step().await, 1);
    let done = rig.delivery().await;
    assert_eq!(done.status, DeliveryStatus::Completed);
    let attempts = rig.attempts(&done).await;
    assert_eq!(done.started_at, Some(attempts[0].started_at));

    rig.receiver.hang();
    let slow = rig.another().await;
    let running = rig.step_one_in_background();
    let read = || async { rig.current(&slow).await };
    let shown = eventually(
        "the attempt shown under way",
        Duration::from_secs(10),
        || async {
            let now = read().await;
            (now.status == DeliveryStatus::Processing).then_some(now)
        },
    )
    .await;
    assert!(shown.started_at.is_some() && shown.attempt_count == 0);
    // Cut off by the connection's timeout: a `timeout`, recorded, to be retried.
    assert_eq!(running.await.unwrap(), 1);
    let after = read().await;
    assert_eq!(
        (after.status, after.attempt_count),
        (DeliveryStatus::Retrying, 1)
    );
    assert_eq!(after.started_at, shown.started_at);
}
