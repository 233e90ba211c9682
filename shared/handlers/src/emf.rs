//! CloudWatch embedded metric format (EMF): on Lambda, each metric fact is one JSON log line
//! that CloudWatch turns into metrics, with no API call and no agent, in the namespace
//! `SWITCHYARD_METRICS_NAMESPACE` (the SAM template sets `Switchyard/<stage>`, which its
//! dashboard reads). Off Lambda (the embedded server) nothing is written: `/metrics` serves
//! the same facts.

use std::sync::LazyLock;
use std::time::Duration;

use serde_json::{Value, json};

/// When `SWITCHYARD_METRICS_NAMESPACE` is unset.
const DEFAULT_NAMESPACE: &str = "Switchyard";

static NAMESPACE: LazyLock<String> = LazyLock::new(|| {
    std::env::var("SWITCHYARD_METRICS_NAMESPACE").unwrap_or_else(|_| DEFAULT_NAMESPACE.into())
});

/// Lambda sets this in every function's environment.
static ON_LAMBDA: LazyLock<bool> =
    LazyLock::new(|| std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some());

pub(crate) fn events_ingested(n: usize) {
    if *ON_LAMBDA {
        println!("{}", events_ingested_line(n, now_ms()));
    }
}

pub(crate) fn attempt_recorded(status: &str, code: &str, took: Duration) {
    if *ON_LAMBDA {
        println!("{}", attempt_line(status, code, took, now_ms()));
    }
}

fn events_ingested_line(n: usize, timestamp_ms: i64) -> Value {
    json!({
        "_aws": directive(timestamp_ms, &[], &[("EventsIngested", "Count")]),
        "EventsIngested": n,
    })
}

/// One attempt, counted per resulting status (`DeliveryAttempts` by `Status`) and timed; the
/// HTTP code rides along as a property (searchable in Logs Insights, not a dimension: each
/// dimension value is a separately billed metric).
fn attempt_line(status: &str, code: &str, took: Duration, timestamp_ms: i64) -> Value {
    json!({
        "_aws": directive(
            timestamp_ms,
            &["Status"],
            &[("DeliveryAttempts", "Count"), ("AttemptDuration", "Milliseconds")],
        ),
        "Status": status,
        "Code": code,
        "DeliveryAttempts": 1,
        "AttemptDuration": took.as_secs_f64() * 1000.0,
    })
}

fn directive(timestamp_ms: i64, dimensions: &[&str], metrics: &[(&str, &str)]) -> Value {
    let metrics: Vec<Value> = metrics
        .iter()
        .map(|(name, unit)| json!({"Name": name, "Unit": unit}))
        .collect();
    json!({
        "Timestamp": timestamp_ms,
        "CloudWatchMetrics": [{
            "Namespace": NAMESPACE.as_str(),
            "Dimensions": [dimensions],
            "Metrics": metrics,
        }],
    })
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_line_declares_its_metrics_and_dimension() {
        let line = attempt_line(
            "completed",
            "200",
            Duration::from_micros(1500),
            1_700_000_000_000,
        );
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Switchyard");
        assert_eq!(directive["Dimensions"], json!([["Status"]]));
        assert_eq!(directive["Metrics"][0]["Name"], "DeliveryAttempts");
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000_i64);
        // Every declared metric and dimension is a top-level member, as EMF requires.
        assert_eq!(line["Status"], "completed");
        assert_eq!(line["DeliveryAttempts"], 1);
        assert_eq!(line["AttemptDuration"], 1.5);
    }

    #[test]
    fn an_ingest_line_has_no_dimensions() {
        let line = events_ingested_line(10, 1);
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[]])
        );
        assert_eq!(line["EventsIngested"], 10);
    }
}
