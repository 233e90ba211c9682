//! One SQLite database shared by the store and the queue.
//!
//! WAL mode with `synchronous=NORMAL`: a commit survives a crash of the process (`kill -9`);
//! only a power loss can drop the last few commits. One connection behind a mutex serialises
//! writers, which SQLite does anyway; calls run on tokio's blocking pool.

use std::path::Path;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use rusqlite::Connection;
use switchyard_core::StoreError;

/// How often the checkpointer copies the WAL back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Checkpoints the WAL from a connection of its own until the database's last handle is
/// dropped. Left to SQLite, a checkpoint runs inside whichever commit crosses
/// `wal_autocheckpoint` pages and stalls that request (it was most of the unsaturated p99: 20 ms
/// → 9 ms without it, docs/benchmarks.md); here it runs beside the writers, which WAL allows.
/// The automatic one stays, at 10,000 pages (~40 MB), only as a bound should this thread lag.
fn checkpoint_while_open(checkpoints: &Connection, owner: &Weak<Mutex<Connection>>) {
    while owner.strong_count() > 0 {
        std::thread::sleep(CHECKPOINT_EVERY);
        if let Err(e) = checkpoints.execute_batch("PRAGMA wal_checkpoint(PASSIVE);") {
            tracing::debug!(error = %e, "WAL checkpoint skipped; the next one retries");
        }
    }
}

/// Creates the database file readable by its owner only (0600), or narrows an existing one and
/// its `-wal`/`-shm` files: it holds sealed secrets and every payload. SQLite gives the WAL and
/// shared-memory files it creates the database file's mode, so they follow.
fn owner_only(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |e: std::io::Error| StoreError::Backend(format!("{}: {e}", path.display()));
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
            _ => {}
        }
    }
    Ok(())
}

/// Prepared statements kept per connection: every distinct statement the store and the queue
/// run, with room to spare.
const STATEMENT_CACHE: usize = 256;

#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Opens (creating if needed) the database file, and starts its checkpointer.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        owner_only(path)?;
        let conn = Connection::open(path).map_err(backend)?;
        let db = Self::configure(conn)?;
        let checkpoints = Connection::open(path).map_err(backend)?;
        checkpoints
            .busy_timeout(Duration::from_secs(5))
            .map_err(backend)?;
        let owner = Arc::downgrade(&db.conn);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint_while_open(&checkpoints, &owner))
            .map_err(|e| StoreError::Backend(format!("cannot start the checkpointer: {e}")))?;
        Ok(db)
    }

    /// A private in-memory database, for tests.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::configure(Connection::open_in_memory().map_err(backend)?)
    }

    fn configure(conn: Connection) -> Result<Self, StoreError> {
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;
             PRAGMA wal_autocheckpoint = 10000;",
        )
        .map_err(backend)?;
        // rusqlite keeps 16 prepared statements by default; one delivery's path through the
        // store and queue uses more than that, and every eviction means parsing SQL again.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    pub async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("blocking task failed: {e}")))?
        .map_err(backend)
    }

    /// Runs `f` synchronously (start-up and migrations only).
    pub fn call_sync<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard).map_err(backend)
    }
}

/// Maps a SQLite error to the port's error; uniqueness violations become `Conflict`.
pub(crate) fn backend(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(e.to_string())
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &str) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn database_and_its_wal_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("switchyard.db");
        // A file left world-readable by an older version is narrowed too.
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let db = Db::open(&path).unwrap();
        db.call_sync(|c| c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);"))
            .unwrap();
        let base = path.display().to_string();
        for file in [base.clone(), format!("{base}-wal"), format!("{base}-shm")] {
            assert_eq!(mode(&file), 0o600, "{file}");
        }

        let fresh = dir.path().join("fresh.db");
        drop(Db::open(&fresh).unwrap());
        assert_eq!(mode(&fresh.display().to_string()), 0o600);
    }
}
