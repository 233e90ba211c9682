//! Switchyard's spans as OpenTelemetry traces, sent over OTLP/HTTP with JSON bodies to the
//! collector `OTEL_EXPORTER_OTLP_ENDPOINT` names (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` for the
//! whole URL); off when neither is set, or with `OTEL_TRACES_EXPORTER=none`.
//!
//! A small layer rather than the opentelemetry SDK crates: the handlers already carry W3C ids
//! in their spans' fields, and the Lambda bootstraps must stay small (docs/aws.md).

mod collect;
mod export;
mod otlp;

pub use collect::{SpanRecord, TraceLayer};
pub use export::{Config, flush};

use std::time::Duration;

impl Config {
    /// From the standard `OTEL_*` variables; `None` when no endpoint is set or export is
    /// turned off. `service` names the process when `OTEL_SERVICE_NAME` does not.
    pub fn from_env(service: &str) -> Option<Self> {
        Self::from_vars(|name| std::env::var(name).ok(), service)
    }

    fn from_vars(var: impl Fn(&str) -> Option<String>, service: &str) -> Option<Self> {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        if set("OTEL_TRACES_EXPORTER").is_some_and(|e| e.trim() == "none") {
            return None;
        }
        let url = match set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            Some(url) => url,
            None => format!(
                "{}/v1/traces",
                set("OTEL_EXPORTER_OTLP_ENDPOINT")?.trim_end_matches('/')
            ),
        };
        let number = |name: &str, default: u64| {
            set(name)
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(default)
        };
        Some(Self {
            url,
            service: set("OTEL_SERVICE_NAME").unwrap_or_else(|| service.to_owned()),
            headers: set("OTEL_EXPORTER_OTLP_HEADERS")
                .map(|h| parse_headers(&h))
                .unwrap_or_default(),
            delay: Duration::from_millis(number("OTEL_BSP_SCHEDULE_DELAY", 5_000)),
            batch: number("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512).max(1) as usize,
            queue: number("OTEL_BSP_MAX_QUEUE_SIZE", 2_048).max(1) as usize,
        })
    }
}

/// `key1=value1,key2=value2`, values percent-decoded as the specification says (only `%20`
/// and friends of ASCII are expected here).
fn parse_headers(s: &str) -> Vec<(String, String)> {
    s.split(',')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((k.trim().to_owned(), percent_decode(v.trim())))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The exporting layer when the environment configures export (see the crate docs), else
/// `None` — which, as a layer, does nothing.
pub fn layer_from_env(service: &str) -> Option<TraceLayer> {
    let config = Config::from_env(service)?;
    match export::Exporter::start(config) {
        Ok(exporter) => Some(TraceLayer::new(exporter)),
        Err(e) => {
            eprintln!("trace export off: cannot start its thread: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Option<Config> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_vars(|name| vars.get(name).cloned(), "switchyard")
    }

    #[test]
    fn off_unless_an_endpoint_is_set() {
        assert!(config(&[]).is_none());
        assert!(
            config(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
                ("OTEL_TRACES_EXPORTER", "none"),
            ])
            .is_none()
        );
    }

    #[test]
    fn reads_the_standard_variables() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/"),
            ("OTEL_SERVICE_NAME", "edge"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-key=a%20b, other=c"),
            ("OTEL_BSP_SCHEDULE_DELAY", "200"),
        ])
        .unwrap();
        assert_eq!(c.url, "http://127.0.0.1:4318/v1/traces");
        assert_eq!(c.service, "edge");
        assert_eq!(
            c.headers,
            vec![("x-key".into(), "a b".into()), ("other".into(), "c".into())]
        );
        assert_eq!(c.delay, Duration::from_millis(200));
        assert_eq!((c.batch, c.queue), (512, 2048));
        let whole = config(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c/traces")]).unwrap();
        assert_eq!(
            (whole.url.as_str(), whole.service.as_str()),
            ("http://c/traces", "switchyard")
        );
    }
}
