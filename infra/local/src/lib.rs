//! The `switchyard` binary's parts: the CLI, the embedded runtime that plays the roles of API
//! Gateway, SQS event source mappings and Lambda in one process, and the credentials file.

pub mod admin;
pub mod backend;
pub mod bench;
pub mod cli;
pub mod credentials_file;
pub mod dlq;
pub mod embedded;
pub mod listen;
pub mod listener;
pub mod mcp;
pub mod retention;
pub mod runtime;
#[cfg(feature = "aws")]
pub mod stack;
pub mod token;
