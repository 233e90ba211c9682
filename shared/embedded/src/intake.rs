//! Ingest's write path on the embedded default: the claim, the events and their queue
//! messages in one SQLite transaction (`store::accept`), so a `kill -9` or a full disk at any
//! point leaves all of a request or none of it.

use std::sync::Arc;

use async_trait::async_trait;
use switchyard_core::StoreError;
use switchyard_core::ports::{Accepted, Claim, EventIntake, Intake, QueueName};

use crate::SqliteQueue;

/// Runs inside the transaction just before it commits (a test's failpoint).
pub type BeforeCommit = Arc<dyn Fn() + Send + Sync>;

#[derive(Clone)]
pub struct SqliteIntake {
    queue: SqliteQueue,
    before_commit: Option<BeforeCommit>,
}

impl SqliteIntake {
    /// Writes to `queue`'s database, where the store's tables live too.
    pub fn new(queue: SqliteQueue) -> Self {
        Self {
            queue,
            before_commit: None,
        }
    }

    pub fn with_before_commit(mut self, hook: BeforeCommit) -> Self {
        self.before_commit = Some(hook);
        self
    }
}

#[async_trait]
impl EventIntake for SqliteIntake {
    async fn accept(&self, claim: Option<&Claim>, intake: Intake) -> Result<Accepted, StoreError> {
        let claim = claim.cloned();
        let now = self.queue.now_ms();
        let hook = self.before_commit.clone();
        let accepted = self
            .queue
            .db
            .write(move |c| {
                crate::store::accept(c, claim.as_ref(), &intake, now, || {
                    if let Some(hook) = &hook {
                        hook();
                    }
                })
            })
            .await?;
        if accepted == Accepted::Stored {
            self.queue.wake(QueueName::Events);
        }
        Ok(accepted)
    }
}
