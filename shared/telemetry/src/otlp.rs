//! OTLP/HTTP JSON: the body of a `POST /v1/traces` (an `ExportTraceServiceRequest`), as the
//! OpenTelemetry protocol's JSON mapping writes it — ids in hex, times as decimal strings of
//! Unix nanoseconds. Collectors (the OpenTelemetry Collector, ADOT, Jaeger, Tempo) accept it.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::collect::SpanRecord;

/// `SPAN_KIND_INTERNAL`; the destination call is `SPAN_KIND_CLIENT`.
const INTERNAL: u8 = 1;
const CLIENT: u8 = 3;
/// `STATUS_CODE_ERROR`.
const ERROR: u8 = 2;

/// The request body for `spans`, all from one service.
pub fn encode(service: &str, spans: &[SpanRecord]) -> Value {
    json!({
        "resourceSpans": [{
            "resource": {"attributes": [attribute("service.name", service)]},
            "scopeSpans": [{
                "scope": {"name": "switchyard", "version": env!("CARGO_PKG_VERSION")},
                "spans": spans.iter().map(span).collect::<Vec<_>>(),
            }],
        }],
    })
}

fn span(s: &SpanRecord) -> Value {
    let mut v = json!({
        "traceId": s.trace_id.to_string(),
        "spanId": s.span_id.to_string(),
        "name": s.name,
        "kind": if s.name == "destination_call" { CLIENT } else { INTERNAL },
        "startTimeUnixNano": nanos(s.start),
        "endTimeUnixNano": nanos(s.end),
        "attributes": s.attributes.iter().map(|(k, v)| attribute(k, v)).collect::<Vec<_>>(),
    });
    if let Some(parent) = s.parent_id {
        v["parentSpanId"] = json!(parent.to_string());
    }
    if let Some((trace, span)) = s.link {
        v["links"] = json!([{"traceId": trace.to_string(), "spanId": span.to_string()}]);
    }
    if s.error {
        v["status"] = json!({"code": ERROR});
    }
    v
}

fn attribute(key: &str, value: &str) -> Value {
    json!({"key": key, "value": {"stringValue": value}})
}

fn nanos(t: SystemTime) -> String {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
        .to_string()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use switchyard_core::trace::{SpanId, TraceId};

    use super::*;

    #[test]
    fn writes_the_otlp_json_mapping() {
        let trace: TraceId = "4bf92f3577b34da6a3ce929d0e0e4736".parse().unwrap();
        let parent: SpanId = "00f067aa0ba902b7".parse().unwrap();
        let start = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let record = SpanRecord {
            name: "destination_call",
            trace_id: trace,
            span_id: "1111111111111111".parse().unwrap(),
            parent_id: Some(parent),
            link: None,
            start,
            end: start + Duration::from_millis(5),
            attributes: vec![("event_id", "e1".into())],
            error: true,
        };
        let body = encode("switchyard-delivery", &[record]);
        let resource = &body["resourceSpans"][0];
        assert_eq!(
            resource["resource"]["attributes"][0]["value"]["stringValue"],
            "switchyard-delivery"
        );
        let span = &resource["scopeSpans"][0]["spans"][0];
        assert_eq!(span["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(span["parentSpanId"], "00f067aa0ba902b7");
        assert_eq!(span["kind"], CLIENT);
        assert_eq!(span["startTimeUnixNano"], "1700000000123000000");
        assert_eq!(span["endTimeUnixNano"], "1700000000128000000");
        assert_eq!(span["attributes"][0]["key"], "event_id");
        assert_eq!(span["status"]["code"], ERROR);
        assert!(span.get("links").is_none());
    }
}
