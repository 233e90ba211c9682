//! Failpoints for crash tests: with `SWITCHYARD_FAILPOINT=<name>` set, the process aborts — as
//! a `kill -9` would, no cleanup — when it reaches the point of that name. Unset (always, in
//! production), a check is one comparison.
//!
//! Points: `ingest.commit` (embedded: inside ingest's transaction, before it commits),
//! `ingest.enqueued` (SQS: the events' messages sent, the events not yet stored),
//! `ingest.stored` (stored and queued, before the client hears 201), `db.group_commit`
//! (embedded: a group commit of eight or more writes — ingests, receives, attempts — run and
//! not yet committed).

use std::sync::OnceLock;

/// The environment variable that arms one failpoint.
pub const VAR: &str = "SWITCHYARD_FAILPOINT";

pub fn hit(name: &str) {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    if ARMED.get_or_init(|| std::env::var(VAR).ok()).as_deref() == Some(name) {
        eprintln!("failpoint {name}: aborting");
        std::process::abort();
    }
}
