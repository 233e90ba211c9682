//! Switchyard's handlers, written once over the ports and run unchanged as Lambda functions
//! (AWS) or inside one process (the embedded default).
//!
//! - [`router::route`] and [`delivery::deliver`] handle one queue message each and say what
//!   became of it (typed), or fail with a typed error that leaves the message for retry.
//! - [`lambda`] is their Lambda edge: SQS event documents in, partial batch failures out.
//! - [`api::router`] is the `/api/v1` HTTP surface (ingest included), with the web
//!   [`console`] beside it.
//! - [`event_source`] consumes the queues where there is no Lambda: each message its own task,
//!   within a bound of slots.

pub mod api;
pub mod bulk_replay;
pub mod console;
mod credential_state;
pub mod delivery;
pub mod deps;
pub mod dlq;
mod emf;
pub mod event_source;
pub mod failpoint;
pub mod ingest;
pub mod intake;
mod intake_routing;
pub mod lambda;
pub mod limits;
pub mod mcp_token;
pub mod metrics;
pub mod oauth;
pub mod plan;
pub mod protection;
pub mod replay;
pub mod router;
pub mod slot;
pub mod tenancy;
pub mod trace;

pub use deps::{Deps, Live, Settings};
