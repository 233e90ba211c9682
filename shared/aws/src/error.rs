//! SDK errors as the ports' `StoreError`. The SDK's own context (service error code and
//! message) is kept because it is what an operator needs; none of it carries our secrets, since
//! secret values are only ever in responses, never in requests that could be echoed back.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use switchyard_core::StoreError;

/// Any SDK error, as a retryable backend failure naming the operation that failed.
pub(crate) fn backend<E>(operation: &str, err: E) -> StoreError
where
    E: std::error::Error,
{
    StoreError::Backend(format!("{operation}: {}", DisplayErrorContext(&err)))
}

/// The service's error code (`ConditionalCheckFailedException`, …), if the service answered.
pub(crate) fn code<E: ProvideErrorMetadata>(err: &E) -> Option<&str> {
    err.code()
}
