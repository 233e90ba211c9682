//! `GET /metrics` on the real `switchyard serve`: after one delivered and one failed event the
//! counters say so, and the whole answer is well-formed Prometheus/OpenMetrics text.

use std::collections::HashMap;

use serde_json::json;
use switchyard_tests::{DEADLINE, Receiver, all_deliveries, event_when, eventually, start};

/// Samples by their full name with labels (`name{a="b"}`), read from exposition text, which
/// must be well-formed: `# HELP/TYPE/UNIT` lines, samples, and `# EOF` last.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.pop(), Some("# EOF"), "OpenMetrics ends with # EOF");
    let mut samples = HashMap::new();
    for line in lines {
        if let Some(comment) = line.strip_prefix("# ") {
            let kind = comment.split(' ').next().unwrap_or_default();
            assert!(["HELP", "TYPE", "UNIT"].contains(&kind), "comment: {line}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("`series value`");
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "metric name: {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "labels: {line}");
        }
        let value: f64 = value.parse().expect("a number");
        samples.insert(series.to_owned(), value);
    }
    samples
}

async fn scrape(api_url: &str) -> (String, String) {
    let response = reqwest::get(format!("{api_url}/metrics"))
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn counters_follow_a_delivered_and_a_failed_event() {
    let (_dir, server, api) = start();
    let ok = Receiver::start().await;
    let refusing = Receiver::start().await;
    // 400 is not retried: the delivery fails on its first attempt.
    refusing.respond_with(400);
    api.webhook_rule(&ok.url("/hook"), "order.paid").await;
    api.webhook_rule(&refusing.url("/hook"), "order.refunded")
        .await;

    let paid = api
        .send_event(json!({"event": "order.paid", "payload": {"n": 1}}))
        .await;
    let refunded = api
        .send_event(json!({"event": "order.refunded", "payload": {"n": 2}}))
        .await;
    event_when(&api, paid["id"].as_str().unwrap(), "delivered", |e| {
        all_deliveries(e, "completed")
    })
    .await;
    event_when(&api, refunded["id"].as_str().unwrap(), "failed", |e| {
        all_deliveries(e, "failed")
    })
    .await;

    // The counters move after the attempt is recorded: poll until they have.
    let samples = eventually("the counters to show both attempts", DEADLINE, || async {
        let (content_type, text) = scrape(&server.api_url).await;
        assert!(content_type.starts_with("application/openmetrics-text"));
        let samples = parse(&text);
        let failed = samples
            .get(r#"switchyard_delivery_attempts_total{status="failed",code="400"}"#)
            .copied();
        (failed == Some(1.0)).then_some(samples)
    })
    .await;
    assert_eq!(
        samples[r#"switchyard_delivery_attempts_total{status="completed",code="200"}"#],
        1.0
    );
    assert_eq!(samples["switchyard_events_ingested_total"], 2.0);
    assert_eq!(
        samples["switchyard_delivery_attempt_duration_seconds_count"],
        2.0
    );
    // Every queue's depth, by state; nothing is left waiting.
    for queue in ["events", "events-dlq", "deliveries", "deliveries-dlq"] {
        for state in ["visible", "in_flight", "delayed"] {
            let series = format!(r#"switchyard_queue_messages{{queue="{queue}",state="{state}"}}"#);
            assert!(samples.contains_key(&series), "missing {series}");
        }
    }
    assert_eq!(
        samples[r#"switchyard_queue_messages{queue="deliveries",state="visible"}"#],
        0.0
    );
    // And how old each queue's oldest message is: the deliveries queue is empty.
    for queue in ["events", "events-dlq", "deliveries", "deliveries-dlq"] {
        let series = format!(r#"switchyard_queue_oldest_message_age_seconds{{queue="{queue}"}}"#);
        assert!(samples.contains_key(&series), "missing {series}");
    }
    assert_eq!(
        samples[r#"switchyard_queue_oldest_message_age_seconds{queue="deliveries"}"#],
        0.0
    );
}

#[tokio::test]
async fn metrics_need_no_credentials_and_show_no_secrets() {
    let (_dir, server, _api) = start();
    let creds = server.credentials();
    let (_, text) = scrape(&server.api_url).await;
    parse(&text);
    for secret in ["secret_key", "publishable_key"] {
        let value = creds[secret].as_str().unwrap();
        assert!(!text.contains(value), "{secret} in /metrics");
    }
}
