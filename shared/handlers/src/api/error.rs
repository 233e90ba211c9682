//! The one error type a client ever sees, in the contract's body:
//! `{"message", "error": {"name", "message", "data": [{"param", "msg"}]}}`.

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use switchyard_core::{StoreError, ValidationError, ValidationErrors};
use utoipa::ToSchema;

use crate::ingest::IngestError;
use crate::plan::PlanError;

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

/// The contract's error body. Serialised from this type so the OpenAPI schema and what the
/// server sends cannot drift apart.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"message": "Validation failed", "error": {"name": "ValidationError",
    "message": "Validation failed", "data": [{"param": "name", "msg": "must be between 3 and 50 characters"}]}}))]
pub struct ErrorBody {
    /// What went wrong, for people.
    pub message: String,
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable name: `BadRequest`, `ValidationError`, `Unauthorized`,
    /// `NotFound`, `Conflict`, `PayloadTooLarge`, `UriTooLong`, `HeadersTooLarge`,
    /// `UnprocessableDestination`, `TooEarly`, `RateLimited`, `QuotaExceeded`,
    /// `PlanLimitReached`, `MethodNotAllowed`, `InternalError`.
    pub name: String,
    pub message: String,
    /// Field-level problems (empty unless the request failed validation).
    #[schema(value_type = Vec<FieldError>)]
    pub data: Vec<ValidationError>,
}

/// One field-level problem (documentation of `switchyard_core::ValidationError`, which the
/// core crate keeps free of OpenAPI concerns).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FieldError {
    /// The request field, dotted for nested ones (`metadata.url`).
    param: String,
    msg: String,
}

impl ApiError {
    /// This error as the contract's body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            message: self.message.clone(),
            error: ErrorDetail {
                name: self.name.to_owned(),
                message: self.message.clone(),
                data: self.data.clone(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
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
            IngestError::Plan(p) => p.into(),
            IngestError::Store(s) => s.into(),
        }
    }
}

impl From<PlanError> for ApiError {
    fn from(e: PlanError) -> Self {
        match e {
            PlanError::Events { ref period, .. } => {
                // Until the month turns, at least a second.
                let wait = (period.end - time::OffsetDateTime::now_utc())
                    .whole_seconds()
                    .max(1);
                let mut error = Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "QuotaExceeded",
                    e.to_string(),
                );
                error
                    .headers
                    .push((axum::http::header::RETRY_AFTER, HeaderValue::from(wait)));
                error
            }
            PlanError::Resource { .. } => {
                Self::new(StatusCode::FORBIDDEN, "PlanLimitReached", e.to_string())
            }
            PlanError::Store(s) => s.into(),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
