//! Reading SQS event documents and answering with partial batch failures.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::future::join_all;
use serde::de::DeserializeOwned;

/// Runs `handle` on every record of the batch concurrently; records whose handling fails are
/// reported back so only they are retried (SQS `ReportBatchItemFailures`).
pub(crate) async fn for_each_record<T, F, Fut>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    T: DeserializeOwned,
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let outcomes = join_all(event.records.into_iter().map(|record| {
        let id = record.message_id.clone().unwrap_or_default();
        let parsed = parse::<T>(&record);
        let fut = parsed.map(&handle);
        async move {
            let result = match fut {
                Ok(fut) => fut.await,
                Err(e) => Err(e),
            };
            result.err().map(|e| {
                tracing::error!(message_id = %id, error = %e, "record failed; left for retry");
                id
            })
        }
    }))
    .await;
    let mut response = SqsBatchResponse::default();
    for id in outcomes.into_iter().flatten() {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = id;
        response.batch_item_failures.push(failure);
    }
    response
}

fn parse<T: DeserializeOwned>(record: &SqsMessage) -> Result<T, String> {
    let body = record.body.as_deref().ok_or("record has no body")?;
    serde_json::from_str(body).map_err(|e| format!("unreadable message body: {e}"))
}
