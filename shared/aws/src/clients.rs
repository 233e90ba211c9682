//! The SDK clients, built once per process (per cold start on Lambda): from the standard AWS
//! configuration chain where anything may configure them (the CLI), from the variables Lambda
//! sets in a function. `AWS_ENDPOINT_URL` points every client at another endpoint (moto in
//! the tests and for `switchyard serve --backend aws`).

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::SharedCredentialsProvider;

use crate::RequestCounter;

#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl Clients {
    /// Clients from the environment (region, credentials, `AWS_ENDPOINT_URL`).
    pub async fn from_env() -> Self {
        Self::with_counter(None).await
    }

    /// As [`from_env`](Self::from_env), with every request also counted by `counter`.
    pub async fn with_counter(counter: Option<RequestCounter>) -> Self {
        let shared = aws_config::defaults(BehaviorVersion::latest()).load().await;
        Self::from_shared(&shared, counter)
    }

    /// Clients for a Lambda function: the runtime gives it its region and its role's
    /// credentials as environment variables (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, …), so nothing
    /// else of the configuration chain — profile files, SSO, STS web identity, instance
    /// metadata — is consulted, and, never reachable, none of it is linked into a bootstrap.
    pub fn from_lambda_env() -> Self {
        let region = std::env::var("AWS_REGION")
            .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
            .ok()
            .map(Region::new);
        let mut shared = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(region)
            .credentials_provider(SharedCredentialsProvider::new(
                EnvironmentVariableCredentialsProvider::new(),
            ));
        if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") {
            shared = shared.endpoint_url(endpoint);
        }
        Self::from_shared(&shared.build(), None)
    }

    /// Clients for a local AWS endpoint (moto): a fixed region and dummy credentials, whatever
    /// the environment says, so a test can never reach a real account.
    pub async fn local(endpoint: &str, counter: Option<RequestCounter>) -> Self {
        let shared = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test", "test", None, None, "local",
            ))
            .load()
            .await;
        Self::from_shared(&shared, counter)
    }

    fn from_shared(shared: &aws_config::SdkConfig, counter: Option<RequestCounter>) -> Self {
        let shared = shared.clone();
        let mut dynamodb = aws_sdk_dynamodb::config::Builder::from(&shared);
        let mut sqs = aws_sdk_sqs::config::Builder::from(&shared);
        let mut secrets = aws_sdk_secretsmanager::config::Builder::from(&shared);
        if let Some(counter) = counter {
            dynamodb = dynamodb.interceptor(counter.clone());
            sqs = sqs.interceptor(counter.clone());
            secrets = secrets.interceptor(counter);
        }
        Self {
            dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb.build()),
            sqs: aws_sdk_sqs::Client::from_conf(sqs.build()),
            secrets: aws_sdk_secretsmanager::Client::from_conf(secrets.build()),
        }
    }
}
