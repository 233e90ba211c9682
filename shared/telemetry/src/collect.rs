//! The `tracing` layer that turns closed spans into trace spans.
//!
//! A span names its place in a trace with fields — `trace_id`, `span_id`, `parent_id` (hex),
//! and `link_trace_id`/`link_span_id` for a link — as the handlers write them. A span without
//! `trace_id` inside such a span belongs to its trace, under a fresh span id; a span in no
//! trace at all is not exported. Other fields become attributes.

use std::time::SystemTime;

use switchyard_core::trace::{SpanId, TraceId};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::export::Exporter;

/// One finished span, ready for OTLP.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanRecord {
    pub name: &'static str,
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub parent_id: Option<SpanId>,
    pub link: Option<(TraceId, SpanId)>,
    pub start: SystemTime,
    pub end: SystemTime,
    pub attributes: Vec<(&'static str, String)>,
    /// An error-level event was logged inside the span.
    pub error: bool,
}

/// The fields read off a span as it is created or recorded.
#[derive(Default)]
struct Fields {
    trace_id: Option<TraceId>,
    span_id: Option<SpanId>,
    parent_id: Option<SpanId>,
    link_trace_id: Option<TraceId>,
    link_span_id: Option<SpanId>,
    attributes: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "trace_id" => self.trace_id = value.parse().ok(),
            "span_id" => self.span_id = value.parse().ok(),
            "parent_id" => self.parent_id = value.parse().ok(),
            "link_trace_id" => self.link_trace_id = value.parse().ok(),
            "link_span_id" => self.link_span_id = value.parse().ok(),
            name => self.attributes.push((name, value.to_owned())),
        }
    }
}

/// What the layer keeps in a span's extensions between its creation and its close.
struct Open(SpanRecord);

/// Collects spans of traces and hands them to the exporter when they close.
pub struct TraceLayer {
    exporter: Exporter,
}

impl TraceLayer {
    pub(crate) fn new(exporter: Exporter) -> Self {
        Self { exporter }
    }
}

impl<S> Layer<S> for TraceLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        // Its own trace, or the trace of the span it is in.
        let inherited = span.parent().and_then(|parent| {
            let ext = parent.extensions();
            ext.get::<Open>().map(|o| (o.0.trace_id, o.0.span_id))
        });
        let (trace_id, span_id, parent_id) = match (fields.trace_id, inherited) {
            (Some(trace), _) => (
                trace,
                fields.span_id.unwrap_or_else(SpanId::random),
                fields.parent_id,
            ),
            (None, Some((trace, parent))) => (trace, SpanId::random(), Some(parent)),
            (None, None) => return,
        };
        let now = SystemTime::now();
        span.extensions_mut().insert(Open(SpanRecord {
            name: attrs.metadata().name(),
            trace_id,
            span_id,
            parent_id,
            link: fields.link_trace_id.zip(fields.link_span_id),
            start: now,
            end: now,
            attributes: fields.attributes,
            error: false,
        }));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(open) = ext.get_mut::<Open>() {
            let mut fields = Fields::default();
            values.record(&mut fields);
            open.0.attributes.extend(fields.attributes);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if *event.metadata().level() != tracing::Level::ERROR {
            return;
        }
        if let Some(span) = ctx.event_span(event)
            && let Some(open) = span.extensions_mut().get_mut::<Open>()
        {
            open.0.error = true;
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        if let Some(Open(mut record)) = span.extensions_mut().remove::<Open>() {
            record.end = SystemTime::now();
            self.exporter.send(record);
        }
    }
}
