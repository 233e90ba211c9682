//! A real HTTP destination on 127.0.0.1 that records every request (and when it arrived) and
//! answers a status the test chooses — or, hanging, accepts every request and never answers.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};

#[derive(Clone, Debug)]
pub struct Received {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When the request had arrived, body and all.
    pub received_at: Instant,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("receiver got JSON")
    }
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Received>>,
    status: AtomicU16,
    /// Requests still to be answered with `failing_status` before `status` applies again.
    failures_left: AtomicUsize,
    failing_status: AtomicU16,
    /// `Retry-After` seconds sent with every answer, when non-zero.
    retry_after: AtomicU64,
    /// Milliseconds to wait before answering, so deliveries are in flight for a while.
    delay_ms: AtomicU64,
    /// Never answer: the connection stays open until the client gives up.
    hanging: AtomicBool,
    echoing: AtomicBool,
    /// While true, requests are recorded and then wait to be answered until it is false.
    held: tokio::sync::watch::Sender<bool>,
}

/// Stops serving when dropped.
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared {
            status: AtomicU16::new(200),
            ..Default::default()
        });
        let app = Router::new().fallback(record).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("receiver serves");
        });
        Self { addr, shared, task }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The status every later request is answered with.
    pub fn respond_with(&self, status: u16) {
        self.shared.status.store(status, Ordering::SeqCst);
    }

    /// The next `n` requests are answered with `status`; then the usual status again.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.shared.failing_status.store(status, Ordering::SeqCst);
        self.shared.failures_left.store(n, Ordering::SeqCst);
    }

    /// Sends `Retry-After: <secs>` with every answer (0 stops it).
    pub fn retry_after(&self, secs: u64) {
        self.shared.retry_after.store(secs, Ordering::SeqCst);
    }

    /// Answers every request only after `ms` milliseconds.
    pub fn answer_after(&self, ms: u64) {
        self.shared.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Accepts every later request and never answers it (the client's timeout ends it).
    pub fn hang(&self) {
        self.shared.hanging.store(true, Ordering::SeqCst);
    }

    /// Holds every later request unanswered until `release`, so a test can act while a call
    /// is in flight.
    pub fn hold(&self) {
        self.shared.held.send_replace(true);
    }

    /// Answers the held requests (and answers later ones at once).
    pub fn release(&self) {
        self.shared.held.send_replace(false);
    }

    /// From now on, answers with the body it was sent, as many destinations do.
    pub fn echo(&self) {
        self.shared.echoing.store(true, Ordering::SeqCst);
    }

    pub fn requests(&self) -> Vec<Received> {
        self.shared.requests.lock().expect("lock").clone()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap, Bytes) {
    let echo = if shared.echoing.load(Ordering::SeqCst) {
        body.clone()
    } else {
        Bytes::new()
    };
    shared.requests.lock().expect("lock").push(Received {
        method,
        path: uri.path().to_owned(),
        headers,
        body,
        received_at: Instant::now(),
    });
    if shared.hanging.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    let _ = shared.held.subscribe().wait_for(|held| !held).await;
    let delay = shared.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let failing = shared
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let status = if failing {
        shared.failing_status.load(Ordering::SeqCst)
    } else {
        shared.status.load(Ordering::SeqCst)
    };
    let mut answer = HeaderMap::new();
    let retry_after = shared.retry_after.load(Ordering::SeqCst);
    if retry_after > 0 {
        answer.insert("retry-after", retry_after.into());
    }
    (
        StatusCode::from_u16(status).expect("valid status"),
        answer,
        echo,
    )
}
