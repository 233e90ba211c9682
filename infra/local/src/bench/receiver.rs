//! The destination: an axum server on 127.0.0.1 that counts every webhook by (event id,
//! destination) and measures ingest→receipt latency from the send time the load generator put
//! in the payload. `/raw` answers the baseline's plain POSTs the same way, counting only.

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
    /// ingest→receipt, µs, since the last [`Receipts::take_latencies`].
    latencies_us: Mutex<Vec<u64>>,
    pub webhooks: AtomicU64,
    pub raw_posts: AtomicU64,
    /// When the latest webhook arrived, µs since `origin`.
    pub last_receipt_us: AtomicU64,
}

impl Receipts {
    pub fn now_us(&self) -> u64 {
        self.origin.elapsed().as_micros() as u64
    }

    pub fn take_latencies(&self) -> Vec<u64> {
        std::mem::take(&mut *self.latencies_us.lock().expect("lock"))
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
        });
        let app = Router::new()
            .route("/d/{destination}", post(webhook))
            .route("/raw", post(raw))
            .with_state(receipts.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { addr, receipts })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
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
        .push(now.saturating_sub(envelope.payload.sent_us));
    receipts.webhooks.fetch_add(1, Ordering::Relaxed);
    receipts.last_receipt_us.fetch_max(now, Ordering::Relaxed);
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
