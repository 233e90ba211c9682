//! Test support for the end-to-end suites: the real `switchyard` process, a real HTTP
//! receiver on 127.0.0.1, an API client that mints machine JWTs independently of our code,
//! and bounded polling (tests never sleep to synchronise).

mod client;
mod lambda;
mod moto;
mod oauth_server;
pub mod outbound;
mod process;
mod provider;
mod receiver;
mod scenario;

use std::future::Future;
use std::time::{Duration, Instant};

pub use client::{Api, expect_status};
pub use lambda::{LambdaFunction, LambdaRuntime};
pub use moto::Moto;
pub use oauth_server::OAuthServer;
pub use process::{E2eBackend, Switchyard, binary};
pub use provider::{FakeProvider, ProviderRequest, Reply};
pub use receiver::{Received, Receiver};
pub use scenario::{
    DEADLINE, WithFakeSlack, all_deliveries, assert_contract_error, delivered_at_least, event_when,
    second_organization, serve_with_fake_slack, start,
};

/// Polls `check` until it returns `Some`, or panics after `deadline` naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// Taken by the suites that load the machine (kill -9 under load, thousands of connections,
/// fifty concurrent requests) and by the one that measures latency beside a hanging
/// destination, so that none of them runs beside another: the e2e target runs as many tests
/// at once as there are cores, in one process. Lighter tests may still run beside them, so
/// `make test` runs the latency test on its own (the Makefile's `LATENCY_TEST`): its bound is
/// about the server, not about a neighbour.
pub async fn alone() -> tokio::sync::MutexGuard<'static, ()> {
    static ALONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    ALONE.lock().await
}
