//! The embedded default: Switchyard's ports over one SQLite file, so a laptop runs the whole
//! system in one process with nothing to install.

mod db;
mod intake;
mod keyring;
mod queue;
mod store;

pub use db::{BeforeGroupCommit, Db};
pub use intake::{BeforeCommit, SqliteIntake};
pub use keyring::open_file_key_ring;
pub use queue::{QueueSettings, QueuedMessage, SqliteQueue};
pub use store::SqliteStore;
