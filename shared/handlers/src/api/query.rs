//! Query strings: pagination (`limit` 1–200, `cursor`) and filters, with contract errors.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use switchyard_core::ValidationErrors;
use switchyard_core::page::{DEFAULT_LIMIT, MAX_LIMIT, PageRequest};

use super::error::ApiError;

/// All query parameters, read leniently and validated by the accessors.
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Params(q))
            .map_err(|_| ApiError::bad_request("Query string could not be read"))
    }
}

impl Params {
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.is_empty()).cloned()
    }

    /// A filter on an event type or resource, in NFC as they are stored, so it finds them
    /// however its name was typed.
    pub fn name(&self, name: &str) -> Option<String> {
        self.get(name)
            .as_deref()
            .map(switchyard_core::validation::normalized_name)
    }

    /// `?limit=&cursor=`.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let mut errors = ValidationErrors::default();
        let limit = match self.get("limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    errors.push("limit", format!("must be an integer from 1 to {MAX_LIMIT}"));
                    DEFAULT_LIMIT
                }
            },
        };
        let cursor = match self.get("cursor") {
            None => None,
            Some(raw) => match raw.parse() {
                Ok(c) => Some(c),
                Err(_) => {
                    errors.push("cursor", "is not a cursor this API returned");
                    None
                }
            },
        };
        errors
            .into_result(PageRequest { limit, cursor })
            .map_err(ApiError::validation)
    }

    /// An optional instant (RFC 3339) as epoch milliseconds; a malformed one is a 400
    /// naming the parameter.
    pub fn instant_ms(&self, name: &str) -> Result<Option<u64>, ApiError> {
        use time::format_description::well_known::Rfc3339;
        self.get(name)
            .map(|raw| {
                time::OffsetDateTime::parse(&raw, &Rfc3339)
                    .ok()
                    .and_then(|t| u64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
                    .ok_or_else(|| {
                        ApiError::validation(ValidationErrors::single(
                            name,
                            "must be an RFC 3339 time, e.g. 2026-01-31T12:00:00Z",
                        ))
                    })
            })
            .transpose()
    }

    /// An optional id filter; a malformed id is a 400 naming the parameter.
    pub fn id<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, ApiError> {
        self.get(name)
            .map(|raw| {
                raw.parse().map_err(|_| {
                    ApiError::validation(ValidationErrors::single(name, "must be a UUID"))
                })
            })
            .transpose()
    }
}
