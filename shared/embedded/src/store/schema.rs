//! The store's tables. `CREATE … IF NOT EXISTS` so opening an existing file is a no-op; the
//! queue's tables carry a `queue_` prefix and live in the same file.
//!
//! Ids are hyphenated UUID v7 text, so `ORDER BY id` is creation order and the `(org, …, id)`
//! indexes serve both the tenant filter and newest-first pagination. Times are epoch
//! milliseconds. No foreign keys: tenancy is enforced by every query's `org = ?`, and the
//! DynamoDB adapter could not enforce them either, so both adapters behave alike.

use rusqlite::{Connection, TransactionBehavior};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS machine_keys (
    access_key  TEXT PRIMARY KEY,
    org         TEXT NOT NULL,
    name        TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

CREATE TABLE IF NOT EXISTS publishable_keys (
    key_hash    TEXT PRIMARY KEY,
    org         TEXT NOT NULL,
    workspace   TEXT NOT NULL,
    name        TEXT NOT NULL,
    key         TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER
);
CREATE INDEX IF NOT EXISTS publishable_keys_by_workspace
    ON publishable_keys (org, workspace, created_at);

CREATE TABLE IF NOT EXISTS workspaces (
    id          TEXT PRIMARY KEY,
    org         TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (org, name)
);
CREATE INDEX IF NOT EXISTS workspaces_by_org ON workspaces (org, id);

CREATE TABLE IF NOT EXISTS connections (
    id          TEXT PRIMARY KEY,
    org         TEXT NOT NULL,
    workspace   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    metadata    TEXT NOT NULL,
    secrets     TEXT,
    hidden      INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS connections_by_org ON connections (org, id);
CREATE INDEX IF NOT EXISTS connections_by_workspace ON connections (org, workspace, id);

CREATE TABLE IF NOT EXISTS rules (
    id          TEXT PRIMARY KEY,
    org         TEXT NOT NULL,
    workspace   TEXT NOT NULL,
    connection  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    event       TEXT NOT NULL,
    resource    TEXT,
    resource_id TEXT,
    metadata    TEXT NOT NULL,
    conditions  TEXT, -- JSON, switchyard_core::conditions; NULL when the rule has none
    active      INTEGER NOT NULL,
    hidden      INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS rules_by_org ON rules (org, id);
-- The router's query (active_rules) and the common list filter.
CREATE INDEX IF NOT EXISTS rules_by_event ON rules (org, workspace, event, active);

CREATE TABLE IF NOT EXISTS events (
    id          TEXT PRIMARY KEY,
    org         TEXT NOT NULL,
    workspace   TEXT NOT NULL,
    event       TEXT NOT NULL,
    resource    TEXT NOT NULL,
    resource_id TEXT,
    payload     TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    routed      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS events_by_org ON events (org, id);
CREATE INDEX IF NOT EXISTS events_by_workspace ON events (org, workspace, id);
CREATE INDEX IF NOT EXISTS events_by_type ON events (org, workspace, event, id);

CREATE TABLE IF NOT EXISTS deliveries (
    id              TEXT PRIMARY KEY,
    org             TEXT NOT NULL,
    workspace       TEXT NOT NULL,
    event           TEXT NOT NULL,
    event_name      TEXT NOT NULL,
    rule            TEXT NOT NULL,
    connection      TEXT NOT NULL,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempt_count   INTEGER NOT NULL,
    schedule_base   INTEGER NOT NULL DEFAULT 0,
    started_at      INTEGER,
    completed_at    INTEGER,
    next_attempt_at INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    -- When a replay on request last claimed it (replay_delivery's window).
    replayed_at     INTEGER,
    -- One delivery per rule however often the event is routed; also serves deliveries_for_event.
    UNIQUE (event, rule)
);

CREATE TABLE IF NOT EXISTS attempts (
    id            TEXT PRIMARY KEY,
    org           TEXT NOT NULL,
    delivery      TEXT NOT NULL,
    number        INTEGER NOT NULL,
    outcome       TEXT NOT NULL,
    status_code   INTEGER,
    request       TEXT NOT NULL,
    response_body TEXT,
    error         TEXT,
    duration_ms   INTEGER NOT NULL,
    started_at    INTEGER NOT NULL
);
-- Not unique: a redelivered queue message can run the same attempt number twice, and both
-- requests really went out.
CREATE INDEX IF NOT EXISTS attempts_by_delivery ON attempts (delivery, number);

-- OAuth authorisation states already used (single use), until the state's expiry; an expired
-- row is replaced if its nonce ever came again.
CREATE TABLE IF NOT EXISTS oauth_states (
    org         TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (org, nonce)
) WITHOUT ROWID;

-- Idempotency-Key claims of POST /events; expired rows are replaced on the next claim.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    org         TEXT NOT NULL,
    workspace   TEXT NOT NULL,
    key         TEXT NOT NULL,
    event       TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (org, workspace, key)
) WITHOUT ROWID;

-- Events accepted per organization and calendar month, where a monthly plan limit is set.
CREATE TABLE IF NOT EXISTS usage_counters (
    org         TEXT NOT NULL,
    period      TEXT NOT NULL,
    events      INTEGER NOT NULL,
    PRIMARY KEY (org, period)
) WITHOUT ROWID;

-- A connection's field mapping (JSON, switchyard_core::mapping), versioned for conditional
-- writes; deleted with its connection.
CREATE TABLE IF NOT EXISTS connection_mappings (
    org         TEXT NOT NULL,
    connection  TEXT NOT NULL,
    version     INTEGER NOT NULL,
    mapping     TEXT NOT NULL,
    PRIMARY KEY (org, connection)
) WITHOUT ROWID;

-- Event types and resources per workspace, added by ingest and rule creation.
CREATE TABLE IF NOT EXISTS catalog (
    org         TEXT NOT NULL,
    workspace   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org, workspace, kind, key)
) WITHOUT ROWID;
";

/// Columns added to a table after it first shipped, as `(table, column, declaration)`.
/// `CREATE TABLE IF NOT EXISTS` leaves an existing table as it was, so a file written by an
/// older build gets them here. Only nullable columns belong here: existing rows read as NULL.
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    ("rules", "conditions", "TEXT"),
    ("deliveries", "replayed_at", "INTEGER"),
];

/// Brings a file created by an older build up to [`SCHEMA`]; a no-op on a current one. Runs in
/// an immediate transaction so two processes opening the same file cannot both add a column.
pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for (table, column, declaration) in ADDED_COLUMNS {
        let present = tx
            .prepare(&format!(
                "SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"
            ))?
            .exists([column])?;
        if !present {
            tx.execute_batch(&format!(
                "ALTER TABLE {table} ADD COLUMN {column} {declaration}"
            ))?;
        }
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(conn: &Connection, table: &str) -> Vec<String> {
        conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn an_older_rules_table_gains_conditions_and_keeps_its_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        // The rules table as the first release created it.
        conn.execute_batch(
            "CREATE TABLE rules (
                id TEXT PRIMARY KEY, org TEXT NOT NULL, workspace TEXT NOT NULL,
                connection TEXT NOT NULL, kind TEXT NOT NULL, event TEXT NOT NULL,
                resource TEXT, resource_id TEXT, metadata TEXT NOT NULL,
                active INTEGER NOT NULL, hidden INTEGER NOT NULL, created_by TEXT NOT NULL,
                created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
             INSERT INTO rules VALUES
                ('r1', 'o1', 'w1', 'c1', 'webhook', 'user.signup', NULL, NULL, '{}',
                 1, 0, 'test', 0, 0);",
        )
        .unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        assert!(!columns(&conn, "rules").contains(&"conditions".to_owned()));

        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let cols = columns(&conn, "rules");
        assert_eq!(cols.iter().filter(|c| *c == "conditions").count(), 1);
        let kept: Option<String> = conn
            .query_row("SELECT conditions FROM rules WHERE id = 'r1'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(kept, None);
    }

    #[test]
    fn a_current_file_is_left_as_it_is() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        let before = columns(&conn, "rules");
        assert!(before.contains(&"conditions".to_owned()));
        migrate(&mut conn).unwrap();
        assert_eq!(columns(&conn, "rules"), before);
    }
}
