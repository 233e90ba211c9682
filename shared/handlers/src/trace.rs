//! One trace per event: how ingest assigns traces, and the handlers' spans.
//!
//! Spans carry their place in the trace as fields — `trace_id`, `span_id`, `parent_id` and,
//! for a bulk item, `link_trace_id`/`link_span_id` (the request's span) — so every log line
//! inside one shows the trace id, and the OTLP exporter (`switchyard-telemetry`) reads the same
//! fields. A span without them belongs to the trace of the span it is in.

use axum::http::HeaderMap;
use switchyard_core::EventId;
use switchyard_core::trace::{SpanId, TraceId, TraceParent};

/// The trace context of one ingest request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestTrace {
    /// The request's own span: in the caller's trace when its `traceparent` was valid.
    pub span: TraceParent,
    /// The caller's span, the request span's parent (a valid incoming `traceparent`).
    pub parent: Option<SpanId>,
    /// Bulk: each event starts a trace of its own, linked to the request's span. Otherwise
    /// the event is in the request's trace.
    pub per_item: bool,
}

impl RequestTrace {
    /// From the request's `traceparent` header: honoured when valid, else a new trace.
    pub fn from_headers(headers: &HeaderMap, per_item: bool) -> Self {
        let incoming = headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(TraceParent::parse);
        let span = SpanId::random();
        Self {
            span: incoming.map_or_else(
                || TraceParent::new_root(span, now_secs()),
                |tp| tp.child(span),
            ),
            parent: incoming.map(|tp| tp.span_id),
            per_item,
        }
    }

    /// A request with no caller's trace (a rule's test event, tests).
    pub fn fresh() -> Self {
        Self {
            span: TraceParent::new_root(SpanId::random(), now_secs()),
            parent: None,
            per_item: false,
        }
    }

    /// The trace of a new event of this request.
    pub fn trace_of_new(&self) -> TraceId {
        if self.per_item {
            TraceId::starting_at(now_secs())
        } else {
            self.span.trace_id
        }
    }

    /// The span the router's span of `event` (in trace `trace`) is the child of: the request
    /// span, or for a bulk item its own root span ([`item_span`]).
    pub fn parent_of(&self, event: EventId, trace: TraceId) -> TraceParent {
        if trace == self.span.trace_id {
            self.span
        } else {
            TraceParent {
                trace_id: trace,
                span_id: item_span(event),
                flags: self.span.flags,
            }
        }
    }

    /// The request's span, around all of ingest's work and logs for it.
    pub fn request_span(&self) -> tracing::Span {
        tracing::info_span!(
            "ingest",
            trace_id = %self.span.trace_id,
            span_id = %self.span.span_id,
            parent_id = self.parent.map(tracing::field::display),
        )
    }

    /// A bulk item's root span in its own trace, linked to the request's span.
    pub fn item_span(&self, event: EventId, trace: TraceId) -> tracing::Span {
        tracing::info_span!(
            "ingest_event",
            trace_id = %trace,
            span_id = %item_span(event),
            link_trace_id = %self.span.trace_id,
            link_span_id = %self.span.span_id,
        )
    }
}

/// A bulk item's root span id: the last 8 bytes of its event id (random bits of the
/// UUIDv7), so the router's parent is known from the event alone.
pub fn item_span(event: EventId) -> SpanId {
    let bytes = event.0.as_bytes();
    let mut id = [0u8; 8];
    id.copy_from_slice(&bytes[8..]);
    SpanId::from_bytes(id).unwrap_or_else(SpanId::random)
}

/// The span a handler runs in: a child of `parent` (the previous hop's span) with a fresh id,
/// or the root of a new trace for a message that carried none.
pub fn child_of(parent: Option<TraceParent>) -> (TraceParent, Option<SpanId>) {
    let span = SpanId::random();
    match parent {
        Some(tp) => (tp.child(span), Some(tp.span_id)),
        None => (TraceParent::new_root(span, now_secs()), None),
    }
}

/// New trace ids start with the time (see [`TraceId::starting_at`]).
fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
