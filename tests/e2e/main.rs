//! The end-to-end suites: each starts the real `switchyard` process and drives it over HTTP.
//! `make test` runs this target twice: on the embedded default, then with
//! `SWITCHYARD_E2E_BACKEND=aws` on `serve --backend aws` over moto.

mod api_e2e;
mod catalog_e2e;
mod chaos;
mod client_types;
mod connectors_e2e;
mod contract_e2e;
mod embedded_e2e;
mod ingest_atomicity_e2e;
mod isolation_delivery_e2e;
mod isolation_e2e;
mod limits_e2e;
mod listener_e2e;
mod mappings_delivery_e2e;
mod mappings_e2e;
mod mcp_e2e;
mod oauth_e2e;
mod ops_e2e;
mod races_e2e;
mod sessions_e2e;
mod slack_environments_e2e;
mod tracing_e2e;
mod webhook_signing;
