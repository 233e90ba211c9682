//! Webhook connection settings, read from a connection's metadata, and the URL policy.

use serde_json::{Map, Value};
use url::{Host, Url};

use crate::ValidationErrors;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpMethod {
    Post,
    Put,
    Patch,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadMode {
    /// The envelope (`uuid`, `event`, …, `payload`).
    Wrapped,
    /// The event payload alone.
    Raw,
}

/// Where and how a webhook connection delivers.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookConfig {
    pub url: Url,
    pub method: HttpMethod,
    pub payload_mode: PayloadMode,
}

/// Which URLs may be delivered to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Allow `http://` to loopback hosts (local development only; never on AWS).
    pub allow_loopback_http: bool,
}

impl UrlPolicy {
    /// Checks the scheme and host of a destination URL. Address classes after DNS resolution
    /// are checked again on every connection by the outbound client.
    pub fn check(&self, url: &Url) -> Result<(), String> {
        if url.username() != "" || url.password().is_some() {
            return Err("must not embed credentials; use auth_scheme".into());
        }
        match url.scheme() {
            "https" => {}
            "http" if self.allow_loopback_http && is_loopback_host(url) => {}
            "http" if self.allow_loopback_http => {
                return Err("http:// is allowed only to loopback addresses".into());
            }
            _ => return Err("must be an https:// URL".into()),
        }
        if url.host().is_none() {
            return Err("must have a host".into());
        }
        Ok(())
    }
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl WebhookConfig {
    /// Reads and validates the settings from connection metadata.
    pub fn from_metadata(
        metadata: &Map<String, Value>,
        policy: UrlPolicy,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let url = match metadata.get("url") {
            Some(Value::String(s)) => match Url::parse(s) {
                Ok(url) => match policy.check(&url) {
                    Ok(()) => Some(url),
                    Err(msg) => {
                        errors.push("metadata.url", msg);
                        None
                    }
                },
                Err(_) => {
                    errors.push("metadata.url", "must be a valid URL");
                    None
                }
            },
            _ => {
                errors.push("metadata.url", "is required");
                None
            }
        };
        let method = match metadata.get("http_method").and_then(Value::as_str) {
            None | Some("POST") => HttpMethod::Post,
            Some("PUT") => HttpMethod::Put,
            Some("PATCH") => HttpMethod::Patch,
            Some(_) => {
                errors.push("metadata.http_method", "must be POST, PUT or PATCH");
                HttpMethod::Post
            }
        };
        let payload_mode = match metadata.get("payload_mode").and_then(Value::as_str) {
            None | Some("wrapped") => PayloadMode::Wrapped,
            Some("raw") => PayloadMode::Raw,
            Some(_) => {
                errors.push("metadata.payload_mode", "must be wrapped or raw");
                PayloadMode::Wrapped
            }
        };
        match url {
            Some(url) if errors.is_empty() => Ok(Self {
                url,
                method,
                payload_mode,
            }),
            _ => Err(errors),
        }
    }
}

/// Metadata keys whose values are secrets: accepted on write, sealed at rest, never returned.
const SECRET_KEYS: [&str; 10] = [
    "secret",
    "signing_secret",
    "password",
    "token",
    "bearer_token",
    "api_key",
    "access_token",
    "refresh_token",
    "auth_value",
    "headers",
];

/// Splits connection metadata into what may be shown and what must be sealed.
pub fn split_secrets(metadata: Map<String, Value>) -> (Map<String, Value>, Map<String, Value>) {
    metadata
        .into_iter()
        .partition(|(k, _)| !SECRET_KEYS.contains(&k.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn https_only_unless_loopback_http_is_allowed() {
        let strict = UrlPolicy::default();
        let local = UrlPolicy {
            allow_loopback_http: true,
        };
        let https = meta(json!({"url": "https://example.com/hook"}));
        let http_local = meta(json!({"url": "http://127.0.0.1:9000/hook"}));
        let http_remote = meta(json!({"url": "http://example.com/hook"}));
        assert!(WebhookConfig::from_metadata(&https, strict).is_ok());
        assert!(WebhookConfig::from_metadata(&http_local, strict).is_err());
        assert!(WebhookConfig::from_metadata(&http_local, local).is_ok());
        assert!(WebhookConfig::from_metadata(&http_remote, local).is_err());
        let creds = meta(json!({"url": "https://u:p@example.com/"}));
        assert!(WebhookConfig::from_metadata(&creds, strict).is_err());
    }

    #[test]
    fn reads_method_and_payload_mode() {
        let m = meta(json!({"url": "https://e.com", "http_method": "PUT", "payload_mode": "raw"}));
        let c = WebhookConfig::from_metadata(&m, UrlPolicy::default()).unwrap();
        assert_eq!(c.method, HttpMethod::Put);
        assert_eq!(c.payload_mode, PayloadMode::Raw);
        let bad = meta(json!({"url": "https://e.com", "http_method": "GET"}));
        assert!(WebhookConfig::from_metadata(&bad, UrlPolicy::default()).is_err());
    }

    #[test]
    fn secrets_are_split_off() {
        let (public, secret) = split_secrets(meta(
            json!({"url": "https://e.com", "token": "t0p", "password": "p"}),
        ));
        assert_eq!(public.len(), 1);
        assert_eq!(secret.len(), 2);
    }
}
