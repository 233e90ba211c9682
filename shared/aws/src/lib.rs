//! Switchyard's ports on AWS: DynamoDB (`Store`), SQS (`Queue` + `QueueConsumer`) and one
//! Secrets Manager secret holding the master keys (`KeyRing`), plus the wiring the four Lambda
//! mains and `switchyard serve --backend aws` share, so it is written once.
//!
//! Everything here talks to AWS through the official SDK and is tested against a real moto
//! server; nothing in this crate knows about Lambda.

mod bootstrap;
mod clients;
mod config;
mod counter;
mod deps;
mod dynamo;
mod error;
mod logging;
mod secrets;
mod sqs;

pub use bootstrap::{QueueAttributes, bootstrap, default_queue_attributes, resolve};
pub use clients::Clients;
pub use config::{AwsResources, ENV_PREFIX_HELP};
pub use counter::RequestCounter;
pub use deps::{
    AwsBackend, build_deps, build_hot_path_deps, deps_from_env, hot_path_deps_from_env,
    oauth_clients, routing_deps_from_env,
};
pub use dynamo::{CapacityMeter, CapacityUse, DynamoStore, item_size, table_definitions};
pub use logging::{flush_traces, flushing_traces, init_logging};
pub use secrets::{MasterKeySecret, load_key_ring};
pub use sqs::SqsQueue;
