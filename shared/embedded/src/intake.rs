//! Ingest's write path on the embedded default: the claim, the events and their routing in
//! one SQLite transaction (`store::accept`), so a `kill -9` or a full disk at any point leaves
//! all of a request or none of it. Events come routed: their deliveries and delivery messages
//! are written with them, which spares each event the events queue's send, receive and
//! delete, and a router's transaction of its own.

use std::sync::Arc;

use async_trait::async_trait;
use switchyard_core::StoreError;
use switchyard_core::domain::CatalogEntry;
use switchyard_core::memo::Memo;
use switchyard_core::ports::{Accepted, Claim, EventIntake, Intake, QueueName, Routing};

use crate::SqliteQueue;

/// Runs inside the transaction just before it commits (a test's failpoint).
pub type BeforeCommit = Arc<dyn Fn() + Send + Sync>;

/// How many catalog keys the intake remembers as stored.
const CATALOG_MEMO: usize = 4096;

#[derive(Clone)]
pub struct SqliteIntake {
    queue: SqliteQueue,
    before_commit: Option<BeforeCommit>,
    /// Catalog keys this process has committed: a request repeating them (nearly all do)
    /// writes no catalog statement. Catalog rows are never deleted, so a remembered key stays true.
    catalog: Arc<Memo>,
}

fn memo_key(e: &CatalogEntry) -> String {
    format!("{}|{}|{}|{}", e.org, e.workspace, e.kind.as_str(), e.key)
}

impl SqliteIntake {
    /// Writes to `queue`'s database, where the store's tables live too.
    pub fn new(queue: SqliteQueue) -> Self {
        Self {
            queue,
            before_commit: None,
            catalog: Arc::new(Memo::new(CATALOG_MEMO)),
        }
    }

    pub fn with_before_commit(mut self, hook: BeforeCommit) -> Self {
        self.before_commit = Some(hook);
        self
    }
}

#[async_trait]
impl EventIntake for SqliteIntake {
    async fn accept(
        &self,
        claim: Option<&Claim>,
        mut intake: Intake,
    ) -> Result<Accepted, StoreError> {
        intake
            .catalog
            .retain(|e| !self.catalog.contains(&memo_key(e)));
        let added: Vec<String> = intake.catalog.iter().map(memo_key).collect();
        let claim = claim.cloned();
        let now = self.queue.now_ms();
        let routing = &intake.routing;
        let to_route = routing.iter().any(|r| matches!(r, Routing::Queued(_)));
        let to_deliver = routing
            .iter()
            .any(|r| matches!(r, Routing::Expanded { messages, .. } if !messages.is_empty()));
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
            if to_route {
                self.queue.wake(QueueName::Events);
            }
            if to_deliver {
                self.queue.wake(QueueName::Deliveries);
            }
            for key in added {
                self.catalog.insert(key);
            }
        }
        Ok(accepted)
    }

    fn routes_at_intake(&self) -> bool {
        true
    }
}
