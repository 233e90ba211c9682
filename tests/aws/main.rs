//! The AWS adapters and Lambda functions against a real moto server (`require_moto!`:
//! a missing server fails loudly under `make test`, which starts one).

mod aws_costs;
mod lambda_functions;
mod oauth_aws;
mod queue_conformance_sqs;
mod stack_operator;
mod store_conformance_dynamodb;
