//! The store's tables, created and changed by versioned migrations (`user_version`); the
//! queue's tables carry a `queue_` prefix and live in the same file.
//!
//! Ids are hyphenated UUID v7 text (organizations' are v4: nothing pages by them), so
//! `ORDER BY id` is creation order and the `(org, …, id)`
//! indexes serve both the tenant filter and newest-first pagination. Times are epoch
//! milliseconds. No foreign keys: tenancy is enforced by every query's `org = ?`, and the
//! DynamoDB adapter could not enforce them either, so both adapters behave alike.

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};
use switchyard_core::OrgId;
use switchyard_core::credentials::is_access_key_shape;

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

/// The store's migrations, in order; SQLite's `user_version` records how many have run, so
/// opening a file runs only the ones it lacks. Append, never edit: the first is the schema
/// as of the first versioned release, later ones change it (`ALTER TABLE …`).
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(SCHEMA),
        // A mapping's own times (`GET …/mappings/default` answers them).
        M::up(
            "ALTER TABLE connection_mappings ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
             ALTER TABLE connection_mappings ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;",
        ),
        M::up(SESSIONS),
        M::up(EVENT_FILTERS),
        M::up(DELIVERY_STATS),
        // A connection's failed deliveries by time: what a bulk replay walks (partial, so
        // only failures are indexed).
        M::up(
            "CREATE INDEX deliveries_failed_by_connection
                 ON deliveries (org, connection, id) WHERE status = 'failed';",
        ),
        // An embed session's branding (JSON; NULL: none).
        M::up("ALTER TABLE sessions ADD COLUMN branding TEXT;"),
        // The retention purge's `created_at < ?`: without it every sweep read the whole table.
        M::up("CREATE INDEX events_by_age ON events (created_at);"),
        // Each event's trace id (W3C trace context), shown by `GET /events/{id}`.
        M::up("ALTER TABLE events ADD COLUMN trace_id TEXT;"),
        M::up(EVENT_STATUS_SHORTCUTS),
        M::up(EVENT_STATUS_LIGHTER),
    ])
}

/// What an older Switchyard's credentials make a data directory: refused, with what to do.
pub(super) const OLD_CREDENTIALS: &str = "this data directory was made by an older Switchyard: \
    its organization ids (UUIDv7) and machine keys (`AK…`) have formats the official Meshes \
    clients refuse. Move it aside (or delete it) and start again; a new organization and \
    machine key are created on start";

/// Refuses a file holding an organization id or access key of a format the clients refuse
/// (organizations and keys are few, so reading them all at start is cheap).
fn refuse_old_credentials(conn: &Connection) -> Result<(), String> {
    let all = |sql: &str| -> Result<Vec<String>, String> {
        let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
        stmt.query_map([], |r| r.get(0))
            .and_then(Iterator::collect)
            .map_err(|e| e.to_string())
    };
    let old_org = all("SELECT id FROM organizations")?
        .iter()
        .any(|id| !id.parse::<OrgId>().is_ok_and(OrgId::is_client_compatible));
    let old_key = all("SELECT access_key FROM machine_keys")?
        .iter()
        .any(|key| !is_access_key_shape(key));
    if old_org || old_key {
        return Err(OLD_CREDENTIALS.into());
    }
    Ok(())
}

/// Embed sessions (version 3). Tokens are kept as SHA-256 hashes only; `status` is
/// `active` or `revoked`, a column so that lists filter on it by equality.
const SESSIONS: &str = "
CREATE TABLE sessions (
    id                TEXT PRIMARY KEY,
    org               TEXT NOT NULL,
    workspace         TEXT NOT NULL,
    session_type      TEXT NOT NULL,
    role              TEXT NOT NULL,
    resource          TEXT,
    resource_id       TEXT,
    external_user_id  TEXT,
    scopes            TEXT NOT NULL,
    launch_page       TEXT,
    allowed_origins   TEXT NOT NULL,
    token_hash        TEXT NOT NULL,
    expires_at        INTEGER NOT NULL,
    ttl_seconds       INTEGER NOT NULL,
    launch_hash       TEXT NOT NULL,
    launch_expires_at INTEGER NOT NULL,
    launch_spent      INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    status            TEXT NOT NULL,
    revoked_at        INTEGER
);
CREATE INDEX sessions_by_org ON sessions (org, id);
CREATE INDEX sessions_by_workspace ON sessions (org, workspace, id);
";

/// The events list's filters (version 4): each served by an index. `status` is the event's
/// derived status (`EventStatus::derive`), kept by triggers in the transaction of every
/// delivery write and routing mark, so no Rust write path can forget it; the time range is
/// an id range (UUIDv7), served by the id order every index already ends with.
const EVENT_FILTERS: &str = "
ALTER TABLE events ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';
CREATE INDEX events_by_status ON events (org, workspace, status, id);
CREATE INDEX events_by_resource ON events (org, workspace, resource, id);
CREATE INDEX events_by_resource_id ON events (org, workspace, resource, resource_id, id);
-- EventStatus::derive in SQL: pending until routed; then completed or failed once every
-- delivery is final; pending while none has started; processing otherwise.
CREATE VIEW event_status_now (event, s) AS
SELECT e.id, CASE
    WHEN e.routed = 0 THEN 'pending'
    WHEN NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event = e.id
                     AND d.status NOT IN ('completed', 'failed', 'canceled'))
        THEN CASE WHEN EXISTS (SELECT 1 FROM deliveries d WHERE d.event = e.id
                               AND d.status = 'failed') THEN 'failed' ELSE 'completed' END
    WHEN NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event = e.id AND d.status <> 'pending')
        THEN 'pending'
    ELSE 'processing'
END
FROM events e;
-- Each writes the event row (and its status index) only when the derived status changes:
-- most delivery transitions (the first of three to complete, say) leave it as it was.
CREATE TRIGGER events_status_on_delivery_insert AFTER INSERT ON deliveries BEGIN
    UPDATE events SET status = (SELECT s FROM event_status_now WHERE event = NEW.event)
    WHERE id = NEW.event AND status <> (SELECT s FROM event_status_now WHERE event = NEW.event);
END;
CREATE TRIGGER events_status_on_delivery_update AFTER UPDATE OF status ON deliveries
WHEN NEW.status <> OLD.status BEGIN
    UPDATE events SET status = (SELECT s FROM event_status_now WHERE event = NEW.event)
    WHERE id = NEW.event AND status <> (SELECT s FROM event_status_now WHERE event = NEW.event);
END;
CREATE TRIGGER events_status_on_routed AFTER UPDATE OF routed ON events
WHEN NEW.routed <> OLD.routed BEGIN
    UPDATE events SET status = (SELECT s FROM event_status_now WHERE event = NEW.id)
    WHERE id = NEW.id AND status <> (SELECT s FROM event_status_now WHERE event = NEW.id);
END;
UPDATE events SET status = (SELECT s FROM event_status_now v WHERE v.event = events.id);
";

/// The event-status triggers without reading the event's deliveries where the answer is
/// known (version 10): they read them on every delivery status change.
/// `EventStatus::derive` of a routed event with a delivery under way is `processing` whatever
/// its other deliveries are, and an event not yet routed is `pending` (as stored already).
const EVENT_STATUS_SHORTCUTS: &str = "
DROP TRIGGER events_status_on_delivery_insert;
DROP TRIGGER events_status_on_delivery_update;
CREATE TRIGGER events_status_on_delivery_insert AFTER INSERT ON deliveries BEGIN
    UPDATE events SET status = (SELECT s FROM event_status_now WHERE event = NEW.event)
    WHERE id = NEW.event AND routed = 1
      AND status <> (SELECT s FROM event_status_now WHERE event = NEW.event);
END;
CREATE TRIGGER events_status_on_delivery_under_way AFTER UPDATE OF status ON deliveries
WHEN NEW.status <> OLD.status AND NEW.status IN ('processing', 'retrying') BEGIN
    UPDATE events SET status = 'processing'
    WHERE id = NEW.event AND routed = 1 AND status <> 'processing';
END;
CREATE TRIGGER events_status_on_delivery_update AFTER UPDATE OF status ON deliveries
WHEN NEW.status <> OLD.status AND NEW.status NOT IN ('processing', 'retrying') BEGIN
    UPDATE events SET status = (SELECT s FROM event_status_now WHERE event = NEW.event)
    WHERE id = NEW.event AND routed = 1
      AND status <> (SELECT s FROM event_status_now WHERE event = NEW.event);
END;
";

/// The event-status upkeep at less per delivery write (version 11). SQLite evaluates
/// `x IN (…)` of three or more constants by building a temporary b-tree of them on every run
/// (a page allocated and zeroed, about as much work as the row lookup it filters), and the
/// triggers ran the view's `NOT IN` on every delivery insert and final transition: spelled
/// as `<>`s, it costs three comparisons. And a trigger's `WHEN` is tested inside its
/// program, whose frame (registers and cursors, zeroed) is set up first: the two status
/// triggers cost two frames per status change though only one acts, so they become one
/// trigger whose statements test the new status themselves (a test of `NEW` alone runs
/// before the statement reads anything).
const EVENT_STATUS_LIGHTER: &str = "
DROP VIEW event_status_now;
CREATE VIEW event_status_now (event, s) AS
SELECT e.id, CASE
    WHEN e.routed = 0 THEN 'pending'
    WHEN NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event = e.id
                     AND d.status <> 'completed' AND d.status <> 'failed'
                     AND d.status <> 'canceled')
        THEN CASE WHEN EXISTS (SELECT 1 FROM deliveries d WHERE d.event = e.id
                               AND d.status = 'failed') THEN 'failed' ELSE 'completed' END
    WHEN NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event = e.id AND d.status <> 'pending')
        THEN 'pending'
    ELSE 'processing'
END
FROM events e;
DROP TRIGGER events_status_on_delivery_under_way;
DROP TRIGGER events_status_on_delivery_update;
CREATE TRIGGER events_status_on_delivery_update AFTER UPDATE OF status ON deliveries
WHEN NEW.status <> OLD.status BEGIN
    UPDATE events SET status = 'processing'
    WHERE (NEW.status = 'processing' OR NEW.status = 'retrying')
      AND id = NEW.event AND routed = 1 AND status <> 'processing';
    UPDATE events SET status = (SELECT s FROM event_status_now WHERE event = NEW.event)
    WHERE NEW.status <> 'processing' AND NEW.status <> 'retrying'
      AND id = NEW.event AND routed = 1
      AND status <> (SELECT s FROM event_status_now WHERE event = NEW.event);
END;
";

/// The dashboard's counts (version 5): deliveries by time and status, read from the index
/// alone.
const DELIVERY_STATS: &str = "
-- Led by the workspace, not the organization: an index whose first column is `org` is what
-- the planner picked for an event's deliveries (`org = ? AND event = ?`), reading every
-- delivery of the organization on each routing. Workspace ids are unique, so `org` is last
-- (the counts stay covered) and adds nothing to the search.
CREATE INDEX deliveries_by_time ON deliveries (workspace, created_at, status, org);
";

/// Brings the file up to the latest migration; a no-op on a current one. A file written
/// before migrations were versioned (tables present, `user_version` 0), or holding credentials
/// of the formats before the clients' ([`OLD_CREDENTIALS`]), is refused with what to do: there
/// were no deployments to carry over.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), String> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    let unversioned_tables: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events')",
            [],
            |r| r.get(0),
        )
        .map_err(|e| e.to_string())?;
    if version == 0 && unversioned_tables {
        return Err(
            "this data directory was written by an older Switchyard whose database \
             format is not migrated; move it aside (or delete it) and start again"
                .into(),
        );
    }
    // Checked before migrating, so a refused file is left as it was.
    if version >= 1 {
        refuse_old_credentials(conn)?;
    }
    migrations().to_latest(conn).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_migrations_are_valid() {
        migrations().validate().unwrap();
    }

    #[test]
    fn a_new_file_reaches_the_latest_version_and_reopening_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let version = |c: &Connection| -> i64 {
            c.query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(version(&conn), 11);
        conn.execute(
            "INSERT INTO organizations (id, name, created_at) VALUES (?1, 'kept', 0)",
            [OrgId::new().to_string()],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn), 11);
        let kept: String = conn
            .query_row("SELECT name FROM organizations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, "kept");
    }

    #[test]
    fn a_file_holding_old_format_credentials_is_refused_with_what_to_do() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO organizations (id, name, created_at) VALUES (?1, 'old', 0)",
            [uuid::Uuid::now_v7().to_string()],
        )
        .unwrap();
        assert_eq!(migrate(&mut conn).unwrap_err(), OLD_CREDENTIALS);

        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO machine_keys (access_key, org, name, secret, created_at)
             VALUES ('AKabcdefghijklmnopqrstuv', 'o', 'default', 's', 0);",
        )
        .unwrap();
        assert!(migrate(&mut conn).unwrap_err().contains("Move it aside"));
    }

    #[test]
    fn a_file_from_before_versioned_migrations_is_refused_with_what_to_do() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        let refusal = migrate(&mut conn).unwrap_err();
        assert!(refusal.contains("move it aside"), "{refusal}");
    }
}
