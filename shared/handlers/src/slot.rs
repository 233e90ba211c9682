//! The slot an [`event_source`](crate::event_source) message's task holds while its handler
//! runs, given back while the handler waits in memory for a place another message's attempt
//! will free: a waiting attempt then never keeps the pollers from receiving other tenants'
//! messages, and the line can be long enough that a burst waits in memory rather than going
//! back on the queue.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

tokio::task_local! {
    static SLOT: Held;
}

struct Held {
    slots: Arc<Semaphore>,
    permit: Mutex<Option<OwnedSemaphorePermit>>,
}

/// Runs `task` as the holder of `permit`, one of `slots`; the slot is free again when it ends.
pub(crate) fn held_by<F: Future>(
    slots: Arc<Semaphore>,
    permit: OwnedSemaphorePermit,
    task: F,
) -> impl Future<Output = F::Output> {
    SLOT.scope(
        Held {
            slots,
            permit: Mutex::new(Some(permit)),
        },
        task,
    )
}

/// Runs `wait` with this task's slot given back, and takes a slot again once it is over.
/// Outside an event source's task (a Lambda invocation, a test) it only runs `wait`.
pub async fn given_back_while<F: Future>(wait: F) -> F::Output {
    let given_back = SLOT
        .try_with(|held| {
            let permit = held.permit.lock().unwrap_or_else(|p| p.into_inner()).take();
            permit.map(|permit| {
                drop(permit);
                held.slots.clone()
            })
        })
        .ok()
        .flatten();
    let Some(slots) = given_back else {
        return wait.await;
    };
    let output = wait.await;
    let permit = slots
        .acquire_owned()
        .await
        .expect("the semaphore is never closed");
    let _ = SLOT.try_with(|held| {
        *held.permit.lock().unwrap_or_else(|p| p.into_inner()) = Some(permit);
    });
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_waiting_task_gives_its_slot_back_and_takes_one_again() {
        let slots = Arc::new(Semaphore::new(1));
        let permit = slots.clone().acquire_owned().await.unwrap();
        let observed = slots.clone();
        held_by(slots.clone(), permit, async move {
            assert_eq!(observed.available_permits(), 0, "held while it runs");
            given_back_while(async {
                assert_eq!(observed.available_permits(), 1, "free while it waits");
            })
            .await;
            assert_eq!(observed.available_permits(), 0, "held again");
        })
        .await;
        assert_eq!(slots.available_permits(), 1, "free once the task ends");
    }

    #[tokio::test]
    async fn outside_an_event_source_it_only_waits() {
        assert_eq!(given_back_while(async { 7 }).await, 7);
    }
}
