//! The one error type a client ever sees, in the contract's body:
//! `{"message", "error": {"name", "message", "data": [{"param", "msg"}]}}`.

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use switchyard_core::{StoreError, ValidationError, ValidationErrors};

use crate::ingest::IngestError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub name: &'static str,
    pub message: String,
    pub data: Vec<ValidationError>,
    /// Extra response headers (`Retry-After`, `RateLimit-*` on a 429); a Vec, not a HeaderMap,
    /// to keep every `Result<_, ApiError>` small.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, name: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            name,
            message: message.into(),
            data: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub fn validation(errors: ValidationErrors) -> Self {
        Self {
            data: errors.0,
            ..Self::new(
                StatusCode::BAD_REQUEST,
                "ValidationError",
                "Validation failed",
            )
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", message)
    }

    /// Unknown ids and other tenants' ids alike: existence is not revealed across tenants.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{what} not found"),
        )
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "Conflict", message)
    }

    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge", message)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "Method not allowed",
        )
    }

    /// A failure on our side. The detail goes to the log only.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "Internal error; the request may be retried",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "message": self.message,
            "error": {"name": self.name, "message": self.message, "data": self.data},
        });
        let mut response = (self.status, Json(body)).into_response();
        response.headers_mut().extend(self.headers);
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => {
                Self::conflict("A resource with these values already exists")
            }
            StoreError::Backend(detail) => Self::internal(detail),
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::Invalid(errors) => Self::validation(errors),
            IngestError::TooLarge => Self::payload_too_large(e.to_string()),
            IngestError::UnknownWorkspace => Self::not_found("Workspace"),
            IngestError::Store(s) => s.into(),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
