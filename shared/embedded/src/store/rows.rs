//! Reading rows back into domain values. Most columns are read by name, so the mapping does
//! not depend on column order. The rows of the delivery path (connections, rules, events,
//! deliveries, attempts) are read by position — a name lookup per column per row was 9 % of a
//! delivery's instructions — in their table's column order: select them with `SELECT *` or
//! `RETURNING *` (a column a migration appends comes last and changes nothing); the
//! `table_order_is_the_read_order` test pins the order.

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

/// A column, by name or — on the hot paths — by position (no name lookup per column per row).
trait Col: rusqlite::RowIndex + Copy {
    fn index(self, row: &Row) -> usize;
}

impl Col for &str {
    fn index(self, row: &Row) -> usize {
        row.as_ref().column_index(self).unwrap_or(0)
    }
}

impl Col for usize {
    fn index(self, _: &Row) -> usize {
        self
    }
}

fn invalid(row: &Row, col: impl Col, msg: impl fmt::Display) -> rusqlite::Error {
    let idx = col.index(row);
    let name = row.as_ref().column_name(idx).unwrap_or("?");
    rusqlite::Error::FromSqlConversionFailure(
        idx,
        Type::Text,
        Box::new(Invalid(format!("column {name}: {msg}"))),
    )
}

/// Ids and enum codes: anything stored as text and parsed with `FromStr`.
/// Parsed from SQLite's own copy of the text, not a `String` made for it.
fn parsed<T: FromStr>(row: &Row, col: impl Col) -> rusqlite::Result<T> {
    let text = row.get_ref(col)?.as_str()?;
    text.parse()
        .map_err(|_| invalid(row, col, format_args!("unexpected value {text:?}")))
}

fn time(row: &Row, col: impl Col) -> rusqlite::Result<OffsetDateTime> {
    Ok(from_epoch_millis(row.get(col)?))
}

fn time_opt(row: &Row, col: impl Col) -> rusqlite::Result<Option<OffsetDateTime>> {
    Ok(row.get::<_, Option<i64>>(col)?.map(from_epoch_millis))
}

fn json<T: DeserializeOwned>(row: &Row, col: impl Col) -> rusqlite::Result<T> {
    let text: String = row.get(col)?;
    serde_json::from_str(&text).map_err(|e| invalid(row, col, e))
}

fn sealed(row: &Row, col: impl Col) -> rusqlite::Result<Sealed> {
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
        id: parsed(row, 0)?,
        org: parsed(row, 1)?,
        workspace: parsed(row, 2)?,
        kind: parsed(row, 3)?,
        name: row.get(4)?,
        metadata: json(row, 5)?,
        secrets: row.get::<_, Option<String>>(6)?.map(Sealed),
        hidden: row.get(7)?,
        created_by: row.get(8)?,
        created_at: time(row, 9)?,
        updated_at: time(row, 10)?,
    })
}

pub(super) fn rule(row: &Row) -> rusqlite::Result<Rule> {
    Ok(Rule {
        id: parsed(row, 0)?,
        org: parsed(row, 1)?,
        workspace: parsed(row, 2)?,
        connection: parsed(row, 3)?,
        kind: parsed(row, 4)?,
        event: row.get(5)?,
        resource: row.get(6)?,
        resource_id: row.get(7)?,
        metadata: json(row, 8)?,
        conditions: conditions(row, 9)?,
        active: row.get(10)?,
        hidden: row.get(11)?,
        created_by: row.get(12)?,
        created_at: time(row, 13)?,
        updated_at: time(row, 14)?,
    })
}

/// A rule's stored conditions, checked again on the way out: they were valid when written, so
/// a value that no longer parses is damage (or a newer build's syntax) and fails the read as a
/// backend error rather than routing events through a rule that silently matches everything.
fn conditions(row: &Row, col: impl Col) -> rusqlite::Result<Option<Conditions>> {
    let Some(text) = row.get::<_, Option<String>>(col)? else {
        return Ok(None);
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| invalid(row, col, e))?;
    Conditions::parse(&value).map(Some).map_err(|e| {
        let problems: Vec<String> =
            e.0.iter()
                .map(|p| format!("{}: {}", p.param, p.msg))
                .collect();
        invalid(row, col, problems.join("; "))
    })
}

pub(super) fn event(row: &Row) -> rusqlite::Result<Event> {
    Ok(Event {
        id: parsed(row, 0)?,
        org: parsed(row, 1)?,
        workspace: parsed(row, 2)?,
        event: row.get(3)?,
        resource: row.get(4)?,
        resource_id: row.get(5)?,
        payload: json(row, 6)?,
        created_by: row.get(7)?,
        created_at: time(row, 8)?,
        // Added by a later migration; read by name, not position.
        trace_id: row
            .get::<_, Option<String>>("trace_id")?
            .map(|t| t.parse())
            .transpose()
            .map_err(|e| invalid(row, "trace_id", format!("column trace_id: {e}")))?,
    })
}

pub(super) fn delivery(row: &Row) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: parsed(row, 0)?,
        org: parsed(row, 1)?,
        workspace: parsed(row, 2)?,
        event: parsed(row, 3)?,
        event_name: row.get(4)?,
        rule: parsed(row, 5)?,
        connection: parsed(row, 6)?,
        kind: parsed(row, 7)?,
        status: parsed(row, 8)?,
        attempt_count: row.get(9)?,
        schedule_base: row.get(10)?,
        started_at: time_opt(row, 11)?,
        completed_at: time_opt(row, 12)?,
        next_attempt_at: time_opt(row, 13)?,
        last_error: row.get(14)?,
        created_at: time(row, 15)?,
        updated_at: time(row, 16)?,
    })
}

pub(super) fn attempt(row: &Row) -> rusqlite::Result<Attempt> {
    let duration: i64 = row.get(9)?;
    Ok(Attempt {
        id: parsed(row, 0)?,
        org: parsed(row, 1)?,
        delivery: parsed(row, 2)?,
        number: row.get(3)?,
        outcome: parsed(row, 4)?,
        status_code: row.get(5)?,
        request: row.get(6)?,
        response_body: row.get(7)?,
        error: row.get(8)?,
        duration_ms: u64::try_from(duration)
            .map_err(|_| invalid(row, 9, format_args!("negative duration {duration}")))?,
        started_at: time(row, 10)?,
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
        branding: row
            .get::<_, Option<String>>("branding")?
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|e| invalid(row, "branding", format!("column branding: {e}")))?,
    })
}

/// The table order the positional readers above rely on: each table's columns start so.
#[cfg(test)]
const READ_ORDER: [(&str, &[&str]); 5] = [
    (
        "connections",
        &[
            "id",
            "org",
            "workspace",
            "kind",
            "name",
            "metadata",
            "secrets",
            "hidden",
            "created_by",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "rules",
        &[
            "id",
            "org",
            "workspace",
            "connection",
            "kind",
            "event",
            "resource",
            "resource_id",
            "metadata",
            "conditions",
            "active",
            "hidden",
            "created_by",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "events",
        &[
            "id",
            "org",
            "workspace",
            "event",
            "resource",
            "resource_id",
            "payload",
            "created_by",
            "created_at",
        ],
    ),
    (
        "deliveries",
        &[
            "id",
            "org",
            "workspace",
            "event",
            "event_name",
            "rule",
            "connection",
            "kind",
            "status",
            "attempt_count",
            "schedule_base",
            "started_at",
            "completed_at",
            "next_attempt_at",
            "last_error",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "attempts",
        &[
            "id",
            "org",
            "delivery",
            "number",
            "outcome",
            "status_code",
            "request",
            "response_body",
            "error",
            "duration_ms",
            "started_at",
        ],
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn table_order_is_the_read_order() {
        let db = crate::Db::in_memory().unwrap();
        crate::SqliteStore::open(db.clone()).unwrap();
        for (table, expected) in super::READ_ORDER {
            let columns: Vec<String> = db
                .call_sync(|c| {
                    c.prepare(&format!(
                        "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
                    ))?
                    .query_map([], |r| r.get(0))?
                    .collect()
                })
                .unwrap();
            assert_eq!(&columns[..expected.len()], expected, "{table}");
        }
    }
}
