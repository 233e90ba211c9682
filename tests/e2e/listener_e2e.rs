//! The API listener against clients that misbehave: thousands of idle connections, a request
//! head that never ends, and oversized requests. The server keeps answering real requests,
//! closes what it must, and answers every refusal in the contract's error body.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use switchyard_tests::{Api, Switchyard, assert_contract_error, expect_status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn start(extra: &[&str]) -> (tempfile::TempDir, Switchyard, Api) {
    let dir = tempfile::tempdir().unwrap();
    let server = Switchyard::start_with(&dir.path().join("data"), extra);
    let api = Api::from_credentials(&server.credentials());
    (dir, server, api)
}

fn host_port(api: &Api) -> String {
    api.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection (EOF or reset), within `deadline`.
async fn closed_within(stream: &mut TcpStream, deadline: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let until = Instant::now() + deadline;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {} // a response (e.g. 408) before the close
        }
    }
}

#[tokio::test]
async fn a_fresh_request_answers_while_two_thousand_idle_connections_are_open() {
    let _alone = switchyard_tests::alone().await;
    // The test holds 2,000 sockets itself.
    rlimit::increase_nofile_limit(4096).unwrap();
    let (_dir, server, api) = start(&["--allow-loopback-http", "--max-connections", "1024"]);
    let addr = host_port(&api);

    let mut idle = Vec::with_capacity(2000);
    for _ in 0..2000 {
        idle.push(TcpStream::connect(&addr).await.expect("connect"));
    }
    // A client that arrives now, with a fresh connection, is served promptly: at the cap the
    // longest-idle connections make room (the header timeout, 10 s, has not passed).
    let started = Instant::now();
    let fresh = reqwest::Client::builder()
        .timeout(Duration::from_secs(8))
        .build()
        .unwrap();
    let response = fresh
        .post(format!("{}/api/v1/events", api.base))
        .header("X-Meshes-Publishable-Key", &api.publishable_key)
        .json(&json!({"event": "user.signup"}))
        .send()
        .await
        .expect("a fresh POST answers while 2,000 idle connections are open");
    expect_status(response, 201).await;
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );

    // The oldest idle connections were closed to make room.
    assert!(closed_within(&mut idle[0], Duration::from_secs(5)).await);
    // SIGTERM still ends the process cleanly with idle connections open.
    assert!(server.stop(), "clean exit");
    drop(idle);
}

#[tokio::test]
async fn a_request_head_that_never_ends_is_closed_after_the_header_timeout() {
    let (_dir, _server, api) = start(&["--allow-loopback-http", "--header-timeout", "1"]);
    let addr = host_port(&api);

    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    assert!(
        closed_within(&mut slow, Duration::from_secs(10)).await,
        "slow head still open after 10 s"
    );
    assert!(started.elapsed() >= Duration::from_millis(500));

    // An idle keep-alive connection after a response is closed the same way.
    let mut kept = TcpStream::connect(&addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = kept.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    assert!(closed_within(&mut kept, Duration::from_secs(10)).await);

    // And the server still answers.
    let health = reqwest::get(format!("{}/healthz", api.base)).await.unwrap();
    assert_eq!(health.status(), 200);
}

fn assert_named(body: &Value, name: &str) {
    assert_contract_error(body);
    assert_eq!(body["error"]["name"], name, "{body}");
}

#[tokio::test]
async fn oversized_requests_answer_413_414_and_431_in_the_error_format() {
    let (_dir, _server, api) = start(&["--allow-loopback-http"]);

    let long_uri = api
        .machine(Method::GET, &format!("/workspaces?x={}", "a".repeat(9000)))
        .send()
        .await
        .unwrap();
    assert_named(&expect_status(long_uri, 414).await, "UriTooLong");

    let big_header = api
        .machine(Method::GET, "/workspaces")
        .header("X-Big", "b".repeat(40 * 1024))
        .send()
        .await
        .unwrap();
    assert_named(&expect_status(big_header, 431).await, "HeadersTooLarge");

    let mut many = api.machine(Method::GET, "/workspaces");
    for n in 0..150 {
        many = many.header(format!("x-h{n}"), "v");
    }
    let many = many.send().await.unwrap();
    assert_named(&expect_status(many, 431).await, "HeadersTooLarge");

    let big_body = api
        .request(Method::POST, "/events")
        .header("X-Meshes-Publishable-Key", &api.publishable_key)
        .header("content-type", "application/json")
        .body(format!(
            "{{\"event\":\"a.b\",\"payload\":{{\"x\":\"{}\"}}}}",
            "c".repeat(2 * 1024 * 1024)
        ))
        .send()
        .await
        .unwrap();
    assert_named(&expect_status(big_body, 413).await, "PayloadTooLarge");

    // Nothing was stored, and ordinary requests still work.
    assert_eq!(api.get("/events").await["count"], 0);
}

#[tokio::test]
async fn connections_stuck_in_a_request_head_make_room_at_the_cap() {
    let (_dir, _server, api) = start(&["--allow-loopback-http", "--max-connections", "10"]);
    let addr = host_port(&api);
    let mut stuck = Vec::new();
    for _ in 0..30 {
        let mut slow = TcpStream::connect(&addr).await.unwrap();
        slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        stuck.push(slow);
    }
    // Well before the 10 s header timeout, a fresh request is served.
    let fresh = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = Instant::now();
    let health = fresh
        .get(format!("{}/healthz", api.base))
        .send()
        .await
        .expect("answered while the cap is full of slow heads");
    assert_eq!(health.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(closed_within(&mut stuck[0], Duration::from_secs(5)).await);
}

#[tokio::test]
async fn a_body_that_stalls_is_refused_after_the_body_timeout() {
    let (_dir, _server, api) = start(&["--allow-loopback-http", "--body-timeout", "1"]);
    let mut slow = TcpStream::connect(host_port(&api)).await.unwrap();
    let head = format!(
        "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nX-Meshes-Publishable-Key: {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"event\":",
        api.publishable_key
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    // The answer comes within a bounded wait, in the error format, and the socket closes.
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "no answer within 10 s");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_contract_error(&body);
    assert_eq!(api.get("/events").await["count"], 0, "nothing stored");
}
