//! Ingest's write path where no transaction spans the store and the queue (SQS + DynamoDB):
//! messages first, then events.
//!
//! A message is sent before its event is stored, so a stored event always has a message —
//! a crash or a failed write can only leave a message whose event is missing, which the
//! router recognises by the event id's age and drops (`router::ROUTE_GRACE`). A request cut
//! short is completed by the client's retry with the same `Idempotency-Key`, under the same
//! ids; a request that failed releases its key.

use std::sync::Arc;

use async_trait::async_trait;
use switchyard_core::StoreError;
use switchyard_core::ports::{
    Accepted, Claim, EventIntake, Intake, Queue, QueueName, Routing, Store,
};

pub struct QueueFirstIntake {
    store: Arc<dyn Store>,
    queue: Arc<dyn Queue>,
}

impl QueueFirstIntake {
    pub fn new(store: Arc<dyn Store>, queue: Arc<dyn Queue>) -> Self {
        Self { store, queue }
    }

    /// Sends, then stores. On failure, says whether any event was stored by then.
    async fn write(&self, intake: Intake) -> Result<(), (StoreError, bool)> {
        let mut messages = Vec::with_capacity(intake.routing.len());
        for routing in intake.routing {
            match routing {
                Routing::Queued(m) => messages.push(m),
                Routing::Expanded { .. } => {
                    return Err((
                        StoreError::Backend("this intake routes through the events queue".into()),
                        false,
                    ));
                }
            }
        }
        for chunk in messages.chunks(10) {
            self.queue
                .send_batch(QueueName::Events, chunk.to_vec())
                .await
                .map_err(|e| (e, false))?;
        }
        crate::failpoint::hit("ingest.enqueued");
        if intake.fresh && intake.events.len() > 1 {
            // A bulk request's fresh events: batch writes of 25. A failure may have stored
            // some, so the key is kept and a retry completes them.
            self.store
                .insert_new_events(&intake.events)
                .await
                .map_err(|e| (e, true))?;
        } else {
            for (i, event) in intake.events.iter().enumerate() {
                match self.store.insert_event(event).await {
                    // Stored by the request this one completes: leave it as it is.
                    Ok(()) | Err(StoreError::Conflict(_)) => {}
                    Err(e) => return Err((e, i > 0)),
                }
            }
        }
        self.store
            .add_to_catalog(&intake.catalog)
            .await
            .map_err(|e| (e, true))
    }
}

#[async_trait]
impl EventIntake for QueueFirstIntake {
    async fn accept(&self, claim: Option<&Claim>, intake: Intake) -> Result<Accepted, StoreError> {
        if let Some(c) = claim
            && let Some(first) = self
                .store
                .claim_idempotency_key(c.org, c.workspace, &c.key, c.first, c.now, c.expires_at)
                .await?
        {
            return Ok(Accepted::KeyHeld(first));
        }
        match self.write(intake).await {
            Ok(()) => Ok(Accepted::Stored),
            Err((e, stored_some)) => {
                // Nothing stored: the key is free for a fresh retry. Some stored: the key
                // stays, so the retry completes these ids instead of duplicating them.
                if let (false, Some(c)) = (stored_some, claim)
                    && let Err(release) = self
                        .store
                        .release_idempotency_key(c.org, c.workspace, &c.key, c.first)
                        .await
                {
                    tracing::warn!(error = %release, "idempotency key of a failed request not released");
                }
                Err(e)
            }
        }
    }
}
