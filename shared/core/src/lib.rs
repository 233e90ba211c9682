//! Switchyard's pure core.
//!
//! Everything needed to read the delivery policy — the domain, validation, rule matching, the
//! webhook envelope, outcome classification, the retry schedule — and the port traits the
//! handlers are written against. No AWS, no SQLite, no HTTP: adapters live in sibling crates.

pub mod circuit;
pub mod clock;
pub mod conditions;
pub mod credentials;
pub mod delivery_policy;
pub mod domain;
pub mod envelope;
pub mod error;
pub mod fair_share;
pub mod field_catalog;
pub mod ids;
pub mod integration_catalog;
pub mod json_path;
pub mod keyring;
pub mod mapping;
pub mod matching;
pub mod memo;
pub mod message;
pub mod oauth;
pub mod outcome;
pub mod page;
pub mod plan;
pub mod ports;
pub mod rate_limit;
pub mod retry;
pub mod secret;
pub mod signing;
pub mod trace;
pub mod validation;
pub mod webhook;

pub use clock::{Clock, SystemClock};
pub use error::{StoreError, ValidationError, ValidationErrors};
pub use ids::*;
