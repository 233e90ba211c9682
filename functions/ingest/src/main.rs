//! The ingest Lambda: API Gateway (HTTP API) routes `POST /api/v1/events` and
//! `/api/v1/events/bulk` here. It serves the same axum router as the `api` function — only the
//! routes API Gateway sends it differ — so that ingest can be scaled, throttled and given
//! permissions apart from management. Clients are built once per cold start.

use lambda_http::{Error, run};

#[tokio::main]
async fn main() -> Result<(), Error> {
    switchyard_aws::init_logging();
    let deps = switchyard_aws::routing_deps_from_env().await?;
    run(switchyard_aws::flushing_traces(
        switchyard_handlers::api::ingest_router(deps),
    ))
    .await
}
