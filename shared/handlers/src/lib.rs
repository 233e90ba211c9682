//! Switchyard's handlers, written once over the ports and run unchanged as Lambda functions
//! (AWS) or inside one process (the embedded default).
//!
//! - [`router::handle`] and [`delivery::handle`] take an SQS event document and answer with
//!   partial batch failures, exactly as Lambda's SQS event source mapping calls them.
//! - [`api::router`] is the `/api/v1` HTTP surface (ingest included).
//! - [`event_source`] plays Lambda's event source mapping where there is no Lambda.

pub mod api;
pub mod delivery;
pub mod deps;
pub mod dlq;
mod emf;
pub mod event_source;
pub mod failpoint;
pub mod ingest;
pub mod intake;
pub mod limits;
pub mod metrics;
pub mod oauth;
pub mod plan;
pub mod protection;
pub mod replay;
pub mod router;
mod sqs;
pub mod tenancy;

pub use deps::{Deps, Settings};
