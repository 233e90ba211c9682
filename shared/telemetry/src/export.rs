//! The exporter: finished spans are batched on a thread of their own and posted to the
//! collector, so a handler never waits on the collector (a full queue drops spans, counted in
//! a warning, rather than slowing or growing without bound). `flush` sends what is queued and
//! waits for it: Lambda freezes a sandbox between invocations, so each invocation ends with one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

use crate::collect::SpanRecord;
use crate::otlp;

/// Where and how spans are sent (from the standard `OTEL_*` variables).
#[derive(Clone, Debug)]
pub struct Config {
    /// The full URL spans are posted to (`…/v1/traces`).
    pub url: String,
    pub service: String,
    /// Extra request headers (`OTEL_EXPORTER_OTLP_HEADERS`); values are never logged.
    pub headers: Vec<(String, String)>,
    /// How long a span may wait for its batch (`OTEL_BSP_SCHEDULE_DELAY`, ms).
    pub delay: Duration,
    /// The most spans per request (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`).
    pub batch: usize,
    /// The most spans waiting (`OTEL_BSP_MAX_QUEUE_SIZE`); more are dropped.
    pub queue: usize,
}

enum Command {
    Span(SpanRecord),
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// The sending side, held by the layer (and, for [`flush`], globally).
#[derive(Clone)]
pub struct Exporter {
    tx: SyncSender<Command>,
    dropped: Arc<AtomicU64>,
}

static GLOBAL: OnceLock<Exporter> = OnceLock::new();

impl Exporter {
    /// Starts the exporting thread.
    pub(crate) fn start(config: Config) -> std::io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::sync_channel(config.queue);
        let dropped = Arc::new(AtomicU64::new(0));
        let exporter = Self {
            tx,
            dropped: dropped.clone(),
        };
        std::thread::Builder::new()
            .name("otlp-export".into())
            .spawn(move || run(config, rx, dropped))?;
        let _ = GLOBAL.set(exporter.clone());
        Ok(exporter)
    }

    pub(crate) fn send(&self, span: SpanRecord) {
        if let Err(TrySendError::Full(_)) = self.tx.try_send(Command::Span(span)) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Sends every span finished so far and waits (at most 2 s) for the collector's answer; does
/// nothing when export is off.
pub async fn flush() {
    let Some(exporter) = GLOBAL.get() else { return };
    let (done, wait) = tokio::sync::oneshot::channel();
    // A blocking send: a flush must not be lost to a full queue.
    let tx = exporter.tx.clone();
    let sent = tokio::task::spawn_blocking(move || tx.send(Command::Flush(done)).is_ok()).await;
    if matches!(sent, Ok(true)) {
        let _ = tokio::time::timeout(Duration::from_secs(2), wait).await;
    }
}

fn run(config: Config, rx: Receiver<Command>, dropped: Arc<AtomicU64>) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    // The HTTP client's connector and timers need the runtime's context, on this thread too.
    let _context = rt.enter();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .default_headers(headers(&config))
        .build();
    let Ok(client) = client else {
        tracing::warn!("trace export off: cannot build its HTTP client");
        return;
    };
    let mut batch: Vec<SpanRecord> = Vec::new();
    let mut due: Option<Instant> = None;
    let export = |batch: &mut Vec<SpanRecord>| {
        for chunk in batch.chunks(config.batch.max(1)) {
            let body = otlp::encode(&config.service, chunk).to_string();
            let sent = rt.block_on(client.post(&config.url).body(body).send());
            match sent {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => {
                    tracing::warn!(status = %r.status(), spans = chunk.len(), "trace export refused")
                }
                Err(e) => tracing::warn!(error = %e, spans = chunk.len(), "trace export failed"),
            }
        }
        batch.clear();
        let lost = dropped.swap(0, Ordering::Relaxed);
        if lost > 0 {
            tracing::warn!(spans = lost, "trace export queue full: spans dropped");
        }
    };
    loop {
        let wait = due.map_or(Duration::from_secs(3600), |d| {
            d.saturating_duration_since(Instant::now())
        });
        match rx.recv_timeout(wait) {
            Ok(Command::Span(span)) => {
                batch.push(span);
                due.get_or_insert_with(|| Instant::now() + config.delay);
                if batch.len() >= config.batch {
                    export(&mut batch);
                    due = None;
                }
            }
            Ok(Command::Flush(done)) => {
                export(&mut batch);
                due = None;
                let _ = done.send(());
            }
            Err(RecvTimeoutError::Timeout) => {
                export(&mut batch);
                due = None;
            }
            Err(RecvTimeoutError::Disconnected) => {
                export(&mut batch);
                return;
            }
        }
    }
}

fn headers(config: &Config) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in &config.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(mut value)) => {
                value.set_sensitive(true);
                headers.insert(name, value);
            }
            _ => tracing::warn!(header = %name, "OTEL_EXPORTER_OTLP_HEADERS: header ignored"),
        }
    }
    headers
}
