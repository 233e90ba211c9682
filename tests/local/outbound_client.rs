//! The outbound client's bounds, against real servers on 127.0.0.1: a destination that never
//! answers times out, a closed port is a network error, redirects are not followed, and
//! response bodies are read only up to the bound.

use switchyard_tests::outbound as outbound_fixture;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::any;
use outbound_fixture::{Attempt, integrations_with_hosts, loopback_allowed, quick_settings};
use serde_json::json;
use switchyard_core::outcome::Outcome;
use switchyard_integrations::{HostsTable, Integrations, MAX_RESPONSE_BODY};

fn client() -> Integrations {
    integrations_with_hosts(
        Arc::new(HostsTable::new()),
        quick_settings(),
        loopback_allowed(),
    )
}

#[tokio::test]
async fn a_destination_that_never_answers_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts connections and holds them open without ever answering.
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let started = Instant::now();
    let result = Attempt::webhook(json!({"url": format!("http://{addr}/slow")}))
        .deliver(&client())
        .await;
    holder.abort();
    assert_eq!(result.outcome, Outcome::Timeout, "{result:?}");
    let total = quick_settings().total_timeout;
    assert!(started.elapsed() < total + Duration::from_secs(2));
    assert!(result.duration >= total);
}

#[tokio::test]
async fn a_closed_port_is_a_network_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let result = Attempt::webhook(json!({"url": format!("http://{closed}/hook?token=abc")}))
        .deliver(&client())
        .await;
    assert_eq!(result.outcome, Outcome::NetworkError);
    let error = result.error.unwrap();
    assert!(error.contains("Connection refused"), "{error}");
    assert!(!error.contains("token=abc"), "{error}");
}

/// Serves `/redirect` (307 to `/target`), `/target` and `/big` (100 KiB), counting requests.
async fn start_server(hits: Arc<AtomicUsize>) -> std::net::SocketAddr {
    let count = move || {
        hits.fetch_add(1, Ordering::SeqCst);
    };
    let (c1, c2, c3) = (count.clone(), count.clone(), count);
    let app = Router::new()
        .route(
            "/redirect",
            any(move || async move {
                c1();
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(header::LOCATION, "/target")],
                )
            }),
        )
        .route(
            "/target",
            any(move || async move {
                c2();
                StatusCode::OK
            }),
        )
        .route(
            "/big",
            any(move || async move {
                c3();
                (StatusCode::INTERNAL_SERVER_ERROR, "x".repeat(100 * 1024))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn redirects_are_answers_not_directions() {
    let hits = Arc::new(AtomicUsize::new(0));
    let addr = start_server(hits.clone()).await;
    let result = Attempt::webhook(json!({"url": format!("http://{addr}/redirect")}))
        .deliver(&client())
        .await;
    assert_eq!(result.outcome, Outcome::Delivered);
    assert_eq!(result.status_code, Some(307));
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "the redirect was not followed"
    );
}

#[tokio::test]
async fn response_bodies_are_read_only_up_to_the_bound() {
    let addr = start_server(Arc::new(AtomicUsize::new(0))).await;
    let result = Attempt::webhook(json!({"url": format!("http://{addr}/big")}))
        .deliver(&client())
        .await;
    assert_eq!(result.outcome, Outcome::RejectedServerError);
    assert_eq!(result.response_body.unwrap().len(), MAX_RESPONSE_BODY);
}
