//! The router Lambda: the events queue's event source mapping calls it with batches of event
//! messages; it answers with the failed records only (`ReportBatchItemFailures`).

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    switchyard_aws::init_logging();
    let deps = switchyard_aws::routing_deps_from_env().await?;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let deps = deps.clone();
        async move {
            let answer = switchyard_handlers::lambda::route_batch(&deps, event.payload).await;
            switchyard_aws::flush_traces().await;
            Ok::<SqsBatchResponse, Error>(answer)
        }
    }))
    .await
}
