//! Running the real Lambda bootstraps (`target/debug/switchyard-{ingest,api,router,delivery}`)
//! under a local Lambda Runtime API — the HTTP interface the Lambda service offers a
//! `provided.al2023` bootstrap — so a test can hand a function the very JSON documents API
//! Gateway and SQS send, and read its answer. It also times each cold start: from the process
//! starting to its first request for work, which is Lambda's `Init Duration`.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::Notify;

#[derive(Default)]
struct Shared {
    pending: Mutex<VecDeque<(String, Value)>>,
    work: Notify,
    answers: Mutex<HashMap<String, Result<Value, Value>>>,
    answered: Notify,
    first_poll: Mutex<Option<Instant>>,
}

/// The Runtime API of one function, on 127.0.0.1.
pub struct LambdaRuntime {
    addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    _server: tokio::task::JoinHandle<()>,
}

async fn next(State(s): State<Arc<Shared>>) -> Response {
    s.first_poll
        .lock()
        .unwrap()
        .get_or_insert_with(Instant::now);
    loop {
        let notified = s.work.notified();
        if let Some((id, event)) = s.pending.lock().unwrap().pop_front() {
            let mut headers = HeaderMap::new();
            let deadline = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000
                + 60_000)
                .to_string();
            headers.insert(
                "lambda-runtime-aws-request-id",
                HeaderValue::from_str(&id).unwrap(),
            );
            headers.insert(
                "lambda-runtime-deadline-ms",
                HeaderValue::from_str(&deadline).unwrap(),
            );
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:test"),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                HeaderValue::from_static("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
            );
            return (StatusCode::OK, headers, event.to_string()).into_response();
        }
        notified.await;
    }
}

async fn respond(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    s.answers.lock().unwrap().insert(id, Ok(value));
    s.answered.notify_waiters();
    StatusCode::ACCEPTED
}

async fn error(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    s.answers.lock().unwrap().insert(id, Err(value));
    s.answered.notify_waiters();
    StatusCode::ACCEPTED
}

async fn init_error(State(s): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    s.answers.lock().unwrap().insert("init".into(), Err(value));
    s.answered.notify_waiters();
    StatusCode::ACCEPTED
}

impl LambdaRuntime {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            shared,
            _server: server,
        }
    }

    /// Hands `event` to the function and waits (bounded) for its answer: `Ok` with the
    /// response document, `Err` with what the function (or its init) reported as an error.
    pub async fn invoke(&self, event: Value) -> Result<Value, Value> {
        let id = uuid::Uuid::new_v4().to_string();
        self.shared
            .pending
            .lock()
            .unwrap()
            .push_back((id.clone(), event));
        self.shared.work.notify_waiters();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let answered = self.shared.answered.notified();
            {
                let mut answers = self.shared.answers.lock().unwrap();
                if let Some(a) = answers.remove(&id) {
                    return a;
                }
                if let Some(e) = answers.get("init") {
                    return e.clone();
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "the function did not answer within 60 s");
            let _ = tokio::time::timeout(left, answered).await;
        }
    }

    fn first_poll(&self) -> Option<Instant> {
        *self.shared.first_poll.lock().unwrap()
    }
}

/// One function's bootstrap process, killed when dropped.
pub struct LambdaFunction {
    child: Child,
    pub runtime: LambdaRuntime,
    started: Instant,
}

/// `target/<profile>/<name>`, built next to the tests (`make test` builds the functions), or
/// in `$SWITCHYARD_LAMBDA_BIN_DIR` (to time the cold start of optimised builds).
fn bootstrap(name: &str) -> PathBuf {
    let dir = match std::env::var("SWITCHYARD_LAMBDA_BIN_DIR") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) => std::env::current_exe()
            .expect("test executable path")
            .parent()
            .and_then(std::path::Path::parent)
            .expect("target directory")
            .to_owned(),
    };
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} not found: build the functions first (`cargo build --workspace --bins`)",
        path.display()
    );
    path
}

impl LambdaFunction {
    /// Starts the bootstrap `name` with the environment Lambda and the template would give it.
    pub async fn start(name: &str, env: &[(String, String)]) -> Self {
        let runtime = LambdaRuntime::start().await;
        let started = Instant::now();
        let child = Command::new(bootstrap(name))
            .env_clear()
            .envs(env.iter().cloned())
            .env("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the bootstrap");
        Self {
            child,
            runtime,
            started,
        }
    }

    pub async fn invoke(&self, event: Value) -> Result<Value, Value> {
        self.runtime.invoke(event).await
    }

    /// The cold start: from the process starting to its first request for work (after which
    /// its clients are built and its master key read), once it has happened.
    pub fn init_duration(&self) -> Option<Duration> {
        self.runtime.first_poll().map(|t| t - self.started)
    }
}

impl Drop for LambdaFunction {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
