//! How a tool reaches the v1 API: one HTTP call, in process (the axum router itself, so auth,
//! scopes, validation and error messages are exactly the API's) or to a deployed stack.

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, header};
use serde_json::Value;
use tower::ServiceExt;

/// The largest API answer a tool reads (a page of 200 events fits many times over).
const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// One API call: `path` is under `/api/v1` and already percent-encoded.
#[derive(Clone, Debug)]
pub struct ApiRequest {
    pub method: Verb,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Delete,
}

impl Verb {
    fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Delete => "DELETE",
        }
    }
}

/// The API's answer: its status and its JSON body (`null` when it had none).
#[derive(Clone, Debug)]
pub struct ApiResponse {
    pub status: u16,
    pub body: Value,
}

impl ApiResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Who is calling, as the API sees it: the `Authorization` value, and where the caller reached
/// us (`Host`, `X-Forwarded-Proto`), so URLs the API builds (launch URLs) point back there.
#[derive(Clone, Debug, Default)]
pub struct CallerHeaders {
    pub authorization: Option<String>,
    pub host: Option<String>,
    pub forwarded_proto: Option<String>,
}

#[async_trait]
pub trait ApiClient: Send + Sync + 'static {
    async fn call(
        &self,
        caller: &CallerHeaders,
        request: ApiRequest,
    ) -> anyhow::Result<ApiResponse>;
}

fn uri(request: &ApiRequest) -> String {
    let mut uri = format!("/api/v1{}", request.path);
    if !request.query.is_empty() {
        let mut query = url_query();
        for (k, v) in &request.query {
            query.append_pair(k, v);
        }
        uri.push('?');
        uri.push_str(&query.finish());
    }
    uri
}

fn url_query() -> url::form_urlencoded::Serializer<'static, String> {
    url::form_urlencoded::Serializer::new(String::new())
}

/// The API router of this process, called without a network hop.
pub struct InProcess {
    router: axum::Router,
}

impl InProcess {
    pub fn new(router: axum::Router) -> Self {
        Self { router }
    }
}

#[async_trait]
impl ApiClient for InProcess {
    async fn call(
        &self,
        caller: &CallerHeaders,
        request: ApiRequest,
    ) -> anyhow::Result<ApiResponse> {
        let mut builder = Request::builder()
            .method(request.method.as_str())
            .uri(uri(&request))
            .header(header::HOST, caller.host.as_deref().unwrap_or("localhost"));
        if let Some(auth) = &caller.authorization {
            builder = builder.header(header::AUTHORIZATION, auth);
        }
        if let Some(proto) = &caller.forwarded_proto {
            builder = builder.header("x-forwarded-proto", proto);
        }
        let body = match &request.body {
            Some(v) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(v)?)
            }
            None => Body::empty(),
        };
        let response = self.router.clone().oneshot(builder.body(body)?).await?;
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_RESPONSE_BYTES).await?;
        Ok(ApiResponse {
            status,
            body: parse_body(&bytes),
        })
    }
}

/// A deployed stack's API over HTTPS (or loopback HTTP), e.g. `https://api.example.com`.
pub struct Remote {
    http: reqwest::Client,
    base: String,
}

impl Remote {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }
}

#[async_trait]
impl ApiClient for Remote {
    async fn call(
        &self,
        caller: &CallerHeaders,
        request: ApiRequest,
    ) -> anyhow::Result<ApiResponse> {
        let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes())?;
        let mut builder = self
            .http
            .request(method, format!("{}{}", self.base, uri(&request)));
        if let Some(auth) = &caller.authorization {
            builder = builder.header(reqwest::header::AUTHORIZATION, auth);
        }
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        anyhow::ensure!(
            bytes.len() <= MAX_RESPONSE_BYTES,
            "the API's answer is larger than {MAX_RESPONSE_BYTES} bytes"
        );
        Ok(ApiResponse {
            status,
            body: parse_body(&bytes),
        })
    }
}

/// JSON as JSON; anything else (an empty 204, a plain-text proxy error) as a string.
fn parse_body(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}
