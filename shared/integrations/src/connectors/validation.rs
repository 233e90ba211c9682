//! Connection-create checks for API-key providers: the key is there, and one cheap
//! authenticated call accepts it. A refusal is a 422 on the key's param; the key itself is
//! never part of the message.

use serde_json::{Map, Value};
use switchyard_core::ValidationErrors;

use super::call::{Answer, Attempt, Call};

pub(crate) fn required(
    metadata: &Map<String, Value>,
    key: &str,
) -> Result<String, ValidationErrors> {
    metadata
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| ValidationErrors::single(format!("metadata.{key}"), "is required"))
}

/// Sends `call`; a 2xx accepts the key, 401/403 rejects it, anything else is reported as the
/// provider being unreachable or failing.
pub(crate) async fn key_accepted(
    attempt: &mut Attempt<'_>,
    call: Call,
    provider: &str,
    param: &str,
) -> Result<(), ValidationErrors> {
    key_accepted_or(attempt, call, provider, param, |_| false).await
}

/// As [`key_accepted`], also accepting a non-2xx answer that `genuine` recognises as coming
/// from a real but restricted key.
pub(crate) async fn key_accepted_or(
    attempt: &mut Attempt<'_>,
    call: Call,
    provider: &str,
    param: &str,
    genuine: impl Fn(&Answer) -> bool,
) -> Result<(), ValidationErrors> {
    let answer = match attempt.send(call).await {
        Ok(answer) => answer,
        Err(failed) => {
            let why = failed.error.unwrap_or_default();
            return Err(ValidationErrors::single(
                param,
                format!("could not be checked: {provider} did not answer ({why})"),
            ));
        }
    };
    if genuine(&answer) {
        return Ok(());
    }
    match answer.status {
        200..=299 => Ok(()),
        401 | 403 => Err(ValidationErrors::single(
            param,
            format!("was rejected by {provider}: check the key and its permissions"),
        )),
        status => Err(ValidationErrors::single(
            param,
            format!("could not be checked: {provider} answered HTTP {status}"),
        )),
    }
}
