//! Reading rows back into domain values. Columns are read by name so the mapping does not
//! depend on column order (`SELECT *` and `RETURNING *` both work).

use std::fmt;
use std::str::FromStr;

use rusqlite::Row;
use rusqlite::types::Type;
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchyard_core::clock::{epoch_millis, from_epoch_millis};
use switchyard_core::conditions::Conditions;
use switchyard_core::domain::*;
use switchyard_core::keyring::Sealed;
use time::OffsetDateTime;

/// A stored value the domain cannot represent (an unknown enum code, a malformed id).
#[derive(Debug)]
struct Invalid(String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

fn invalid(row: &Row, col: &str, msg: String) -> rusqlite::Error {
    let idx = row.as_ref().column_index(col).unwrap_or(0);
    rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(Invalid(msg)))
}

/// Ids and enum codes: anything stored as text and parsed with `FromStr`.
fn parsed<T: FromStr>(row: &Row, col: &str) -> rusqlite::Result<T> {
    let text: String = row.get(col)?;
    text.parse()
        .map_err(|_| invalid(row, col, format!("column {col}: unexpected value {text:?}")))
}

fn time(row: &Row, col: &str) -> rusqlite::Result<OffsetDateTime> {
    Ok(from_epoch_millis(row.get(col)?))
}

fn time_opt(row: &Row, col: &str) -> rusqlite::Result<Option<OffsetDateTime>> {
    Ok(row.get::<_, Option<i64>>(col)?.map(from_epoch_millis))
}

fn json<T: DeserializeOwned>(row: &Row, col: &str) -> rusqlite::Result<T> {
    let text: String = row.get(col)?;
    serde_json::from_str(&text).map_err(|e| invalid(row, col, format!("column {col}: {e}")))
}

fn sealed(row: &Row, col: &str) -> rusqlite::Result<Sealed> {
    row.get(col).map(Sealed)
}

/// Epoch milliseconds, the stored form of every time.
pub(super) fn ms(t: OffsetDateTime) -> i64 {
    epoch_millis(t)
}

pub(super) fn ms_opt(t: Option<OffsetDateTime>) -> Option<i64> {
    t.map(epoch_millis)
}

/// JSON text for metadata and payloads, failing as a rusqlite error inside `Db::call`.
pub(super) fn to_json(value: &impl Serialize) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

pub(super) fn organization(row: &Row) -> rusqlite::Result<Organization> {
    Ok(Organization {
        id: parsed(row, "id")?,
        name: row.get("name")?,
        created_at: time(row, "created_at")?,
    })
}

pub(super) fn machine_key(row: &Row) -> rusqlite::Result<MachineKey> {
    Ok(MachineKey {
        access_key: row.get("access_key")?,
        org: parsed(row, "org")?,
        name: row.get("name")?,
        secret: sealed(row, "secret")?,
        created_at: time(row, "created_at")?,
        revoked_at: time_opt(row, "revoked_at")?,
    })
}

pub(super) fn publishable_key(row: &Row) -> rusqlite::Result<PublishableKey> {
    Ok(PublishableKey {
        key_hash: row.get("key_hash")?,
        org: parsed(row, "org")?,
        workspace: parsed(row, "workspace")?,
        name: row.get("name")?,
        key: sealed(row, "key")?,
        created_at: time(row, "created_at")?,
        expires_at: time_opt(row, "expires_at")?,
    })
}

pub(super) fn workspace(row: &Row) -> rusqlite::Result<Workspace> {
    Ok(Workspace {
        id: parsed(row, "id")?,
        org: parsed(row, "org")?,
        name: row.get("name")?,
        description: row.get("description")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

pub(super) fn connection(row: &Row) -> rusqlite::Result<Connection> {
    Ok(Connection {
        id: parsed(row, "id")?,
        org: parsed(row, "org")?,
        workspace: parsed(row, "workspace")?,
        kind: parsed(row, "kind")?,
        name: row.get("name")?,
        metadata: json(row, "metadata")?,
        secrets: row.get::<_, Option<String>>("secrets")?.map(Sealed),
        hidden: row.get("hidden")?,
        created_by: row.get("created_by")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

pub(super) fn rule(row: &Row) -> rusqlite::Result<Rule> {
    Ok(Rule {
        id: parsed(row, "id")?,
        org: parsed(row, "org")?,
        workspace: parsed(row, "workspace")?,
        connection: parsed(row, "connection")?,
        kind: parsed(row, "kind")?,
        event: row.get("event")?,
        resource: row.get("resource")?,
        resource_id: row.get("resource_id")?,
        metadata: json(row, "metadata")?,
        conditions: conditions(row, "conditions")?,
        active: row.get("active")?,
        hidden: row.get("hidden")?,
        created_by: row.get("created_by")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

/// A rule's stored conditions, checked again on the way out: they were valid when written, so
/// a value that no longer parses is damage (or a newer build's syntax) and fails the read as a
/// backend error rather than routing events through a rule that silently matches everything.
fn conditions(row: &Row, col: &str) -> rusqlite::Result<Option<Conditions>> {
    let Some(text) = row.get::<_, Option<String>>(col)? else {
        return Ok(None);
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| invalid(row, col, format!("column {col}: {e}")))?;
    Conditions::parse(&value).map(Some).map_err(|e| {
        let problems: Vec<String> =
            e.0.iter()
                .map(|p| format!("{}: {}", p.param, p.msg))
                .collect();
        invalid(row, col, format!("column {col}: {}", problems.join("; ")))
    })
}

pub(super) fn event(row: &Row) -> rusqlite::Result<Event> {
    Ok(Event {
        id: parsed(row, "id")?,
        org: parsed(row, "org")?,
        workspace: parsed(row, "workspace")?,
        event: row.get("event")?,
        resource: row.get("resource")?,
        resource_id: row.get("resource_id")?,
        payload: json(row, "payload")?,
        created_by: row.get("created_by")?,
        created_at: time(row, "created_at")?,
        trace_id: row
            .get::<_, Option<String>>("trace_id")?
            .map(|t| t.parse())
            .transpose()
            .map_err(|e| invalid(row, "trace_id", format!("column trace_id: {e}")))?,
    })
}

pub(super) fn delivery(row: &Row) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: parsed(row, "id")?,
        org: parsed(row, "org")?,
        workspace: parsed(row, "workspace")?,
        event: parsed(row, "event")?,
        event_name: row.get("event_name")?,
        rule: parsed(row, "rule")?,
        connection: parsed(row, "connection")?,
        kind: parsed(row, "kind")?,
        status: parsed(row, "status")?,
        attempt_count: row.get("attempt_count")?,
        schedule_base: row.get("schedule_base")?,
        started_at: time_opt(row, "started_at")?,
        completed_at: time_opt(row, "completed_at")?,
        next_attempt_at: time_opt(row, "next_attempt_at")?,
        last_error: row.get("last_error")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

pub(super) fn attempt(row: &Row) -> rusqlite::Result<Attempt> {
    let duration: i64 = row.get("duration_ms")?;
    Ok(Attempt {
        id: parsed(row, "id")?,
        org: parsed(row, "org")?,
        delivery: parsed(row, "delivery")?,
        number: row.get("number")?,
        outcome: parsed(row, "outcome")?,
        status_code: row.get("status_code")?,
        request: row.get("request")?,
        response_body: row.get("response_body")?,
        error: row.get("error")?,
        duration_ms: u64::try_from(duration)
            .map_err(|_| invalid(row, "duration_ms", format!("negative duration {duration}")))?,
        started_at: time(row, "started_at")?,
    })
}

pub(super) fn session(row: &Row) -> rusqlite::Result<Session> {
    Ok(Session {
        id: parsed(row, "id")?,
        org: parsed(row, "org")?,
        workspace: parsed(row, "workspace")?,
        session_type: parsed(row, "session_type")?,
        role: parsed(row, "role")?,
        resource: row.get("resource")?,
        resource_id: row.get("resource_id")?,
        external_user_id: row.get("external_user_id")?,
        scopes: json(row, "scopes")?,
        launch_page: row
            .get::<_, Option<String>>("launch_page")?
            .map(|p| p.parse())
            .transpose()
            .map_err(|e: String| invalid(row, "launch_page", e))?,
        allowed_origins: json(row, "allowed_origins")?,
        token_hash: row.get("token_hash")?,
        expires_at: time(row, "expires_at")?,
        ttl_seconds: row.get("ttl_seconds")?,
        launch_hash: row.get("launch_hash")?,
        launch_expires_at: time(row, "launch_expires_at")?,
        created_at: time(row, "created_at")?,
        revoked_at: time_opt(row, "revoked_at")?,
    })
}
