//! OAuth connections around a delivery: the access token is refreshed before it expires
//! (within 60 s) and once after the connector reports `auth_failed`, then the attempt is made
//! again, once. Refreshes of one connection are coalesced: one in flight per process, and
//! across processes a lease claimed by compare-and-set, so only one process spends the
//! (possibly rotating) refresh token and the others use the token it stores. A revoked grant
//! marks the connection `metadata.status = "reauthorization_required"` until the OAuth flow is
//! re-run.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value};
use switchyard_core::ConnectionId;
use switchyard_core::clock::epoch_millis;
use switchyard_core::domain::Connection;
use switchyard_core::oauth::{
    Providers, REAUTHORIZATION_REQUIRED, STATUS, STATUS_CODE, TokenEndpoint, TokenError, TokenSet,
    is_oauth,
};
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::DeliveryResult;
use switchyard_core::secret::Secret;

use crate::Deps;

/// The OAuth clients of this deployment and the refreshes in flight.
#[derive(Default)]
pub struct OAuth {
    pub providers: Providers,
    pub tokens: Option<Arc<dyn TokenEndpoint>>,
    /// Where this server is reachable from a browser (`https://switchyard.example.com`), for
    /// the callback URL; without it the request's `Host` is used.
    pub public_url: Option<url::Url>,
    flights: Mutex<HashMap<ConnectionId, Arc<tokio::sync::Mutex<()>>>>,
}

impl OAuth {
    pub fn new(
        providers: Providers,
        tokens: Arc<dyn TokenEndpoint>,
        public_url: Option<url::Url>,
    ) -> Self {
        Self {
            providers,
            tokens: Some(tokens),
            public_url,
            flights: Mutex::default(),
        }
    }

    /// Providers from `SWITCHYARD_OAUTH_<TYPE>_*` and the callback base from
    /// `SWITCHYARD_PUBLIC_URL`, read through `var` (the environment, or a JSON secret's keys).
    pub fn from_vars(
        var: impl Fn(&str) -> Option<String>,
        tokens: Arc<dyn TokenEndpoint>,
    ) -> Result<Self, String> {
        let public_url = var("SWITCHYARD_PUBLIC_URL")
            .filter(|v| !v.is_empty())
            .map(|raw| url::Url::parse(&raw).map_err(|e| format!("SWITCHYARD_PUBLIC_URL: {e}")))
            .transpose()?;
        Ok(Self::new(Providers::from_vars(&var)?, tokens, public_url))
    }

    /// The one lock refreshes of `connection` take in this process.
    fn flight(&self, connection: ConnectionId) -> Arc<tokio::sync::Mutex<()>> {
        let mut flights = self.flights.lock().expect("flights lock");
        // Locks nobody holds or waits on are dropped, so the map stays small.
        flights.retain(|_, lock| Arc::strong_count(lock) > 1);
        flights.entry(connection).or_default().clone()
    }
}

impl fmt::Debug for OAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("providers", &self.providers)
            .finish_non_exhaustive()
    }
}

/// Whether a connection's grant was revoked and the user must authorise again.
pub fn needs_reauthorization(connection: &Connection) -> bool {
    connection.metadata.get(STATUS).and_then(Value::as_str) == Some(REAUTHORIZATION_REQUIRED)
}

/// The secrets an attempt is made with, refreshed for OAuth connections: before the call
/// when the access token is about to expire, and once after the connector reports
/// `auth_failed` (the attempt is then made again, once). Other connections pass through.
pub struct FreshToken {
    secrets: Map<String, Value>,
    /// Whether one more refresh may be tried after a refusal.
    may_refresh: bool,
}

/// What to do with an attempt's result.
pub enum Next {
    Done(DeliveryResult),
    /// The token was refreshed after a refusal: make the attempt again with [`FreshToken::secrets`].
    Retry,
}

impl FreshToken {
    /// `Err` is the attempt's result when no usable token can be had.
    pub async fn prepare(
        deps: &Deps,
        connection: &Connection,
        secrets: Map<String, Value>,
    ) -> Result<Self, DeliveryResult> {
        let tokens = match TokenSet::from_secrets(&secrets) {
            Some(tokens) if is_oauth(connection.kind) => tokens,
            _ => {
                return Ok(Self {
                    secrets,
                    may_refresh: false,
                });
            }
        };
        if needs_reauthorization(connection) {
            return Err(failed(
                Outcome::AuthFailed,
                "the provider revoked this connection's authorisation; run the OAuth flow again",
            ));
        }
        if tokens.needs_refresh(deps.now()) {
            let secrets = refresh(deps, connection, &tokens.access_token).await?;
            // Just refreshed: a refusal now is not cured by refreshing again.
            return Ok(Self {
                secrets,
                may_refresh: false,
            });
        }
        Ok(Self {
            secrets,
            may_refresh: tokens.refresh_token.is_some(),
        })
    }

    pub fn secrets(&self) -> &Map<String, Value> {
        &self.secrets
    }

    /// After an attempt: an `auth_failed` on a token not yet refreshed is refreshed, once.
    pub async fn after(
        &mut self,
        deps: &Deps,
        connection: &Connection,
        result: DeliveryResult,
    ) -> Next {
        if result.outcome != Outcome::AuthFailed || !self.may_refresh {
            return Next::Done(result);
        }
        self.may_refresh = false;
        let Some(used) = TokenSet::from_secrets(&self.secrets) else {
            return Next::Done(result);
        };
        tracing::info!(connection_id = %connection.id, "access token refused; refreshing once");
        match refresh(deps, connection, &used.access_token).await {
            Ok(fresh) => {
                self.secrets = fresh;
                Next::Retry
            }
            Err(refused) => Next::Done(refused),
        }
    }
}

/// Replaces the access token `stale` and answers the connection's secrets with the new one —
/// or with the token another refresh stored meanwhile. `Err` is the attempt's result.
///
/// Across processes, the refresh is claimed first: a lease (`refresh_lease_until`, in the
/// sealed secrets) written by compare-and-set on `updated_at`. Only the holder calls the token
/// endpoint; the others wait for its token (at most the lease). So a rotating refresh token is
/// spent once, and a refusal seen by the holder means the grant is dead, not "already spent".
async fn refresh(
    deps: &Deps,
    connection: &Connection,
    stale: &Secret,
) -> Result<Map<String, Value>, DeliveryResult> {
    let oauth = &deps.live.oauth;
    let (Some(provider), Some(endpoint)) = (oauth.providers.get(connection.kind), &oauth.tokens)
    else {
        return Err(failed(
            Outcome::InternalError,
            &format!(
                "no OAuth client is configured for {}; its token cannot be refreshed",
                connection.kind
            ),
        ));
    };
    let flight = oauth.flight(connection.id);
    let _in_flight = flight.lock().await;

    let gave_up_at = deps.now() + REFRESH_LEASE * 2;
    let (leased, mut secrets, refresh_token) = loop {
        // Read again under the lock: a refresh that finished while this one waited has
        // already stored a new token.
        let (current, secrets) = load(deps, connection).await?;
        let Some(tokens) = TokenSet::from_secrets(&secrets) else {
            return Err(failed(
                Outcome::AuthFailed,
                "the connection has no access token",
            ));
        };
        if needs_reauthorization(&current) {
            return Err(failed(
                Outcome::AuthFailed,
                "the provider revoked this connection's authorisation; run the OAuth flow again",
            ));
        }
        if tokens.access_token != *stale && !tokens.needs_refresh(deps.now()) {
            return Ok(secrets);
        }
        let Some(refresh_token) = tokens.refresh_token else {
            return Err(failed(
                Outcome::AuthFailed,
                "the access token was refused and the connection has no refresh token",
            ));
        };
        let now = deps.now();
        if now > gave_up_at {
            return Err(failed(
                Outcome::InternalError,
                "another process's token refresh did not finish in time",
            ));
        }
        if lease_held(&secrets, now) {
            // Another process is refreshing: its token will be stored shortly.
            tokio::time::sleep(LEASE_POLL).await;
            continue;
        }
        let mut claimed = secrets.clone();
        claimed.insert(LEASE.into(), epoch_millis(now + REFRESH_LEASE).into());
        let mut leased = current.clone();
        leased.secrets = Some(Connection::seal_secrets(deps.keys.as_ref(), &claimed));
        leased.updated_at = next_version(&current, now);
        if write_if_unchanged(deps, &leased, current.updated_at).await? {
            break (leased, claimed, refresh_token);
        }
        // Somebody wrote the connection since the read: look again.
    };

    let outcome = endpoint.refresh(provider, &refresh_token).await;
    secrets.remove(LEASE);
    let mut done = leased.clone();
    let result = match outcome {
        Ok(fresh) => {
            fresh.store_in(&mut secrets);
            tracing::info!(connection_id = %connection.id, "access token refreshed");
            Ok(secrets.clone())
        }
        Err(TokenError::InvalidGrant(code)) => {
            tracing::warn!(connection_id = %connection.id, code = %code, "refresh token refused; connection needs re-authorisation");
            done.metadata
                .insert(STATUS.into(), REAUTHORIZATION_REQUIRED.into());
            done.metadata
                .insert(STATUS_CODE.into(), code.clone().into());
            Err(failed(
                Outcome::AuthFailed,
                &format!(
                    "the provider refused the refresh token ({code}); the connection needs re-authorisation"
                ),
            ))
        }
        Err(e @ TokenError::Refused(_)) => Err(failed(Outcome::AuthFailed, &e.to_string())),
        Err(e @ TokenError::Unavailable(_)) => Err(failed(Outcome::NetworkError, &e.to_string())),
    };
    // Store the outcome and release the lease. Only a write by someone else since the lease
    // (a rename through the API) can stand in the way: then it is made on top of theirs.
    let mut base = leased;
    for _ in 0..3 {
        done.secrets = Some(Connection::seal_secrets(deps.keys.as_ref(), &secrets));
        done.updated_at = next_version(&base, deps.now());
        if write_if_unchanged(deps, &done, base.updated_at).await? {
            return result;
        }
        let (latest, _) = load(deps, connection).await?;
        done.name = latest.name.clone();
        done.hidden = latest.hidden;
        if done.metadata.get(STATUS).is_none() {
            done.metadata = latest.metadata.clone();
        }
        base = latest;
    }
    Err(failed(
        Outcome::InternalError,
        "the connection kept changing while its token was refreshed",
    ))
}

/// The lease on refreshing a connection's token, in its sealed secrets (epoch milliseconds).
pub(crate) const LEASE: &str = "refresh_lease_until";
/// Longer than a token request may take (the outbound client's 30 s are the worst case; the
/// lease only makes the others wait, it never lets two refresh while it holds).
const REFRESH_LEASE: time::Duration = time::Duration::seconds(10);
const LEASE_POLL: Duration = Duration::from_millis(100);

fn lease_held(secrets: &Map<String, Value>, now: time::OffsetDateTime) -> bool {
    secrets
        .get(LEASE)
        .and_then(Value::as_i64)
        .is_some_and(|until| until > epoch_millis(now))
}

/// An `updated_at` after `base`'s, so a compare-and-set on it always moves the version.
fn next_version(base: &Connection, now: time::OffsetDateTime) -> time::OffsetDateTime {
    now.max(base.updated_at + time::Duration::milliseconds(1))
}

async fn write_if_unchanged(
    deps: &Deps,
    connection: &Connection,
    expected: time::OffsetDateTime,
) -> Result<bool, DeliveryResult> {
    deps.connections()
        .update_connection_if_unchanged(connection, expected)
        .await
        .map_err(|e| failed(Outcome::InternalError, &e.to_string()))
}

async fn load(
    deps: &Deps,
    connection: &Connection,
) -> Result<(Connection, Map<String, Value>), DeliveryResult> {
    let current = deps
        .connections()
        .connection(connection.org, connection.id)
        .await
        .map_err(|e| failed(Outcome::InternalError, &e.to_string()))?
        .ok_or_else(|| failed(Outcome::InternalError, "the connection no longer exists"))?;
    let secrets = current.open_secrets(deps.keys.as_ref()).map_err(|_| {
        failed(
            Outcome::InternalError,
            "connection credentials cannot be opened",
        )
    })?;
    Ok((current, secrets))
}

/// An attempt that never reached the destination.
fn failed(outcome: Outcome, error: &str) -> DeliveryResult {
    DeliveryResult {
        outcome,
        status_code: None,
        request: String::new(),
        response_body: None,
        error: Some(error.to_owned()),
        retry_after: None,
        duration: Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> time::OffsetDateTime {
        switchyard_core::clock::from_epoch_millis(ms)
    }

    #[test]
    fn a_lease_holds_until_its_time() {
        let mut secrets = Map::new();
        assert!(!lease_held(&secrets, at(1_000)));
        secrets.insert(LEASE.into(), 2_000.into());
        assert!(lease_held(&secrets, at(1_999)));
        assert!(!lease_held(&secrets, at(2_000)), "an expired lease is free");
    }

    #[test]
    fn every_write_moves_the_version() {
        let connection = Connection {
            id: ConnectionId::new(),
            org: switchyard_core::OrgId::new(),
            workspace: switchyard_core::WorkspaceId::new(),
            kind: switchyard_core::domain::IntegrationType::Slack,
            name: "n".into(),
            metadata: Map::new(),
            secrets: None,
            hidden: false,
            created_by: "t".into(),
            created_at: at(5_000),
            updated_at: at(5_000),
        };
        assert_eq!(next_version(&connection, at(5_000)), at(5_001));
        assert_eq!(next_version(&connection, at(4_000)), at(5_001));
        assert_eq!(next_version(&connection, at(9_000)), at(9_000));
        assert!(!needs_reauthorization(&connection));
        let mut marked = connection;
        marked
            .metadata
            .insert(STATUS.into(), REAUTHORIZATION_REQUIRED.into());
        assert!(needs_reauthorization(&marked));
    }
}
