//! The api Lambda: the rest of `/api/v1` behind API Gateway (HTTP API) — workspaces,
//! connections, rules, history, replay and cancel — and `/mcp`, the MCP tools over streamable HTTP (stateless JSON
//! mode). The shared axum router, built once per cold start.

use lambda_http::{Error, run};

#[tokio::main]
async fn main() -> Result<(), Error> {
    switchyard_aws::init_logging();
    let deps = switchyard_aws::deps_from_env().await?;
    let api = switchyard_handlers::api::router(deps.clone());
    run(switchyard_aws::flushing_traces(switchyard_mcp::with_mcp(
        api, deps,
    )))
    .await
}
