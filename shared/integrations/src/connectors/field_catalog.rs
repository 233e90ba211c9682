//! The destination field catalog of a connection (`GET /connections/{id}/fields`): the typed
//! fields a field mapping can fill. The per-provider hook is [`read`]'s match: a provider whose
//! connector writes any of its properties reads them from the provider's properties API
//! (`hubspot::field_catalog`, `salesforce::field_catalog`); every other type answers the fixed
//! fields its actions read (`integration_catalog`'s action `fields`), typed, without a call.

use serde_json::{Map, Value};
use switchyard_core::domain::{Connection, IntegrationType};
use switchyard_core::field_catalog::fixed_fields;
use switchyard_core::integration_catalog;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::ReadFields;
use switchyard_core::webhook::UrlPolicy;

use super::call::{Attempt, Step};
use super::settings::ProviderUrls;

pub(crate) async fn read(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    policy: UrlPolicy,
    connection: &Connection,
    secrets: &Map<String, Value>,
) -> Step<ReadFields> {
    let fields = match connection.kind {
        IntegrationType::Hubspot => {
            let token = secret(attempt, secrets, "access_token")?;
            super::hubspot::field_catalog(attempt, urls, token).await?
        }
        IntegrationType::Salesforce => {
            let token = secret(attempt, secrets, "access_token")?;
            super::salesforce::field_catalog(attempt, policy, connection, token).await?
        }
        kind => {
            return Ok(ReadFields {
                fields: fixed(kind),
                read_at: None,
            });
        }
    };
    Ok(ReadFields {
        fields,
        read_at: Some(time::OffsetDateTime::now_utc()),
    })
}

/// The fields `kind`'s actions read, each once.
pub(crate) fn fixed(
    kind: IntegrationType,
) -> Vec<switchyard_core::field_catalog::DestinationField> {
    let mut fields = fixed_fields(
        integration_catalog::spec(kind)
            .actions
            .iter()
            .flat_map(|a| a.fields.iter().copied()),
    );
    // Customer.io finds the person by `customer_id` or `id` as well: no one of them is
    // required on its own.
    if kind == IntegrationType::CustomerIo {
        for field in &mut fields {
            field.constraints.required = None;
        }
    }
    fields
}

fn secret(attempt: &Attempt<'_>, secrets: &Map<String, Value>, key: &str) -> Step<String> {
    secrets
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            attempt.fail(
                Outcome::AuthFailed,
                format!("the connection has no {key}; authorize or update it"),
            )
        })
}
