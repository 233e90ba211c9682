//! What the latest attempt says about an API-key connection's credentials: a key the provider
//! refuses (`auth_failed`) marks the connection `metadata.status = "authentication_invalid"`
//! (shown as `active: false`), and the next delivered attempt clears the mark. Deliveries keep
//! being attempted meanwhile — a key fixed at the provider heals without an edit. OAuth
//! connections have their own mark (refresh refused, `oauth.rs`); webhooks' 401s are the
//! receiver's answer, not a credential of ours.
//!
//! Only a change is written, by compare-and-set on `updated_at`: a connection edited meanwhile
//! is left as it is, and the next attempt looks again.

use serde_json::Value;
use switchyard_core::domain::{AUTHENTICATION_INVALID, Connection, IntegrationType};
use switchyard_core::oauth::{STATUS, is_oauth};
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::DeliveryResult;

use crate::Deps;

/// Records what `result` says about `connection`'s key, when it changes the mark.
pub async fn note(deps: &Deps, connection: &Connection, result: &DeliveryResult) {
    if connection.kind == IntegrationType::Webhook || is_oauth(connection.kind) {
        return;
    }
    let marked =
        connection.metadata.get(STATUS).and_then(Value::as_str) == Some(AUTHENTICATION_INVALID);
    let refused = result.outcome == Outcome::AuthFailed;
    let healed = result.outcome == Outcome::Delivered;
    if marked == refused || (marked && !healed) {
        return;
    }
    let mut changed = connection.clone();
    if refused {
        changed
            .metadata
            .insert(STATUS.into(), AUTHENTICATION_INVALID.into());
    } else {
        changed.metadata.remove(STATUS);
    }
    changed.updated_at = deps
        .now()
        .max(connection.updated_at + time::Duration::milliseconds(1));
    match deps
        .connections()
        .update_connection_if_unchanged(&changed, connection.updated_at)
        .await
    {
        Ok(true) => {
            tracing::info!(connection_id = %connection.id, invalid = refused, "connection credentials state changed");
        }
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(connection_id = %connection.id, error = %e, "could not record the connection's credentials state");
        }
    }
}
