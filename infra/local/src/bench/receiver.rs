//! The destination: an axum server on 127.0.0.1 that counts every webhook by (event id,
//! destination) and measures ingest→receipt latency from the send time the load generator put
//! in the payload. `/raw` answers the baseline's plain POSTs the same way, counting only.
//! `/hang` accepts requests and answers none of them until [`Receiver::release_hung`]: the
//! slow destination phase's endpoint that never answers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;

/// What the receiver saw, shared with the load generator.
pub struct Receipts {
    /// The bench's time origin: payloads carry `sent_us` since it.
    pub origin: Instant,
    /// Deliveries per (event id, destination).
    pub counts: Mutex<HashMap<(String, u16), u32>>,
    /// (destination, ingest→receipt µs), since the latencies were last taken.
    latencies_us: Mutex<Vec<(u16, u64)>>,
    pub webhooks: AtomicU64,
    pub raw_posts: AtomicU64,
    /// When the latest webhook arrived, µs since `origin`.
    pub last_receipt_us: AtomicU64,
    /// Requests `/hang` has held.
    pub hung: AtomicU64,
    /// Turns true when `/hang` answers again.
    released: tokio::sync::watch::Sender<bool>,
}

impl Receipts {
    pub fn now_us(&self) -> u64 {
        self.origin.elapsed().as_micros() as u64
    }

    pub fn take_latencies(&self) -> Vec<u64> {
        let taken = std::mem::take(&mut *self.latencies_us.lock().expect("lock"));
        taken.into_iter().map(|(_, us)| us).collect()
    }

    /// The latencies since they were last taken, per destination.
    pub fn take_latencies_by_destination(&self) -> HashMap<u16, Vec<u64>> {
        let mut by = HashMap::<u16, Vec<u64>>::new();
        for (destination, us) in std::mem::take(&mut *self.latencies_us.lock().expect("lock")) {
            by.entry(destination).or_default().push(us);
        }
        by
    }
}

pub struct Receiver {
    pub addr: SocketAddr,
    pub receipts: Arc<Receipts>,
}

impl Receiver {
    pub async fn start() -> anyhow::Result<Self> {
        let receipts = Arc::new(Receipts {
            origin: Instant::now(),
            counts: Mutex::default(),
            latencies_us: Mutex::default(),
            webhooks: AtomicU64::new(0),
            raw_posts: AtomicU64::new(0),
            last_receipt_us: AtomicU64::new(0),
            hung: AtomicU64::new(0),
            released: tokio::sync::watch::Sender::new(false),
        });
        let app = Router::new()
            .route("/d/{destination}", post(webhook))
            .route("/raw", post(raw))
            .route("/hang", post(hang))
            .with_state(receipts.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { addr, receipts })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `/hang` answers what it held, and every later request at once.
    pub fn release_hung(&self) {
        self.receipts.released.send_replace(true);
    }
}

/// The parts of Switchyard's webhook envelope the bench reads.
#[derive(Deserialize)]
struct Envelope {
    uuid: String,
    payload: BenchPayload,
}

#[derive(Deserialize)]
pub struct BenchPayload {
    pub sent_us: u64,
}

async fn webhook(
    State(receipts): State<Arc<Receipts>>,
    Path(destination): Path<u16>,
    body: Bytes,
) -> StatusCode {
    let now = receipts.now_us();
    let Ok(envelope) = serde_json::from_slice::<Envelope>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    *receipts
        .counts
        .lock()
        .expect("lock")
        .entry((envelope.uuid, destination))
        .or_default() += 1;
    receipts
        .latencies_us
        .lock()
        .expect("lock")
        .push((destination, now.saturating_sub(envelope.payload.sent_us)));
    receipts.webhooks.fetch_add(1, Ordering::Relaxed);
    receipts.last_receipt_us.fetch_max(now, Ordering::Relaxed);
    StatusCode::OK
}

async fn hang(State(receipts): State<Arc<Receipts>>) -> StatusCode {
    let mut released = receipts.released.subscribe();
    receipts.hung.fetch_add(1, Ordering::Relaxed);
    let _ = released.wait_for(|r| *r).await;
    StatusCode::OK
}

async fn raw(State(receipts): State<Arc<Receipts>>, body: Bytes) -> StatusCode {
    // Parsed like a webhook so both paths cost the receiver the same.
    if serde_json::from_slice::<Envelope>(&body).is_err() {
        return StatusCode::BAD_REQUEST;
    }
    receipts.raw_posts.fetch_add(1, Ordering::Relaxed);
    StatusCode::OK
}
