//! Process-wide delivery metrics: what `GET /metrics` serves in Prometheus text form on the
//! embedded server, and what the Lambdas log as CloudWatch EMF lines (see [`crate::emf`]).
//!
//! The handlers call [`events_ingested`] and [`attempt_recorded`] once per fact; queue depths
//! are read from the queue when scraped, so they are never stale.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use switchyard_core::domain::DeliveryStatus;
use switchyard_core::ports::{QueueConsumer, QueueName};

/// The content type of [`render`]'s output (OpenMetrics text, which Prometheus scrapes).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    /// The delivery's status after the attempt: completed, retrying or failed.
    status: &'static str,
    /// The destination's HTTP status, or `none` when there was no response.
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    queue: &'static str,
    state: &'static str,
}

struct Metrics {
    registry: Registry,
    ingested: Counter,
    attempts: Family<AttemptLabels, Counter>,
    attempt_seconds: Histogram,
    queue_messages: Family<QueueLabels, Gauge>,
    queue_oldest_age: Family<QueueOnly, Gauge<f64, std::sync::atomic::AtomicU64>>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueOnly {
    queue: &'static str,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("switchyard");
    let ingested = Counter::default();
    registry.register(
        "events_ingested",
        "Events accepted and queued for routing",
        ingested.clone(),
    );
    let attempts = Family::<AttemptLabels, Counter>::default();
    registry.register(
        "delivery_attempts",
        "Delivery attempts by the delivery's resulting status and the destination's HTTP code",
        attempts.clone(),
    );
    // 0.5 ms … ~16 s: loopback answers in well under a millisecond, real destinations in tens.
    let attempt_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
    registry.register(
        "delivery_attempt_duration_seconds",
        "Time from sending an attempt to its answer (or failure)",
        attempt_seconds.clone(),
    );
    let queue_messages = Family::<QueueLabels, Gauge>::default();
    registry.register(
        "queue_messages",
        "Messages per queue and state (visible, in_flight, delayed), read at scrape time",
        queue_messages.clone(),
    );
    let queue_oldest_age = Family::default();
    registry.register(
        "queue_oldest_message_age_seconds",
        "Age of each queue's oldest message (0 when empty), read at scrape time",
        queue_oldest_age.clone(),
    );
    Metrics {
        registry,
        ingested,
        attempts,
        attempt_seconds,
        queue_messages,
        queue_oldest_age,
    }
});

/// `n` events were stored and queued for routing.
pub fn events_ingested(n: usize) {
    METRICS.ingested.inc_by(n as u64);
    crate::emf::events_ingested(n);
}

/// One delivery attempt was recorded, leaving its delivery `status`.
pub fn attempt_recorded(status: DeliveryStatus, code: Option<u16>, took: Duration) {
    let code = code.map_or_else(|| "none".to_owned(), |c| c.to_string());
    METRICS
        .attempts
        .get_or_create(&AttemptLabels {
            status: status.as_str(),
            code: code.clone(),
        })
        .inc();
    METRICS.attempt_seconds.observe(took.as_secs_f64());
    crate::emf::attempt_recorded(status.as_str(), &code, took);
}

/// Every metric in OpenMetrics text, queue depths read from `queue` now. A queue that cannot be
/// read keeps its last value (the scrape still answers).
pub async fn render(queue: &dyn QueueConsumer) -> String {
    for name in QueueName::ALL {
        let Ok(depth) = queue.depth(name).await else {
            tracing::warn!(
                queue = name.as_str(),
                "queue depth unavailable for /metrics"
            );
            continue;
        };
        for (state, value) in [
            ("visible", depth.visible),
            ("in_flight", depth.in_flight),
            ("delayed", depth.delayed),
        ] {
            METRICS
                .queue_messages
                .get_or_create(&QueueLabels {
                    queue: name.as_str(),
                    state,
                })
                .set(value as i64);
        }
    }
    for name in QueueName::ALL {
        // A backend that does not tell the age (SQS) has no series rather than a false zero.
        if let Ok(Some(age)) = queue.oldest_message_age(name).await {
            METRICS
                .queue_oldest_age
                .get_or_create(&QueueOnly {
                    queue: name.as_str(),
                })
                .set(age.as_secs_f64());
        }
    }
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &METRICS.registry)
        .expect("writing to a String cannot fail");
    out
}

/// `GET /metrics` for a server that reads `queue` (the embedded one: on AWS, CloudWatch has
/// the queue metrics and the Lambdas log theirs as EMF). Unauthenticated, as scrapers expect:
/// it shows counts and queue depths, never a tenant's data.
pub fn router(queue: Arc<dyn QueueConsumer>) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .with_state(queue)
}

async fn scrape(
    axum::extract::State(queue): axum::extract::State<Arc<dyn QueueConsumer>>,
) -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, CONTENT_TYPE)],
        render(queue.as_ref()).await,
    )
}
