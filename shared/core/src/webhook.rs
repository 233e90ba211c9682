//! Webhook connection settings, read from a connection's metadata, and the URL policy.
//!
//! The metadata keys (contract: "Webhook connection metadata"; secret ones are sealed by
//! [`split_secrets`] and reach delivery through `DeliveryRequest::secrets`):
//!
//! | key | values | secret |
//! |---|---|---|
//! | `url` | `https://…` (or `http://` loopback with `allow_loopback_http`) | |
//! | `http_method` | `POST` (default), `PUT`, `PATCH` | |
//! | `payload_mode` | `wrapped` (default), `raw` | |
//! | `auth_scheme` | `none` (default), `basic`, `bearer`, `header` | |
//! | `auth_username`, `auth_password` | for `basic` | yes |
//! | `auth_token` | for `bearer` | yes |
//! | `auth_header_name` | for `header`, e.g. `X-Api-Key` | |
//! | `auth_header_value` | for `header` | yes |
//! | `headers` | object of up to 5 custom headers `{name: value}` | yes |
//! | `signing_secret` | `whsec_…` (Standard Webhooks; generated on create if absent) | yes |
//! | `signature_algorithm` | `sha256`, `sha512`: also send the Meshes-style HMAC | |
//! | `signature_header` | that HMAC's header, default `X-Meshes-Signature` | |
//! | `timeout_ms` | how long an attempt waits for the answer, 1000–30000 (default 30000) | |
//!
//! Custom headers and the auth header may not replace what Switchyard itself sets: framing
//! headers (`Content-Type`, `Host`, …) and the signature headers, which receivers must be able
//! to trust.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use url::{Host, Url};

use crate::ValidationErrors;
use crate::secret::Secret;
use crate::signing::{
    DEFAULT_HMAC_HEADER, HmacAlgorithm, PREVIOUS_SIGNING_SECRET,
    PREVIOUS_SIGNING_SECRET_EXPIRES_AT, SIGNING_SECRET, SigningKeys, WEBHOOK_ID, WEBHOOK_SIGNATURE,
    WEBHOOK_TIMESTAMP,
};

pub const AUTH_SCHEME: &str = "auth_scheme";
pub const AUTH_USERNAME: &str = "auth_username";
pub const AUTH_PASSWORD: &str = "auth_password";
pub const AUTH_TOKEN: &str = "auth_token";
pub const AUTH_HEADER_NAME: &str = "auth_header_name";
pub const AUTH_HEADER_VALUE: &str = "auth_header_value";
pub const HEADERS: &str = "headers";
pub const SIGNATURE_ALGORITHM: &str = "signature_algorithm";
pub const SIGNATURE_HEADER: &str = "signature_header";
pub const TIMEOUT_MS: &str = "timeout_ms";

/// How long an attempt waits for its answer unless the connection says less: the outbound
/// client's total timeout.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// The shortest `timeout_ms` a connection may set.
const MIN_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);

/// The contract's bound on custom headers per connection.
pub const MAX_CUSTOM_HEADERS: usize = 5;
const MAX_HEADER_NAME: usize = 128;
const MAX_HEADER_VALUE: usize = 4096;

/// Headers Switchyard sets itself (lower case). Framing headers would corrupt the request;
/// signature headers would let a connection forge what receivers verify.
const RESERVED_HEADERS: [&str; 17] = [
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "host",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "proxy-authorization",
    "proxy-connection",
    WEBHOOK_ID,
    WEBHOOK_TIMESTAMP,
    WEBHOOK_SIGNATURE,
    "x-meshes-signature",
];

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

/// How a connection authenticates to its endpoint. Credentials are [`Secret`]s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    None,
    Basic { username: Secret, password: Secret },
    Bearer { token: Secret },
    Header { name: String, value: Secret },
}

impl Auth {
    /// The header carrying the credentials, if any: `(name, value)`.
    pub fn header(&self) -> Option<(&str, Secret)> {
        match self {
            Self::None => None,
            Self::Basic { username, password } => {
                let pair = format!("{}:{}", username.expose(), password.expose());
                let value = format!("Basic {}", STANDARD.encode(pair));
                Some(("Authorization", Secret::new(value)))
            }
            Self::Bearer { token } => Some((
                "Authorization",
                Secret::new(format!("Bearer {}", token.expose())),
            )),
            Self::Header { name, value } => Some((name, value.clone())),
        }
    }
}

/// One of a connection's custom headers. The value may carry an API key: it is a [`Secret`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomHeader {
    pub name: String,
    pub value: Secret,
}

/// The Meshes-style HMAC a connection asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HmacSignature {
    pub algorithm: HmacAlgorithm,
    pub header: String,
}

/// How a connection's requests are signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signing {
    /// Standard Webhooks signing secrets; `None` sends `webhook-id`/`-timestamp` unsigned.
    pub keys: Option<SigningKeys>,
    pub hmac: Option<HmacSignature>,
}

/// Where and how a webhook connection delivers.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookConfig {
    pub url: Url,
    pub method: HttpMethod,
    pub payload_mode: PayloadMode,
    pub auth: Auth,
    pub headers: Vec<CustomHeader>,
    pub signing: Signing,
    /// How long an attempt waits for the answer (`timeout_ms`).
    pub timeout: Duration,
}

/// The longest webhook URL accepted (bytes). Servers and proxies refuse request lines much
/// longer (414), so a longer URL could only fail on every attempt for the whole schedule.
pub const MAX_URL_BYTES: usize = 2048;

/// Refuses a `url` over [`MAX_URL_BYTES`]: a destination that cannot be delivered to.
pub fn check_url_length(metadata: &Map<String, Value>) -> Result<(), ValidationErrors> {
    match metadata.get("url").and_then(Value::as_str) {
        Some(url) if url.len() > MAX_URL_BYTES => Err(ValidationErrors::single(
            "metadata.url",
            format!("must be at most {MAX_URL_BYTES} bytes"),
        )),
        _ => Ok(()),
    }
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
    /// Reads and validates the settings from connection metadata as the user sent it (secret
    /// and public keys together, before [`split_secrets`]). Error messages name the
    /// `metadata.*` param and never repeat a secret value.
    pub fn from_metadata(
        metadata: &Map<String, Value>,
        policy: UrlPolicy,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let url = read_url(metadata, policy, &mut errors);
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
        let signing = read_signing(metadata, &mut errors);
        let hmac_header = signing.hmac.as_ref().map(|h| h.header.as_str());
        let auth = read_auth(metadata, hmac_header, &mut errors);
        let headers = read_headers(metadata, &auth, hmac_header, &mut errors);
        let timeout = read_timeout(metadata, &mut errors);
        match url {
            Some(url) if errors.is_empty() => Ok(Self {
                url,
                method,
                payload_mode,
                auth,
                headers,
                signing,
                timeout,
            }),
            _ => Err(errors),
        }
    }

    /// Reads the settings of a stored connection: its shown metadata and its opened secrets.
    pub fn from_connection(
        metadata: &Map<String, Value>,
        secrets: &Map<String, Value>,
        policy: UrlPolicy,
    ) -> Result<Self, ValidationErrors> {
        let mut all = metadata.clone();
        all.extend(secrets.iter().map(|(k, v)| (k.clone(), v.clone())));
        Self::from_metadata(&all, policy)
    }
}

fn read_url(
    metadata: &Map<String, Value>,
    policy: UrlPolicy,
    errors: &mut ValidationErrors,
) -> Option<Url> {
    if let Err(e) = check_url_length(metadata) {
        errors.0.extend(e.0);
        return None;
    }
    match metadata.get("url") {
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
    }
}

/// `timeout_ms`: whole milliseconds within 1000..=30000; absent is the default.
fn read_timeout(metadata: &Map<String, Value>, errors: &mut ValidationErrors) -> Duration {
    let range = MIN_ATTEMPT_TIMEOUT.as_millis() as u64..=DEFAULT_ATTEMPT_TIMEOUT.as_millis() as u64;
    match metadata.get(TIMEOUT_MS) {
        None | Some(Value::Null) => DEFAULT_ATTEMPT_TIMEOUT,
        Some(v) => match v.as_u64().filter(|ms| range.contains(ms)) {
            Some(ms) => Duration::from_millis(ms),
            None => {
                errors.push(
                    param(TIMEOUT_MS),
                    "must be a whole number of milliseconds from 1000 to 30000",
                );
                DEFAULT_ATTEMPT_TIMEOUT
            }
        },
    }
}

/// How long an attempt to a connection waits for its answer: its `timeout_ms` (validated on
/// create and update), the default otherwise. Read by the delivery handler for every type.
pub fn attempt_timeout(metadata: &Map<String, Value>) -> Duration {
    let mut ignored = ValidationErrors::default();
    read_timeout(metadata, &mut ignored)
}

fn param(key: &str) -> String {
    format!("metadata.{key}")
}

/// A string value, or an error naming the param if present with another type.
fn string<'a>(
    metadata: &'a Map<String, Value>,
    key: &str,
    errors: &mut ValidationErrors,
) -> Option<&'a str> {
    match metadata.get(key)? {
        Value::String(s) => Some(s),
        Value::Null => None,
        _ => {
            errors.push(param(key), "must be a string");
            None
        }
    }
}

fn read_signing(metadata: &Map<String, Value>, errors: &mut ValidationErrors) -> Signing {
    let keys = SigningKeys::from_metadata(metadata, errors);
    let algorithm = string(metadata, SIGNATURE_ALGORITHM, errors).and_then(|s| {
        let parsed = HmacAlgorithm::parse(s);
        if parsed.is_none() {
            errors.push(param(SIGNATURE_ALGORITHM), "must be sha256 or sha512");
        }
        parsed
    });
    let header = string(metadata, SIGNATURE_HEADER, errors).filter(|name| {
        let problem = header_name_problem(name).or_else(|| {
            let lower = name.to_ascii_lowercase();
            (lower != DEFAULT_HMAC_HEADER.to_ascii_lowercase()
                && RESERVED_HEADERS.contains(&lower.as_str()))
            .then_some("is a header Switchyard sets itself")
        });
        if let Some(msg) = problem {
            errors.push(param(SIGNATURE_HEADER), msg);
        }
        problem.is_none()
    });
    let wants_hmac =
        metadata.contains_key(SIGNATURE_ALGORITHM) || metadata.contains_key(SIGNATURE_HEADER);
    let hmac = wants_hmac.then(|| HmacSignature {
        algorithm: algorithm.unwrap_or(HmacAlgorithm::Sha256),
        header: header.unwrap_or(DEFAULT_HMAC_HEADER).to_owned(),
    });
    match &keys {
        None if hmac.is_some() && !metadata.contains_key(SIGNING_SECRET) => {
            errors.push(
                param(SIGNING_SECRET),
                "is required to sign with signature_algorithm",
            );
        }
        Some(keys) if !keys.current.is_standard() && hmac.is_none() => {
            errors.push(
                param(SIGNING_SECRET),
                "must be a whsec_ secret unless signature_algorithm is set",
            );
        }
        _ => {}
    }
    Signing { keys, hmac }
}

fn read_auth(
    metadata: &Map<String, Value>,
    hmac_header: Option<&str>,
    errors: &mut ValidationErrors,
) -> Auth {
    let scheme = string(metadata, AUTH_SCHEME, errors).unwrap_or("none");
    let uses: &[&str] = match scheme {
        "none" => &[],
        "basic" => &[AUTH_USERNAME, AUTH_PASSWORD],
        "bearer" => &[AUTH_TOKEN],
        "header" => &[AUTH_HEADER_NAME, AUTH_HEADER_VALUE],
        _ => {
            errors.push(param(AUTH_SCHEME), "must be none, basic, bearer or header");
            return Auth::None;
        }
    };
    for key in [
        AUTH_USERNAME,
        AUTH_PASSWORD,
        AUTH_TOKEN,
        AUTH_HEADER_NAME,
        AUTH_HEADER_VALUE,
    ] {
        if metadata.contains_key(key) && !uses.contains(&key) {
            errors.push(param(key), format!("is not used with auth_scheme {scheme}"));
        }
    }
    let mut required = |key: &str| -> Option<Secret> {
        match string(metadata, key, errors) {
            Some(v) => Some(Secret::new(v)),
            None => {
                if !metadata.contains_key(key) || metadata[key].is_null() {
                    errors.push(param(key), format!("is required with auth_scheme {scheme}"));
                }
                None
            }
        }
    };
    match scheme {
        "basic" => {
            let (username, password) = (required(AUTH_USERNAME), required(AUTH_PASSWORD));
            if let Some(u) = &username
                && (u.expose().contains(':') || u.expose().chars().any(char::is_control))
            {
                errors.push(
                    param(AUTH_USERNAME),
                    "must not contain a colon or control characters",
                );
            }
            if let Some(p) = &password
                && p.expose().chars().any(char::is_control)
            {
                errors.push(param(AUTH_PASSWORD), "must not contain control characters");
            }
            match (username, password) {
                (Some(username), Some(password)) => Auth::Basic { username, password },
                _ => Auth::None,
            }
        }
        "bearer" => match required(AUTH_TOKEN) {
            Some(token) => {
                let t = token.expose();
                if t.is_empty()
                    || t.len() > MAX_HEADER_VALUE
                    || !t.bytes().all(|b| b.is_ascii_graphic())
                {
                    errors.push(
                        param(AUTH_TOKEN),
                        "must be 1 to 4096 visible ASCII characters",
                    );
                }
                Auth::Bearer { token }
            }
            None => Auth::None,
        },
        "header" => {
            let name = required(AUTH_HEADER_NAME);
            let value = required(AUTH_HEADER_VALUE);
            if let Some(name) = &name
                && let Some(msg) = reserved_or_invalid(name.expose(), hmac_header)
            {
                errors.push(param(AUTH_HEADER_NAME), msg);
            }
            if let Some(value) = &value
                && let Some(msg) = header_value_problem(value.expose())
            {
                errors.push(param(AUTH_HEADER_VALUE), msg);
            }
            match (name, value) {
                (Some(name), Some(value)) => Auth::Header {
                    name: name.expose().to_owned(),
                    value,
                },
                _ => Auth::None,
            }
        }
        _ => Auth::None,
    }
}

fn read_headers(
    metadata: &Map<String, Value>,
    auth: &Auth,
    hmac_header: Option<&str>,
    errors: &mut ValidationErrors,
) -> Vec<CustomHeader> {
    let p = param(HEADERS);
    let headers = match metadata.get(HEADERS) {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Object(h)) => h,
        Some(_) => {
            errors.push(p, "must be an object of header names to values");
            return Vec::new();
        }
    };
    if headers.len() > MAX_CUSTOM_HEADERS {
        errors.push(p.clone(), "must have at most 5 headers");
    }
    let auth_header = auth.header().map(|(name, _)| name.to_ascii_lowercase());
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        let problem = if let Some(msg) = reserved_or_invalid(name, hmac_header) {
            Some(msg.to_owned())
        } else if auth_header.as_deref() == Some(lower.as_str()) {
            Some("would replace the auth_scheme header".to_owned())
        } else if seen.contains(&lower) {
            Some("is given twice".to_owned())
        } else {
            match value {
                Value::String(v) => header_value_problem(v).map(str::to_owned),
                _ => Some("must have a string value".to_owned()),
            }
        };
        // Header names are shown in errors (they are not secret); values never are.
        if let Some(msg) = problem {
            let shown: String = name.chars().take(MAX_HEADER_NAME).collect();
            errors.push(p.clone(), format!("{shown:?} {msg}"));
            continue;
        }
        seen.push(lower);
        out.push(CustomHeader {
            name: name.clone(),
            value: Secret::new(value.as_str().unwrap_or_default()),
        });
    }
    out
}

/// Why `name` cannot be a header a connection sets, if it cannot.
fn reserved_or_invalid(name: &str, hmac_header: Option<&str>) -> Option<&'static str> {
    if let Some(msg) = header_name_problem(name) {
        return Some(msg);
    }
    let lower = name.to_ascii_lowercase();
    let is_hmac = hmac_header.is_some_and(|h| h.eq_ignore_ascii_case(name));
    (RESERVED_HEADERS.contains(&lower.as_str()) || is_hmac)
        .then_some("is a header Switchyard sets itself")
}

/// RFC 9110 field names: a non-empty token.
fn header_name_problem(name: &str) -> Option<&'static str> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    (name.is_empty() || name.len() > MAX_HEADER_NAME || !name.bytes().all(token))
        .then_some("must be a header name of 1 to 128 token characters")
}

/// Field values: visible ASCII, spaces and tabs; never CR or LF (header injection).
fn header_value_problem(value: &str) -> Option<&'static str> {
    (value.len() > MAX_HEADER_VALUE
        || !value
            .bytes()
            .all(|b| b.is_ascii_graphic() || b == b' ' || b == b'\t'))
    .then_some("must be at most 4096 visible ASCII characters, spaces or tabs")
}

/// Metadata keys whose values are secrets: accepted on write, sealed at rest, never returned.
const SECRET_KEYS: [&str; 19] = [
    "secret",
    SIGNING_SECRET,
    PREVIOUS_SIGNING_SECRET,
    PREVIOUS_SIGNING_SECRET_EXPIRES_AT,
    "password",
    "token",
    "bearer_token",
    "api_key",
    // Customer.io's App API key (listing segments).
    "app_api_key",
    // Pipedrive's personal API token.
    "api_token",
    // A Discord incoming webhook's URL carries its token.
    "webhook_url",
    "access_token",
    "refresh_token",
    "auth_value",
    AUTH_USERNAME,
    AUTH_PASSWORD,
    AUTH_TOKEN,
    AUTH_HEADER_VALUE,
    HEADERS,
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
    use crate::signing::new_signing_secret;
    use serde_json::json;

    fn meta(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn config(v: Value) -> Result<WebhookConfig, ValidationErrors> {
        WebhookConfig::from_metadata(&meta(v), UrlPolicy::default())
    }

    /// The params of the errors, in order.
    fn params(v: Value) -> Vec<String> {
        config(v)
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.param)
            .collect()
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
    fn timeout_ms_lowers_the_attempt_timeout_within_bounds() {
        let url = "https://e.com";
        assert_eq!(
            config(json!({"url": url})).unwrap().timeout,
            DEFAULT_ATTEMPT_TIMEOUT
        );
        assert_eq!(
            config(json!({"url": url, "timeout_ms": 2500}))
                .unwrap()
                .timeout,
            Duration::from_millis(2500)
        );
        for bad in [
            json!(999),
            json!(30001),
            json!(1.5),
            json!("2000"),
            json!(-1),
        ] {
            assert_eq!(
                params(json!({"url": url, "timeout_ms": bad})),
                ["metadata.timeout_ms"],
                "{bad}"
            );
        }
        assert_eq!(
            attempt_timeout(&meta(json!({"timeout_ms": 1000}))),
            Duration::from_secs(1)
        );
        assert_eq!(attempt_timeout(&meta(json!({}))), DEFAULT_ATTEMPT_TIMEOUT);
    }

    #[test]
    fn urls_are_at_most_2048_bytes() {
        let url = |len: usize| {
            let base = "https://example.com/";
            meta(json!({"url": format!("{base}{}", "a".repeat(len - base.len()))}))
        };
        assert!(check_url_length(&url(MAX_URL_BYTES)).is_ok());
        assert!(WebhookConfig::from_metadata(&url(MAX_URL_BYTES), UrlPolicy::default()).is_ok());
        let long = url(MAX_URL_BYTES + 1);
        let errors = check_url_length(&long).unwrap_err();
        assert_eq!(errors.0[0].param, "metadata.url");
        assert!(WebhookConfig::from_metadata(&long, UrlPolicy::default()).is_err());
    }

    #[test]
    fn reads_method_and_payload_mode() {
        let c =
            config(json!({"url": "https://e.com", "http_method": "PUT", "payload_mode": "raw"}))
                .unwrap();
        assert_eq!(c.method, HttpMethod::Put);
        assert_eq!(c.payload_mode, PayloadMode::Raw);
        assert_eq!(c.auth, Auth::None);
        assert!(c.headers.is_empty());
        assert_eq!(c.signing.keys, None);
        assert_eq!(c.signing.hmac, None);
        assert_eq!(
            params(json!({"url": "https://e.com", "http_method": "GET"})),
            ["metadata.http_method"]
        );
    }

    #[test]
    fn auth_schemes_build_their_header() {
        let basic = config(json!({"url": "https://e.com", "auth_scheme": "basic",
            "auth_username": "Aladdin", "auth_password": "open sesame"}))
        .unwrap();
        let (name, value) = basic.auth.header().unwrap();
        assert_eq!(name, "Authorization");
        // RFC 7617's example.
        assert_eq!(value.expose(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");

        let bearer = config(json!({"url": "https://e.com", "auth_scheme": "bearer",
            "auth_token": "tok_123"}))
        .unwrap();
        assert_eq!(bearer.auth.header().unwrap().1.expose(), "Bearer tok_123");

        let header = config(json!({"url": "https://e.com", "auth_scheme": "header",
            "auth_header_name": "X-Api-Key", "auth_header_value": "k-1"}))
        .unwrap();
        let (name, value) = header.auth.header().unwrap();
        assert_eq!((name, value.expose()), ("X-Api-Key", "k-1"));
    }

    #[test]
    fn auth_errors_name_the_param() {
        assert_eq!(
            params(json!({"url": "https://e.com", "auth_scheme": "digest"})),
            ["metadata.auth_scheme"]
        );
        assert_eq!(
            params(json!({"url": "https://e.com", "auth_scheme": "bearer"})),
            ["metadata.auth_token"]
        );
        assert_eq!(
            params(
                json!({"url": "https://e.com", "auth_scheme": "basic", "auth_username": "a:b",
                "auth_password": "p"})
            ),
            ["metadata.auth_username"]
        );
        assert_eq!(
            params(json!({"url": "https://e.com", "auth_token": "t"})),
            ["metadata.auth_token"]
        );
        assert_eq!(
            params(json!({"url": "https://e.com", "auth_scheme": "header",
                "auth_header_name": "Content-Type", "auth_header_value": "x"})),
            ["metadata.auth_header_name"]
        );
        assert_eq!(
            params(json!({"url": "https://e.com", "auth_scheme": "header",
                "auth_header_name": "X-Key", "auth_header_value": "a\r\nHost: evil"})),
            ["metadata.auth_header_value"]
        );
    }

    #[test]
    fn custom_headers_are_bounded_and_cannot_replace_ours() {
        let ok = config(json!({"url": "https://e.com",
            "headers": {"X-Tenant": "acme", "User-Agent": "ours/1"}}))
        .unwrap();
        assert_eq!(ok.headers.len(), 2);

        let six: Map<String, Value> = (0..6).map(|i| (format!("X-H{i}"), json!("v"))).collect();
        assert_eq!(
            params(json!({"url": "https://e.com", "headers": six})),
            ["metadata.headers"]
        );
        for reserved in [
            "Content-Type",
            "host",
            "Webhook-Signature",
            "webhook-id",
            "X-Meshes-Signature",
            "Transfer-Encoding",
        ] {
            let err =
                config(json!({"url": "https://e.com", "headers": {reserved: "x"}})).unwrap_err();
            assert_eq!(err.0[0].param, "metadata.headers", "{reserved}");
        }
        let with_bearer = json!({"url": "https://e.com", "auth_scheme": "bearer",
            "auth_token": "t", "headers": {"authorization": "Bearer other"}});
        assert_eq!(params(with_bearer), ["metadata.headers"]);
        let custom_signature = json!({"url": "https://e.com", "signing_secret": new_signing_secret(),
            "signature_header": "X-Sig", "headers": {"x-sig": "forged"}});
        assert_eq!(params(custom_signature), ["metadata.headers"]);
        assert_eq!(
            params(json!({"url": "https://e.com", "headers": {"Bad Name": "x"}})),
            ["metadata.headers"]
        );
        assert_eq!(
            params(json!({"url": "https://e.com", "headers": ["X-A: b"]})),
            ["metadata.headers"]
        );
        let err = config(json!({"url": "https://e.com", "headers": {"X-A": "secret\nvalue"}}))
            .unwrap_err();
        assert!(!err.0[0].msg.contains("secret"), "{}", err.0[0].msg);
    }

    #[test]
    fn signing_settings() {
        let secret = new_signing_secret();
        let standard = config(json!({"url": "https://e.com", "signing_secret": secret})).unwrap();
        assert_eq!(standard.signing.keys.unwrap().current.expose(), secret);
        assert_eq!(standard.signing.hmac, None);

        let meshes = config(json!({"url": "https://e.com", "signing_secret": secret,
            "signature_algorithm": "sha512"}))
        .unwrap();
        assert_eq!(
            meshes.signing.hmac,
            Some(HmacSignature {
                algorithm: HmacAlgorithm::Sha512,
                header: "X-Meshes-Signature".into()
            })
        );
        let named = config(json!({"url": "https://e.com", "signing_secret": secret,
            "signature_header": "X-Hub-Signature"}))
        .unwrap();
        assert_eq!(named.signing.hmac.unwrap().algorithm, HmacAlgorithm::Sha256);

        assert_eq!(
            params(json!({"url": "https://e.com", "signature_algorithm": "md5",
                "signing_secret": secret})),
            ["metadata.signature_algorithm"]
        );
        assert_eq!(
            params(json!({"url": "https://e.com", "signature_algorithm": "sha256"})),
            ["metadata.signing_secret"]
        );
        assert_eq!(
            params(json!({"url": "https://e.com", "signing_secret": secret,
                "signature_header": "webhook-signature"})),
            ["metadata.signature_header"]
        );
        // A plain (non-whsec) secret only keys the Meshes-style HMAC.
        let plain = "a-secret-already-used-with-meshes";
        assert_eq!(
            params(json!({"url": "https://e.com", "signing_secret": plain})),
            ["metadata.signing_secret"]
        );
        assert!(
            config(json!({"url": "https://e.com", "signing_secret": plain,
                "signature_algorithm": "sha256"}))
            .is_ok()
        );
    }

    #[test]
    fn delivery_reads_shown_metadata_and_opened_secrets_together() {
        let full = meta(json!({"url": "https://e.com", "auth_scheme": "bearer",
            "auth_token": "t0k", "headers": {"X-A": "1"}, "signing_secret": new_signing_secret()}));
        let expected = WebhookConfig::from_metadata(&full, UrlPolicy::default()).unwrap();
        let (public, secret) = split_secrets(full);
        assert_eq!(public.keys().collect::<Vec<_>>(), ["auth_scheme", "url"]);
        let read = WebhookConfig::from_connection(&public, &secret, UrlPolicy::default()).unwrap();
        assert_eq!(read, expected);
    }

    #[test]
    fn debug_output_carries_no_secret() {
        let c = config(json!({"url": "https://e.com", "auth_scheme": "basic",
            "auth_username": "user-x", "auth_password": "pass-y",
            "headers": {"X-Key": "header-z"}, "signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}))
        .unwrap();
        let shown = format!("{c:?}");
        for secret in ["user-x", "pass-y", "header-z", "MfKQ9r8G"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }

    #[test]
    fn secrets_are_split_off() {
        let (public, secret) = split_secrets(meta(json!({"url": "https://e.com", "token": "t0p",
            "password": "p", "auth_password": "q", "auth_header_value": "v",
            "auth_header_name": "X-K", "signing_secret": "s", "headers": {}})));
        let mut shown: Vec<&String> = public.keys().collect();
        shown.sort();
        assert_eq!(shown, ["auth_header_name", "url"]);
        assert_eq!(secret.len(), 6);
        // The SaaS connectors' credentials: Discord's webhook URL carries its token.
        let (public, secret) = split_secrets(meta(
            json!({"webhook_url": "https://discord.com/api/webhooks/1/t",
            "api_token": "pd", "app_api_key": "cio", "site_id": "s", "company_domain": "acme"}),
        ));
        let mut shown: Vec<&String> = public.keys().collect();
        shown.sort();
        assert_eq!(shown, ["company_domain", "site_id"]);
        assert_eq!(secret.len(), 3);
    }
}
