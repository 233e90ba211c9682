//! Errors of the core: field validation and storage failures.

use serde::Serialize;

/// One field-level problem, in the contract's `error.data[]` shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValidationError {
    pub param: String,
    pub msg: String,
}

/// Every problem found in one request body, reported together.
#[derive(Clone, Debug, Default, PartialEq, Eq, thiserror::Error)]
#[error("validation failed")]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl ValidationErrors {
    pub fn push(&mut self, param: impl Into<String>, msg: impl Into<String>) {
        self.0.push(ValidationError {
            param: param.into(),
            msg: msg.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was pushed, the collected errors otherwise.
    pub fn into_result<T>(self, value: T) -> Result<T, Self> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    pub fn single(param: impl Into<String>, msg: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.push(param, msg);
        errors
    }
}

/// Failures of a `Store` or `Queue` adapter. Messages never carry secrets.
#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness constraint was hit (e.g. a workspace name already taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The backend failed; the operation may be retried.
    #[error("storage backend: {0}")]
    Backend(String),
}
