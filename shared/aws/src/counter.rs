//! Counts the AWS requests a process makes, by operation, as an SDK interceptor. The numbers
//! in docs/aws.md (SQS requests and DynamoDB calls per delivered event) come from this layer
//! on a real run against moto, not from reading the code.
//!
//! All three services speak the awsJson protocol, so the operation is the `x-amz-target`
//! header (`AmazonSQS.SendMessageBatch`, `DynamoDB_20120810.PutItem`, …).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_sqs::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_sqs::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sqs::error::BoxError;

/// Requests by `x-amz-target`, shared by every client it is attached to.
#[derive(Clone, Debug, Default)]
pub struct RequestCounter(Arc<Mutex<BTreeMap<String, u64>>>);

impl RequestCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the counts so far.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().expect("counter lock").clone()
    }

    /// The counts since `before` (a snapshot taken earlier), zeros left out.
    pub fn since(&self, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
        self.snapshot()
            .into_iter()
            .map(|(k, v)| {
                let d = v - before.get(&k).copied().unwrap_or(0);
                (k, d)
            })
            .filter(|(_, v)| *v > 0)
            .collect()
    }

    fn record(&self, operation: &str) {
        *self
            .0
            .lock()
            .expect("counter lock")
            .entry(operation.to_owned())
            .or_default() += 1;
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or("unknown");
        self.record(target);
        Ok(())
    }
}
