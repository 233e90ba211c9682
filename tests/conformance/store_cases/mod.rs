//! The store's conformance cases, one file per role (and the cross-role tenancy and list
//! cases). Each takes `&dyn Store`, so every adapter (SQLite, DynamoDB on moto) runs the same
//! cases and must show the same behaviour.

mod catalog;
mod connections;
mod deliveries;
mod events;
mod key_claims;
mod lists;
mod mappings;
mod metering;
mod rules;
mod scoping;
mod sessions;
mod tenants;
mod workspaces;

use switchyard_core::domain::{Attempt, DeliveryStatus};
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::AttemptRecord;
use time::Duration;
use uuid::Uuid;

pub use catalog::*;
pub use connections::*;
pub use deliveries::*;
pub use events::*;
pub use key_claims::*;
pub use lists::*;
pub use mappings::*;
pub use metering::*;
pub use rules::*;
pub use scoping::*;
pub use sessions::*;
pub use tenants::*;
pub use workspaces::*;

/// Awaits `calls` all at once, or one after another.
async fn all<T>(
    concurrent: bool,
    calls: impl IntoIterator<Item = impl Future<Output = T>>,
) -> Vec<T> {
    if concurrent {
        return futures::future::join_all(calls).await;
    }
    let mut out = Vec::new();
    for call in calls {
        out.push(call.await);
    }
    out
}

fn page(limit: u32, cursor: Option<Uuid>) -> PageRequest {
    PageRequest { limit, cursor }
}

fn ids<T>(page: &Page<T>, id: impl Fn(&T) -> Uuid) -> Vec<Uuid> {
    page.records.iter().map(id).collect()
}

/// A record that ends an attempt: the attempt and the delivery's next status.
fn record(attempt: Attempt, status: DeliveryStatus) -> AttemptRecord {
    let retrying = status == DeliveryStatus::Retrying;
    AttemptRecord {
        last_error: attempt.error.clone(),
        next_attempt_at: retrying.then(|| attempt.started_at + Duration::minutes(1)),
        attempt,
        status,
    }
}
