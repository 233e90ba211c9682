//! Reading request bodies and path ids so every failure answers in the contract's error format
//! (axum's own rejections are plain text).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use serde::de::DeserializeOwned;
use switchyard_core::ValidationErrors;

use super::error::ApiError;

/// A JSON body, parsed into `T`; malformed JSON and wrong types answer 400 naming the field.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = read_bytes(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

pub async fn read_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state)
        .await
        .map_err(|e: BytesRejection| {
            let mut error = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::payload_too_large("Request body too large")
            } else {
                ApiError::bad_request("Request body could not be read")
            };
            // The rest of the body is unread: the connection cannot carry another request, and
            // saying so keeps a client from reusing it into a reset.
            error
                .headers
                .push((header::CONNECTION, HeaderValue::from_static("close")));
            error
        })
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::bad_request("Request body is not valid JSON");
        }
        let path = e.path().to_string();
        let message = inner.to_string();
        // "missing field `x`" sits on the parent's path; name the field itself.
        let param = match message.strip_prefix("missing field `") {
            Some(rest) => {
                let field = rest.split('`').next().unwrap_or_default();
                if path == "." {
                    field.to_owned()
                } else {
                    format!("{path}.{field}")
                }
            }
            None if path == "." => "body".to_owned(),
            None => path,
        };
        let msg = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        ApiError::validation(ValidationErrors::single(param, msg))
    })?;
    // One JSON value and nothing after it but whitespace: `{...}garbage` is not a body we
    // half-understood.
    de.end()
        .map_err(|_| ApiError::bad_request("Request body is not valid JSON"))?;
    Ok(value)
}

/// A path id that must be a UUID; anything else is simply not found.
pub struct PathId<T>(pub T);

impl<T, S> FromRequestParts<S> for PathId<T>
where
    T: std::str::FromStr + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::not_found("Resource"))?;
        raw.parse()
            .map(PathId)
            .map_err(|_| ApiError::not_found("Resource"))
    }
}

/// Several path ids in route order (`/events/{e}/rules/{r}`); any malformed one is not found.
pub struct PathIds<T>(pub T);

async fn path_segments<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<Vec<String>, ApiError> {
    axum::extract::Path::<Vec<String>>::from_request_parts(parts, state)
        .await
        .map(|axum::extract::Path(v)| v)
        .map_err(|_| ApiError::not_found("Resource"))
}

fn parse_id<T: std::str::FromStr>(raw: Option<&String>) -> Result<T, ApiError> {
    raw.and_then(|r| r.parse().ok())
        .ok_or_else(|| ApiError::not_found("Resource"))
}

impl<A, B, S> FromRequestParts<S> for PathIds<(A, B)>
where
    A: std::str::FromStr + Send,
    B: std::str::FromStr + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let v = path_segments(parts, state).await?;
        Ok(PathIds((parse_id(v.first())?, parse_id(v.get(1))?)))
    }
}

impl<A, B, C, S> FromRequestParts<S> for PathIds<(A, B, C)>
where
    A: std::str::FromStr + Send,
    B: std::str::FromStr + Send,
    C: std::str::FromStr + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let v = path_segments(parts, state).await?;
        Ok(PathIds((
            parse_id(v.first())?,
            parse_id(v.get(1))?,
            parse_id(v.get(2))?,
        )))
    }
}

/// A JSON body that may be absent: an empty body, or JSON `null`, reads as `T::default()`.
pub struct OptionalJsonBody<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = read_bytes(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(T::default()));
        }
        parse_json::<Option<T>>(&bytes).map(|body| OptionalJsonBody(body.unwrap_or_default()))
    }
}
