//! Suites that need nothing but SQLite and loopback: store and queue conformance, the
//! delivery schedule, connectors against wire-format fakes, the outbound client, the OpenAPI
//! document.

mod bench_quick;
mod connectors;
mod delivery_schedule;
mod event_source_slots;
mod metrics_e2e;
mod oauth_refresh;
mod openapi_document;
mod openapi_findings;
mod openapi_fuzz;
mod outbound_client;
mod outbound_ssrf;
mod queue_conformance;
mod session_expiry;
mod store_conformance;
mod webhook_options;
