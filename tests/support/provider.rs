//! A fake SaaS provider on 127.0.0.1: records every request and answers what the test scripted
//! for its route (`METHOD /path`), in the provider's own wire format (the test supplies the
//! JSON bodies and headers the provider's docs describe). Unscripted routes get a 404.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use serde_json::Value;
use tokio::sync::watch;

/// One request the provider received.
#[derive(Clone, Debug)]
pub struct ProviderRequest {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl ProviderRequest {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `METHOD /path`.
    pub fn route(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    /// How long to wait before answering (to see a client time out).
    pub delay: std::time::Duration,
    /// Holds the request until the route is scripted again, then answers with that script.
    held: bool,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body,
            delay: std::time::Duration::ZERO,
            held: false,
        }
    }

    /// No answer until the test scripts the route again: a request arriving meanwhile waits
    /// and gets the new script. A test that must see a state between two attempts (a key
    /// refused, then accepted) holds the second here instead of racing the retry schedule.
    pub fn held() -> Self {
        Self {
            held: true,
            ..Self::json(503, Value::Null)
        }
    }

    pub fn after(mut self, delay: std::time::Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

struct Shared {
    requests: Mutex<Vec<ProviderRequest>>,
    replies: Mutex<HashMap<String, Reply>>,
    /// Replies for the next requests of a route, before its standing script.
    next: Mutex<HashMap<String, VecDeque<Reply>>>,
    /// Counts `script` calls, so that held requests wake when their route may have changed.
    scripted: watch::Sender<u64>,
}

impl Shared {
    /// What the request gets now: a route with a query is preferred over the same route
    /// without one, and a one-off reply over the standing script.
    fn reply(&self, keys: [&str; 2]) -> Option<Reply> {
        let mut next = self.next.lock().expect("lock");
        let replies = self.replies.lock().expect("lock");
        keys.iter().find_map(|key| {
            next.get_mut(*key)
                .and_then(VecDeque::pop_front)
                .or_else(|| replies.get(*key).cloned())
        })
    }
}

/// Stops serving when dropped.
pub struct FakeProvider {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeProvider {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared {
            requests: Mutex::default(),
            replies: Mutex::default(),
            next: Mutex::default(),
            scripted: watch::Sender::new(0),
        });
        let app = Router::new().fallback(answer).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake provider serves");
        });
        Self { addr, shared, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers `route` (`"POST /slack/api/chat.postMessage"`) with `reply` from now on. A route
    /// with a query (`"GET /x?q=1"`) is preferred over the same route without one.
    pub fn script(&self, route: &str, reply: Reply) {
        self.shared
            .replies
            .lock()
            .expect("lock")
            .insert(route.to_owned(), reply);
        self.shared.scripted.send_modify(|n| *n += 1);
    }

    /// Answers the next request on `route` with `reply`, before its standing script; several
    /// calls queue in order.
    pub fn script_next(&self, route: &str, reply: Reply) {
        self.shared
            .next
            .lock()
            .expect("lock")
            .entry(route.to_owned())
            .or_default()
            .push_back(reply);
    }

    pub fn requests(&self) -> Vec<ProviderRequest> {
        self.shared.requests.lock().expect("lock").clone()
    }

    pub fn clear(&self) {
        self.shared.requests.lock().expect("lock").clear();
        self.shared.replies.lock().expect("lock").clear();
        self.shared.next.lock().expect("lock").clear();
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap, String) {
    let request = ProviderRequest {
        method,
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers,
        body,
    };
    let route = request.route();
    let with_query = request
        .query
        .as_ref()
        .map(|q| format!("{route}?{q}"))
        .unwrap_or_default();
    shared.requests.lock().expect("lock").push(request);
    let reply = loop {
        // Subscribed before the look, so a script between the two is not missed.
        let mut rescripted = shared.scripted.subscribe();
        match shared.reply([&with_query, &route]) {
            Some(reply) if reply.held => {
                let sender_lives_in_shared = rescripted.changed().await;
                sender_lives_in_shared.expect("scripted");
            }
            Some(reply) => break reply,
            None => {
                break Reply::json(
                    404,
                    serde_json::json!({"message": format!("no route {route}")}),
                );
            }
        }
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut answer = HeaderMap::new();
    answer.insert("content-type", HeaderValue::from_static("application/json"));
    for (name, value) in &reply.headers {
        answer.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    (
        StatusCode::from_u16(reply.status).expect("status"),
        answer,
        reply.body.to_string(),
    )
}
