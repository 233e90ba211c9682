//! Switchyard's MCP server: the v1 API as tools an agent calls, each tool one API call made as
//! the caller (so auth, scopes, validation and errors are exactly the API's). Served over
//! stdio by `switchyard mcp` and over streamable HTTP at `/mcp` beside the API.

pub mod api_client;
mod diagnose;
pub mod http;
mod resources;
pub mod server;
pub mod tools;

pub use api_client::{ApiClient, InProcess, Remote};
pub use http::with_mcp;
pub use server::{Credentials, SwitchyardMcp, TokenSource};

/// Serves the tools over stdin/stdout until the client closes them.
pub async fn serve_stdio(server: SwitchyardMcp) -> anyhow::Result<()> {
    use rmcp::ServiceExt;
    let running = server.serve(rmcp::transport::stdio()).await?;
    running.waiting().await?;
    Ok(())
}
