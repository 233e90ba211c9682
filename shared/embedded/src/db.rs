//! One SQLite database shared by the store and the queue.
//!
//! WAL mode with `synchronous=NORMAL`: a commit survives a crash of the process (`kill -9`);
//! only a power loss can drop the last few commits.
//!
//! Writes go to one writer thread that owns the write connection. Writes made with
//! [`Db::write`] are **group-committed**: whatever writes are queued when the writer is free
//! run in one transaction, each under its own savepoint (a failing one is rolled back alone),
//! and are answered only after that transaction commits — so an answer still means durable,
//! and no write waits on anything but the writes beside it (never on an HTTP call: callers
//! queue their write after their I/O). Under load one commit carries many attempts' writes,
//! and a page touched by several of them goes to the WAL once. [`Db::call`] runs a write alone,
//! for code that manages its own transaction. [`Db::read`] runs a read on a pooled read-only
//! connection beside the writer (WAL readers see the last commit and never block it).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::config::DbConfig;
use switchyard_core::StoreError;
use tokio::sync::{Semaphore, oneshot};

/// How often the checkpointer copies the WAL back into the database file. Often, so each
/// checkpoint is small: the first commit after a complete one restarts the WAL and syncs its
/// header inside that commit, which every queued write waits for, and that sync took longer
/// the more the checkpoint had just copied (every 100 ms: commits of up to 29 ms and a p99 at
/// half load of 12.1–19.2 ms; every 25 ms: up to 10 ms and 6.0–8.0 ms; docs/benchmarks.md).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(25);

/// The most writes one group commit carries; the rest wait for the next one.
const MAX_GROUP: usize = 256;

/// Read connections: at most this many reads run at once, each on a connection kept open for
/// the next (a few hundred KiB each). A pool that closed its surplus, as this one did beyond
/// four idle, opened a connection for most reads under load — parsing the schema and warming
/// a page cache and a statement cache each time: half the server's CPU per delivery.
const READERS: usize = 32;

/// Runs before a group of writes commits, given how many it holds (a crash test's failpoint).
pub type BeforeGroupCommit = Arc<dyn Fn(usize) + Send + Sync>;

/// Checkpoints the WAL from a connection of its own until the database's last handle is
/// dropped. Left to SQLite, a checkpoint runs inside whichever commit crosses
/// `wal_autocheckpoint` pages and stalls that request (it was most of the unsaturated p99: 20 ms
/// → 9 ms without it, docs/benchmarks.md); here it runs beside the writers, which WAL allows.
/// The automatic one stays, at 10,000 pages (~40 MB), only as a bound should this thread lag.
/// An idle database is not checkpointed again: nothing committed since the last complete
/// checkpoint (`data_version` unchanged) costs one pragma per tick.
fn checkpoint_while_open(checkpoints: &Connection, owner: &Weak<Mutex<Connection>>) {
    let mut checkpointed = None;
    while owner.strong_count() > 0 {
        std::thread::sleep(CHECKPOINT_EVERY);
        // Both statements prepared once: this runs forty times a second, idle or not.
        let version = checkpoints
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut s| s.query_row([], |row| row.get::<_, i64>(0)))
            .ok();
        if version.is_some() && version == checkpointed {
            continue;
        }
        // (busy, frames in the WAL, frames copied): complete when all were copied.
        let passive = checkpoints
            .prepare_cached("PRAGMA wal_checkpoint(PASSIVE)")
            .and_then(|mut s| {
                s.query_row([], |row| Ok(row.get::<_, i64>(1)? == row.get::<_, i64>(2)?))
            });
        checkpointed = match passive {
            Ok(true) => version,
            Ok(false) => None,
            Err(e) => {
                tracing::debug!(error = %e, "WAL checkpoint skipped; the next one retries");
                None
            }
        };
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

/// A grouped write: run inside the group's transaction — again, should the group's first try
/// be rolled back — then answered once the group's fate is known.
trait GroupedWrite: Send {
    /// Runs the write, keeping its result (a later run replaces it); says whether it succeeded.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller: the kept result if the group committed, else the group's error.
    fn finish(self: Box<Self>, group: Result<(), StoreError>);
}

type Grouped = Box<dyn GroupedWrite>;

/// A [`Db::write`] in its group: the write, its result so far, and where the answer goes.
struct Write<T, F> {
    f: F,
    ran: Option<rusqlite::Result<T>>,
    answer: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> GroupedWrite for Write<T, F>
where
    T: Send,
    F: FnMut(&Connection) -> rusqlite::Result<T> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let ran = (self.f)(conn);
        let ok = ran.is_ok();
        self.ran = Some(ran);
        ok
    }

    fn finish(self: Box<Self>, group: Result<(), StoreError>) {
        let answer = match (group, self.ran) {
            (Err(e), _) => Err(e),
            (Ok(()), Some(ran)) => ran.map_err(backend),
            (Ok(()), None) => Err(StoreError::Backend("not written".into())),
        };
        let _ = self.answer.send(answer);
    }
}

enum Job {
    Grouped(Grouped),
    Alone(Box<dyn FnOnce(&mut Connection) + Send>),
}

#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    writes: Sender<Job>,
    /// The file, for read connections; `None` in memory (reads go through the writer).
    path: Option<Arc<PathBuf>>,
    idle_readers: Arc<IdleReaders>,
    /// One permit per read connection: a read waits for one rather than opening another.
    readers: Arc<Semaphore>,
    before_group_commit: Arc<OnceLock<BeforeGroupCommit>>,
    /// Counts writes made with [`Db::call`], each counted once it has run (committed, for
    /// one that commits) and before it is answered: caches of what such writes change
    /// compare it.
    generation: Arc<AtomicU64>,
}

impl Db {
    /// Opens (creating if needed) the database file, and starts its writer and checkpointer.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        owner_only(path)?;
        let conn = Connection::open(path).map_err(backend)?;
        let db = Self::configure(conn, Some(path.to_owned()))?;
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
        Self::configure(Connection::open_in_memory().map_err(backend)?, None)
    }

    fn configure(conn: Connection, path: Option<PathBuf>) -> Result<Self, StoreError> {
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;
             PRAGMA wal_autocheckpoint = 10000;",
        )
        .map_err(backend)?;
        reuse_statements(&conn).map_err(backend)?;
        let conn = Arc::new(Mutex::new(conn));
        let (writes, jobs) = mpsc::channel();
        let before_group_commit = Arc::new(OnceLock::new());
        {
            let (conn, hook) = (conn.clone(), before_group_commit.clone());
            std::thread::Builder::new()
                .name("sqlite-writer".into())
                .spawn(move || write_loop(&conn, &jobs, &hook))
                .map_err(|e| StoreError::Backend(format!("cannot start the writer: {e}")))?;
        }
        Ok(Self {
            conn,
            writes,
            path: path.map(Arc::new),
            idle_readers: Arc::default(),
            readers: Arc::new(Semaphore::new(READERS)),
            before_group_commit,
            generation: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Sets what runs just before each group commit, given its number of writes (once; a crash
    /// test's failpoint).
    pub fn before_group_commit(&self, hook: BeforeGroupCommit) {
        let _ = self.before_group_commit.set(hook);
    }

    /// A write, group-committed with whatever other writes are queued: `f` runs inside a
    /// transaction (all of it or none), and the answer comes once the transaction has
    /// committed. `f` gets a shared connection, so it cannot open a transaction of its own (use
    /// [`Db::call`] for that). It may run twice: should a write of its group fail, the group's
    /// transaction is rolled back and every write runs again, each under a savepoint of its
    /// own (`commit_group`), so `f` must do nothing but its statements.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (answer, rx) = oneshot::channel();
        let job: Grouped = Box::new(Write {
            f,
            ran: None,
            answer,
        });
        self.submit(Job::Grouped(job), rx).await
    }

    /// How many [`Db::call`] jobs have changed the database: a value read while this stays the
    /// same is current as far as this process's `call` writes go.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Runs `f` alone with the write connection, outside any transaction (it may open one).
    /// Every write that is not part of the delivery path's hot loop goes here — all writes to
    /// rules and connections among them, which the store's caches rely on.
    pub async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let generation = self.generation.clone();
        let job = Job::Alone(Box::new(move |conn| {
            let before = conn.total_changes();
            let ran = f(conn).map_err(backend);
            // Only a change moves the generation: a read here (an API lookup) used to empty
            // the store's caches too, on every request.
            if conn.total_changes() != before {
                generation.fetch_add(1, Ordering::SeqCst);
            }
            let _ = tx.send(ran);
        }));
        self.submit(job, rx).await
    }

    async fn submit<T>(
        &self,
        job: Job,
        answer: oneshot::Receiver<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.writes
            .send(job)
            .map_err(|_| StoreError::Backend("the database writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Backend("the database writer dropped a write".into()))?
    }

    /// A read on a pooled read-only connection: it sees the last commit and runs beside the
    /// writer. One statement sees one snapshot; a read of several that must agree belongs in
    /// [`Db::call`]. In memory, it runs on the write connection.
    ///
    /// Every read of the store is a lookup by key or one event type's rules (tens of
    /// microseconds), so it runs here, on the caller's thread, when a connection is idle:
    /// handing it to the blocking pool and back cost two thread switches, more than the read.
    /// Only when none is idle does it go to the blocking pool, which may open one. A read that
    /// could take long (a scan, a list) must not come here: it would hold a tokio worker.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let Some(path) = self.path.clone() else {
            return self.call(move |c| f(c)).await;
        };
        if let Ok(_permit) = self.readers.try_acquire()
            && let Some(conn) = self.idle_readers.take()
        {
            return self.idle_readers.read_on(conn, f);
        }
        let idle = self.idle_readers.clone();
        let permit = self
            .readers
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        tokio::task::spawn_blocking(move || {
            let conn = match idle.take() {
                Some(conn) => conn,
                None => open_reader(&path).map_err(backend)?,
            };
            let read = idle.read_on(conn, f);
            drop(permit);
            read
        })
        .await
        .map_err(|e| StoreError::Backend(format!("blocking task failed: {e}")))?
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

/// Read connections kept open between reads (the last one used is the next one taken, its
/// pages and statements warmest).
#[derive(Default)]
struct IdleReaders(Mutex<Vec<Connection>>);

impl IdleReaders {
    fn take(&self) -> Option<Connection> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).pop()
    }

    /// Runs `f` on `conn`, then keeps `conn` for the next read.
    fn read_on<T>(
        &self,
        conn: Connection,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let read = f(&conn).map_err(backend);
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
        read
    }
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.execute_batch("PRAGMA query_only = ON; PRAGMA busy_timeout = 5000;")?;
    reuse_statements(&conn)?;
    Ok(conn)
}

/// Statements are prepared once and reused. rusqlite keeps 16 by default; one delivery's path
/// through the store and queue uses more, and every eviction means parsing SQL again. And the
/// query planner stability guarantee: without it SQLite re-prepares a statement whenever the
/// value bound to a `LIMIT ?` changes (it plans for that value), which the queue's receive did
/// twice per call — a sixth of all instructions per delivery.
fn reuse_statements(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

/// The writer thread: takes the next job; a grouped one takes every grouped job queued behind
/// it (up to [`MAX_GROUP`]) into one transaction. Ends when every handle is dropped.
fn write_loop(conn: &Mutex<Connection>, jobs: &Receiver<Job>, hook: &OnceLock<BeforeGroupCommit>) {
    let mut next = None;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        let mut conn = conn.lock().unwrap_or_else(|p| p.into_inner());
        // A panicking write fails its own callers (their answers are dropped), not the writer.
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match job {
            Job::Alone(f) => f(&mut conn),
            Job::Grouped(first) => {
                let mut group = vec![first];
                while group.len() < MAX_GROUP {
                    match jobs.try_recv() {
                        Ok(Job::Grouped(job)) => group.push(job),
                        Ok(alone) => {
                            next = Some(alone);
                            break;
                        }
                        Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                    }
                }
                commit_group(&conn, group, hook.get());
            }
        }));
        if ran.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
}

/// Runs `group` in one IMMEDIATE transaction and commits, then answers each write: its own
/// result if the commit succeeded, the commit's error if not. First every write runs bare;
/// should one fail, that transaction is rolled back and the group runs again with each write
/// under a savepoint of its own, so a failing write is rolled back alone. Not the savepoints
/// every time: SQLite copies each page a savepoint's write touches before changing it, which
/// was most of the cost of a write (docs/benchmarks.md), and writes rarely fail.
fn commit_group(conn: &Connection, mut group: Vec<Grouped>, hook: Option<&BeforeGroupCommit>) {
    let mut status = run(conn, "BEGIN IMMEDIATE").map_err(backend);
    if status.is_ok() && !group.iter_mut().all(|job| job.run(conn)) {
        let _ = run(conn, "ROLLBACK");
        status = run(conn, "BEGIN IMMEDIATE").map_err(backend);
        if status.is_ok() {
            status = run_each_alone(conn, &mut group);
        }
    }
    if status.is_ok() {
        if let Some(hook) = hook {
            hook(group.len());
        }
        status = run(conn, "COMMIT").map_err(backend);
    }
    if status.is_err() && !conn.is_autocommit() {
        let _ = run(conn, "ROLLBACK");
    }
    for job in group {
        job.finish(status.clone());
    }
}

/// Runs each write of a group under its own savepoint, in the group's open transaction: a
/// failing one is rolled back alone. An error that ended the whole transaction (SQLite rolls
/// back on some, e.g. a full disk) takes the writes before it with it: the group fails as one.
fn run_each_alone(conn: &Connection, group: &mut [Grouped]) -> Result<(), StoreError> {
    for job in group {
        run(conn, "SAVEPOINT write").map_err(backend)?;
        let closed = if job.run(conn) {
            run(conn, "RELEASE write")
        } else {
            run(conn, "ROLLBACK TO write").and_then(|()| run(conn, "RELEASE write"))
        };
        closed.map_err(backend)?;
        if conn.is_autocommit() {
            return Err(StoreError::Backend(
                "the transaction was rolled back".into(),
            ));
        }
    }
    Ok(())
}

/// One transaction-control statement, prepared once: a group commit runs a few per write.
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
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

    /// Submits `write` to the writer (its first poll) and hands it back to be awaited.
    fn submitted<F: Future>(write: F) -> std::pin::Pin<Box<F>> {
        let mut write = Box::pin(write);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(write.as_mut().poll(&mut cx).is_pending());
        write
    }

    #[tokio::test]
    async fn a_failing_write_fails_alone_and_its_group_writes_each_other_once() {
        let db = Db::in_memory().unwrap();
        db.call(|c| c.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
            .await
            .unwrap();
        // The writer held by a job of its own, so the three writes queue up as one group.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let hold = submitted(db.call(move |_| {
            let _ = held.recv();
            Ok(())
        }));
        let insert = |n: i64| move |c: &Connection| c.execute("INSERT INTO t VALUES (?1)", [n]);
        let first = submitted(db.write(insert(1)));
        // Writes a row, then fails: the row must not stay.
        let failing = submitted(db.write(|c: &Connection| {
            c.execute("INSERT INTO t VALUES (2)", [])?;
            c.execute("INSERT INTO t VALUES (1)", [])
        }));
        let third = submitted(db.write(insert(3)));
        release.send(()).unwrap();
        hold.await.unwrap();
        assert_eq!(first.await.unwrap(), 1);
        assert!(matches!(failing.await, Err(StoreError::Conflict(_))));
        assert_eq!(third.await.unwrap(), 1);
        let rows: Vec<i64> = db
            .call(|c| {
                c.prepare("SELECT n FROM t ORDER BY n")?
                    .query_map([], |r| r.get(0))?
                    .collect()
            })
            .await
            .unwrap();
        assert_eq!(rows, [1, 3]);
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

    /// The store's caches trust an entry while the generation stays: a read through `call`
    /// must leave it, any change must move it. (The writes follow a `CREATE` in one batch:
    /// the query-plan test plans every statement literal of the crate, on the real schema.)
    #[tokio::test]
    async fn only_a_change_moves_the_generation() {
        let db = Db::in_memory().unwrap();
        let start = db.generation();
        let version = db
            .call(|c| c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)))
            .await
            .unwrap();
        assert_eq!((version, db.generation()), (0, start), "a read");
        db.call(|c| c.execute_batch("CREATE TABLE t (x); UPDATE t SET x = 1;"))
            .await
            .unwrap();
        assert_eq!(db.generation(), start, "a table made, no row updated");
        db.call(|c| c.execute_batch("CREATE TABLE u (x); INSERT INTO u VALUES (1);"))
            .await
            .unwrap();
        assert!(db.generation() > start, "a row inserted");
    }

    /// Committed pages reach the database file by the checkpointer alone, long before
    /// SQLite's automatic checkpoint (10,000 pages) would copy these 256 — and again after
    /// idle ticks it skipped, when something new is written.
    #[tokio::test]
    async fn the_checkpointer_copies_the_wal_back_beside_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("switchyard.db");
        let db = Db::open(&path).unwrap();
        for mebibytes in 1..=2 {
            db.call(|c| {
                c.execute_batch("CREATE TABLE IF NOT EXISTS t (x BLOB); INSERT INTO t VALUES (zeroblob(1048576));")
            })
            .await
            .unwrap();
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while std::fs::metadata(&path).unwrap().len() < mebibytes << 20 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{mebibytes} MiB were not copied back within 10 s"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            // Idle ticks pass, each skipped.
            tokio::time::sleep(CHECKPOINT_EVERY * 4).await;
        }
    }
}
