//! Logs as Lambda wants them: plain lines on stdout (CloudWatch adds the time), level from
//! `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL` (the function's log-level setting), else info —
//! `level` or `target=level,…` directives (`Targets`: no regex engine in the bootstrap). Each
//! line carries its span's fields, an event's `trace_id` among them. Spans are exported over
//! OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (e.g. the ADOT collector layer, for X-Ray):
//! each invocation then ends with [`flush_traces`].

pub fn init_logging() {
    use tracing_subscriber::Layer;
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let directives = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL"))
        .unwrap_or_else(|_| "info".into())
        .to_lowercase();
    let filter: Targets = directives
        .parse()
        .unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO));
    let logs = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .with_filter(filter);
    let service = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "switchyard".into());
    // Filtered only when export is on: an absent layer must not make info spans live.
    let traces =
        switchyard_telemetry::layer_from_env(&service).map(|l| l.with_filter(LevelFilter::INFO));
    let _ = tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .try_init();
}

/// Sends the spans of the invocation that just ended before Lambda freezes the sandbox; does
/// nothing when export is off.
pub async fn flush_traces() {
    switchyard_telemetry::flush().await;
}

/// The API's router for lambda_http, each answer preceded by [`flush_traces`] (Lambda
/// freezes the sandbox once it is answered).
pub fn flushing_traces(router: axum::Router) -> axum::Router {
    router.layer(axum::middleware::from_fn(
        |request: axum::extract::Request, next: axum::middleware::Next| async move {
            let response = next.run(request).await;
            flush_traces().await;
            response
        },
    ))
}
